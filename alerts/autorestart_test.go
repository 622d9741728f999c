package alerts

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
)

func auto() ctrMod { return label(deckhand.LabelAutoRestart, "true") }

func TestAutoRestartBackWithinGraceDoesNotPage(t *testing.T) {
	cfg := DefaultConfig()
	cfg.CrashGrace = time.Minute
	s := newSim(t, cfg)
	r := s.eval(host("nas", crashed("jellyfin", auto())))
	if len(r.Restarts) != 1 || len(r.Notices) != 0 {
		t.Fatalf("restarts %v notices %q: a crash restarts now, the page waits for the grace", r.Restarts, texts(r.Notices))
	}
	o := r.Restarts[0]
	want := RestartOrder{Host: "nas", Container: "jellyfin", ContainerID: "id-jellyfin", Attempt: 1,
		AlertKey: ckey("jellyfin", deckhand.AlertContainerDown)}
	if o != want {
		t.Errorf("order %+v, want %+v", o, want)
	}
	n := s.e.RestartDone(o, nil, t0.Add(2*time.Second))
	if n == nil || n.Kind != deckhand.NoticeAutoRestart || fact(*n) != "nas/jellyfin restart 1/3 in 1h" ||
		n.Alert.Key != o.AlertKey || n.Alert.State != deckhand.AlertPending {
		t.Errorf("RestartDone notice %+v", n)
	}
	s.now = t0.Add(10 * time.Second)
	s.eval(host("nas", up("jellyfin", auto())))
	if len(s.notices) != 0 || len(s.active()) != 0 {
		t.Errorf("notices %q active %v: back within the grace is no outage", texts(s.notices), s.active())
	}
}

func TestAutoRestartBoundsAndBackoff(t *testing.T) {
	s := newSim(t, DefaultConfig())
	var orders []time.Duration
	var attempts []int
	for at := time.Duration(0); at <= 63*time.Minute; at += 10 * time.Second {
		s.now = t0.Add(at)
		r := s.eval(host("nas", crashed("jellyfin", auto())))
		for _, o := range r.Restarts {
			orders = append(orders, at)
			attempts = append(attempts, o.Attempt)
			if n := s.e.RestartDone(o, nil, s.now); n == nil {
				t.Fatal("no notice for a restart")
			}
		}
	}
	wantAt := []time.Duration{0, 30 * time.Second, 2*time.Minute + 30*time.Second, time.Hour + 2*time.Minute + 40*time.Second}
	if !slices.Equal(orders, wantAt) || !slices.Equal(attempts, []int{1, 2, 3, 1}) {
		t.Errorf("orders at %v attempts %v, want %v [1 2 3 1]", orders, attempts, wantAt)
	}
	var gaveUp []string
	for _, n := range s.notices {
		if n.Kind == deckhand.NoticeAutoRestart {
			gaveUp = append(gaveUp, fact(n))
		}
	}
	if len(gaveUp) != 1 || gaveUp[0] != "nas/jellyfin restart 3/3 in 1h, gave up" {
		t.Errorf("giving-up notices %q, want exactly one", gaveUp)
	}
}

func TestAutoRestartInFlight(t *testing.T) {
	cfg := DefaultConfig()
	cfg.AutoRestart.Backoff = []time.Duration{0}
	s := newSim(t, cfg)
	at := func(d time.Duration) int {
		s.now = t0.Add(d)
		return len(s.eval(host("nas", crashed("jellyfin", auto()))).Restarts)
	}
	if n := at(0); n != 1 {
		t.Fatalf("orders %d", n)
	}
	if n := at(time.Second); n != 0 {
		t.Errorf("ordered again while the first is in flight")
	}
	s.e.RestartDone(s.restarts[0], errors.New("boom"), s.now)
	if n := at(2 * time.Second); n != 1 {
		t.Errorf("no second order after RestartDone")
	}
	if n := at(2*time.Second + restartTimeout - time.Second); n != 0 {
		t.Errorf("ordered before the lost order timed out")
	}
	if n := at(2*time.Second + restartTimeout); n != 1 {
		t.Errorf("no order after the lost one timed out")
	}
}

func TestRestartDoneTexts(t *testing.T) {
	e, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	k := ckey("jellyfin", deckhand.AlertContainerDown)
	tests := []struct {
		attempt int
		err     error
		want    string
	}{
		{1, nil, "nas/jellyfin restart 1/3 in 1h"},
		{2, errors.New("Error response from daemon:\n  no such container"), "nas/jellyfin restart 2/3 in 1h failed: Error response from daemon: no such container"},
		{3, errors.New("timed out"), "nas/jellyfin restart 3/3 in 1h failed: timed out, gave up"},
	}
	for _, tc := range tests {
		n := e.RestartDone(RestartOrder{Host: "nas", Container: "jellyfin", Attempt: tc.attempt, AlertKey: k}, tc.err, t0)
		if n == nil || fact(*n) != tc.want || n.Alert.Key != k {
			t.Errorf("attempt %d: %+v, want %q", tc.attempt, n, tc.want)
		}
	}
}

func TestAutoRestartFailedLastAttemptSaysGivingUpOnce(t *testing.T) {
	cfg := DefaultConfig()
	cfg.AutoRestart.Max = 1
	s := newSim(t, cfg)
	r := s.eval(host("nas", crashed("jellyfin", auto())))
	n := s.e.RestartDone(r.Restarts[0], errors.New("boom"), s.now)
	if n == nil || n.Restart == nil || !n.Restart.GaveUp {
		t.Fatalf("notice %+v", n)
	}
	for at := 10 * time.Second; at < 30*time.Minute; at += 10 * time.Second {
		s.now = t0.Add(at)
		if r := s.eval(host("nas", crashed("jellyfin", auto()))); len(r.Restarts) > 0 || countKind(r.Notices, deckhand.NoticeAutoRestart) > 0 {
			t.Fatalf("+%s: restarts %v notices %q after giving up", at, r.Restarts, texts(r.Notices))
		}
	}
}

func TestAutoRestartOnlyWhenItApplies(t *testing.T) {
	disabled := DefaultConfig()
	disabled.AutoRestart.Disabled = true
	tests := []struct {
		name string
		cfg  Config
		snap deckhand.Snapshot
		want int
	}{
		{"crashed", DefaultConfig(), host("nas", crashed("jellyfin", auto())), 1},
		{"stopped cleanly", DefaultConfig(), host("nas", ctr("jellyfin", deckhand.StateExited, auto())), 1},
		{"created", DefaultConfig(), host("nas", ctr("jellyfin", deckhand.StateCreated, auto())), 1},
		{"no label", DefaultConfig(), host("nas", crashed("jellyfin")), 0},
		{"label false", DefaultConfig(), host("nas", crashed("jellyfin", label(deckhand.LabelAutoRestart, "false"))), 0},
		{"not monitored", DefaultConfig(), host("nas", crashed("jellyfin", auto(), unlabelled())), 0},
		{"desired stopped", DefaultConfig(), host("nas", crashed("jellyfin", auto(), label(deckhand.LabelDesired, "stopped"))), 0},
		{"restarting already", DefaultConfig(), host("nas", ctr("jellyfin", deckhand.StateRestarting, auto())), 0},
		{"paused on purpose", DefaultConfig(), host("nas", ctr("jellyfin", deckhand.StatePaused, auto())), 0},
		{"running", DefaultConfig(), host("nas", up("jellyfin", auto())), 0},
		{"disabled in config", disabled, host("nas", crashed("jellyfin", auto())), 0},
		{"host unreachable", DefaultConfig(), hostErr("nas", deckhand.ErrUnreachable), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t, tc.cfg)
			if r := s.eval(tc.snap); len(r.Restarts) != tc.want {
				t.Errorf("restarts %v, want %d", r.Restarts, tc.want)
			}
		})
	}
}

func TestRestartDoneQuietWhenSilenced(t *testing.T) {
	s := newSim(t, DefaultConfig())
	s.silences = []deckhand.Silence{{Host: "nas", Until: t0.Add(time.Hour)}}
	r := s.eval(host("nas", crashed("jellyfin", auto())))
	if len(r.Restarts) != 1 {
		t.Fatalf("restarts %v: a silence mutes, it does not stop auto-restart", r.Restarts)
	}
	if n := s.e.RestartDone(r.Restarts[0], nil, s.now); n != nil {
		t.Errorf("notice %q for a silenced alert", fact(*n))
	}
}

// The hourly limit holds across a restart of deckhand: the daemon recalls
// its own automatic restarts from the audit log before the first Evaluate.
func TestAutoRestartLimitSurvivesRestart(t *testing.T) {
	for _, tc := range []struct {
		name        string
		recalled    []time.Duration // before t0
		wantAttempt int             // 0: gives up instead
	}{
		{"three within the hour: gives up", []time.Duration{50 * time.Minute, 30 * time.Minute, 10 * time.Minute}, 0},
		{"two within the hour: the third", []time.Duration{70 * time.Minute, 30 * time.Minute, 10 * time.Minute}, 3},
		{"none within the hour: a fresh round", []time.Duration{3 * time.Hour, 2 * time.Hour}, 1},
		{"nothing recalled", nil, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t, DefaultConfig())
			var at []time.Time
			for _, d := range tc.recalled {
				at = append(at, t0.Add(-d))
			}
			s.e.RecallAutoRestarts("nas", "jellyfin", at)
			s.e.RecallAutoRestarts("nas", "other", []time.Time{t0, t0, t0}) // another container's are its own
			if s.e.AutoRestartWindow() != time.Hour {
				t.Fatalf("window %v", s.e.AutoRestartWindow())
			}
			// Five minutes down: room for the backoff before a third attempt.
			var orders []RestartOrder
			var gaveUp bool
			for d := time.Duration(0); d <= 5*time.Minute; d += 10 * time.Second {
				s.now = t0.Add(d)
				r := s.eval(host("nas", crashed("jellyfin", auto())))
				for _, o := range r.Restarts {
					orders = append(orders, o)
					s.e.RestartDone(o, errors.New("still broken"), s.now)
				}
				for _, n := range r.Notices {
					gaveUp = gaveUp || n.Restart != nil && n.Restart.GaveUp
				}
				if len(orders) > 0 {
					break
				}
			}
			switch {
			case tc.wantAttempt == 0:
				if len(orders) != 0 || !gaveUp {
					t.Errorf("restarts %v, gave up %v: want none and a giving-up notice", orders, gaveUp)
				}
			case len(orders) != 1 || orders[0].Attempt != tc.wantAttempt:
				t.Errorf("restarts %v, want one, attempt %d", orders, tc.wantAttempt)
			}
		})
	}
}
