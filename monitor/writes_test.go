package monitor

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/alerts"
	"github.com/deckhand/deckhand/store"
	"github.com/deckhand/deckhand/store/storetest"
)

// countingStore counts the writes of a collection and of alerts.
type countingStore struct {
	*store.Store
	snapshots, alerts atomic.Int64
}

func (c *countingStore) SaveSnapshot(ctx context.Context, s deckhand.Snapshot) error {
	c.snapshots.Add(1)
	return c.Store.SaveSnapshot(ctx, s)
}

func (c *countingStore) ApplyAlerts(ctx context.Context, a []deckhand.Alert, n []deckhand.Notice, p []string) error {
	c.alerts.Add(1)
	return c.Store.ApplyAlerts(ctx, a, n, p)
}

// An unchanged host costs no write: only the first collection and the one
// that sees a change are written (the SD card of a Raspberry Pi wears out
// on rewritten rows).
func TestUnchangedCollectionsWriteNothing(t *testing.T) {
	ctx := context.Background()
	st := &countingStore{Store: storetest.Open(t)}
	if err := st.SyncHosts(ctx, []deckhand.Host{{Name: "nas", Enabled: true, Status: deckhand.HostUnknown}}); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	ctr := func(state deckhand.ContainerState) deckhand.Container {
		return deckhand.Container{Host: "nas", ID: "c1", Name: "web", State: state, RestartPolicy: "no", Status: "Up 2 hours",
			StartedAt: start, Labels: map[string]string{deckhand.LabelMonitor: "true"}}
	}
	var n int
	coll := &scripted{snap: func(string, int) deckhand.Snapshot {
		state := deckhand.StateRunning
		if n >= 5 {
			state = deckhand.StateExited
		}
		return deckhand.Snapshot{Host: deckhand.Host{Name: "nas", Status: deckhand.HostOK, Enabled: true},
			Containers: []deckhand.Container{ctr(state)}}
	}}
	eng, err := alerts.New(alerts.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(Config{Hosts: []string{"nas"}}, Deps{Store: st, Collector: coll, Engine: eng})
	if err != nil {
		t.Fatal(err)
	}
	h := m.hosts["nas"]
	for n = range 5 {
		m.collect(ctx, h, false)
	}
	if got := st.snapshots.Load(); got != 1 {
		t.Errorf("5 identical collections wrote %d snapshots, want 1 (the first)", got)
	}
	if got := st.alerts.Load(); got != 0 {
		t.Errorf("nothing to alert on, yet %d alert writes", got)
	}
	n = 5
	m.collect(ctx, h, false)
	if got := st.snapshots.Load(); got != 2 {
		t.Errorf("a change wrote %d snapshots in all, want 2", got)
	}
}
