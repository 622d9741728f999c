package monitor

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
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
	events     []collector.Event // seen since the last collection
	snap       deckhand.Snapshot // latest recorded
	recorded   bool
	lastStatus deckhand.HostStatus
	lastErr    string
	changed    bool      // the last recorded snapshot differs from the one before
	inv        inventory // what the last stored full collection found
}

// takeChanged reports whether the last recorded snapshot brought news.
func (h *hostState) takeChanged() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.changed
	h.changed = false
	return c
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

// noted keeps an event for the next collection to check itself against.
func (h *hostState) noted(ev collector.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.events) < 64 {
		h.events = append(h.events, ev)
	}
}

// takeEvents hands over the events noted since the last collection.
func (h *hostState) takeEvents() []collector.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	evs := h.events
	h.events = nil
	return evs
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
	poked := false
	for {
		if !poked || m.collectQuick(ctx, h) > 0 {
			m.collect(ctx, h, false)
		}
		h.once.Do(func() { close(h.first) })
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			poked = false
		case <-h.trigger:
			poked = true
			m.log.Debug("re-collect", "host", h.name, "hop", "collect_start")
		}
	}
}

// collectQuick is the fast path after an event: ps alone decides, and the
// containers it took from ps alone (stale, returned) are made exact by a
// normal collection right after.
func (m *Monitor) collectQuick(ctx context.Context, h *hostState) (stale int) {
	if disabled, _ := m.disabled(ctx, h.name); disabled {
		return 1 // the normal path records the host as disabled
	}
	evs := h.takeEvents()
	var s deckhand.Snapshot
	for _, wait := range behindRetries {
		s, stale = m.coll.CollectQuick(ctx, h.name)
		if ctx.Err() != nil {
			return 0
		}
		ev, behind := behindEvents(s, evs)
		if !behind {
			break
		}
		m.log.Debug("ps behind its event, asking again", "host", h.name, "container", ev.Name, "action", ev.Action, "in", wait)
		select {
		case <-ctx.Done():
			return 0
		case <-time.After(wait):
		}
	}
	if !m.record(ctx, h, s) || !h.takeChanged() {
		return stale
	}
	m.log.Debug("collected", "host", h.name, "quick", true, "took", s.Duration, "hop", "collect_end")
	m.evaluate(ctx, []deckhand.Snapshot{s})
	m.pageChanged()
	return stale
}

// behindRetries are the waits before asking ps again when it does not
// show yet what an event announced: the daemon sends "die" before its
// container list says exited, by a few milliseconds. The last attempt is
// recorded as it is; the next poll or event corrects it.
var behindRetries = []time.Duration{3 * time.Millisecond, 6 * time.Millisecond, 12 * time.Millisecond,
	25 * time.Millisecond, 50 * time.Millisecond, 0}

// behindEvents reports the first event that a snapshot does not show yet.
func behindEvents(s deckhand.Snapshot, evs []collector.Event) (collector.Event, bool) {
	if s.Err != nil || len(evs) == 0 {
		return collector.Event{}, false
	}
	byID := make(map[string]*deckhand.Container, len(s.Containers))
	for i := range s.Containers {
		byID[s.Containers[i].ID] = &s.Containers[i]
	}
	for _, ev := range evs {
		c := byID[ev.ContainerID]
		if c == nil {
			continue // removed since, or not watched on this host
		}
		switch ev.Action {
		case "die", "oom":
			if c.State == deckhand.StateRunning {
				return ev, true
			}
		case "start", "restart", "unpause":
			if c.State != deckhand.StateRunning {
				return ev, true
			}
		case "health_status":
			if ev.Health != "" && c.Health != ev.Health && c.State == deckhand.StateRunning {
				return ev, true
			}
		}
	}
	return collector.Event{}, false
}

// disabled reports whether an admin disabled the host from chat.
// The answer is read for every host at most once a second: a query per
// collection was a SQLite read per host per poll on the hot path, and a
// /disable-host from chat (or `deckhand exec`) takes effect within the
// second all the same.
func (m *Monitor) disabled(ctx context.Context, host string) (bool, error) {
	d := &m.disabledHosts
	d.mu.Lock()
	defer d.mu.Unlock()
	if now := m.now(); d.off == nil || now.Sub(d.at) >= time.Second || now.Before(d.at) {
		hosts, err := m.st.Hosts(ctx)
		if err != nil {
			return false, err
		}
		d.off, d.at = make(map[string]bool, len(hosts)), now
		for _, h := range hosts {
			d.off[h.Name] = !h.Enabled
		}
	}
	return d.off[host], nil
}

// disabledCache is which hosts an admin disabled, as last read.
type disabledCache struct {
	mu  sync.Mutex
	at  time.Time
	off map[string]bool
}

// quietEvents are container events that change nothing ps shows, or that
// another event follows which does: a `docker kill` is followed by "die"
// when the process ends (a collection started at "kill" sees it still
// running and delays the one that matters), a stop by its "die".
var quietEvents = map[string]bool{
	"kill": true, "stop": true, "attach": true, "detach": true, "resize": true, "top": true,
	"commit": true, "copy": true, "export": true, "archive-path": true, "extract-to-dir": true,
	"mount": true, "unmount": true,
}

// inventoryLoop runs the host's full collections (every container
// inspected again, images, volumes, their sizes) beside the fast ones,
// starting after the first fast collection so that it never delays it.
// Hosts start their inventories spread over a spell (see inventorySpread)
// instead of all at once: started together, every host's images, volumes
// and `system df` land in the same second, at start and then every
// interval, which is the daemon's peak of memory and CPU.
func (m *Monitor) inventoryLoop(ctx context.Context, h *hostState) {
	select {
	case <-ctx.Done():
		return
	case <-h.first:
	}
	select {
	case <-ctx.Done():
		return
	case <-time.After(inventorySpread(h.name, len(m.order), m.cfg.InventoryInterval)):
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
			if quietEvents[ev.Action] {
				return
			}
			if ev.Action == "die" {
				m.died(ctx, h, ev)
			}
			h.noted(ev)
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
// host's alerts. A collection that found the host as it was changes
// nothing: no write, no evaluation (the engine's deadlines have their own
// timer), no page rebuild.
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
	if !h.takeChanged() {
		return
	}
	m.log.Debug("collected", "host", h.name, "full", full, "took", s.Duration, "hop", "collect_end")
	m.evaluate(ctx, []deckhand.Snapshot{s})
	m.pageChanged()
}

func (m *Monitor) collectOne(ctx context.Context, host string, full bool) deckhand.Snapshot {
	if off, _ := m.disabled(ctx, host); off {
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
	news := first || !sameSnapshot(h.snap, s, h.inv)
	h.snap, h.recorded, h.changed = s, true, h.changed || news
	if s.Full && s.Err == nil {
		h.inv = inventory{known: true, images: s.Images, volumes: s.Volumes}
	}
	if first {
		defer m.pending.Done()
	}
	if m.met != nil && !errors.Is(s.Err, deckhand.ErrHostDisabled) {
		m.met.ObserveCollect(s.Host.Name, s.Duration, s.Err == nil)
	}
	if !news || errors.Is(s.Err, deckhand.ErrHostDisabled) {
		// Nothing to write: the host is as stored (its collection times
		// are in memory, for the page). A disabled host keeps its stored
		// facts; the engine freezes it.
		return true
	}
	if err := m.st.SaveSnapshot(ctx, s); err != nil {
		m.logErr(ctx, "save snapshot", err, "host", s.Host.Name)
	}
	m.logStatus(h, s, first)
	return true
}

// sameSnapshot reports whether b finds the host as a did: the same status
// and error, no inventory, and every container as it was. The collector
// hands unchanged containers over as they were, so this is cheap.
func sameSnapshot(a, b deckhand.Snapshot, inv inventory) bool {
	if a.Host.Status != b.Host.Status || errText(a.Err) != errText(b.Err) || len(a.Containers) != len(b.Containers) {
		return false
	}
	if b.Full && (!inv.known || !slices.EqualFunc(inv.images, b.Images, sameImage) || !slices.Equal(inv.volumes, b.Volumes)) {
		return false
	}
	for i := range a.Containers {
		if !sameContainer(a.Containers[i], b.Containers[i]) {
			return false
		}
	}
	return true
}

func sameContainer(a, b deckhand.Container) bool {
	return a.ID == b.ID && a.Name == b.Name && a.State == b.State && a.Status == b.Status && a.Health == b.Health &&
		a.ExitCode == b.ExitCode && a.RestartCount == b.RestartCount && a.Image == b.Image && a.ImageID == b.ImageID &&
		a.RestartPolicy == b.RestartPolicy && a.StartedAt.Equal(b.StartedAt) && a.FinishedAt.Equal(b.FinishedAt) &&
		maps.Equal(a.Labels, b.Labels) && slices.Equal(a.Ports, b.Ports)
}

func sameImage(a, b deckhand.Image) bool {
	return a.ID == b.ID && a.Size == b.Size && a.CreatedAt.Equal(b.CreatedAt) && slices.Equal(a.RepoTags, b.RepoTags)
}

// inventory is the images and volumes last stored for a host.
type inventory struct {
	known   bool
	images  []deckhand.Image
	volumes []deckhand.Volume
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
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

// died takes a container that no restart policy brings back for down on
// its "die" event alone. Docker sends the event some 50 to 70 ms before
// its container list says exited, and the event carries the exit code:
// waiting for ps would only delay the alert. The collection the event
// also asks for confirms it (or corrects it, for a container started again
// by hand at once). A container Docker may restart is left to ps: one
// crash that its restart policy heals must not page.
func (m *Monitor) died(ctx context.Context, h *hostState, ev collector.Event) {
	s, ok := h.latest()
	if !ok || s.Err != nil {
		return
	}
	i := slices.IndexFunc(s.Containers, func(c deckhand.Container) bool { return c.ID == ev.ContainerID })
	if i < 0 || s.Containers[i].State != deckhand.StateRunning || s.Containers[i].RestartsItself() {
		return
	}
	ctrs := slices.Clone(s.Containers)
	c := &ctrs[i]
	c.State, c.ExitCode, c.Health = deckhand.StateExited, ev.ExitCode, deckhand.HealthNone
	c.Status = fmt.Sprintf("Exited (%d) Less than a second ago", ev.ExitCode)
	if !ev.At.IsZero() {
		c.FinishedAt = ev.At
	}
	s.Containers = ctrs
	s.CollectedAt, s.Full, s.Images, s.Volumes = m.now(), false, nil, nil
	if !m.record(ctx, h, s) {
		return
	}
	h.takeChanged()
	m.log.Debug("down on its die event", "host", h.name, "container", c.Name, "exit", ev.ExitCode, "hop", "die_applied")
	m.evaluate(ctx, []deckhand.Snapshot{s})
	m.pageChanged()
}

// inventorySpread is how long a host waits after its first collection
// before its first inventory: a fixed share, by the hash of its name, of
// a spell that grows with the fleet (50 ms a host, at most 30 s and never
// more than the interval). A homelab's few hosts start theirs at once.
func inventorySpread(host string, hosts int, interval time.Duration) time.Duration {
	spell := min(time.Duration(hosts)*50*time.Millisecond, 30*time.Second, interval)
	if hosts <= 1 || spell <= 0 {
		return 0
	}
	f := fnv.New32a()
	f.Write([]byte(host))
	return time.Duration(f.Sum32()%1000) * spell / 1000
}
