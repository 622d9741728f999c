package collector

import (
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/deckhand/deckhand/collector/collectortest"
)

var quoteSeeds = []string{
	"", "plain", "a b", "it's", "'", "''", `"`, "$(reboot)", "`id`", "$HOME", "a\nb", "\t", "-rf", "--format={{json .}}",
	`{"ID":{{json .ID}}}`, "*", "~", "#x", "a;b", "a|b", "a&b", "\\", "é", "\x01", "x=1",
}

func TestQuote(t *testing.T) {
	tests := map[string]string{
		"":           "''",
		"docker":     "docker",
		"a-b_c.d/e":  "a-b_c.d/e",
		"x=1,y@z%+:": "x=1,y@z%+:",
		"a b":        "'a b'",
		"it's":       `'it'\''s'`,
		"$(id)":      "'$(id)'",
		"~root":      "'~root'",
	}
	for in, want := range tests {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %q, want %q", in, got, want)
		}
	}
	if got := QuoteArgv([]string{"docker", "logs", "--tail", "10", "a b"}); got != "docker logs --tail 10 'a b'" {
		t.Errorf("QuoteArgv = %q", got)
	}
}

// TestQuoteAgainstShell hands every seed to the real /bin/sh, which must
// print it back byte for byte.
func TestQuoteAgainstShell(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no /bin/sh")
	}
	for _, s := range quoteSeeds {
		out, err := exec.Command(sh, "-c", "printf %s "+Quote(s)).Output()
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if string(out) != s {
			t.Errorf("sh read %q back as %q", s, out)
		}
	}
}

// FuzzQuote checks that the word splitter the fake SSH server uses (a POSIX
// subset) reads any quoted argv back exactly.
func FuzzQuote(f *testing.F) {
	for _, s := range quoteSeeds {
		f.Add(s, "second")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		argv := []string{"docker", a, b}
		got, err := collectortest.SplitWords(QuoteArgv(argv))
		if err != nil {
			t.Fatalf("%q: %v", QuoteArgv(argv), err)
		}
		if !reflect.DeepEqual(got, argv) {
			t.Fatalf("round trip %q -> %q -> %q", argv, QuoteArgv(argv), got)
		}
	})
}

func seedFiles(f *testing.F, pattern string) {
	files, _ := filepath.Glob(filepath.Join("testdata", pattern))
	for _, name := range files {
		for _, l := range splitLines(readFile(f, name[len("testdata/"):])) {
			f.Add(string(l))
		}
	}
}

func FuzzParsePS(f *testing.F) {
	seedFiles(f, "*/ps*.jsonl")
	f.Add(`{"ID":"x","Status":"Exited (99999999999999999999) ago","Ports":"[::]:1-65535->1-65535/tcp"}`)
	f.Fuzz(func(t *testing.T, line string) {
		ctrs, bad := ParsePS([]byte(line))
		if len(ctrs)+len(bad) == 0 && len(strings.TrimSpace(line)) > 0 {
			t.Fatal("a line vanished")
		}
	})
}

func FuzzParseLabels(f *testing.F) {
	for _, s := range []string{"", "a=1,b=2", "note=a,b=c,d", ",,=,=", "a=,=b", "k=v,x y=z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m := ParseLabels(s)
		for k := range m {
			if k == "" {
				t.Fatal("empty key")
			}
		}
	})
}

func FuzzParseEvent(f *testing.F) {
	seedFiles(f, "*/events.jsonl")
	f.Fuzz(func(t *testing.T, line string) {
		ev, err := ParseEvent([]byte(line))
		if err == nil && (ev.Action == "" || ev.ContainerID == "") {
			t.Fatalf("accepted an event without action or id: %+v", ev)
		}
	})
}

func FuzzParseStatus(f *testing.F) {
	for _, s := range []string{"Up 2 hours (healthy)", "Exited (137) 5 minutes ago", "Restarting (1) 3 seconds ago", "Created", "Dead", "Up 3 minutes (Paused)", "(health: starting)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = ParseStatus(s)
		_ = ParsePorts(s)
	})
}
