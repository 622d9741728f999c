package collector

import (
	"context"
	"fmt"
	"github.com/deckhand/deckhand/internal/logtest"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/collector/collectortest"
)

// sampleContainers is the fleet every fake host runs: every state and
// health, ports with IPv6, awkward labels and a compose service.
func sampleContainers() []deckhand.Container {
	return []deckhand.Container{
		{Name: "web", Image: "nginx:1.27", State: deckhand.StateRunning, Labels: map[string]string{
			deckhand.LabelMonitor: "true", "org.example.note": "a,b=c,d", deckhand.LabelDesired: "running,b=c",
			deckhand.LabelComposeProject: "web", deckhand.LabelComposeService: "app",
			"com.docker.compose.project.working_dir":  "/srv/web",
			"com.docker.compose.project.config_files": "/srv/web/compose.yaml",
		}, Ports: []deckhand.Port{
			{IP: "0.0.0.0", PublicPort: 5432, PrivatePort: 5432, Proto: "tcp"},
			{IP: "::", PublicPort: 5432, PrivatePort: 5432, Proto: "tcp"},
			{IP: "127.0.0.1", PublicPort: 8080, PrivatePort: 80, Proto: "tcp"},
			{PrivatePort: 9000, Proto: "udp"},
		}},
		{Name: "healthy", State: deckhand.StateRunning, Health: deckhand.HealthHealthy, Labels: map[string]string{deckhand.LabelMonitor: "true"}},
		{Name: "sick", State: deckhand.StateRunning, Health: deckhand.HealthUnhealthy, Labels: map[string]string{deckhand.LabelAutoRestart: "true"}},
		{Name: "booting", State: deckhand.StateRunning, Health: deckhand.HealthStarting},
		{Name: "crashed", State: deckhand.StateExited, ExitCode: 137, RestartCount: 3},
		{Name: "fresh", State: deckhand.StateCreated},
		{Name: "frozen", State: deckhand.StatePaused},
		{Name: "looping", State: deckhand.StateRestarting, ExitCode: 1, RestartCount: 9},
	}
}

type fakeHost struct {
	name   string
	engine *collectortest.Engine
	server *collectortest.Server
}

type fleet struct {
	hosts      []fakeHost
	keyFile    string
	knownHosts string
	logs       *logtest.Buffer
}

// newFleet starts n fake hosts of one version, each with ctrs containers
// (the sample set when ctrs is 0), and a known_hosts file for all of them.
func newFleet(t testing.TB, n int, version string, ctrs int) *fleet {
	t.Helper()
	keyFile, pub := collectortest.NewClientKey(t)
	f := &fleet{keyFile: keyFile, knownHosts: filepath.Join(t.TempDir(), "known_hosts"), logs: &logtest.Buffer{}}
	var kh strings.Builder
	for i := range n {
		e := collectortest.NewEngine(version)
		if ctrs == 0 {
			for _, c := range sampleContainers() {
				e.AddContainer(c)
			}
		}
		for j := range ctrs {
			e.AddContainer(deckhand.Container{Name: fmt.Sprintf("app-%02d", j), Labels: map[string]string{deckhand.LabelMonitor: "true"}})
		}
		e.AddVolume("data")
		e.AddVolume("cache")
		s := collectortest.NewServer(t, e, collectortest.WithAuthorizedKey(pub), collectortest.WithUser("deck"))
		kh.WriteString(s.KnownHostsLine("") + "\n")
		f.hosts = append(f.hosts, fakeHost{name: fmt.Sprintf("h%02d", i), engine: e, server: s})
	}
	if err := os.WriteFile(f.knownHosts, []byte(kh.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fleet) config(i int) HostConfig {
	return HostConfig{
		Name: f.hosts[i].name, Transport: TransportSSH, Address: f.hosts[i].server.Addr, User: "deck",
		KeyFile: f.keyFile, KnownHostsFile: f.knownHosts, Enabled: true,
		CommandTimeout: 2 * time.Second, ConnectTimeout: 2 * time.Second,
	}
}

func (f *fleet) collector(t testing.TB, mod func(i int, h *HostConfig)) *Collector {
	t.Helper()
	var cfgs []HostConfig
	for i := range f.hosts {
		h := f.config(i)
		if mod != nil {
			mod(i, &h)
		}
		cfgs = append(cfgs, h)
	}
	c, err := New(cfgs, Options{
		Logger:  slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Backoff: []time.Duration{50 * time.Millisecond, 100 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func byName(ctrs []deckhand.Container) map[string]deckhand.Container {
	m := map[string]deckhand.Container{}
	for _, c := range ctrs {
		m[c.Name] = c
	}
	return m
}

func TestCollectEveryVersion(t *testing.T) {
	for _, v := range collectortest.Versions() {
		t.Run(v, func(t *testing.T) {
			f := newFleet(t, 1, v, 0)
			c := f.collector(t, nil)
			snap := c.Collect(context.Background(), "h00", true)
			if snap.Err != nil {
				t.Fatalf("Collect: %v\nlogs:\n%s", snap.Err, f.logs)
			}
			if snap.Host.Status != deckhand.HostOK || snap.Host.LastError != "" || !snap.Full {
				t.Errorf("host = %+v, full %v", snap.Host, snap.Full)
			}
			if !strings.HasPrefix(snap.Host.DockerVersion, v) || snap.Host.APIVersion == "" {
				t.Errorf("versions = %q %q %q", snap.Host.DockerVersion, snap.Host.ClientVersion, snap.Host.APIVersion)
			}
			got := byName(snap.Containers)
			if len(got) != len(sampleContainers()) {
				t.Fatalf("got %d containers, want %d", len(got), len(sampleContainers()))
			}
			for _, want := range sampleContainers() {
				g := got[want.Name]
				wantHealth := want.Health
				if wantHealth == "" {
					wantHealth = deckhand.HealthNone
				}
				if g.State != want.State || g.Health != wantHealth || g.ExitCode != want.ExitCode || g.RestartCount != want.RestartCount {
					t.Errorf("%s: state %s health %s exit %d restarts %d; want %s %s %d %d", want.Name,
						g.State, g.Health, g.ExitCode, g.RestartCount, want.State, wantHealth, want.ExitCode, want.RestartCount)
				}
				if g.Host != "h00" || len(g.ID) != 64 || !strings.HasPrefix(g.ImageID, "sha256:") || g.CreatedAt.IsZero() {
					t.Errorf("%s: host %q id %q image id %q created %v", want.Name, g.Host, g.ID, g.ImageID, g.CreatedAt)
				}
				for k, val := range want.Labels {
					got, ok := g.Labels[k]
					if deckhand.KeptLabel(k) && got != val {
						t.Errorf("%s: label %s = %q, want %q", want.Name, k, got, val)
					}
					if !deckhand.KeptLabel(k) && ok {
						t.Errorf("%s: label %s = %q kept, want it dropped", want.Name, k, got)
					}
				}
			}
			web := got["web"]
			if web.ComposeProject != "web" || web.ComposeService != "app" || len(web.Ports) != 4 {
				t.Errorf("web: project %q service %q ports %+v", web.ComposeProject, web.ComposeService, web.Ports)
			}
			if web.Ports[1].IP != "::" || web.Ports[1].PublicPort != 5432 {
				t.Errorf("ipv6 port = %+v", web.Ports[1])
			}
			if len(snap.Images) == 0 || len(snap.Volumes) != 2 || snap.Volumes[0].Size <= 0 || snap.Volumes[0].Links < 0 {
				t.Errorf("images %+v volumes %+v", snap.Images, snap.Volumes)
			}
		})
	}
}

// The key property of the pool: steady state costs no handshake. And of
// the line cache: with nothing changed, one command per cycle, and a
// changed container is the only one inspected again.
func TestSteadyStateReusesConnection(t *testing.T) {
	f := newFleet(t, 3, "28.2", 5)
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for _, h := range f.hosts {
		h.engine.SetNow(func() time.Time { return now }) // Status text ("Up 2 hours") holds still
	}
	c := f.collector(t, nil)
	var last []deckhand.Snapshot
	for cycle := range 5 {
		last = c.CollectAll(context.Background(), cycle == 0)
		for _, s := range last {
			if s.Err != nil {
				t.Fatalf("cycle %d %s: %v", cycle, s.Host.Name, s.Err)
			}
		}
	}
	if got := c.Handshakes(); got != 3 {
		t.Errorf("Handshakes() = %d after 5 cycles of 3 hosts, want 3", got)
	}
	verbs := func(h fakeHost) []string {
		var v []string
		for _, cmd := range h.server.Commands() {
			fields := strings.Fields(cmd)
			v = append(v, fields[1])
		}
		return v
	}
	for _, h := range f.hosts {
		if got := h.server.Handshakes(); got != 1 {
			t.Errorf("%s: server saw %d handshakes, want 1", h.name, got)
		}
		// Full first cycle: version, ps, inspect, images, volume ls, df;
		// then nothing changed, so ps alone.
		want := []string{"version", "ps", "inspect", "images", "volume", "system", "ps", "ps", "ps", "ps"}
		if got := verbs(h); !slices.Equal(got, want) {
			t.Errorf("%s: commands %q, want %q", h.name, got, want)
		}
	}

	// One container dies on h00: the next cycle inspects it and only it,
	// reports what changed, and keeps sharing the unchanged ones' labels.
	h := f.hosts[0]
	h.engine.SetExitCode("app-02", 137)
	h.engine.SetState("app-02", deckhand.StateExited, "")
	before := last[0].Containers
	snap := c.Collect(context.Background(), h.name, false)
	if snap.Err != nil {
		t.Fatal(snap.Err)
	}
	cmds := h.server.Commands()
	lastCmd := cmds[len(cmds)-1]
	var inspected []string
	for _, ct := range before {
		if strings.Contains(lastCmd, ct.ID) {
			inspected = append(inspected, ct.Name)
		}
	}
	if !strings.HasPrefix(lastCmd, "docker inspect ") || !slices.Equal(inspected, []string{"app-02"}) {
		t.Errorf("after one change, the last command inspects %q, want app-02 alone: %s", inspected, lastCmd)
	}
	got := byName(snap.Containers)
	if c := got["app-02"]; c.State != deckhand.StateExited || c.ExitCode != 137 || c.Labels[deckhand.LabelMonitor] != "true" || c.FinishedAt.IsZero() {
		t.Errorf("app-02 after the kill: %s exit %d labels %v", c.State, c.ExitCode, c.Labels)
	}
	for _, old := range before {
		now := got[old.Name]
		if now.ID != old.ID || now.Host != h.name {
			t.Errorf("%s: %+v", old.Name, now)
		}
		if now.StartedAt.IsZero() || (old.Name != "app-02" && !now.StartedAt.Equal(old.StartedAt)) {
			t.Errorf("%s: StartedAt %v, was %v: Docker's start time must survive the line cache", old.Name, now.StartedAt, old.StartedAt)
		}
		shared := reflect.ValueOf(now.Labels).UnsafePointer() == reflect.ValueOf(old.Labels).UnsafePointer()
		if want := old.Name != "app-02"; shared != want {
			t.Errorf("%s: labels map shared with the last snapshot = %v, want %v", old.Name, shared, want)
		}
	}
}

func TestFaultsAreClassifiedAndIsolated(t *testing.T) {
	faults := []struct {
		fault collectortest.Fault
		want  deckhand.HostStatus
		msg   string
	}{
		{collectortest.FaultNone, deckhand.HostOK, ""},
		{collectortest.FaultHang, deckhand.HostTimeout, "no answer within"},
		{collectortest.FaultGarbage, deckhand.HostBadOutput, "unparseable"},
		{collectortest.FaultTruncated, deckhand.HostBadOutput, ""},
		{collectortest.FaultDaemonDown, deckhand.HostDaemonDown, "Cannot connect to the Docker daemon"},
		{collectortest.FaultPermissionDenied, deckhand.HostPermissionDenied, "permission denied while trying to connect"},
		{collectortest.FaultDockerMissing, deckhand.HostDockerMissing, "docker: not found"},
		{collectortest.FaultAuth, deckhand.HostAuthFailed, "refused"},
		{collectortest.FaultDropConnection, deckhand.HostUnreachable, ""},
	}
	f := newFleet(t, len(faults)+1, "24.0", 0)
	for i, tc := range faults {
		f.hosts[i].engine.SetFault(tc.fault)
	}
	// One more host with a closed port.
	c := f.collector(t, func(i int, h *HostConfig) {
		h.CommandTimeout = 500 * time.Millisecond
		if i == len(faults) {
			f.hosts[i].server.Close()
		}
	})
	snaps := c.CollectAll(context.Background(), false)
	if len(snaps) != len(faults)+1 {
		t.Fatalf("%d snapshots", len(snaps))
	}
	for i, tc := range faults {
		s := snaps[i]
		if s.Host.Name != f.hosts[i].name {
			t.Errorf("snapshot %d is for %s", i, s.Host.Name)
		}
		if s.Host.Status != tc.want || deckhand.StatusOf(s.Err) != tc.want {
			t.Errorf("fault %d: status %s (err %v), want %s", tc.fault, s.Host.Status, s.Err, tc.want)
		}
		if !strings.Contains(s.Host.LastError, tc.msg) || (tc.want != deckhand.HostOK && !strings.Contains(s.Host.LastError, s.Host.Name)) {
			t.Errorf("fault %d: LastError %q lacks %q or the host name", tc.fault, s.Host.LastError, tc.msg)
		}
		if tc.want == deckhand.HostOK && len(s.Containers) != len(sampleContainers()) {
			t.Errorf("healthy host next to faulty ones got %d containers", len(s.Containers))
		}
	}
	if last := snaps[len(faults)]; last.Host.Status != deckhand.HostUnreachable || !strings.Contains(last.Host.LastError, "refused") {
		t.Errorf("closed port: %s %q", last.Host.Status, last.Host.LastError)
	}
	if strings.Contains(f.logs.String(), "BEGIN OPENSSH PRIVATE KEY") {
		t.Error("a private key reached the logs")
	}
}

// Events and polls collect the same host at once: they share its line
// cache, and each sees every container with its host set (run with -race).
func TestConcurrentCollectsOfOneHost(t *testing.T) {
	f := newFleet(t, 1, "28.2", 6)
	c := f.collector(t, nil)
	h := f.hosts[0]
	var wg sync.WaitGroup
	for g := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 15 {
				if g == 0 && i%5 == 0 {
					state := deckhand.StateExited
					if i%10 == 0 {
						state = deckhand.StateRunning
					}
					h.engine.SetState("app-01", state, "")
				}
				s := c.Collect(context.Background(), h.name, i%7 == 0)
				if s.Err != nil {
					t.Errorf("collect: %v", s.Err)
					return
				}
				if len(s.Containers) != 6 {
					t.Errorf("%d containers, want 6", len(s.Containers))
				}
				for _, ct := range s.Containers {
					if ct.Host != h.name || ct.Labels[deckhand.LabelMonitor] != "true" {
						t.Errorf("%s: host %q labels %v", ct.Name, ct.Host, ct.Labels)
					}
				}
			}
		}()
	}
	wg.Wait()
}

// TestQuickCollectionAfterAnEvent: after an event, a known container whose
// ps line changed is taken from ps alone (one command), marked stale, and
// the next collection inspects it.
func TestQuickCollectionAfterAnEvent(t *testing.T) {
	f := newFleet(t, 1, "28.2", 3)
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	h := f.hosts[0]
	h.engine.SetNow(func() time.Time { return now })
	c := f.collector(t, nil)
	first := c.Collect(context.Background(), h.name, false)
	if first.Err != nil {
		t.Fatal(first.Err)
	}
	h.engine.SetExitCode("app-01", 137)
	h.engine.SetState("app-01", deckhand.StateExited, "")
	n := len(h.server.Commands())
	snap, stale := c.CollectQuick(context.Background(), h.name)
	if snap.Err != nil {
		t.Fatal(snap.Err)
	}
	cmds := h.server.Commands()[n:]
	if len(cmds) != 1 || !strings.HasPrefix(cmds[0], "docker ps ") || stale != 1 {
		t.Fatalf("quick collection ran %q, stale %d; want ps alone and one stale container", cmds, stale)
	}
	got := byName(snap.Containers)["app-01"]
	if got.State != deckhand.StateExited || got.ExitCode != 137 || got.Labels[deckhand.LabelMonitor] != "true" {
		t.Errorf("app-01 from ps alone: %s exit %d labels %v", got.State, got.ExitCode, got.Labels)
	}
	snap = c.Collect(context.Background(), h.name, false)
	cmds = h.server.Commands()[n+1:]
	if len(cmds) != 2 || !strings.HasPrefix(cmds[1], "docker inspect ") || !strings.Contains(cmds[1], got.ID) {
		t.Fatalf("the collection after a quick one ran %q; want ps, then inspect of app-01", cmds)
	}
	if f := byName(snap.Containers)["app-01"]; f.FinishedAt.IsZero() {
		t.Error("app-01 still without Docker's finish time after the follow-up inspect")
	}
	// A new container is inspected even on the quick path: its labels say
	// whether it is watched at all.
	h.engine.AddContainer(deckhand.Container{Name: "fresh", Labels: map[string]string{deckhand.LabelMonitor: "true"}})
	if _, stale := c.CollectQuick(context.Background(), h.name); stale != 0 {
		t.Errorf("stale %d after a new container: it must be inspected", stale)
	}
}

// Concurrency bounds the collections the monitor's per-host workers run,
// not only CollectAll's: with one slot, a second host waits while the
// first one's command is in flight.
func TestConcurrencyBoundsEveryCollection(t *testing.T) {
	f := newFleet(t, 2, "28.2", 1)
	for _, h := range f.hosts {
		h.engine.SetLatency(400 * time.Millisecond)
	}
	var cfgs []HostConfig
	for i := range f.hosts {
		cfgs = append(cfgs, f.config(i))
	}
	c, err := New(cfgs, Options{Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	done := make(chan struct{}, 2)
	for _, h := range f.hosts {
		go func() { c.Collect(context.Background(), h.name, false); done <- struct{}{} }()
	}
	busy := func() (n int) {
		for _, h := range f.hosts {
			if len(h.server.Commands()) > 0 {
				n++
			}
		}
		return n
	}
	deadline := time.Now().Add(10 * time.Second)
	for busy() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // well inside the first command's 400 ms
	if n := busy(); n != 1 {
		t.Errorf("%d hosts running commands at once with concurrency 1", n)
	}
	<-done
	<-done
}
