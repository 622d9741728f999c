package alerts

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
)

// world is a random homelab: a few hosts whose containers crash, come back,
// get recreated, turn unhealthy and restart, whose hosts drop off, with
// silences and acks sprinkled in.
type world struct {
	rng   *rand.Rand
	hosts map[string]*worldHost
	names []string
}

type worldHost struct {
	status     error
	containers map[string]deckhand.Container
	missing    map[string]bool
}

var containerNames = []string{"jellyfin", "db", "web", "pihole"}

func newWorld(seed uint64) *world {
	w := &world{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), hosts: map[string]*worldHost{}, names: []string{"nas", "pi"}}
	for _, h := range w.names {
		wh := &worldHost{containers: map[string]deckhand.Container{}, missing: map[string]bool{}}
		for _, n := range containerNames {
			c := up(n)
			c.Host = h
			wh.containers[n] = c
		}
		w.hosts[h] = wh
	}
	return w
}

func (w *world) step() {
	for _, h := range w.names {
		wh := w.hosts[h]
		if w.rng.IntN(40) == 0 {
			switch w.rng.IntN(3) {
			case 0:
				wh.status = nil
			case 1:
				wh.status = deckhand.ErrUnreachable
			case 2:
				wh.status = deckhand.ErrDaemonDown
			}
		}
		for _, n := range containerNames {
			if w.rng.IntN(6) != 0 {
				continue
			}
			c := wh.containers[n]
			wh.missing[n] = false
			c.Health, c.ExitCode = deckhand.HealthNone, 0
			switch w.rng.IntN(9) {
			case 0, 1, 2:
				c.State = deckhand.StateRunning
			case 3:
				c.State, c.ExitCode = deckhand.StateExited, 137
			case 4:
				c.State = deckhand.StateExited
			case 5:
				wh.missing[n] = true
				c.ID = fmt.Sprintf("id-%s-%d", n, w.rng.IntN(1000))
			case 6:
				c.State, c.Health = deckhand.StateRunning, deckhand.HealthUnhealthy
			case 7:
				c.State = deckhand.StateRestarting
				c.RestartCount++
			case 8:
				c.State = deckhand.StateRunning
				c.RestartCount += w.rng.IntN(3)
			}
			wh.containers[n] = c
		}
	}
}

func (w *world) snapshots() []deckhand.Snapshot {
	var out []deckhand.Snapshot
	for _, h := range w.names {
		wh := w.hosts[h]
		if wh.status != nil {
			out = append(out, hostErr(h, wh.status))
			continue
		}
		var cs []deckhand.Container
		for _, n := range containerNames {
			if !wh.missing[n] {
				cs = append(cs, wh.containers[n])
			}
		}
		out = append(out, host(h, cs...))
	}
	return out
}

func checkProperties(t *testing.T, seed uint64, steps int) {
	cfg := DefaultConfig()
	cfg.Repeat = 10 * time.Minute
	s := newSim(t, cfg)
	w := newWorld(seed)
	for i := 0; i < steps; i++ {
		s.now = s.now.Add(time.Duration(1+w.rng.IntN(90)) * time.Second)
		w.step()
		if w.rng.IntN(50) == 0 {
			h := w.names[w.rng.IntN(len(w.names))]
			s.silences = append(s.silences, deckhand.Silence{Host: h, Until: s.now.Add(time.Duration(w.rng.IntN(30)) * time.Minute)})
		}
		if act := s.active(); len(act) > 0 && w.rng.IntN(30) == 0 {
			a := act[w.rng.IntN(len(act))]
			if a2, _, err := s.e.Ack(a, "bob", s.now); err == nil {
				s.alerts[a2.ID] = a2
			}
		}
		s.eval(w.snapshots()...)

		perKey := map[deckhand.AlertKey]int64{}
		for _, a := range s.active() {
			if other, dup := perKey[a.Key]; dup {
				t.Fatalf("seed %d step %d: two active alerts %d and %d for %v", seed, i, other, a.ID, a.Key)
			}
			perKey[a.Key] = a.ID
		}
	}

	type history struct {
		last     deckhand.Notice
		any      bool
		openedUp bool // an opened notice went out since the last recovered
	}
	hist := map[int64]*history{}
	for _, n := range s.notices {
		if n.Alert.ID == 0 {
			t.Fatalf("seed %d: notice without alert ID: %q", seed, fact(n))
		}
		h := hist[n.Alert.ID]
		if h == nil {
			h = &history{}
			hist[n.Alert.ID] = h
		}
		switch n.Kind {
		case deckhand.NoticeOpened:
			if h.openedUp {
				t.Errorf("seed %d: alert %d opened twice without recovering: %q", seed, n.Alert.ID, fact(n))
			}
			h.openedUp = true
			if n.Alert.State != deckhand.AlertOpen || n.Alert.Suppressed {
				t.Errorf("seed %d: opened notice for a %s (suppressed %v) alert", seed, n.Alert.State, n.Alert.Suppressed)
			}
		case deckhand.NoticeRecovered:
			if !h.openedUp {
				t.Errorf("seed %d: alert %d recovered without an opened notice: %q", seed, n.Alert.ID, fact(n))
			}
			h.openedUp = false
			if n.Alert.State != deckhand.AlertClosed {
				t.Errorf("seed %d: recovered notice for a %s alert", seed, n.Alert.State)
			}
		case deckhand.NoticeReminder:
			if !h.openedUp || n.Alert.State != deckhand.AlertOpen || n.Alert.Suppressed {
				t.Errorf("seed %d: reminder for alert %d in state %s (suppressed %v, opened %v)", seed, n.Alert.ID, n.Alert.State, n.Alert.Suppressed, h.openedUp)
			}
		default:
			t.Errorf("seed %d: unexpected notice kind %s", seed, n.Kind)
		}
		// The recovered notice is the one exception to the cooldown: nobody
		// wants the good news held back.
		if h.any && n.Kind != deckhand.NoticeRecovered && n.At.Sub(h.last.At) < cfg.Cooldown {
			t.Errorf("seed %d: alert %d notified %s then %s %s apart", seed, n.Alert.ID, h.last.Kind, n.Kind, n.At.Sub(h.last.At))
		}
		h.last, h.any = n, true
	}
	wantSeverity := map[deckhand.AlertKind]deckhand.Severity{
		deckhand.AlertContainerDown: deckhand.SeverityError, deckhand.AlertRestartLoop: deckhand.SeverityError,
		deckhand.AlertUnhealthy: deckhand.SeverityWarning, deckhand.AlertHostUnreachable: deckhand.SeverityCritical,
		deckhand.AlertDaemonDown: deckhand.SeverityCritical,
	}
	for _, a := range s.alerts {
		if a.Severity != wantSeverity[a.Key.Kind] {
			t.Errorf("seed %d: alert %v has severity %q", seed, a.Key, a.Severity)
		}
		if a.State == deckhand.AlertClosed && a.ClosedAt.Before(a.FirstSeenAt) {
			t.Errorf("seed %d: alert %d closed before it was seen: %+v", seed, a.ID, a)
		}
	}
}

func TestPropertiesRandomHomelab(t *testing.T) {
	seeds, steps := 60, 300
	if testing.Short() {
		seeds = 10
	}
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		checkProperties(t, seed, steps)
	}
}

func FuzzEngine(f *testing.F) {
	for _, seed := range []uint64{0, 7, 42, 1 << 40} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, seed uint64) { checkProperties(t, seed, 200) })
}
