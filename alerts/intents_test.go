package alerts

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
)

// seenAt is a snapshot of nas collected at the given time.
func seenAt(at time.Time, cs ...deckhand.Container) deckhand.Snapshot {
	s := host("nas", cs...)
	s.CollectedAt = at
	return s
}

func stopped(name string, mods ...ctrMod) deckhand.Container {
	return ctr(name, deckhand.StateExited, mods...)
}

func intent(a deckhand.Action, name string, at time.Time) deckhand.Intent {
	return deckhand.Intent{Host: "nas", Container: name, Action: a, By: "discord:alice", At: at}
}

// run evaluates the sim every 10 s from..to with the snapshot snap gives
// for each instant, and returns the notices and restart orders it caused.
func (s *sim) run(from, to time.Duration, snap func(now time.Time) deckhand.Snapshot) ([]deckhand.Notice, []RestartOrder) {
	s.t.Helper()
	var ns []deckhand.Notice
	var rs []RestartOrder
	for at := from; at <= to; at += 10 * time.Second {
		s.now = t0.Add(at)
		r := s.eval(snap(s.now))
		ns, rs = append(ns, r.Notices...), append(rs, r.Restarts...)
	}
	return ns, rs
}

func TestDeliberateActionsDoNotPage(t *testing.T) {
	auto := label(deckhand.LabelAutoRestart, "true")
	tests := []struct {
		name   string
		intent deckhand.Intent
		after  func() []deckhand.Container // what the host shows once the action is done
	}{
		{"stop (exit 0)", intent(deckhand.ActionStop, "web", t0),
			func() []deckhand.Container { return []deckhand.Container{stopped("web", auto), up("db")} }},
		{"stop killed after its timeout (exit 137)", intent(deckhand.ActionStop, "web", t0),
			func() []deckhand.Container { return []deckhand.Container{crashed("web", auto), up("db")} }},
		{"remove", intent(deckhand.ActionRemove, "web", t0),
			func() []deckhand.Container { return []deckhand.Container{up("db")} }},
		{"stop, then removed by hand", intent(deckhand.ActionStop, "web", t0),
			func() []deckhand.Container { return []deckhand.Container{up("db")} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSim(t, DefaultConfig())
			s.now = t0.Add(-time.Minute)
			s.eval(seenAt(s.now, up("web", auto), up("db")))
			s.intents = []deckhand.Intent{tt.intent}
			ns, rs := s.run(0, 10*time.Minute, func(now time.Time) deckhand.Snapshot {
				if now.Equal(t0) {
					// Collected as the stop started: still running.
					return seenAt(now.Add(-time.Second), up("web", auto), up("db"))
				}
				return seenAt(now, tt.after()...)
			})
			if len(ns) != 0 || len(rs) != 0 {
				t.Fatalf("notices %q, restarts %+v; want none", texts(ns), rs)
			}
			if a := s.active(); len(a) != 0 {
				t.Fatalf("active alerts %+v", a)
			}
			if len(s.intents) != 1 {
				t.Fatalf("intent ended while it explains the container: %+v", s.intents)
			}
		})
	}
}

func TestSeenRunningAgainIsWatchedAgain(t *testing.T) {
	s := newSim(t, DefaultConfig())
	stop := intent(deckhand.ActionStop, "web", t0)
	s.intents = []deckhand.Intent{stop}
	s.run(0, time.Minute, func(now time.Time) deckhand.Snapshot { return seenAt(now, stopped("web")) })
	// Started by hand: the intent is over.
	s.now = t0.Add(2 * time.Minute)
	r := s.eval(seenAt(s.now, up("web")))
	if !slices.Equal(r.IntentsOver, []deckhand.Intent{stop}) {
		t.Fatalf("IntentsOver = %+v, want %+v", r.IntentsOver, stop)
	}
	ns, _ := s.run(3*time.Minute, 4*time.Minute, func(now time.Time) deckhand.Snapshot {
		return seenAt(now, crashed("web"))
	})
	if got := kinds(ns); !slices.Equal(got, opened) {
		t.Fatalf("crash after the intent ended: notices %v, want opened", got)
	}
}

// The caller deletes what IntentsOver lists in its own time, or fails to:
// an intent found over stays over.
func TestIntentOverStaysOverUntilDeleted(t *testing.T) {
	e, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	stop := intent(deckhand.ActionStop, "web", t0)
	var active []deckhand.Alert
	var notices []deckhand.Notice
	for i, c := range []deckhand.Container{stopped("web"), up("web"), crashed("web"), crashed("web")} {
		now := t0.Add(time.Duration(i+1) * time.Minute)
		r := e.Evaluate(Input{Now: now, Snapshots: []deckhand.Snapshot{seenAt(now, c)}, Active: active, Intents: []deckhand.Intent{stop}})
		active = r.Changed // one container, at most one alert
		notices = append(notices, r.Notices...)
	}
	if got := kinds(notices); !slices.Equal(got, opened) {
		t.Fatalf("notices %v, want the crash paged", got)
	}
}

func TestDeliberateStopClosesTheOpenAlertQuietly(t *testing.T) {
	s := newSim(t, DefaultConfig())
	s.run(0, 30*time.Second, func(now time.Time) deckhand.Snapshot { return seenAt(now, crashed("web")) })
	k := ckey("web", deckhand.AlertContainerDown)
	if a, ok := s.activeFor(k); !ok || a.State != deckhand.AlertOpen {
		t.Fatalf("crash not paged: %+v", a)
	}
	paged := len(s.notices)
	// The operator stops it to keep it down while looking into it.
	stopAt := t0.Add(45 * time.Second)
	s.intents = []deckhand.Intent{intent(deckhand.ActionStop, "web", stopAt)}
	ns, _ := s.run(50*time.Second, 5*time.Minute, func(now time.Time) deckhand.Snapshot { return seenAt(now, crashed("web")) })
	if len(ns) != 0 {
		t.Fatalf("notices %q; want none (no recovered page)", texts(ns))
	}
	if _, ok := s.activeFor(k); ok || len(s.notices) != paged {
		t.Fatal("alert still active")
	}
	var closed deckhand.Alert
	for _, a := range s.alerts {
		if a.Key == k {
			closed = a
		}
	}
	if closed.State != deckhand.AlertClosed || !closed.ClosedAt.Equal(stopAt) ||
		!strings.HasSuffix(closed.Message, "then stopped by discord:alice") {
		t.Fatalf("closed alert %+v; want closed at the stop, saying who stopped it", closed)
	}
}

func TestRestartOfDeckhandKeepsIntents(t *testing.T) {
	s := newSim(t, DefaultConfig())
	// Yesterday: web paged as missing, then removed on purpose.
	s.now = t0.Add(-24 * time.Hour)
	s.alerts[7] = deckhand.Alert{ID: 7, Key: ckey("web", deckhand.AlertContainerDown), State: deckhand.AlertOpen,
		Message: "nas/web is down (container missing)", FirstSeenAt: s.now, OpenedAt: s.now, LastNotifiedAt: s.now, Notifications: 1}
	s.nextID = 7
	s.intents = []deckhand.Intent{intent(deckhand.ActionRemove, "web", s.now.Add(time.Minute))}
	// A new engine (deckhand restarted) sees web still gone.
	ns, _ := s.run(0, 5*time.Minute, func(now time.Time) deckhand.Snapshot { return seenAt(now, up("db")) })
	if len(ns) != 0 || len(s.active()) != 0 {
		t.Fatalf("notices %q, active %+v", texts(ns), s.active())
	}
}

func TestIntentsHeldWhileTheHostIsOutOfReach(t *testing.T) {
	s := newSim(t, DefaultConfig())
	stop := intent(deckhand.ActionStop, "web", t0)
	s.intents = []deckhand.Intent{stop}
	s.now = t0.Add(time.Minute)
	if r := s.eval(hostErr("nas", deckhand.ErrUnreachable)); len(r.IntentsOver) != 0 {
		t.Fatalf("IntentsOver %+v for an unreachable host", r.IntentsOver)
	}
	// A snapshot that started before the stop took effect proves nothing.
	if r := s.eval(seenAt(t0.Add(-time.Second), up("web"))); len(r.IntentsOver) != 0 {
		t.Fatalf("IntentsOver %+v from a snapshot older than the intent", r.IntentsOver)
	}
}
