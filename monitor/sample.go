package monitor

import (
	"context"
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
	if len(samples) == 0 {
		return
	}
	if err := m.st.RecordAvailability(ctx, now, span, samples); err != nil {
		m.logErr(ctx, "record availability", err)
	}
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
	for _, c := range ctrs {
		if !m.eng.Watchlist().Public(c) && !m.eng.Monitored(c) {
			continue
		}
		up := !hostDown && deckhand.ConditionWith(c, intents).Available()
		_, maint := m.eng.InMaintenance(c.Host, c.ComposeProject, c.Name, now)
		out = append(out, store.Availability{Host: s.Host.Name, Container: c.Name, Up: up, Maintenance: maint})
	}
	return out
}
