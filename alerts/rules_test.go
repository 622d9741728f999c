package alerts

import (
	"slices"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
)

// TestWake checks that Result.Wake names the moment a poll would otherwise
// miss: unhealthy_grace = 30s used to page 44-45 s after the first sight at a
// 15 s interval.
func TestWake(t *testing.T) {
	jf := host("nas", crashed("jellyfin"))
	sick := host("nas", up("jellyfin", health(deckhand.HealthUnhealthy)))
	fine := host("nas", up("jellyfin"))
	tests := []struct {
		name  string
		cfg   func(*Config)
		steps []struct {
			at    time.Duration
			snaps deckhand.Snapshot
		}
		want time.Duration // after t0; 0 = no wake
	}{
		{name: "nothing wrong", steps: steps(0, fine), want: 0},
		{name: "unhealthy grace end", steps: steps(0, sick), want: 30 * time.Second},
		{name: "unhealthy grace end seen mid-way", steps: steps(0, sick, 15*time.Second, sick), want: 30 * time.Second},
		{name: "crash grace end", cfg: func(c *Config) { c.CrashGrace = 20 * time.Second }, steps: steps(0, jf), want: 20 * time.Second},
		{name: "next reminder", steps: steps(0, jf), want: time.Hour},
		{name: "no reminders", cfg: func(c *Config) { c.Repeat = 0 }, steps: steps(0, jf), want: 0},
		{name: "recovery hold end", steps: steps(0, jf, 10*time.Second, fine), want: 70 * time.Second},
		{name: "cooldown holding back a re-opening",
			steps: steps(0, jf, 10*time.Second, fine, 70*time.Second, fine, 80*time.Second, jf),
			want:  70*time.Second + DefaultCooldown},
		{name: "auto-restart backoff", cfg: func(c *Config) { c.Repeat = 0 },
			steps: steps(0, host("nas", crashed("jellyfin", auto()))),
			want:  30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			s := newSim(t, cfg)
			s.rebuildCheck = false
			var r Result
			for _, st := range tt.steps {
				s.now = t0.Add(st.at)
				r = s.eval(st.snaps)
				for _, o := range r.Restarts {
					s.e.RestartDone(o, nil, s.now)
				}
			}
			var want time.Time
			if tt.want != 0 {
				want = t0.Add(tt.want)
			}
			if !r.Wake.Equal(want) {
				t.Errorf("Wake = %v, want %v", sinceT0(r.Wake), sinceT0(want))
			}
		})
	}
}

func steps(kv ...any) []struct {
	at    time.Duration
	snaps deckhand.Snapshot
} {
	var out []struct {
		at    time.Duration
		snaps deckhand.Snapshot
	}
	for i := 0; i+1 < len(kv); i += 2 {
		var at time.Duration
		switch v := kv[i].(type) {
		case int:
			at = time.Duration(v)
		case time.Duration:
			at = v
		}
		out = append(out, struct {
			at    time.Duration
			snaps deckhand.Snapshot
		}{at, kv[i+1].(deckhand.Snapshot)})
	}
	return out
}

func sinceT0(t time.Time) any {
	if t.IsZero() {
		return "none"
	}
	return t.Sub(t0)
}

// TestRecoveryHoldIsPersisted: the engine kept the moment a condition went
// away only in memory, so the page could not say "recovering" and a
// restarted deckhand started the hold again.
func TestRecoveryHoldIsPersisted(t *testing.T) {
	k := ckey("jellyfin", deckhand.AlertContainerDown)
	s := newSim(t, DefaultConfig())
	s.eval(host("nas", crashed("jellyfin")))
	s.now = t0.Add(10 * time.Second)
	s.eval(host("nas", up("jellyfin")))
	a, _ := s.activeFor(k)
	if !a.ClearedAt.Equal(t0.Add(10*time.Second)) || !a.Recovering() {
		t.Fatalf("after the condition went away: ClearedAt %v, recovering %v", a.ClearedAt, a.Recovering())
	}
	// deckhand restarts inside the hold: the hold goes on from ClearedAt.
	var err error
	if s.e, err = New(DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	s.notices = nil
	s.now = t0.Add(70 * time.Second)
	s.eval(host("nas", up("jellyfin")))
	if got := kinds(s.notices); !slices.Equal(got, recovered) {
		t.Errorf("notices at the end of the hold after a restart: %v, want recovered", got)
	}
	if _, ok := s.activeFor(k); ok {
		t.Error("alert still active at the end of the hold")
	}

	// Down again during the hold: the hold is forgotten.
	s = newSim(t, DefaultConfig())
	s.eval(host("nas", crashed("jellyfin")))
	s.now = t0.Add(10 * time.Second)
	s.eval(host("nas", up("jellyfin")))
	s.now = t0.Add(20 * time.Second)
	s.eval(host("nas", crashed("jellyfin")))
	if a, _ := s.activeFor(k); !a.ClearedAt.IsZero() || a.Recovering() {
		t.Errorf("down again: ClearedAt %v", a.ClearedAt)
	}
}

// TestAlertRecordsPublicAndCondition: what the page needs of an alert once
// its container is gone.
func TestAlertRecordsPublicAndCondition(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Select = []deckhand.Selector{{Name: "plex"}}
	s := newSim(t, cfg)
	s.eval(host("nas",
		crashed("plex", unlabelled()),
		crashed("vault", label(deckhand.LabelPublic, "false")),
		up("backup", label(deckhand.LabelDesired, "stopped")),
		up("web", health(deckhand.HealthUnhealthy)),
	))
	tests := []struct {
		key    deckhand.AlertKey
		public bool
		cond   deckhand.Condition
	}{
		{ckey("plex", deckhand.AlertContainerDown), true, deckhand.ConditionDown},
		{ckey("vault", deckhand.AlertContainerDown), false, deckhand.ConditionDown},
		{ckey("backup", deckhand.AlertContainerDown), true, deckhand.ConditionRunningUnwanted},
		{ckey("web", deckhand.AlertUnhealthy), true, deckhand.ConditionUnhealthy},
	}
	for _, tt := range tests {
		a, ok := s.activeFor(tt.key)
		if !ok || a.Public != tt.public || a.Condition != tt.cond {
			t.Errorf("%s: active %v public %v condition %q, want %v %q", tt.key.Container, ok, a.Public, a.Condition, tt.public, tt.cond)
		}
	}
	// Removed: the alert keeps what it knew, under the condition gone.
	s.now = t0.Add(time.Minute)
	s.eval(host("nas"))
	if a, _ := s.activeFor(ckey("plex", deckhand.AlertContainerDown)); !a.Public || a.Condition != deckhand.ConditionGone {
		t.Errorf("plex removed: public %v condition %q", a.Public, a.Condition)
	}
	if a, _ := s.activeFor(ckey("vault", deckhand.AlertContainerDown)); a.Public {
		t.Error("vault removed: became public")
	}
	if e := s.e; !e.Watchlist().Watched(crashed("plex", unlabelled())) {
		t.Error("Engine.Watchlist does not carry the configured selectors")
	}
}
