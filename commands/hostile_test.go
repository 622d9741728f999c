package commands_test

import (
	"bufio"
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/commands"
)

func loadHostile(t testing.TB) []string {
	t.Helper()
	f, err := os.Open("testdata/hostile.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		repeat := 1
		if i := strings.Index(line, "*\""); i > 0 && line[0] != '"' {
			if repeat, err = strconv.Atoi(line[:i]); err != nil {
				t.Fatalf("hostile.txt:%d: %v", n, err)
			}
			line = line[i+1:]
		}
		s, err := strconv.Unquote(line)
		if err != nil {
			t.Fatalf("hostile.txt:%d: %v", n, err)
		}
		out = append(out, strings.Repeat(s, repeat))
	}
	if len(out) < 40 {
		t.Fatalf("corpus too small: %d", len(out))
	}
	return out
}

// hostileRequests places s in every argument position of every command.
func hostileRequests(s string) []commands.Request {
	templates := [][]string{
		{"status", "%"}, {"containers", "%"}, {"containers", "nas", "%"},
		{"logs", "%", "jellyfin"}, {"logs", "nas", "%"}, {"logs", "nas", "jellyfin", "%"},
		{"inspect", "nas", "%"}, {"stats", "%"},
		{"start", "nas", "%"}, {"stop", "%", "jellyfin"}, {"restart", "nas", "%"},
		{"restart-project", "nas", "%"}, {"remove", "nas", "%"}, {"redeploy", "nas", "%"},
		{"alerts", "%"}, {"ack", "%"},
		{"silence", "%", "1h"}, {"silence", "nas/%", "1h"}, {"silence", "nas", "%"}, {"silence", "nas", "1h", "%"},
		{"enable-host", "%"}, {"disable-host", "%"}, {"announce", "%"},
		{"%"}, {"%", "nas", "jellyfin"}, {"restart", "nas", "jellyfin", "%"},
	}
	var out []commands.Request
	for _, tpl := range templates {
		args := make([]string, len(tpl))
		for i, a := range tpl {
			args[i] = strings.ReplaceAll(a, "%", s)
		}
		out = append(out, commands.Request{Actor: admin, Command: args[0], Args: args[1:]})
	}
	return out
}

func TestHostileCorpus(t *testing.T) {
	corpus := loadHostile(t)
	f := newFixture(t, nil)
	for _, s := range corpus {
		for _, req := range hostileRequests(s) {
			rep := f.r.Handle(context.Background(), req)
			checkReply(t, rep)
			checkNoEcho(t, rep, s)
			for _, b := range rep.Buttons {
				f.press(admin, b.Payload)
			}
		}
		// The same through the text path.
		for _, line := range []string{"/restart nas " + s, "/silence nas/jellyfin 1h " + s, "/" + s} {
			if cmd, args, err := commands.ParseLine(line); err == nil {
				checkReply(t, f.r.Handle(context.Background(), commands.Request{Actor: admin, Command: cmd, Args: args}))
			}
		}
		f.press(admin, s)
	}
	if bad := f.env.Docker.BadCalls(); len(bad) != 0 {
		t.Fatalf("Docker received unresolved names: %+v", bad)
	}
	checkResolvedCalls(t, f)
	// Nothing hostile can name jellyfin exactly except the corpus lines
	// that do (none do), so nothing may have been removed or restarted.
	for _, c := range f.mutations() {
		if c.Op == "remove" || c.Op == "redeploy" {
			t.Fatalf("destructive call from hostile input: %+v", c)
		}
	}
	for _, e := range f.env.Audit.Entries() {
		if len(e.Target) > 256 || len(e.Host) > 128 || len(e.Detail) > 512 {
			t.Fatalf("unbounded audit row: %d/%d/%d bytes", len(e.Target), len(e.Host), len(e.Detail))
		}
		if strings.ContainsAny(e.Target+e.Host, "\x00\n\r") {
			t.Fatalf("audit row with control characters: %q %q", e.Host, e.Target)
		}
	}
}

// checkNoEcho asserts a hostile string is never echoed raw when it could
// break out of formatting: newlines, NUL, bidi controls or code fences.
func checkNoEcho(t testing.TB, rep commands.Reply, s string) {
	t.Helper()
	if len(s) < 4 {
		return
	}
	if strings.ContainsAny(s, "\n\x00`\u202e") && strings.Contains(rep.Text, s) {
		t.Fatalf("reply echoes hostile input raw: %q", rep.Text)
	}
}

// checkResolvedCalls asserts every Docker call named a host and container
// from the snapshot.
func checkResolvedCalls(t testing.TB, f *fixture) {
	t.Helper()
	known := map[string]bool{}
	for _, h := range []string{"nas", "pi", "old"} {
		cs, _ := f.env.Inventory.Containers(context.Background(), h)
		for _, c := range cs {
			known[h+"/"+c.Name] = true
		}
		known[h+"/"] = true // stats
	}
	for _, c := range f.env.Docker.Calls() {
		if !known[c.Host+"/"+c.Container] {
			t.Fatalf("Docker call with unresolved target %+v", c)
		}
	}
}

func FuzzParseLine(f *testing.F) {
	for _, s := range loadHostile(f) {
		f.Add("/restart nas " + s)
		f.Add("/" + s)
	}
	f.Add(`/silence nas/jellyfin 1h "nightly backup"`)
	f.Add("/restart@MyBot nas jellyfin")
	f.Fuzz(func(t *testing.T, line string) {
		cmd, args, err := commands.ParseLine(line)
		if err != nil {
			return
		}
		if len(line) > commands.MaxLineLen {
			t.Fatalf("accepted %d bytes", len(line))
		}
		if cmd == "" || strings.ContainsAny(cmd, " @/_\"'") || strings.ToLower(cmd) != cmd {
			t.Fatalf("bad command name %q", cmd)
		}
		for _, a := range args {
			for _, r := range a {
				if (r < 0x20 && r != '\t' && r != '\n') || r == 0x7f || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
					t.Fatalf("argument %q carries control %U", a, r)
				}
			}
		}
	})
}

func FuzzHandle(f *testing.F) {
	for _, s := range loadHostile(f) {
		if len(s) > 256 {
			s = s[:256]
		}
		f.Add("restart", "nas", s, "", uint8(3))
		f.Add("silence", s, "1h", s, uint8(2))
	}
	f.Add("remove", "nas", "jellyfin", "", uint8(3))
	f.Add("logs", "nas", "a1b2", "50", uint8(1))
	f.Add("restart-project", "nas", "media", "", uint8(2))
	f.Fuzz(func(t *testing.T, cmd, a1, a2, a3 string, role uint8) {
		fx := newFixture(t, nil)
		actor := actor(deckhand.Role(role%5), "fuzz")
		var args []string
		for _, a := range []string{a1, a2, a3} {
			if a != "" {
				args = append(args, a)
			}
		}
		rep := fx.r.Handle(context.Background(), commands.Request{Actor: actor, Command: cmd, Args: args})
		checkReply(t, rep)
		for _, b := range rep.Buttons {
			checkReply(t, fx.r.HandleButton(context.Background(), actor, b.Payload))
		}
		checkReply(t, fx.r.HandleButton(context.Background(), actor, a1))
		if bad := fx.env.Docker.BadCalls(); len(bad) != 0 {
			t.Fatalf("Docker received unresolved names: %+v", bad)
		}
		checkResolvedCalls(t, fx)
	})
}
