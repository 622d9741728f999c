package collector_test

import (
	"context"
	"errors"
	"github.com/deckhand/deckhand/internal/logtest"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/collector"
	"github.com/deckhand/deckhand/internal/dockertest"
)

// fixture is a small compose-like project on the real engine: a healthy
// monitored web container, one that exited with code 3, and one without a
// healthcheck.
type fixture struct {
	project string
	web     dockertest.Container
	crash   dockertest.Container
	plain   dockertest.Container
}

func (f fixture) names() []string { return []string{f.web.Name, f.crash.Name, f.plain.Name} }

func startFixture(t *testing.T) fixture {
	t.Helper()
	dockertest.Require(t)
	f := fixture{project: "dhit-" + dockertest.RandHex(4)}
	f.web = dockertest.Run(t, "web", dockertest.RunOptions{Labels: map[string]string{
		deckhand.LabelMonitor:        "true",
		deckhand.LabelDesired:        "running",
		deckhand.LabelAutoRestart:    "true",
		deckhand.LabelComposeProject: f.project,
		deckhand.LabelComposeService: "web",
		// Docker joins ps labels with commas and no escaping: a value with
		// "," and "=" is where a ps-only parser goes wrong.
		deckhand.LabelComposeFiles: "/srv/a=b,c=d, e/compose.yaml",
		"org.example.note":         "a=b,c", // not deckhand's: dropped
	}})
	f.crash = dockertest.Run(t, "crash", dockertest.RunOptions{
		Args:          []string{"exit", "3"},
		NoHealthcheck: true,
		Labels: map[string]string{
			deckhand.LabelMonitor:        "true",
			deckhand.LabelComposeProject: f.project,
			deckhand.LabelComposeService: "crash",
		},
	})
	f.plain = dockertest.Run(t, "plain", dockertest.RunOptions{
		NoHealthcheck: true,
		Labels:        map[string]string{deckhand.LabelDesired: "stopped"},
	})
	dockertest.WaitHealth(t, f.web.Name, deckhand.HealthHealthy)
	dockertest.WaitState(t, f.crash.Name, deckhand.StateExited)
	dockertest.WaitState(t, f.plain.Name, deckhand.StateRunning)
	return f
}

// newCollector builds a one-host collector with short backoff, closed and
// checked for leaked key material when the test ends.
func newCollector(t *testing.T, hc collector.HostConfig) *collector.Collector {
	t.Helper()
	hc.Enabled = true
	if hc.ConnectTimeout == 0 {
		hc.ConnectTimeout = 10 * time.Second
	}
	if hc.CommandTimeout == 0 {
		hc.CommandTimeout = 60 * time.Second // CI machines are slow; this is not a timing test
	}
	logs := &logtest.Buffer{}
	c, err := collector.New([]collector.HostConfig{hc}, collector.Options{
		Logger:  slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Backoff: []time.Duration{10 * time.Millisecond},
	})
	if err != nil {
		t.Fatalf("collector.New: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if hc.KeyFile != "" {
			assertKeyNotLogged(t, hc.KeyFile, logs.String())
		}
		if t.Failed() {
			t.Logf("collector log:\n%s", logs.String())
		}
	})
	return c
}

// assertKeyNotLogged fails if any line of the private key's body shows up
// in the log.
func assertKeyNotLogged(t *testing.T, keyFile, log string) {
	t.Helper()
	pem, err := os.ReadFile(keyFile)
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(pem), "\n") {
		if len(line) >= 20 && !strings.HasPrefix(line, "-----") && strings.Contains(log, line) {
			t.Errorf("private key material from %s appears in the log", filepath.Base(keyFile))
		}
	}
}

func findRow(snap deckhand.Snapshot, name string) (deckhand.Container, bool) {
	for _, c := range snap.Containers {
		if c.Name == name {
			return c, true
		}
	}
	return deckhand.Container{}, false
}

// assertMatchesDocker checks that the snapshot's rows for names say what
// `docker inspect` says about the same containers right after.
func assertMatchesDocker(t *testing.T, snap deckhand.Snapshot, host string, names ...string) {
	t.Helper()
	if snap.Err != nil {
		t.Fatalf("snapshot error: %v", snap.Err)
	}
	if snap.Host.Status != deckhand.HostOK || snap.Host.Name != host {
		t.Fatalf("host %q status %q (%s), want %q ok", snap.Host.Name, snap.Host.Status, snap.Host.LastError, host)
	}
	for _, name := range names {
		got, ok := findRow(snap, name)
		if !ok {
			t.Errorf("container %s missing from the snapshot (%d rows)", name, len(snap.Containers))
			continue
		}
		want := dockertest.Inspect(t, name)
		if want.State != deckhand.StateExited && want.State != deckhand.StateDead && want.State != deckhand.StateRestarting {
			want.ExitCode = 0 // the domain keeps an exit code only for a container that is down
		}
		checks := []struct {
			field     string
			got, want any
		}{
			{"Host", got.Host, host},
			{"ID", got.ID, want.ID},
			{"State", got.State, want.State},
			{"Health", got.Health, want.Health},
			{"ExitCode", got.ExitCode, want.ExitCode},
			{"RestartCount", got.RestartCount, want.RestartCount},
			{"Image", got.Image, want.Image},
			{"ImageID", got.ImageID, want.ImageID},
			{"ComposeProject", got.ComposeProject, want.ComposeProject},
			{"ComposeService", got.ComposeService, want.ComposeService},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("%s: %s = %v, docker inspect says %v", name, c.field, c.got, c.want)
			}
		}
		kept := maps.Clone(want.Labels)
		maps.DeleteFunc(kept, func(k, _ string) bool { return !deckhand.KeptLabel(k) })
		if !maps.Equal(got.Labels, kept) {
			t.Errorf("%s: labels\n got %v\nwant %v (of docker's %v)", name, got.Labels, kept, want.Labels)
		}
		if _, ok := want.Labels[dockertest.OwnerLabel]; !ok || got.Labels[dockertest.OwnerLabel] != "" {
			t.Errorf("%s: the foreign label %s is not dropped (docker: %v, got %v)", name, dockertest.OwnerLabel, want.Labels, got.Labels)
		}
		if got.CreatedAt.IsZero() || got.CreatedAt.Unix() != want.CreatedAt.Unix() {
			t.Errorf("%s: CreatedAt %v, docker inspect says %v", name, got.CreatedAt, want.CreatedAt)
		}
	}
}

// assertFixtureDomain checks what the domain derives from the rows: the
// labels must have reached it intact.
func assertFixtureDomain(t *testing.T, snap deckhand.Snapshot, f fixture) {
	t.Helper()
	web, _ := findRow(snap, f.web.Name)
	if !(deckhand.Watchlist{}).Watched(web) || !web.AutoRestart() || !web.Up() || web.Health != deckhand.HealthHealthy {
		t.Errorf("web: monitored %v auto-restart %v up %v health %s", (deckhand.Watchlist{}).Watched(web), web.AutoRestart(), web.Up(), web.Health)
	}
	crash, _ := findRow(snap, f.crash.Name)
	if crash.Up() || crash.ExitCode != 3 || crash.Health != deckhand.HealthNone {
		t.Errorf("crash: up %v exit %d health %s", crash.Up(), crash.ExitCode, crash.Health)
	}
	plain, _ := findRow(snap, f.plain.Name)
	if plain.Desired() != deckhand.StateExited || (deckhand.Watchlist{}).Watched(plain) || plain.Health != deckhand.HealthNone {
		t.Errorf("plain: desired %s monitored %v health %s", plain.Desired(), (deckhand.Watchlist{}).Watched(plain), plain.Health)
	}
}

// hostileRefs are container references that would run a command if they
// ever reached a shell unquoted, or be read by docker as an option.
func hostileRefs(marker string) []string {
	return []string{
		"x; touch " + marker,
		"$(touch " + marker + ")",
		"`touch " + marker + "`",
		"x' ; touch '" + marker,
		"x\ntouch " + marker,
		"x && touch " + marker,
		"x | touch " + marker,
		"--help",
		"-f",
		"",
	}
}

// assertHostileRefsHarmless runs every action with hostile references: each
// must fail as invalid input or not found, and the marker must never appear.
func assertHostileRefsHarmless(t *testing.T, c *collector.Collector, host string) {
	t.Helper()
	ctx := context.Background()
	marker := filepath.Join(os.TempDir(), "pwned-"+dockertest.RandHex(6))
	t.Cleanup(func() { os.Remove(marker) })
	actions := map[string]func(ref string) error{
		"logs":    func(ref string) error { _, err := c.Logs(ctx, host, ref, 10); return err },
		"inspect": func(ref string) error { _, err := c.Inspect(ctx, host, ref); return err },
		"start":   func(ref string) error { return c.Start(ctx, host, ref) },
		"stop":    func(ref string) error { return c.Stop(ctx, host, ref) },
		"restart": func(ref string) error { return c.Restart(ctx, host, ref) },
	}
	for op, do := range actions {
		for _, ref := range hostileRefs(marker) {
			err := do(ref)
			if !errors.Is(err, deckhand.ErrInvalidInput) && !errors.Is(err, deckhand.ErrNotFound) {
				t.Errorf("%s %q: err %v, want ErrInvalidInput or ErrNotFound", op, ref, err)
			}
		}
		// A well-formed name of a container that does not exist reaches
		// docker and must come back as not found.
		if err := do(dockertest.UniqueName("absent")); !errors.Is(err, deckhand.ErrNotFound) {
			t.Errorf("%s of an absent container: err %v, want ErrNotFound", op, err)
		}
	}
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("marker %s exists (stat err %v): a hostile reference reached a shell", marker, err)
	}
}
