package collectortest

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
)

func TestSplitWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		bad  bool
	}{
		{"docker ps -a", []string{"docker", "ps", "-a"}, false},
		{"  a   b  ", []string{"a", "b"}, false},
		{"'a b' c", []string{"a b", "c"}, false},
		{`'it'\''s'`, []string{"it's"}, false},
		{"''", []string{""}, false},
		{`"a \"b\" \$c"`, []string{`a "b" $c`}, false},
		{`a\ b`, []string{"a b"}, false},
		{"'$(id)'", []string{"$(id)"}, false},
		{"$(id)", nil, true},
		{"a;b", nil, true},
		{"'open", nil, true},
		{`"x$y"`, nil, true},
	}
	for _, tc := range tests {
		got, err := SplitWords(tc.in)
		if (err != nil) != tc.bad || !tc.bad && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SplitWords(%q) = %q, %v", tc.in, got, err)
		}
	}
}

func run(t *testing.T, e *Engine, argv ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := e.Exec(context.Background(), argv, &out, &errb)
	return out.String(), errb.String(), code
}

func TestProfiles(t *testing.T) {
	ports := []deckhand.Port{{IP: "::", PublicPort: 5432, PrivatePort: 5432, Proto: "tcp"}}
	tests := []struct {
		version, ports string
		health         bool
	}{
		{"20.10", `":::5432-\u003e5432/tcp"`, false},
		{"24.0", `":::5432-\u003e5432/tcp"`, false},
		{"28.2", `"[::]:5432->5432/tcp"`, false},
		{"29.5", `"[::]:5432->5432/tcp"`, true},
	}
	for _, tc := range tests {
		e := NewEngine(tc.version)
		e.AddContainer(deckhand.Container{Name: "db", Ports: ports, Health: deckhand.HealthHealthy})
		out, _, code := run(t, e, "docker", "ps", "--format", "{{json .Ports}}")
		if code != 0 || strings.TrimSpace(out) != tc.ports {
			t.Errorf("%s: ports %q (exit %d), want %s", tc.version, out, code, tc.ports)
		}
		out, errOut, code := run(t, e, "docker", "ps", "--format", "{{.HealthStatus}}")
		if tc.health != (code == 0) || tc.health && strings.TrimSpace(out) != "healthy" {
			t.Errorf("%s: HealthStatus %q %q exit %d", tc.version, out, errOut, code)
		}
		out, _, _ = run(t, e, "docker", "version", "--format", "{{.Server.Version}}")
		if !strings.HasPrefix(out, tc.version) {
			t.Errorf("%s: version %q", tc.version, out)
		}
	}
}

func TestEngineCommands(t *testing.T) {
	e := NewEngine("28.2")
	e.AddContainer(deckhand.Container{Name: "a", State: deckhand.StateExited, ExitCode: 2})
	if out, _, code := run(t, e, "docker", "ps", "--format", "{{.Names}}"); code != 0 || out != "" {
		t.Errorf("ps without -a listed an exited container: %q", out)
	}
	if out, _, _ := run(t, e, "docker", "ps", "-a", "--format", "{{.Status}}"); !strings.HasPrefix(out, "Exited (2) ") {
		t.Errorf("status %q", out)
	}
	_, errOut, code := run(t, e, "docker", "inspect", "--format", "{{.State.Health.Status}}", "a")
	if code != 1 || !strings.Contains(errOut, `map has no entry for key "Health"`) {
		t.Errorf("missing Health key: exit %d %q", code, errOut)
	}
	out, errOut, code := run(t, e, "docker", "inspect", "--format", "{{.Name}}", "a", "ghost")
	if code != 1 || out != "/a\n" || !strings.Contains(errOut, "No such object: ghost") {
		t.Errorf("partial inspect: %q %q %d", out, errOut, code)
	}
	if _, errOut, code := run(t, e, "/usr/local/bin/docker", "ps"); code != 127 || !strings.Contains(errOut, "not found") {
		t.Errorf("unknown docker path: %d %q", code, errOut)
	}
	if _, errOut, code := run(t, e, "docker", "rm", "ghost"); code != 1 || !strings.Contains(errOut, "No such container") {
		t.Errorf("rm ghost: %d %q", code, errOut)
	}
	e.SetFault(FaultDaemonDown)
	out, errOut, code = run(t, e, "docker", "version", "--format", "{{json .}}")
	if code != 1 || !strings.Contains(out, `"Server":null`) || !strings.Contains(errOut, "Is the docker daemon running?") {
		t.Errorf("daemon down: %q %q %d", out, errOut, code)
	}
}

// TestOutputCacheFollowsStateAndClock checks that cached output never
// outlives what it was rendered from: a state change, a command that acts,
// or the clock moving a status text on.
func TestOutputCacheFollowsStateAndClock(t *testing.T) {
	e := NewEngine("28.2")
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	e.SetNow(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	e.AddContainer(deckhand.Container{Name: "a"})
	ps := []string{"docker", "ps", "-a", "--format", "{{.Names}} {{.State}} {{.Status}}"}
	inspect := []string{"docker", "inspect", "--format", "{{.State.Status}} {{.State.StartedAt}}", "a"}
	steps := []struct {
		name        string
		change      func()
		ps, inspect string
	}{
		{"first", func() {}, "a running Up About an hour\n", "running 2025-06-01T11:00:00Z\n"},
		{"unchanged", func() {}, "a running Up About an hour\n", "running 2025-06-01T11:00:00Z\n"},
		{"SetState", func() { e.SetState("a", deckhand.StateExited, "") }, "a exited Exited (0) Less than a second ago\n", "exited 2025-06-01T11:00:00Z\n"},
		{"clock", func() { mu.Lock(); now = now.Add(2 * time.Hour); mu.Unlock() }, "a exited Exited (0) 2 hours ago\n", "exited 2025-06-01T11:00:00Z\n"},
		{"docker start", func() { run(t, e, "docker", "start", "a") }, "a running Up Less than a second\n", "running 2025-06-01T14:00:00Z\n"},
	}
	for _, st := range steps {
		st.change()
		if out, _, _ := run(t, e, ps...); out != st.ps {
			t.Errorf("%s: ps = %q, want %q", st.name, out, st.ps)
		}
		if out, _, _ := run(t, e, inspect...); out != st.inspect {
			t.Errorf("%s: inspect = %q, want %q", st.name, out, st.inspect)
		}
	}
	if _, errOut, code := run(t, e, "docker", "inspect", "--format", "{{.Name}}", "ghost"); code != 1 || !strings.Contains(errOut, "ghost") {
		t.Errorf("cached failure lost its stderr or exit code: %d %q", code, errOut)
	}
	if _, errOut, code := run(t, e, "docker", "inspect", "--format", "{{.Name}}", "ghost"); code != 1 || !strings.Contains(errOut, "ghost") {
		t.Errorf("cached failure replayed wrong: %d %q", code, errOut)
	}
}
