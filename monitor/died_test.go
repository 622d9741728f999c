package monitor

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/alerts"
	"github.com/deckhand/deckhand/collector"
	"github.com/deckhand/deckhand/store"
	"github.com/deckhand/deckhand/store/storetest"
)

// stillRunning is a collector whose ps lags behind the events, as
// Docker's does by some 50 to 70 ms after "die": it keeps saying running.
type stillRunning struct{ snap deckhand.Snapshot }

func (s stillRunning) Collect(context.Context, string, bool) deckhand.Snapshot { return s.snap }
func (s stillRunning) CollectQuick(context.Context, string) (deckhand.Snapshot, int) {
	return s.snap, 0
}
func (stillRunning) Events(ctx context.Context, _ string, _ func(collector.Event)) error {
	<-ctx.Done()
	return nil
}

// TestDieEventAloneOpensTheAlert: a watched container without a restart
// policy is down on its "die" event, before ps says so; one with a policy
// is left to ps, since Docker may bring it back.
func TestDieEventAloneOpensTheAlert(t *testing.T) {
	for _, tc := range []struct {
		policy string
		want   bool
	}{{"no", true}, {"always", false}, {"on-failure", false}, {"", false}} {
		t.Run("policy "+tc.policy, func(t *testing.T) {
			ctx := context.Background()
			st := storetest.Open(t)
			now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
			c := deckhand.Container{Host: "nas", ID: "c1", Name: "web", State: deckhand.StateRunning, RestartPolicy: tc.policy,
				Labels: map[string]string{deckhand.LabelMonitor: "true"}}
			snap := deckhand.Snapshot{Host: deckhand.Host{Name: "nas", Status: deckhand.HostOK, Enabled: true},
				Containers: []deckhand.Container{c}, CollectedAt: now}
			eng, err := alerts.New(alerts.DefaultConfig())
			if err != nil {
				t.Fatal(err)
			}
			m, err := New(Config{Hosts: []string{"nas"}}, Deps{Store: st, Collector: stillRunning{snap}, Engine: eng,
				Now: func() time.Time { return now.Add(time.Second) }})
			if err != nil {
				t.Fatal(err)
			}
			h := m.hosts["nas"]
			m.collect(ctx, h, false)
			m.died(ctx, h, collector.Event{Host: "nas", ContainerID: "c1", Name: "web", Action: "die", ExitCode: 137, At: now.Add(time.Second)})
			active, err := st.ActiveAlerts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			opened := len(active) == 1 && active[0].State == deckhand.AlertOpen && active[0].Key.Kind == deckhand.AlertContainerDown
			if opened != tc.want {
				t.Errorf("alert opened on the die event alone: %v, want %v (%+v)", opened, tc.want, active)
			}
		})
	}
}

func TestInventorySpread(t *testing.T) {
	if d := inventorySpread("nas", 1, 5*time.Minute); d != 0 {
		t.Errorf("a single host waits %s", d)
	}
	seen := map[time.Duration]bool{}
	for i := range 200 {
		d := inventorySpread("host-"+strconv.Itoa(i), 200, 5*time.Minute)
		if d < 0 || d >= 10*time.Second {
			t.Fatalf("host %d waits %s, outside [0, 10s) for 200 hosts", i, d)
		}
		seen[d.Truncate(time.Second)] = true
	}
	if len(seen) < 8 {
		t.Errorf("200 hosts start their inventories in %d distinct seconds of 10: not spread", len(seen))
	}
	if d := inventorySpread("x", 1000, 20*time.Second); d >= 20*time.Second {
		t.Errorf("waits %s, beyond the inventory interval", d)
	}
}

// Availability is added up in memory and written once per 5-minute slot;
// a change of state is written at once, so that its outage starts on time.
func TestAvailabilityWrittenOncePerSlot(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	eng, err := alerts.New(alerts.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(Config{Hosts: []string{"nas"}}, Deps{Store: st, Collector: stillRunning{}, Engine: eng})
	if err != nil {
		t.Fatal(err)
	}
	slot := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	up := []store.Availability{{Host: "nas", Container: "web", Up: true}}
	bucket := func() time.Duration {
		t.Helper()
		var got time.Duration
		if err := st.UptimeEach(ctx, store.Res5m, slot, slot.Add(5*time.Minute), func(_ store.ContainerKey, bs []deckhand.UptimeBucket) {
			for _, b := range bs {
				if b.Start.Equal(slot) {
					got = b.Up
				}
			}
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}
	for i := range 3 {
		m.avail.add(ctx, m, slot.Add(time.Duration(i+1)*time.Minute), 15*time.Second, up)
	}
	// The first sample is a change (nothing was known): written at once,
	// with its time; the next two wait.
	if got := bucket(); got != 15*time.Second {
		t.Errorf("before the slot closed: %s up, want the first sample's 15s", got)
	}
	// A closed slot waits for availabilityFlush (nothing changed): one
	// write holds several slots.
	m.avail.add(ctx, m, slot.Add(6*time.Minute), 15*time.Second, up)
	if got := bucket(); got != 15*time.Second {
		t.Errorf("written at the first slot's end though nothing changed: %s up", got)
	}
	m.avail.add(ctx, m, slot.Add(availabilityFlush+time.Minute), 15*time.Second, up)
	if got := bucket(); got != 45*time.Second {
		t.Errorf("after %s: %s up, want 45s", availabilityFlush, got)
	}
	// Down: the outage opens at once, though its time waits for the slot.
	downAt := slot.Add(availabilityFlush + 2*time.Minute)
	m.avail.add(ctx, m, downAt, 15*time.Second, []store.Availability{{Host: "nas", Container: "web"}})
	var outages []deckhand.Outage
	var upBefore time.Duration
	if err := st.UptimeEach(ctx, store.Res5m, slot, downAt.Add(time.Minute), func(_ store.ContainerKey, bs []deckhand.UptimeBucket) {
		for _, b := range bs {
			for _, o := range b.Outages {
				if !slices.ContainsFunc(outages, func(x deckhand.Outage) bool { return x.Start.Equal(o.Start) }) {
					outages = append(outages, o)
				}
			}
			upBefore += b.Up
		}
	}); err != nil {
		t.Fatal(err)
	}
	// The change is written with the time that waited, and the outage
	// starts at the change, not at the start of its slot.
	if len(outages) != 1 || !outages[0].Start.Equal(downAt) {
		t.Errorf("outage not opened at the change (%s): %+v", downAt, outages)
	}
	if want := 5 * 15 * time.Second; upBefore != want {
		t.Errorf("up-time written with the change: %s, want %s", upBefore, want)
	}
}
