package collector

import (
	"context"
	"errors"
	"github.com/deckhand/deckhand/internal/logtest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/collector/collectortest"
)

func TestHostKeys(t *testing.T) {
	f := newFleet(t, 1, "28.2", 1)
	other := collectortest.NewServer(t, collectortest.NewEngine("28.2"))
	dir := t.TempDir()
	// A known_hosts that holds a different key for the server's address.
	wrong := filepath.Join(dir, "wrong")
	line := other.KnownHostsLine(f.hosts[0].server.Addr)
	if err := os.WriteFile(wrong, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		knownHosts string
		accept     bool
		want       error
		warn       bool
	}{
		{"known", f.knownHosts, false, nil, false},
		{"changed key refused", wrong, false, deckhand.ErrHostKeyMismatch, false},
		{"changed key refused even with opt-in", wrong, true, deckhand.ErrHostKeyMismatch, false},
		{"unknown refused", empty, false, deckhand.ErrHostKeyUnknown, false},
		{"unknown accepted with opt-in", empty, true, nil, true},
		{"missing file accepted with opt-in", filepath.Join(dir, "absent"), true, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.logs = &logtest.Buffer{}
			c := f.collector(t, func(_ int, h *HostConfig) {
				h.KnownHostsFile, h.AcceptUnknownHostKey = tc.knownHosts, tc.accept
			})
			snap := c.Collect(context.Background(), "h00", false)
			if tc.want == nil && snap.Err != nil || tc.want != nil && !errors.Is(snap.Err, tc.want) {
				t.Fatalf("err = %v, want %v", snap.Err, tc.want)
			}
			// LastError ends up in alert texts cut at about 200
			// characters: the cause comes first.
			if tc.want != nil && !strings.HasPrefix(snap.Host.LastError, tc.want.Error()+": ") {
				t.Errorf("LastError %q does not start with %q", snap.Host.LastError, tc.want.Error())
			}
			if tc.want != nil && (!strings.Contains(snap.Host.LastError, "presented ssh-ed25519 key SHA256:") || !strings.Contains(snap.Host.LastError, tc.knownHosts)) {
				t.Errorf("LastError %q does not name the key and the file", snap.Host.LastError)
			}
			logged := strings.Contains(f.logs.String(), "level=WARN msg=\"accepting unknown ssh host key")
			if logged != tc.warn {
				t.Errorf("WARN logged = %v, want %v; logs:\n%s", logged, tc.warn, f.logs)
			}
			if tc.warn && !strings.Contains(f.logs.String(), "SHA256:") {
				t.Error("the WARN does not name the fingerprint")
			}
		})
	}
}

// TestKnownHostsEditHonoured: the parsed known_hosts file is shared by
// every host and connection, and re-read once it changes.
func TestKnownHostsEditHonoured(t *testing.T) {
	f := newFleet(t, 2, "28.2", 1)
	path := filepath.Join(t.TempDir(), "known_hosts")
	h0 := f.hosts[0].server.KnownHostsLine("")
	if err := os.WriteFile(path, []byte(h0+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := f.collector(t, func(_ int, h *HostConfig) { h.KnownHostsFile = path })
	ctx := context.Background()
	if s := c.Collect(ctx, "h00", false); s.Err != nil {
		t.Fatalf("h00 is in the file: %v", s.Err)
	}
	if s := c.Collect(ctx, "h01", false); !errors.Is(s.Err, deckhand.ErrHostKeyUnknown) {
		t.Fatalf("h01 is not in the file yet: err = %v", s.Err)
	}
	// The owner adds h01 (ssh-keyscan >> known_hosts).
	h1 := f.hosts[1].server.KnownHostsLine("")
	if err := os.WriteFile(path, []byte(h0+"\n"+h1+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond) // past the backoff of the failed attempt
	if s := c.Collect(ctx, "h01", false); s.Err != nil {
		t.Fatalf("h01 after it was added: %v", s.Err)
	}
}

func TestWrongClientKeyIsAuthFailure(t *testing.T) {
	f := newFleet(t, 1, "28.2", 1)
	otherKey, _ := collectortest.NewClientKey(t)
	c := f.collector(t, func(_ int, h *HostConfig) { h.KeyFile = otherKey })
	snap := c.Collect(context.Background(), "h00", false)
	if snap.Host.Status != deckhand.HostAuthFailed {
		t.Fatalf("status %s, err %v", snap.Host.Status, snap.Err)
	}
}

func TestReconnectAfterDropAndBackoff(t *testing.T) {
	f := newFleet(t, 1, "28.2", 2)
	c := f.collector(t, nil)
	ctx := context.Background()
	if s := c.Collect(ctx, "h00", false); s.Err != nil {
		t.Fatal(s.Err)
	}
	srv := f.hosts[0].server
	srv.DropConnections()
	// The dead connection is noticed (by the watcher or by the failing
	// session) and replaced by one new handshake.
	if s := c.Collect(ctx, "h00", false); s.Err != nil {
		t.Fatalf("collect after drop: %v", s.Err)
	}
	if got := c.Handshakes(); got != 2 {
		t.Errorf("handshakes after one drop = %d, want 2", got)
	}

	// While the host refuses logins, the next attempts inside the backoff
	// window fail fast without dialling.
	f.hosts[0].engine.SetFault(collectortest.FaultAuth)
	srv.DropConnections()
	waitFor(t, func() bool { return srv.Conns() == 0 })
	first := c.Collect(ctx, "h00", false)
	if first.Host.Status != deckhand.HostAuthFailed {
		t.Fatalf("status %s (%v), want auth failed", first.Host.Status, first.Err)
	}
	before := srv.Handshakes()
	second := c.Collect(ctx, "h00", false)
	if second.Host.Status != deckhand.HostAuthFailed {
		t.Errorf("in backoff: status %s, want the last classified error", second.Host.Status)
	}
	if srv.Handshakes() != before {
		t.Errorf("dialled during backoff")
	}
	f.hosts[0].engine.SetFault(collectortest.FaultNone)
	waitFor(t, func() bool { return c.Collect(ctx, "h00", false).Err == nil })
	if got := first.Host.LastOKAt; got.IsZero() {
		t.Error("LastOKAt lost after a failure")
	}
}

func TestKeepaliveFailureClosesConnection(t *testing.T) {
	f := newFleet(t, 1, "28.2", 1)
	c := f.collector(t, func(_ int, h *HostConfig) { h.KeepAlive = 20 * time.Millisecond })
	ctx := context.Background()
	if s := c.Collect(ctx, "h00", false); s.Err != nil {
		t.Fatal(s.Err)
	}
	srv := f.hosts[0].server
	// Answered keepalives keep the one connection.
	time.Sleep(100 * time.Millisecond)
	if srv.Conns() != 1 || c.Handshakes() != 1 {
		t.Fatalf("conns %d handshakes %d with answered keepalives", srv.Conns(), c.Handshakes())
	}
	srv.StallGlobalRequests(true)
	waitFor(t, func() bool { return srv.Conns() == 0 })
	srv.StallGlobalRequests(false)
	if s := c.Collect(ctx, "h00", false); s.Err != nil {
		t.Fatal(s.Err)
	}
	if got := c.Handshakes(); got != 2 {
		t.Errorf("handshakes = %d, want 2 (reopened on demand)", got)
	}
}

func TestSessionsAreBounded(t *testing.T) {
	f := newFleet(t, 1, "28.2", 1)
	f.hosts[0].engine.SetLatency(50 * time.Millisecond)
	c := f.collector(t, func(_ int, h *HostConfig) { h.MaxSessions = 2 })
	ctx := context.Background()
	done := make(chan error, 12)
	for range 12 {
		go func() {
			_, err := c.Logs(ctx, "h00", "app-00", 10)
			done <- err
		}()
	}
	for range 12 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if got := c.Handshakes(); got != 1 {
		t.Errorf("handshakes = %d, want 1", got)
	}
	if p := f.hosts[0].server.PeakSessions(); p != 2 {
		t.Errorf("peak concurrent sessions = %d, want 2 (MaxSessions)", p)
	}
}

func TestDockerPath(t *testing.T) {
	f := newFleet(t, 1, "20.10", 1)
	f.hosts[0].engine.SetDockerPath("/usr/local/bin/docker")
	c := f.collector(t, nil)
	s := c.Collect(context.Background(), "h00", false)
	if s.Host.Status != deckhand.HostDockerMissing || !strings.Contains(s.Host.LastError, "docker_path") {
		t.Fatalf("default path: %s %q", s.Host.Status, s.Host.LastError)
	}
	c = f.collector(t, func(_ int, h *HostConfig) { h.DockerPath = "/usr/local/bin/docker" })
	if s := c.Collect(context.Background(), "h00", false); s.Err != nil {
		t.Fatalf("with docker_path: %v", s.Err)
	}
}

func TestDisabledAndUnknownHost(t *testing.T) {
	f := newFleet(t, 1, "28.2", 1)
	c := f.collector(t, func(_ int, h *HostConfig) { h.Enabled = false })
	s := c.Collect(context.Background(), "h00", false)
	if s.Host.Status != deckhand.HostDisabled || f.hosts[0].server.Handshakes() != 0 {
		t.Errorf("disabled host: %s, %d handshakes", s.Host.Status, f.hosts[0].server.Handshakes())
	}
	if s := c.Collect(context.Background(), "nope", false); !errors.Is(s.Err, deckhand.ErrNotFound) {
		t.Errorf("unknown host: %v", s.Err)
	}
	if err := c.Restart(context.Background(), "h00", "app-00"); !errors.Is(err, deckhand.ErrHostDisabled) {
		t.Errorf("action on a disabled host: %v", err)
	}
}

func TestNewValidates(t *testing.T) {
	ok := HostConfig{Name: "nas", Address: "nas.lan", User: "deck", KeyFile: "/k", KnownHostsFile: "/kh", Enabled: true}
	tests := []struct {
		name string
		mod  func(*HostConfig)
	}{
		{"bad name", func(h *HostConfig) { h.Name = "-x" }},
		{"no address", func(h *HostConfig) { h.Address = "" }},
		{"no user", func(h *HostConfig) { h.User = "" }},
		{"no auth", func(h *HostConfig) { h.KeyFile = "" }},
		{"no known hosts", func(h *HostConfig) { h.KnownHostsFile = "" }},
		{"bad transport", func(h *HostConfig) { h.Transport = "telnet" }},
		{"assignment as docker path", func(h *HostConfig) { h.DockerPath = "X=1" }},
		{"option as docker path", func(h *HostConfig) { h.DockerPath = "-docker" }},
		{"shell in docker path", func(h *HostConfig) { h.DockerPath = "docker;reboot" }},
		{"relative docker path", func(h *HostConfig) { h.DockerPath = "bin/docker" }},
		{"more sessions than the cap", func(h *HostConfig) { h.MaxSessions = 9 }},
		{"negative sessions", func(h *HostConfig) { h.MaxSessions = -1 }},
		{"port out of range", func(h *HostConfig) { h.Address = "nas.lan:70000" }},
		{"ssh settings on a local host", func(h *HostConfig) { h.Transport = TransportLocal }},
	}
	for _, tc := range tests {
		h := ok
		tc.mod(&h)
		if _, err := New([]HostConfig{h}, Options{}); !errors.Is(err, deckhand.ErrInvalidInput) {
			t.Errorf("%s: err = %v", tc.name, err)
		}
	}
	if _, err := New([]HostConfig{ok, ok}, Options{}); err == nil {
		t.Error("duplicate host accepted")
	}
	c, err := New([]HostConfig{ok, {Name: "box", Transport: TransportLocal}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.hosts["nas"].cfg; got.Address != "nas.lan:22" || got.DockerPath != "docker" || got.MaxSessions != 4 ||
		got.CommandTimeout != 15*time.Second || got.ConnectTimeout != 5*time.Second {
		t.Errorf("defaults: %+v", got)
	}
	if h := c.Hosts(); len(h) != 2 || h[0] != "nas" || h[1] != "box" {
		t.Errorf("Hosts() = %v", h)
	}
}

// TestValidateHostsNamesKeys: every mistake, named by its key in
// config.toml, so that cmd/deckhand can point at the line.
func TestValidateHostsNamesKeys(t *testing.T) {
	hosts := []HostConfig{
		{Name: "nas", Address: "nas.lan", User: "deck", KeyFile: "/k", KnownHostsFile: "/kh", MaxSessions: 10},
		{Name: "nas", Transport: "telnet"},
	}
	want := `hosts[0].max_sessions: 10 is out of range 1..8 (sshd allows 10 sessions per connection; deckhand keeps room for the events stream and yours)
hosts[1].transport: "telnet" is not "ssh" or "local"
hosts[1].name: duplicate host name "nas" (also hosts[0])`
	err := ValidateHosts(hosts)
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
	var se *deckhand.SettingError
	if !errors.As(err, &se) || se.Key != "hosts[0].max_sessions" {
		t.Errorf("first error is %#v, want a SettingError for hosts[0].max_sessions", se)
	}
	if err := (Options{Concurrency: 2000}).Validate(); err == nil || err.Error() != "collector.concurrency: 2000 is out of range 1..1024" {
		t.Errorf("Options.Validate = %v", err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
