package collector_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/collector"
	"github.com/deckhand/deckhand/internal/dockertest"
	"github.com/deckhand/deckhand/internal/sshdtest"
)

const sshHost = "sshd"

func sshConfig(srv *sshdtest.Server) collector.HostConfig {
	return collector.HostConfig{
		Name:           sshHost,
		Transport:      collector.TransportSSH,
		Address:        srv.Addr,
		User:           srv.User,
		KeyFile:        srv.KeyFile,
		KnownHostsFile: srv.KnownHostsFile,
	}
}

// TestIntegrationSSH collects and acts on the real engine through the real
// OpenSSH server, the way deckhand reaches every remote host.
func TestIntegrationSSH(t *testing.T) {
	f := startFixture(t)
	srv := sshdtest.Start(t, sshdtest.Options{})
	c := newCollector(t, sshConfig(srv))
	ctx := context.Background()

	t.Run("snapshot matches docker inspect", func(t *testing.T) {
		snap := c.Collect(ctx, sshHost, true)
		assertMatchesDocker(t, snap, sshHost, f.names()...)
		assertFixtureDomain(t, snap, f)
		want := strings.TrimSpace(dockertest.Docker(t, "version", "--format", "{{.Server.Version}}"))
		if !snap.Full || snap.Host.DockerVersion != want {
			t.Errorf("full %v, DockerVersion %q; docker version says %q", snap.Full, snap.Host.DockerVersion, want)
		}
	})

	t.Run("steady state reuses one connection", func(t *testing.T) {
		for i := 0; i < 5; i++ {
			if snap := c.Collect(ctx, sshHost, i == 0); snap.Err != nil {
				t.Fatalf("collect %d: %v", i+1, snap.Err)
			}
		}
		if got := c.Handshakes(); got != 1 {
			t.Fatalf("Handshakes() = %d after 6 collects on one host, want 1", got)
		}
	})

	t.Run("concurrent collects share the connection", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- c.Collect(ctx, sshHost, false).Err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("concurrent collect: %v", err)
			}
		}
		if got := c.Handshakes(); got != 1 {
			t.Errorf("Handshakes() = %d, want 1", got)
		}
	})

	t.Run("logs", func(t *testing.T) {
		out, err := c.Logs(ctx, sshHost, f.crash.Name, 50)
		if err != nil || !strings.Contains(out, "exiting with code 3") {
			t.Fatalf("Logs = %q, %v", out, err)
		}
	})

	t.Run("actions change the real container", func(t *testing.T) {
		act := dockertest.Run(t, "act", dockertest.RunOptions{NoHealthcheck: true})
		dockertest.WaitState(t, act.Name, deckhand.StateRunning)

		if err := c.Stop(ctx, sshHost, act.Name); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		if st := dockertest.Inspect(t, act.Name); st.State != deckhand.StateExited {
			t.Fatalf("after Stop: state %s", st.State)
		}
		if row, _ := findRow(c.Collect(ctx, sshHost, false), act.Name); row.State != deckhand.StateExited {
			t.Errorf("snapshot after Stop: state %s", row.State)
		}

		if err := c.Start(ctx, sshHost, act.Name); err != nil {
			t.Fatalf("Start: %v", err)
		}
		before := dockertest.Inspect(t, act.Name)
		if before.State != deckhand.StateRunning {
			t.Fatalf("after Start: state %s", before.State)
		}

		if err := c.Restart(ctx, sshHost, act.Name); err != nil {
			t.Fatalf("Restart: %v", err)
		}
		after := dockertest.Inspect(t, act.Name)
		if after.State != deckhand.StateRunning || !after.StartedAt.After(before.StartedAt) {
			t.Fatalf("after Restart: state %s, started %v (before %v)", after.State, after.StartedAt, before.StartedAt)
		}
		// By ID as well as by name.
		if err := c.Stop(ctx, sshHost, act.ID); err != nil {
			t.Fatalf("Stop by id: %v", err)
		}
		if st := dockertest.Inspect(t, act.Name); st.State != deckhand.StateExited {
			t.Fatalf("after Stop by id: state %s", st.State)
		}
	})

	t.Run("hostile references", func(t *testing.T) {
		assertHostileRefsHarmless(t, c, sshHost)
	})

	t.Run("events", func(t *testing.T) {
		ev := dockertest.Run(t, "events", dockertest.RunOptions{NoHealthcheck: true, Labels: map[string]string{deckhand.LabelMonitor: "true"}})
		dockertest.WaitState(t, ev.Name, deckhand.StateRunning)

		ectx, cancel := context.WithCancel(ctx)
		defer cancel()
		got := make(chan collector.Event, 64)
		done := make(chan error, 1)
		go func() {
			done <- c.Events(ectx, sshHost, func(e collector.Event) {
				if e.Name == ev.Name {
					select {
					case got <- e:
					default:
					}
				}
			})
		}()

		// The stream only carries events from the moment it is open, and
		// there is no signal for that: kick the container until its events
		// arrive.
		var die collector.Event
		deadline := time.After(dockertest.WaitTimeout)
	wait:
		for {
			dockertest.Kill(t, ev.Name)
			timer := time.NewTimer(time.Second)
		drain:
			for {
				select {
				case e := <-got:
					if e.Action == "die" {
						die = e
						timer.Stop()
						break wait
					}
				case err := <-done:
					t.Fatalf("Events ended early: %v", err)
				case <-timer.C:
					break drain
				case <-deadline:
					t.Fatal("no die event from the events stream")
				}
			}
			dockertest.Start(t, ev.Name)
		}
		if die.ContainerID != ev.ID || die.Host != sshHost || die.ExitCode != 137 || die.Labels[deckhand.LabelMonitor] != "true" || die.At.IsZero() {
			t.Errorf("die event = %+v; want id %s, host %s, exit 137, homelab.monitor label", die, ev.ID, sshHost)
		}

		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Events after cancel = %v, want nil", err)
			}
		case <-time.After(dockertest.WaitTimeout):
			t.Fatal("Events did not return after its context was cancelled")
		}
		if got := c.Handshakes(); got != 1 {
			t.Errorf("Handshakes() = %d: events should ride the same connection", got)
		}
	})
}

// TestIntegrationSSHFailures checks that each way a real sshd can refuse
// deckhand ends in the host status a person can act on.
func TestIntegrationSSHFailures(t *testing.T) {
	dockertest.Require(t)
	tests := []struct {
		name       string
		opts       sshdtest.Options
		edit       func(*collector.HostConfig)
		wantErr    error
		wantStatus deckhand.HostStatus
	}{
		{name: "host key changed", opts: sshdtest.Options{WrongHostKey: true},
			wantErr: deckhand.ErrHostKeyMismatch, wantStatus: deckhand.HostKeyMismatch},
		{name: "host key changed is refused even when accepting unknown keys", opts: sshdtest.Options{WrongHostKey: true},
			edit:    func(h *collector.HostConfig) { h.AcceptUnknownHostKey = true },
			wantErr: deckhand.ErrHostKeyMismatch, wantStatus: deckhand.HostKeyMismatch},
		{name: "host key unknown", opts: sshdtest.Options{EmptyKnownHosts: true},
			wantErr: deckhand.ErrHostKeyUnknown, wantStatus: deckhand.HostKeyUnknown},
		{name: "host key unknown accepted by opt-in", opts: sshdtest.Options{EmptyKnownHosts: true},
			edit:       func(h *collector.HostConfig) { h.AcceptUnknownHostKey = true },
			wantStatus: deckhand.HostOK},
		{name: "wrong client key", opts: sshdtest.Options{UnauthorizedKey: true},
			wantErr: deckhand.ErrAuthFailed, wantStatus: deckhand.HostAuthFailed},
		{name: "docker path wrong",
			edit:    func(h *collector.HostConfig) { h.DockerPath = "/nonexistent/docker" },
			wantErr: deckhand.ErrDockerMissing, wantStatus: deckhand.HostDockerMissing},
		{name: "docker not on the session PATH", opts: sshdtest.Options{Path: "/nonexistent"},
			wantErr: deckhand.ErrDockerMissing, wantStatus: deckhand.HostDockerMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := sshdtest.Start(t, tt.opts)
			hc := sshConfig(srv)
			if tt.edit != nil {
				tt.edit(&hc)
			}
			c := newCollector(t, hc)
			snap := c.Collect(context.Background(), sshHost, false)
			if tt.wantErr == nil && snap.Err != nil || tt.wantErr != nil && !errors.Is(snap.Err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", snap.Err, tt.wantErr)
			}
			if snap.Host.Status != tt.wantStatus {
				t.Fatalf("status = %s, want %s", snap.Host.Status, tt.wantStatus)
			}
			if tt.wantErr != nil && snap.Host.LastError == "" {
				t.Errorf("LastError empty for a failed collect")
			}
			if snap.Host.Status.Reachable() {
				// sshd let us in: actions must fail the same way, not hang.
				if err := c.Restart(context.Background(), sshHost, "whatever"); tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Errorf("Restart = %v, want %v", err, tt.wantErr)
				}
			}
		})
	}
}

// TestIntegrationSSHReconnect takes the real sshd down and up again: the
// host turns unreachable, then comes back on a new connection.
func TestIntegrationSSHReconnect(t *testing.T) {
	dockertest.Require(t)
	srv := sshdtest.Start(t, sshdtest.Options{})
	c := newCollector(t, sshConfig(srv))
	ctx := context.Background()

	if snap := c.Collect(ctx, sshHost, false); snap.Err != nil {
		t.Fatalf("first collect: %v", snap.Err)
	}
	srv.Stop()
	snap := c.Collect(ctx, sshHost, false)
	if snap.Err == nil || snap.Host.Status.Reachable() {
		t.Fatalf("with sshd down: err %v status %s, want unreachable", snap.Err, snap.Host.Status)
	}
	if !errors.Is(snap.Err, deckhand.ErrUnreachable) && !errors.Is(snap.Err, deckhand.ErrTimeout) {
		t.Errorf("with sshd down: err %v, want ErrUnreachable or ErrTimeout", snap.Err)
	}

	srv.Restart(t)
	var last deckhand.Snapshot
	for i := 0; i < 100; i++ { // backoff is 10 ms in these tests
		if last = c.Collect(ctx, sshHost, false); last.Err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if last.Err != nil || last.Host.Status != deckhand.HostOK {
		t.Fatalf("after sshd came back: err %v status %s", last.Err, last.Host.Status)
	}
	if got := c.Handshakes(); got < 2 {
		t.Errorf("Handshakes() = %d after a reconnect, want at least 2", got)
	}
}

// TestIntegrationSSHHungCommand runs against an sshd whose every session is
// `sleep 1000` through ForceCommand: OpenSSH refuses signals to a forced
// command and keeps the channel open while it lives, so the session never
// ends by itself. The command must still be abandoned at its timeout, the
// host marked timeout, and the next command must not wait behind it.
func TestIntegrationSSHHungCommand(t *testing.T) {
	dockertest.Require(t)
	srv := sshdtest.Start(t, sshdtest.Options{ExtraConfig: []string{"ForceCommand sleep 1000"}})
	hc := sshConfig(srv)
	hc.CommandTimeout = time.Second
	hc.MaxSessions = 1
	c := newCollector(t, hc)
	for i := range 3 {
		done := make(chan deckhand.Snapshot, 1)
		go func() { done <- c.Collect(context.Background(), sshHost, false) }()
		select {
		case snap := <-done:
			if !errors.Is(snap.Err, deckhand.ErrTimeout) || snap.Host.Status != deckhand.HostTimeout {
				t.Fatalf("collect %d: err %v, status %s; want a timeout", i+1, snap.Err, snap.Host.Status)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("collect %d still waiting for a hung command after 30s (command timeout 1s)", i+1)
		}
	}
	// Cancelling ends an events stream on the same hung host too.
	ctx, cancel := context.WithCancel(context.Background())
	ended := make(chan error, 1)
	go func() { ended <- c.Events(ctx, sshHost, func(collector.Event) {}) }()
	time.Sleep(500 * time.Millisecond)
	cancel()
	select {
	case <-ended:
	case <-time.After(30 * time.Second):
		t.Fatal("events stream on a hung host did not end after cancel")
	}
}
