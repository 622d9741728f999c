package fleet

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/collector"
)

func start(t *testing.T, cfg Config) *Fleet {
	t.Helper()
	f, err := Start(cfg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f
}

// TestSteadyCyclesReuseConnections: after the first cycle opened one
// connection per host, later cycles open none, on either side.
func TestSteadyCyclesReuseConnections(t *testing.T) {
	f := start(t, Config{Hosts: 3, Containers: 5, RTT: 2 * time.Millisecond, Jitter: time.Millisecond})
	c, err := collector.New(f.HostConfigs(), collector.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()
	for cycle := range 4 {
		for _, s := range c.CollectAll(ctx, cycle == 0) {
			if s.Err != nil || len(s.Containers) != 5 {
				t.Fatalf("cycle %d, %s: %v, %d containers", cycle, s.Host.Name, s.Err, len(s.Containers))
			}
		}
		if got := c.Handshakes(); got != 3 {
			t.Fatalf("after cycle %d: %d client handshakes, want 3 (one per host)", cycle, got)
		}
		if got := f.ServerHandshakes(); got != 3 {
			t.Fatalf("after cycle %d: %d server handshakes, want 3", cycle, got)
		}
	}
}

// TestNaiveOpensAConnectionPerCommand: the baseline really pays a handshake
// for each of its two commands per host, and reads every container.
func TestNaiveOpensAConnectionPerCommand(t *testing.T) {
	f := start(t, Config{Hosts: 3, Containers: 4})
	n, err := NewNaive(f.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	ctrs, failed := n.Collect(context.Background(), f.Hosts)
	if ctrs != 12 || failed != 0 {
		t.Fatalf("naive read %d containers with %d failed hosts, want 12 and 0", ctrs, failed)
	}
	if n.Dials() != 6 || f.ServerHandshakes() != 6 || f.ServerSessions() != 6 {
		t.Fatalf("naive: %d dials, server saw %d handshakes and %d sessions; want 6 each",
			n.Dials(), f.ServerHandshakes(), f.ServerSessions())
	}
}

func TestFailuresAreSpreadAndClassified(t *testing.T) {
	f := start(t, Config{Hosts: 8, Containers: 1, FailRate: 0.25})
	var faults []string
	for _, h := range f.Hosts {
		if h.Fault != "" {
			faults = append(faults, h.Name+":"+h.Fault)
		}
	}
	want := []string{"host-003:daemon_down", "host-007:auth"}
	if len(faults) != 2 || faults[0] != want[0] || faults[1] != want[1] {
		t.Fatalf("faults %v, want %v", faults, want)
	}
	c, err := collector.New(f.HostConfigs(), collector.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	for _, s := range c.CollectAll(context.Background(), false) {
		want := deckhand.HostOK
		switch s.Host.Name {
		case "host-003":
			want = deckhand.HostDaemonDown
		case "host-007":
			want = deckhand.HostAuthFailed
		}
		if s.Host.Status != want {
			t.Errorf("%s: status %s, want %s", s.Host.Name, s.Host.Status, want)
		}
	}
}

func TestManifestRoundTrip(t *testing.T) {
	f := start(t, Config{Hosts: 2, Containers: 1})
	var buf bytes.Buffer
	if err := WriteManifest(&buf, f.Manifest); err != nil {
		t.Fatal(err)
	}
	m, err := ReadManifest(bytes.TrimSpace(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Hosts) != 2 || m.Hosts[1] != f.Hosts[1] || m.KeyFile != f.KeyFile {
		t.Fatalf("manifest changed in transit: %+v", m)
	}
	if _, err := ReadManifest([]byte(`{"hosts":[]}`)); err == nil {
		t.Fatal("an empty manifest was accepted")
	}
}

// TestHungHostAnswersNothing: the hosts of Config.Hang come after the
// others; they accept the login and never answer a command, and their
// events stream, like every host's, is counted as open while it lasts.
func TestHungHostAnswersNothing(t *testing.T) {
	f := start(t, Config{Hosts: 2, Containers: 1, Hang: 1})
	if len(f.Hosts) != 3 || f.Hosts[2].Fault != FaultHang || f.Hosts[0].Fault != "" || f.Hosts[1].Fault != "" {
		t.Fatalf("hosts %+v, want two healthy ones then one hung", f.Hosts)
	}
	hosts := f.HostConfigs()
	for i := range hosts {
		hosts[i].CommandTimeout = 300 * time.Millisecond
	}
	c, err := collector.New(hosts, collector.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if s := c.Collect(ctx, f.Hosts[2].Name, false); !errors.Is(s.Err, deckhand.ErrTimeout) {
		t.Errorf("hung host: %v, want a timeout", s.Err)
	}
	if s := c.Collect(ctx, f.Hosts[0].Name, false); s.Err != nil {
		t.Errorf("healthy host: %v", s.Err)
	}
	if got := f.EventsStreams(); len(got) != 3 || got[0]+got[1]+got[2] != 0 {
		t.Fatalf("events streams before any opened: %v", got)
	}
	go func() { _ = c.Events(ctx, f.Hosts[1].Name, func(collector.Event) {}) }()
	deadline := time.Now().Add(5 * time.Second)
	for f.EventsStreams()[1] != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("events streams %v, want host 1's open", f.EventsStreams())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
