package commands_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/commands"
	"github.com/deckhand/deckhand/commands/commandstest"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef-test")

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	t     testing.TB
	env   *commandstest.Env
	r     *commands.Router
	clock *clock
}

func newFixture(t testing.TB, tweak func(*commands.Config)) *fixture {
	t.Helper()
	clk := &clock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
	env := commandstest.NewEnv(clk.Now)
	cfg := commands.Config{Secret: testSecret}
	if tweak != nil {
		tweak(&cfg)
	}
	r, err := commands.NewRouter(env.Deps(), cfg, commands.Options{Now: clk.Now})
	if err != nil {
		t.Fatalf("NewRouter: %v", err)
	}
	return &fixture{t: t, env: env, r: r, clock: clk}
}

func actor(role deckhand.Role, id string, hosts ...string) deckhand.Actor {
	return deckhand.Actor{Platform: deckhand.PlatformDiscord, UserID: id, Name: "user-" + id, Role: role, Hosts: hosts}
}

var (
	viewer   = actor(deckhand.RoleViewer, "v1")
	operator = actor(deckhand.RoleOperator, "o1")
	admin    = actor(deckhand.RoleAdmin, "a1")
	admin2   = actor(deckhand.RoleAdmin, "a2")
	nobody   = actor(deckhand.RoleNone, "n1")
)

func (f *fixture) handle(a deckhand.Actor, cmd string, args ...string) commands.Reply {
	f.t.Helper()
	rep := f.r.Handle(context.Background(), commands.Request{Actor: a, Command: cmd, Args: args})
	checkReply(f.t, rep)
	return rep
}

func (f *fixture) line(a deckhand.Actor, line string) commands.Reply {
	f.t.Helper()
	cmd, args, err := commands.ParseLine(line)
	if err != nil {
		f.t.Fatalf("ParseLine(%q): %v", line, err)
	}
	return f.handle(a, cmd, args...)
}

func (f *fixture) press(a deckhand.Actor, payload string) commands.Reply {
	f.t.Helper()
	rep := f.r.HandleButton(context.Background(), a, payload)
	checkReply(f.t, rep)
	return rep
}

// checkReply asserts the limits every reply must respect.
func checkReply(t testing.TB, rep commands.Reply) {
	t.Helper()
	limit := commands.MaxText
	if strings.TrimSpace(rep.Title) != "" {
		limit = commands.MaxDetail
	}
	if len(rep.Text) > limit {
		t.Errorf("reply text %d bytes > %d", len(rep.Text), limit)
	}
	if len(rep.Title) > 256 {
		t.Errorf("reply title %d bytes", len(rep.Title))
	}
	if len(rep.Buttons) > 5 {
		t.Errorf("%d buttons", len(rep.Buttons))
	}
	for _, b := range rep.Buttons {
		if len(b.Payload) == 0 || len(b.Payload) > commands.MaxPayload {
			t.Errorf("button %q payload %d bytes", b.Label, len(b.Payload))
		}
	}
	if strings.ContainsRune(rep.Text, 0) {
		t.Errorf("reply contains NUL: %q", rep.Text)
	}
}

func (f *fixture) mustOK(rep commands.Reply) {
	f.t.Helper()
	if rep.Error {
		f.t.Fatalf("unexpected error reply: %s", rep.Text)
	}
}

func (f *fixture) mustFail(rep commands.Reply, contains string) {
	f.t.Helper()
	if !rep.Error {
		f.t.Fatalf("expected an error reply containing %q, got %q", contains, rep.Text)
	}
	if !strings.Contains(rep.Text, contains) {
		f.t.Fatalf("error reply %q does not contain %q", rep.Text, contains)
	}
}

func (f *fixture) mutations() []commandstest.Call {
	var out []commandstest.Call
	for _, c := range f.env.Docker.Calls() {
		switch c.Op {
		case "start", "stop", "restart", "remove", "redeploy":
			out = append(out, c)
		}
	}
	return out
}

func buttonByLabel(t *testing.T, bs []commands.Button, prefix string) commands.Button {
	t.Helper()
	for _, b := range bs {
		if strings.HasPrefix(b.Label, prefix) {
			return b
		}
	}
	t.Fatalf("no button %q in %+v", prefix, bs)
	return commands.Button{}
}
