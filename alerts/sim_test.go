package alerts

import (
	"cmp"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
)

// t0 is 14:02, a clock time easy to spot in notices.
var t0 = time.Date(2025, 6, 1, 14, 2, 0, 0, time.UTC)

// sim plays the store: it persists what Evaluate returns, assigns IDs the
// way the store does and feeds the active alerts back.
type sim struct {
	t        testing.TB
	e        *Engine
	cfg      Config
	now      time.Time
	nextID   int64
	alerts   map[int64]deckhand.Alert
	notices  []deckhand.Notice
	restarts []RestartOrder
	silences []deckhand.Silence
	intents  []deckhand.Intent // the store's intents table
	// rebuildCheck evaluates every input a second time on a fresh engine
	// and on the same engine after persisting: neither may notify again.
	rebuildCheck bool
}

func newSim(t testing.TB, cfg Config) *sim {
	t.Helper()
	e, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &sim{t: t, e: e, cfg: cfg, now: t0, alerts: map[int64]deckhand.Alert{}, rebuildCheck: true}
}

func (s *sim) active() []deckhand.Alert {
	var out []deckhand.Alert
	for _, a := range s.alerts {
		if a.State.Active() {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b deckhand.Alert) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

func (s *sim) recent() []deckhand.Alert {
	var out []deckhand.Alert
	for _, a := range s.alerts {
		if a.State == deckhand.AlertClosed && s.now.Sub(a.ClosedAt) < s.e.cfg.Cooldown {
			out = append(out, a)
		}
	}
	return out
}

func (s *sim) input(snaps []deckhand.Snapshot) Input {
	return Input{Now: s.now, Snapshots: snaps, Active: s.active(), Silences: s.silences, Intents: slices.Clone(s.intents)}
}

// eval runs one evaluation at s.now and persists its result.
func (s *sim) eval(snaps ...deckhand.Snapshot) Result {
	s.t.Helper()
	in := s.input(snaps)
	if s.rebuildCheck {
		// A rebuilt engine that is told about recent closes (as the store
		// can) must not notify what this engine already notified.
		fresh, err := New(s.cfg)
		if err != nil {
			s.t.Fatal(err)
		}
		defer func() {
			in2 := s.input(snaps)
			in2.Recent = s.recent()
			if r := fresh.Evaluate(in2); len(nonRestart(r.Notices)) > 0 {
				s.t.Errorf("%s: rebuilt engine notified again: %v", s.now.Sub(t0), texts(r.Notices))
			}
			if r := s.e.Evaluate(s.input(snaps)); len(nonRestart(r.Notices)) > 0 {
				s.t.Errorf("%s: second evaluation with the same Now notified again: %v", s.now.Sub(t0), texts(r.Notices))
			} else {
				s.apply(r)
			}
		}()
	}
	r := s.e.Evaluate(in)
	s.apply(r)
	return r
}

func nonRestart(ns []deckhand.Notice) []deckhand.Notice {
	var out []deckhand.Notice
	for _, n := range ns {
		if n.Kind != deckhand.NoticeAutoRestart {
			out = append(out, n)
		}
	}
	return out
}

func (s *sim) apply(r Result) {
	ids := map[deckhand.AlertKey]int64{}
	for _, a := range r.Changed {
		if a.ID == 0 {
			s.nextID++
			a.ID = s.nextID
		}
		s.alerts[a.ID] = a
		if a.State.Active() || ids[a.Key] == 0 {
			ids[a.Key] = a.ID
		}
	}
	// As the store does in the same transaction: a notice about a new
	// alert gets the ID just assigned to the alert of its key.
	for _, n := range r.Notices {
		if n.Alert.ID == 0 {
			n.Alert.ID = ids[n.Alert.Key]
		}
		s.notices = append(s.notices, n)
	}
	s.restarts = append(s.restarts, r.Restarts...)
	for _, over := range r.IntentsOver { // as store.DeleteIntent does
		s.intents = slices.DeleteFunc(s.intents, func(i deckhand.Intent) bool {
			return i.Host == over.Host && i.Container == over.Container && !i.At.After(over.At)
		})
	}
}

// activeFor returns the active alert of a key, if any.
func (s *sim) activeFor(k deckhand.AlertKey) (deckhand.Alert, bool) {
	for _, a := range s.active() {
		if a.Key == k {
			return a, true
		}
	}
	return deckhand.Alert{}, false
}

func (s *sim) ack(k deckhand.AlertKey, by string) *deckhand.Notice {
	s.t.Helper()
	a, ok := s.activeFor(k)
	if !ok {
		s.t.Fatalf("ack: no active alert for %v", k)
	}
	a2, n, err := s.e.Ack(a, by, s.now)
	if err != nil {
		s.t.Fatalf("ack: %v", err)
	}
	s.alerts[a2.ID] = a2
	return n
}

func kinds(ns []deckhand.Notice) []deckhand.NoticeKind {
	out := []deckhand.NoticeKind{}
	for _, n := range ns {
		out = append(out, n.Kind)
	}
	return out
}

func texts(ns []deckhand.Notice) []string {
	var out []string
	for _, n := range ns {
		out = append(out, fact(n))
	}
	return out
}

// fact prints what a notice says in facts (the bot words them): the
// alert's message, its downtime when that matters, or the restart report.
func fact(n deckhand.Notice) string {
	a := n.Alert
	switch {
	case n.Restart != nil:
		r := n.Restart
		s := fmt.Sprintf("%s/%s restart %d/%d in %s", a.Key.Host, a.Key.Container, r.Attempt, r.Max, deckhand.HumanDuration(r.Window))
		if r.Err != "" {
			s += " failed: " + r.Err
		}
		if r.GaveUp {
			s += ", gave up"
		}
		return s
	case n.Kind == deckhand.NoticeRecovered, n.Kind == deckhand.NoticeReminder:
		return a.Message + " (down " + deckhand.HumanDuration(a.Downtime(n.At)) + ")"
	case n.Kind == deckhand.NoticeAcked:
		return a.Message + " (acked by " + a.AckedBy + ")"
	}
	return a.Message
}

type ctrMod func(*deckhand.Container)

func ctr(name string, st deckhand.ContainerState, mods ...ctrMod) deckhand.Container {
	c := deckhand.Container{
		Host: "nas", ID: "id-" + name, Name: name, State: st, Health: deckhand.HealthNone,
		Labels: map[string]string{deckhand.LabelMonitor: "true"},
	}
	for _, m := range mods {
		m(&c)
	}
	return c
}

func up(name string, mods ...ctrMod) deckhand.Container {
	return ctr(name, deckhand.StateRunning, mods...)
}

func crashed(name string, mods ...ctrMod) deckhand.Container {
	return ctr(name, deckhand.StateExited, append([]ctrMod{exitCode(137)}, mods...)...)
}

func exitCode(n int) ctrMod           { return func(c *deckhand.Container) { c.ExitCode = n } }
func health(h deckhand.Health) ctrMod { return func(c *deckhand.Container) { c.Health = h } }
func restartCount(n int) ctrMod       { return func(c *deckhand.Container) { c.RestartCount = n } }
func id(s string) ctrMod              { return func(c *deckhand.Container) { c.ID = s } }
func project(p string) ctrMod         { return func(c *deckhand.Container) { c.ComposeProject = p } }
func label(k, v string) ctrMod {
	return func(c *deckhand.Container) { c.Labels[k] = v }
}
func unlabelled() ctrMod {
	return func(c *deckhand.Container) { delete(c.Labels, deckhand.LabelMonitor) }
}

func host(name string, cs ...deckhand.Container) deckhand.Snapshot {
	for i := range cs {
		cs[i].Host = name
	}
	return deckhand.Snapshot{Host: deckhand.Host{Name: name, Status: deckhand.HostOK}, Containers: cs, CollectedAt: t0}
}

func hostErr(name string, err error) deckhand.Snapshot {
	return deckhand.Snapshot{Host: deckhand.Host{Name: name, Status: deckhand.StatusOf(err)}, Err: err}
}

func ckey(container string, kind deckhand.AlertKind) deckhand.AlertKey {
	return deckhand.AlertKey{Host: "nas", Container: container, Kind: kind}
}

func hkey(kind deckhand.AlertKind) deckhand.AlertKey {
	return deckhand.AlertKey{Host: "nas", Kind: kind}
}
