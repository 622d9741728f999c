package monitor

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/alerts"
	"github.com/deckhand/deckhand/collector"
	"github.com/deckhand/deckhand/internal/logtest"
	"github.com/deckhand/deckhand/store/storetest"
)

// scripted is a collector that answers every collection with what snap
// returns, and has no events.
type scripted struct {
	mu   sync.Mutex
	n    int
	snap func(host string, n int) deckhand.Snapshot
}

func (s *scripted) Collect(_ context.Context, host string, _ bool) deckhand.Snapshot {
	s.mu.Lock()
	s.n++
	n := s.n
	s.mu.Unlock()
	snap := s.snap(host, n)
	snap.CollectedAt = time.Now()
	return snap
}

func (s *scripted) CollectQuick(ctx context.Context, host string) (deckhand.Snapshot, int) {
	return s.Collect(ctx, host, false), 0
}

func (*scripted) Events(ctx context.Context, _ string, _ func(collector.Event)) error {
	<-ctx.Done()
	return nil
}

func (s *scripted) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func runMonitor(t *testing.T, cfg Config, acfg alerts.Config, coll Collector, log *slog.Logger) (*Monitor, func()) {
	t.Helper()
	st := storetest.Open(t)
	if err := st.SyncHosts(context.Background(), []deckhand.Host{{Name: "nas", Enabled: true, Status: deckhand.HostUnknown}}); err != nil {
		t.Fatal(err)
	}
	eng, err := alerts.New(acfg)
	if err != nil {
		t.Fatal(err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := New(cfg, Deps{Store: st, Collector: coll, Engine: eng, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = m.Run(ctx); close(done) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return m, stop
}

// An unhealthy grace that ends between two polls opens the alert when it
// ends: with a poll an hour apart, it opens all the same.
func TestGraceEndingBetweenPollsIsActedOnWhenItEnds(t *testing.T) {
	sick := deckhand.Container{Host: "nas", ID: "c1", Name: "web", State: deckhand.StateRunning, Health: deckhand.HealthUnhealthy,
		RestartPolicy: "no", Labels: map[string]string{deckhand.LabelMonitor: "true"}}
	coll := &scripted{snap: func(string, int) deckhand.Snapshot {
		return deckhand.Snapshot{Host: deckhand.Host{Name: "nas", Status: deckhand.HostOK, Enabled: true}, Containers: []deckhand.Container{sick}}
	}}
	acfg := alerts.DefaultConfig()
	acfg.UnhealthyGrace = 300 * time.Millisecond
	m, _ := runMonitor(t, Config{Hosts: []string{"nas"}, Interval: time.Hour, InventoryInterval: time.Hour}, acfg, coll, nil)
	deadline := time.Now().Add(30 * time.Second)
	for {
		active, err := m.st.ActiveAlerts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(active) == 1 && active[0].State == deckhand.AlertOpen {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alert not open 30s after a 300ms grace, with the next poll an hour away: %+v", active)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Opened by the wake timer: not by a further fast collection (one at
	// start, and the inventory's full one).
	if n := coll.count(); n > 2 {
		t.Errorf("%d collections: the alert waited for polls", n)
	}
}

// A host that keeps failing the same way is reported once, not on every
// collection.
func TestFailingHostIsLoggedWhenItsStatusChanges(t *testing.T) {
	var logs logtest.Buffer
	coll := &scripted{snap: func(string, int) deckhand.Snapshot {
		return deckhand.Snapshot{Host: deckhand.Host{Name: "nas", Status: deckhand.HostTimeout, Enabled: true},
			Err: deckhand.ErrTimeout}
	}}
	m, stop := runMonitor(t, Config{Hosts: []string{"nas"}, Interval: 20 * time.Millisecond, InventoryInterval: time.Hour},
		alerts.DefaultConfig(), coll, slog.New(slog.NewTextHandler(&logs, nil)))
	for coll.count() < 8 {
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	_ = m
	if n := strings.Count(logs.String(), "host not collected"); n != 1 {
		t.Errorf("%d collections of a host failing the same way logged %d warnings, want 1:\n%s", coll.count(), n, logs.String())
	}
}
