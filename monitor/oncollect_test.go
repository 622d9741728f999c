package monitor_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/alerts"
	"github.com/deckhand/deckhand/collector"
	"github.com/deckhand/deckhand/monitor"
	"github.com/deckhand/deckhand/store/storetest"
)

// OnCollect sees every host's fast and full collections, each once the
// loop is done with it: by then its alerts are stored.
func TestOnCollectSeesEachCollectionAfterEvaluation(t *testing.T) {
	st := storetest.Open(t)
	engine, err := alerts.New(alerts.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type seen struct {
		full, alerted bool
	}
	var mu sync.Mutex
	got := map[string][]seen{}
	m, err := monitor.New(monitor.Config{Hosts: []string{"nas", "pi"}, Interval: 20 * time.Millisecond, InventoryInterval: time.Hour},
		monitor.Deps{Store: st, Collector: downCollector{}, Engine: engine, OnCollect: func(s deckhand.Snapshot) {
			active, err := st.ActiveAlerts(ctx)
			if ctx.Err() != nil {
				return // the test is over
			}
			if err != nil {
				t.Error(err)
			}
			alerted := false
			for _, a := range active {
				alerted = alerted || a.Key.Host == s.Host.Name && a.State == deckhand.AlertOpen
			}
			mu.Lock()
			got[s.Host.Name] = append(got[s.Host.Name], seen{full: s.Full, alerted: alerted})
			mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	counts := func(host string) (full, fast int) {
		for _, s := range got[host] {
			if s.full {
				full++
			} else {
				fast++
			}
		}
		return full, fast
	}
	for {
		mu.Lock()
		nasFull, nasFast := counts("nas")
		piFull, piFast := counts("pi")
		mu.Unlock()
		if min(nasFull, piFull) >= 1 && min(nasFast, piFast) >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, host := range []string{"nas", "pi"} {
		full, fast := counts(host)
		for _, s := range got[host] {
			if !s.alerted {
				t.Errorf("%s: OnCollect called before the down container's alert was stored: %+v", host, got[host])
			}
		}
		if full != 1 || fast < 2 {
			t.Errorf("%s: %d full and %d fast collections seen, want 1 and at least 2", host, full, fast)
		}
	}
}

// downCollector answers every host with one monitored container down.
type downCollector struct{}

func (downCollector) Collect(_ context.Context, host string, full bool) deckhand.Snapshot {
	now := time.Now()
	return deckhand.Snapshot{Host: deckhand.Host{Name: host, Status: deckhand.HostOK, Enabled: true, LastCollectAt: now},
		CollectedAt: now, Full: full, Containers: []deckhand.Container{{Host: host, ID: "id-app", Name: "app",
			State: deckhand.StateExited, ExitCode: 1, Labels: map[string]string{deckhand.LabelMonitor: "true"}}}}
}

func (c downCollector) CollectQuick(ctx context.Context, host string) (deckhand.Snapshot, int) {
	return c.Collect(ctx, host, false), 0
}

func (downCollector) Events(ctx context.Context, _ string, _ func(collector.Event)) error {
	<-ctx.Done()
	return nil
}
