package monitor

import (
	"context"
	"sync"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/store"
)

// sampleAll records one polling interval of availability for every public
// or watched container of every host, from the latest snapshots in memory:
// the history behind the status page's uptime bars. It runs on its own
// clock, so a host that is slow to answer is sampled like the others (as
// what it last was, then as down once its collection failed).
func (m *Monitor) sampleAll(ctx context.Context) {
	m.evalMu.Lock()
	now := m.now()
	span := m.cfg.Interval
	if !m.lastSample.IsZero() {
		span = min(span, now.Sub(m.lastSample))
	} else {
		m.uptime.invalidate() // the page's history was read before anything was recorded
	}
	m.lastSample = now
	m.evalMu.Unlock()
	intents, err := m.st.Intents(ctx)
	if err != nil {
		m.logErr(ctx, "read intents", err)
	}
	var samples []store.Availability
	for _, s := range m.snapshots() {
		samples = append(samples, m.samplesOf(ctx, s, now, intents)...)
	}
	m.avail.add(ctx, m, now, span, samples)
}

// samplesOf is one host's samples. A container stopped on purpose
// through deckhand is as it should be, like one labelled
// homelab.desired=stopped.
func (m *Monitor) samplesOf(ctx context.Context, s deckhand.Snapshot, now time.Time, intents []deckhand.Intent) []store.Availability {
	if s.Host.Status == deckhand.HostDisabled {
		return nil
	}
	ctrs := s.Containers
	hostDown := s.Err != nil
	if hostDown {
		// The host did not answer: its containers are unreachable for the people using them.
		known, err := m.st.Containers(ctx, s.Host.Name)
		if err != nil {
			return nil
		}
		ctrs = known
	}
	out := make([]store.Availability, 0, len(ctrs))
	watch := m.eng.Watchlist()
	for _, c := range ctrs {
		if !watch.Public(c) && !watch.Watched(c) {
			continue
		}
		up := !hostDown && deckhand.ConditionWith(c, intents).Available()
		_, maint := m.eng.InMaintenance(c.Host, c.ComposeProject, c.Name, now)
		out = append(out, store.Availability{Host: s.Host.Name, Container: c.Name, Up: up, Maintenance: maint})
	}
	return out
}

// availabilitySlot is the store's finest bucket: samples are added up in
// memory for one slot and written when it closes.
const availabilitySlot = 5 * time.Minute

// availability adds up the samples of the current slot. Every sample used
// to be a transaction touching three bucket rows per container: on a
// Raspberry Pi's SD card, 40 containers at the default interval wrote on
// the order of 100 MB a day for nothing. A change of state (up, down,
// maintenance) is written at once, so that outages start and end on time;
// the time adds up in memory and is written once per slot.
type availability struct {
	mu    sync.Mutex
	slot  time.Time
	sums  map[store.ContainerKey]*store.AvailabilitySum
	state map[store.ContainerKey]store.Availability // as last written
}

func (a *availability) add(ctx context.Context, m *Monitor, now time.Time, span time.Duration, samples []store.Availability) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if slot := now.Truncate(availabilitySlot); !slot.Equal(a.slot) {
		a.flushLocked(ctx, m)
		a.slot = slot
	}
	if a.sums == nil {
		a.sums, a.state = map[store.ContainerKey]*store.AvailabilitySum{}, map[store.ContainerKey]store.Availability{}
	}
	var changed []store.AvailabilitySum
	seen := make(map[store.ContainerKey]bool, len(samples))
	for _, sm := range samples {
		k := store.ContainerKey{Host: sm.Host, Container: sm.Container}
		seen[k] = true
		sum := a.sums[k]
		if sum == nil {
			sum = &store.AvailabilitySum{}
			a.sums[k] = sum
		}
		sum.Availability = sm
		switch {
		case sm.Maintenance:
			sum.Maintenance += span
		case sm.Up:
			sum.Up += span
		default:
			sum.Down += span
		}
		if prev, ok := a.state[k]; !ok || prev != sm {
			changed = append(changed, store.AvailabilitySum{Availability: sm})
			a.state[k] = sm
		}
	}
	for k := range a.state {
		if !seen[k] {
			delete(a.state, k) // removed: written again if it comes back
		}
	}
	if len(changed) == 0 {
		return
	}
	if err := m.st.RecordAvailabilitySums(ctx, now, changed); err != nil {
		m.logErr(ctx, "record availability", err)
		for _, c := range changed {
			delete(a.state, store.ContainerKey{Host: c.Host, Container: c.Container}) // try again next time
		}
	}
}

// flush writes what the current slot added up (at the end of a run).
func (a *availability) flush(ctx context.Context, m *Monitor) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.flushLocked(ctx, m)
}

func (a *availability) flushLocked(ctx context.Context, m *Monitor) {
	if len(a.sums) == 0 {
		return
	}
	sums := make([]store.AvailabilitySum, 0, len(a.sums))
	for _, s := range a.sums {
		sums = append(sums, *s)
	}
	if err := m.st.RecordAvailabilitySums(ctx, a.slot, sums); err != nil {
		m.logErr(ctx, "record availability", err)
		return // kept: added to the next slot's write
	}
	clear(a.sums)
}
