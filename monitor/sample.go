package monitor

import (
	"context"
	"slices"
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
// memory per slot.
const availabilitySlot = 5 * time.Minute

// availabilityFlush is how long added-up time may wait in memory. Each
// write costs SQLite about seven 4 KiB pages (the buckets of three
// resolutions, the tree above them, the WAL index) whatever it holds, so
// writing three slots at once instead of one a slot took an unchanged
// homelab of 40 containers from 16 to about 6 MB a day (the bench's
// writes section). A change of state is written at once, with the time
// waiting, so the bars are exact wherever something happened; what a
// crash can lose is at most this much up-time of containers that did not
// change.
const availabilityFlush = 15 * time.Minute

// availabilityBacklog bounds the slots kept while the store refuses them
// (a day of slots); the oldest go first.
const availabilityBacklog = 288

// availability adds up the samples of each slot and writes them every
// availabilityFlush or at a change. Every sample used to be a transaction
// touching three bucket rows per container: on a Raspberry Pi's SD card,
// 40 containers at the default interval wrote on the order of 100 MB a day
// for nothing. A change of state (up, down, maintenance) is written at
// once, so that outages start and end on time.
type availability struct {
	mu      sync.Mutex
	slot    time.Time
	sums    map[store.ContainerKey]*store.AvailabilitySum // the current slot's
	closed  []store.SlotSums                              // earlier slots, not written yet
	written time.Time                                     // the last write, or the first sample
	state   map[store.ContainerKey]store.Availability     // as last written
}

func (a *availability) add(ctx context.Context, m *Monitor, now time.Time, span time.Duration, samples []store.Availability) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.sums == nil {
		a.sums, a.state, a.written = map[store.ContainerKey]*store.AvailabilitySum{}, map[store.ContainerKey]store.Availability{}, now
	}
	if slot := now.Truncate(availabilitySlot); !slot.Equal(a.slot) {
		a.closeSlot()
		a.slot = slot
		if now.Sub(a.written) >= availabilityFlush {
			a.writeLocked(ctx, m, now, nil)
		}
	}
	changed := a.addSamples(span, samples)
	if len(changed) == 0 {
		return
	}
	if !a.writeLocked(ctx, m, now, changed) {
		for _, c := range changed {
			delete(a.state, store.ContainerKey{Host: c.Host, Container: c.Container}) // try again next time
		}
	}
}

// addSamples adds one sample per container to the current slot and
// returns the containers whose state changed.
func (a *availability) addSamples(span time.Duration, samples []store.Availability) []store.AvailabilitySum {
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
	return changed
}

// closeSlot moves the current slot's sums to the ones waiting.
func (a *availability) closeSlot() {
	if len(a.sums) == 0 {
		return
	}
	sums := make([]store.AvailabilitySum, 0, len(a.sums))
	for _, s := range a.sums {
		sums = append(sums, *s)
	}
	a.closed = append(a.closed, store.SlotSums{At: a.slot, Sums: sums})
	if over := len(a.closed) - availabilityBacklog; over > 0 {
		a.closed = slices.Delete(a.closed, 0, over)
	}
	clear(a.sums)
}

// writeLocked writes every slot waiting, the current slot's time so far
// and then changed (at now), in one transaction. Only changed opens and
// closes outages: a slot's sums carry the state at its last sample, which
// may be newer than the slot, and a change whose write failed is found
// again by the next sample (state is forgotten for it). It reports success; on
// failure the time keeps waiting for the next write.
func (a *availability) writeLocked(ctx context.Context, m *Monitor, now time.Time, changed []store.AvailabilitySum) bool {
	a.closeSlot()
	slots := a.closed
	if len(changed) > 0 {
		slots = append(slices.Clip(slots), store.SlotSums{At: now, Sums: changed, Outages: true})
	}
	if len(slots) == 0 {
		return true
	}
	if err := m.st.RecordAvailabilitySlots(ctx, slots); err != nil {
		m.logErr(ctx, "record availability", err)
		return false
	}
	a.closed, a.written = nil, now
	return true
}

// flush writes what is waiting (at the end of a run).
func (a *availability) flush(ctx context.Context, m *Monitor) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.writeLocked(ctx, m, m.now(), nil)
}
