package monitor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/collector"
)

// hostState is what the loop keeps about one host between collections.
type hostState struct {
	name    string
	trigger chan struct{} // re-collect now (an event, an action)
	first   chan struct{} // closed after the first fast collection
	once    sync.Once

	mu         sync.Mutex
	snap       deckhand.Snapshot // latest recorded
	recorded   bool
	lastStatus deckhand.HostStatus
	lastErr    string
}

func newHostState(name string) *hostState {
	return &hostState{name: name, trigger: make(chan struct{}, 1), first: make(chan struct{})}
}

func (h *hostState) poke() {
	select {
	case h.trigger <- struct{}{}:
	default: // one is already queued
	}
}

func (h *hostState) latest() (deckhand.Snapshot, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.snap, h.recorded
}

// pollLoop runs the host's fast collections: at once, then every interval
// and whenever it is poked. A poke during a collection queues exactly one
// more, so a burst of events (kill, die, stop) costs at most two.
func (m *Monitor) pollLoop(ctx context.Context, h *hostState) {
	tick := time.NewTicker(m.cfg.Interval)
	defer tick.Stop()
	for {
		m.collect(ctx, h, false)
		h.once.Do(func() { close(h.first) })
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-h.trigger:
			m.log.Debug("re-collect", "host", h.name, "hop", "collect_start")
		}
	}
}

// inventoryLoop runs the host's full collections (every container
// inspected again, images, volumes, their sizes) beside the fast ones,
// starting after the first fast collection so that it never delays it.
func (m *Monitor) inventoryLoop(ctx context.Context, h *hostState) {
	select {
	case <-ctx.Done():
		return
	case <-h.first:
	}
	for {
		m.collect(ctx, h, true)
		select {
		case <-ctx.Done():
			return
		case <-time.After(m.cfg.InventoryInterval):
		}
	}
}

// watchEvents keeps a `docker events` stream open to the host from the
// start. Each container event pokes the poll loop; after the stream drops,
// the host is collected again, since the daemon replays only its last 256
// events.
func (m *Monitor) watchEvents(ctx context.Context, h *hostState) {
	backoff := []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second}
	failures := 0
	for ctx.Err() == nil {
		started := m.now()
		err := m.coll.Events(ctx, h.name, func(ev collector.Event) {
			m.log.Debug("docker event", "host", h.name, "container", ev.Name, "action", ev.Action, "hop", "event_received",
				"event_age", m.now().Sub(ev.At))
			h.poke()
		})
		if ctx.Err() != nil {
			return
		}
		if m.now().Sub(started) > time.Minute {
			failures = 0
		}
		wait := backoff[min(failures, len(backoff)-1)]
		failures++
		m.log.Debug("events stream ended", "host", h.name, "err", err, "retry_in", wait)
		h.poke()
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// collect runs one collection of the host, records it and evaluates the
// host's alerts.
func (m *Monitor) collect(ctx context.Context, h *hostState, full bool) {
	s := m.collectOne(ctx, h.name, full)
	if ctx.Err() != nil {
		return
	}
	if m.onCol != nil {
		defer m.onCol(s)
	}
	if !m.record(ctx, h, s) {
		return
	}
	m.log.Debug("collected", "host", h.name, "full", full, "took", s.Duration, "hop", "collect_end")
	m.evaluate(ctx, []deckhand.Snapshot{s})
	m.pageChanged()
}

func (m *Monitor) collectOne(ctx context.Context, host string, full bool) deckhand.Snapshot {
	if hs, err := m.st.Host(ctx, host); err == nil && !hs.Enabled {
		// An admin disabled it from chat (maintenance): nothing is asked.
		now := m.now()
		return deckhand.Snapshot{Host: deckhand.Host{Name: host, Status: deckhand.HostDisabled, LastCollectAt: now},
			CollectedAt: now, Err: fmt.Errorf("%s: %w", host, deckhand.ErrHostDisabled)}
	}
	return m.coll.Collect(ctx, host, full)
}

// record stores a snapshot unless a newer one of the same host is already
// recorded: a full collection runs beside the fast ones and may end after
// a fast one that started later. Its images and volumes are still news,
// so they are stored with the newer containers. It reports whether s (or
// its inventory) was recorded.
func (m *Monitor) record(ctx context.Context, h *hostState, s deckhand.Snapshot) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.recorded && s.CollectedAt.Before(h.snap.CollectedAt) {
		if !s.Full || s.Err != nil || h.snap.Err != nil {
			return false
		}
		merged := h.snap
		merged.Images, merged.Volumes, merged.Full = s.Images, s.Volumes, true
		s = merged
	}
	first := !h.recorded
	h.snap, h.recorded = s, true
	if first {
		defer m.pending.Done()
	}
	if errors.Is(s.Err, deckhand.ErrHostDisabled) {
		// Keep the host's stored facts; the engine freezes a disabled host.
		return true
	}
	if err := m.st.SaveSnapshot(ctx, s); err != nil && ctx.Err() == nil {
		m.log.Error("save snapshot", "host", s.Host.Name, "err", err)
	}
	if m.met != nil {
		m.met.ObserveCollect(s.Host.Name, s.Duration, s.Err == nil)
	}
	m.logStatus(h, s, first)
	return true
}

// logStatus says when a host's status changes, not on every collection
// of a host that keeps failing the same way.
func (m *Monitor) logStatus(h *hostState, s deckhand.Snapshot, first bool) {
	errText := ""
	if s.Err != nil {
		errText = s.Err.Error()
	}
	changed := first || s.Host.Status != h.lastStatus || errText != h.lastErr
	h.lastStatus, h.lastErr = s.Host.Status, errText
	switch {
	case !changed:
		if s.Err != nil {
			m.log.Debug("host still not collected", "host", s.Host.Name, "status", s.Host.Status)
		}
	case s.Err != nil:
		m.log.Warn("host not collected", "host", s.Host.Name, "status", s.Host.Status, "reason", s.Err)
	case !first:
		m.log.Info("host collected again", "host", s.Host.Name)
	}
}

// snapshots is the latest recorded snapshot of every host, in config order.
func (m *Monitor) snapshots() []deckhand.Snapshot {
	out := make([]deckhand.Snapshot, 0, len(m.order))
	for _, name := range m.order {
		if s, ok := m.hosts[name].latest(); ok {
			out = append(out, s)
		}
	}
	return out
}
