package alerts

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
)

func countKind(ns []deckhand.Notice, k deckhand.NoticeKind) int {
	n := 0
	for _, x := range ns {
		if x.Kind == k {
			n++
		}
	}
	return n
}

func TestFlappingPagesOnce(t *testing.T) {
	s := newSim(t, DefaultConfig())
	// 10 crashes in 5 minutes, one every 30s, each back up 15s later.
	for at := time.Duration(0); at < 5*time.Minute; at += 15 * time.Second {
		s.now = t0.Add(at)
		if at%(30*time.Second) == 0 {
			s.eval(host("nas", crashed("jellyfin"), up("db")))
		} else {
			s.eval(host("nas", up("jellyfin"), up("db")))
		}
	}
	for at := 5 * time.Minute; at <= 15*time.Minute; at += 15 * time.Second {
		s.now = t0.Add(at)
		s.eval(host("nas", up("jellyfin"), up("db")))
	}
	if got := countKind(s.notices, deckhand.NoticeOpened); got != 1 {
		t.Errorf("opened notices = %d, want 1: %q", got, texts(s.notices))
	}
	if got := countKind(s.notices, deckhand.NoticeRecovered); got != 1 {
		t.Errorf("recovered notices = %d, want 1: %q", got, texts(s.notices))
	}
	if len(s.notices) != 2 || s.notices[1].Kind != deckhand.NoticeRecovered {
		t.Errorf("notices = %v, want opened then recovered at the end", kinds(s.notices))
	}
	if len(s.alerts) != 1 {
		t.Errorf("alerts stored = %d, want one story", len(s.alerts))
	}
}

func TestReopenWithinCooldownIsTheSameStory(t *testing.T) {
	s := newSim(t, DefaultConfig())
	steps := []struct {
		at    time.Duration
		c     deckhand.Container
		want  []deckhand.NoticeKind
		state deckhand.AlertState
	}{
		{0, crashed("jellyfin"), opened, open},
		{10 * time.Second, up("jellyfin"), nil, open},
		{70 * time.Second, up("jellyfin"), recovered, none},
		{2 * time.Minute, crashed("jellyfin"), nil, open}, // within cooldown of the recovered notice
		{6 * time.Minute, crashed("jellyfin"), nil, open},
		{6*time.Minute + 10*time.Second, crashed("jellyfin"), opened, open}, // 5m after the recovered notice
		{7 * time.Minute, up("jellyfin"), nil, open},
		{8 * time.Minute, up("jellyfin"), recovered, none},
	}
	k := ckey("jellyfin", deckhand.AlertContainerDown)
	for i, st := range steps {
		s.now = t0.Add(st.at)
		r := s.eval(host("nas", st.c))
		if got := kinds(r.Notices); !slices.Equal(got, append([]deckhand.NoticeKind{}, st.want...)) {
			t.Errorf("step %d: notices %v, want %v", i, got, st.want)
		}
		a, ok := s.activeFor(k)
		if (ok && a.State != st.state) || (!ok && st.state != none) {
			t.Errorf("step %d: state %v (active %v), want %v", i, a.State, ok, st.state)
		}
	}
	if len(s.alerts) != 1 {
		t.Errorf("alerts stored = %d, want the same alert re-opened", len(s.alerts))
	}
	a := s.alerts[1]
	if a.Notifications != 4 {
		t.Errorf("Notifications = %d, want 4", a.Notifications)
	}
}

func TestDownAgainAfterCooldownIsANewAlert(t *testing.T) {
	s := newSim(t, DefaultConfig())
	for _, st := range []struct {
		at time.Duration
		c  deckhand.Container
	}{{0, crashed("jellyfin")}, {10 * time.Second, up("jellyfin")}, {70 * time.Second, up("jellyfin")}} {
		s.now = t0.Add(st.at)
		s.eval(host("nas", st.c))
	}
	s.now = t0.Add(7 * time.Minute)
	r := s.eval(host("nas", crashed("jellyfin")))
	if got := kinds(r.Notices); !slices.Equal(got, opened) {
		t.Fatalf("notices %v, want an immediate opened", got)
	}
	if len(s.alerts) != 2 {
		t.Errorf("alerts stored = %d, want a new story", len(s.alerts))
	}
}

func TestRestartLoop(t *testing.T) {
	loop := ckey("jellyfin", deckhand.AlertRestartLoop)
	tests := []struct {
		name   string
		counts []int // restart count at each minute
		ids    []string
		state  []deckhand.AlertState
		notes  []int // notices at each step
	}{
		{name: "three restarts within the window", counts: []int{0, 1, 2, 3, 3}, state: []deckhand.AlertState{none, none, none, open, open}, notes: []int{0, 0, 0, 1, 0}},
		{name: "a burst between two evaluations", counts: []int{0, 5}, state: []deckhand.AlertState{none, open}, notes: []int{0, 1}},
		{name: "first sight is a baseline", counts: []int{40, 40}, state: []deckhand.AlertState{none, none}, notes: []int{0, 0}},
		{name: "a new container starts afresh", counts: []int{0, 2, 3}, ids: []string{"a", "a", "b"}, state: []deckhand.AlertState{none, none, none}, notes: []int{0, 0, 0}},
		{name: "count going down is a new baseline", counts: []int{5, 0, 2}, state: []deckhand.AlertState{none, none, none}, notes: []int{0, 0, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t, DefaultConfig())
			for i, n := range tc.counts {
				s.now = t0.Add(time.Duration(i) * time.Minute)
				mods := []ctrMod{restartCount(n)}
				if tc.ids != nil {
					mods = append(mods, id(tc.ids[i]))
				}
				r := s.eval(host("nas", up("jellyfin", mods...)))
				if len(r.Notices) != tc.notes[i] {
					t.Errorf("step %d: notices %q, want %d", i, texts(r.Notices), tc.notes[i])
				}
				a, ok := s.activeFor(loop)
				if ok != (tc.state[i] != none) || (ok && a.State != tc.state[i]) {
					t.Errorf("step %d: state %q (active %v), want %q", i, a.State, ok, tc.state[i])
				}
			}
		})
	}

	t.Run("slow restarts are no loop", func(t *testing.T) {
		s := newSim(t, DefaultConfig())
		for i := 0; i < 6; i++ {
			s.now = t0.Add(time.Duration(i) * 6 * time.Minute)
			s.eval(host("nas", up("jellyfin", restartCount(i))))
		}
		if len(s.alerts) != 0 {
			t.Errorf("alerts: %v", s.alerts)
		}
	})
	t.Run("closes a window after the last restart", func(t *testing.T) {
		s := newSim(t, DefaultConfig())
		for i, n := range []int{0, 1, 2, 3} {
			s.now = t0.Add(time.Duration(i) * time.Minute)
			s.eval(host("nas", up("jellyfin", restartCount(n))))
		}
		// Last restart seen at +3m: the condition lasts until +13m, the hold one more minute.
		for _, st := range []struct {
			at    time.Duration
			state deckhand.AlertState
		}{{12 * time.Minute, open}, {13 * time.Minute, open}, {14 * time.Minute, none}} {
			s.now = t0.Add(st.at)
			s.eval(host("nas", up("jellyfin", restartCount(3))))
			if a, ok := s.activeFor(loop); ok != (st.state != none) {
				t.Errorf("+%s: active %v %v, want %q", st.at, ok, a.State, st.state)
			}
		}
		if got := kinds(s.notices); !slices.Equal(got, []deckhand.NoticeKind{deckhand.NoticeOpened, deckhand.NoticeRecovered}) {
			t.Errorf("notices %v", got)
		}
		if k := s.notices[1].Alert.Key.Kind; k != deckhand.AlertRestartLoop {
			t.Errorf("recovered %s, want the restart loop", k)
		}
	})
	// Docker restarts a container whose restart policy says so after a
	// short backoff: one crash caught in between is Docker at work, not
	// an outage, and must not page.
	t.Run("one crash that the restart policy heals does not page", func(t *testing.T) {
		s := newSim(t, DefaultConfig())
		s.eval(host("nas", up("jellyfin")))
		s.now = t0.Add(time.Second)
		r := s.eval(host("nas", ctr("jellyfin", deckhand.StateRestarting, exitCode(1), restartCount(0))))
		s.now = t0.Add(1500 * time.Millisecond)
		r2 := s.eval(host("nas", up("jellyfin", restartCount(1))))
		if n := len(r.Notices) + len(r2.Notices); n != 0 {
			t.Errorf("one healed crash paged: %q %q", texts(r.Notices), texts(r2.Notices))
		}
	})
	t.Run("restarting past the deploy grace is a loop", func(t *testing.T) {
		s := newSim(t, DefaultConfig())
		r := s.eval(host("nas", ctr("jellyfin", deckhand.StateRestarting, exitCode(1))))
		if len(r.Notices) != 0 {
			t.Errorf("restarting paged at first sight: %q", texts(r.Notices))
		}
		s.now = t0.Add(DefaultDeployGrace)
		r = s.eval(host("nas", ctr("jellyfin", deckhand.StateRestarting, exitCode(1))))
		if got := kinds(r.Notices); !slices.Equal(got, opened) || !strings.Contains(fact(r.Notices[0]), "restart loop") {
			t.Errorf("notices %v %q", got, texts(r.Notices))
		}
		if _, ok := s.activeFor(ckey("jellyfin", deckhand.AlertContainerDown)); ok {
			t.Error("restarting also raised a down alert: one problem, one alert")
		}
	})
}

func TestHostOutageInhibitsContainerAlerts(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Repeat = 0
	s := newSim(t, cfg)
	unreachable := deckhand.ErrUnreachable
	s.eval(host("nas", crashed("jellyfin"), up("db"), ctr("web", deckhand.StateExited)))
	if got := kinds(s.notices); !slices.Equal(got, opened) {
		t.Fatalf("before outage: %v", got)
	}
	web := ckey("web", deckhand.AlertContainerDown)
	if a, _ := s.activeFor(web); a.State != pending {
		t.Fatalf("web should be pending in its deploy grace, is %q", a.State)
	}
	for at := 10 * time.Second; at <= 20*time.Minute; at += 10 * time.Second {
		s.now = t0.Add(at)
		s.eval(hostErr("nas", unreachable), host("pi", crashed("pihole")))
	}
	byKey := map[deckhand.AlertKey]int{}
	for _, n := range s.notices {
		byKey[n.Alert.Key]++
	}
	want := map[deckhand.AlertKey]int{
		ckey("jellyfin", deckhand.AlertContainerDown):                        1,
		hkey(deckhand.AlertHostUnreachable):                                  1,
		{Host: "pi", Container: "pihole", Kind: deckhand.AlertContainerDown}: 1,
	}
	if !mapsEqual(byKey, want) {
		t.Errorf("during outage notices by key %v, want %v", byKey, want)
	}
	if a, _ := s.activeFor(web); a.State != pending {
		t.Errorf("web state %q during outage, want held pending", a.State)
	}
	if _, ok := s.activeFor(ckey("db", deckhand.AlertContainerDown)); ok {
		t.Error("db, absent from the unreachable snapshot, got an alert")
	}

	// Back: jellyfin is still down (no duplicate), web still stopped opens now, db is fine.
	s.notices = nil
	s.now = t0.Add(21 * time.Minute)
	s.eval(host("nas", crashed("jellyfin"), up("db"), ctr("web", deckhand.StateExited)), host("pi", crashed("pihole")))
	if got := kinds(s.notices); !slices.Equal(got, opened) || s.notices[0].Alert.Key != web {
		t.Errorf("on return notices %v %q, want only web opened", got, texts(s.notices))
	}
	s.now = t0.Add(22*time.Minute + 10*time.Second)
	s.eval(host("nas", crashed("jellyfin"), up("db"), ctr("web", deckhand.StateExited)), host("pi", crashed("pihole")))
	if got := kinds(s.notices); !slices.Equal(got, []deckhand.NoticeKind{deckhand.NoticeOpened, deckhand.NoticeRecovered}) ||
		s.notices[1].Alert.Key != hkey(deckhand.AlertHostUnreachable) {
		t.Errorf("after hold notices %v %q, want the host recovered", got, texts(s.notices))
	}
	if len(s.active()) != 3 {
		t.Errorf("active = %v, want jellyfin, web and pihole", s.active())
	}
}

func TestDaemonDownHoldsContainersAndClosesUnreachable(t *testing.T) {
	cfg := DefaultConfig()
	cfg.HostGrace = time.Second
	s := newSim(t, cfg)
	s.eval(host("nas", up("jellyfin")))
	s.now = t0.Add(time.Minute)
	s.eval(hostErr("nas", deckhand.ErrUnreachable))
	s.now = t0.Add(2 * time.Minute)
	s.eval(hostErr("nas", deckhand.ErrUnreachable))
	// Reachable again, but the daemon is down: the unreachable alert
	// starts recovering, a daemon alert opens, containers are held.
	for at := 3 * time.Minute; at <= 6*time.Minute; at += time.Minute {
		s.now = t0.Add(at)
		s.eval(hostErr("nas", deckhand.ErrDaemonDown))
	}
	want := []deckhand.NoticeKind{deckhand.NoticeOpened, deckhand.NoticeOpened, deckhand.NoticeRecovered}
	if got := kinds(s.notices); !slices.Equal(got, want) {
		t.Errorf("notices %v %q, want %v", got, texts(s.notices), want)
	}
	for _, a := range s.active() {
		if a.Key.Container != "" {
			t.Errorf("container alert %v while the daemon is down", a.Key)
		}
		if a.Severity != deckhand.SeverityCritical {
			t.Errorf("%v severity %q", a.Key, a.Severity)
		}
	}
}

func mapsEqual[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestMaintenanceWindow(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Maintenance = []MaintenanceWindow{{Name: "nightly", Schedule: "0 3 * * *", Duration: 30 * time.Minute, Hosts: []string{"nas"}}}
	at3 := time.Date(2025, 6, 2, 3, 0, 0, 0, time.UTC).Sub(t0)
	k := ckey("jellyfin", deckhand.AlertContainerDown)
	t.Run("down through the window pages at its end", func(t *testing.T) {
		s := newSim(t, cfg)
		for _, st := range []struct {
			at    time.Duration
			want  []deckhand.NoticeKind
			state deckhand.AlertState
		}{
			{at3 + 5*time.Minute, nil, open},
			{at3 + 29*time.Minute, nil, open},
			{at3 + 30*time.Minute, opened, open},
		} {
			s.now = t0.Add(st.at)
			r := s.eval(host("nas", crashed("jellyfin", label(deckhand.LabelAutoRestart, "true"))))
			if got := kinds(r.Notices); !slices.Equal(got, append([]deckhand.NoticeKind{}, st.want...)) {
				t.Errorf("+%s: notices %v", st.at, got)
			}
			a, _ := s.activeFor(k)
			if a.State != st.state || a.Suppressed != (st.want == nil) {
				t.Errorf("+%s: state %q suppressed %v", st.at, a.State, a.Suppressed)
			}
		}
		if len(s.restarts) != 1 || !s.now.Equal(t0.Add(at3+30*time.Minute)) {
			t.Errorf("restarts %v: auto-restart must wait for the end of the window", s.restarts)
		}
	})
	t.Run("back before the end is silent", func(t *testing.T) {
		s := newSim(t, cfg)
		for _, st := range []struct {
			at time.Duration
			c  deckhand.Container
		}{{at3 + time.Minute, crashed("jellyfin")}, {at3 + 10*time.Minute, up("jellyfin")}, {at3 + 40*time.Minute, up("jellyfin")}} {
			s.now = t0.Add(st.at)
			s.eval(host("nas", st.c))
		}
		if len(s.notices) != 0 || len(s.active()) != 0 {
			t.Errorf("notices %q active %v", texts(s.notices), s.active())
		}
	})
	t.Run("other hosts are not covered", func(t *testing.T) {
		s := newSim(t, cfg)
		s.now = t0.Add(at3 + 5*time.Minute)
		r := s.eval(host("pi", crashed("pihole")))
		if got := kinds(r.Notices); !slices.Equal(got, opened) {
			t.Errorf("notices %v", got)
		}
	})
}

func TestInMaintenance(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Maintenance = []MaintenanceWindow{
		{Name: "nightly", Schedule: "0 3 * * *", Duration: 30 * time.Minute, Hosts: []string{"nas"}},
		{Name: "media-sunday", Schedule: "0 4 * * 0", Duration: time.Hour, Projects: []string{"media"}},
		{Name: "paris", Schedule: "CRON_TZ=Europe/Paris 0 2 * * *", Duration: 10 * time.Minute, Containers: []string{"backup"}},
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	day := func(d, h, m int) time.Time { return time.Date(2025, 6, d, h, m, 0, 0, time.UTC) } // 2025-06-01 is a Sunday
	tests := []struct {
		host, project, container string
		at                       time.Time
		want                     string
	}{
		{"nas", "", "jellyfin", day(2, 2, 59), ""},
		{"nas", "", "jellyfin", day(2, 3, 0), "nightly"},
		{"nas", "", "jellyfin", day(2, 3, 29), "nightly"},
		{"nas", "", "jellyfin", day(2, 3, 30), ""},
		{"nas", "", "", day(2, 3, 10), "nightly"}, // the host itself
		{"pi", "", "jellyfin", day(2, 3, 10), ""},
		{"pi", "media", "plex", day(1, 4, 59), "media-sunday"},
		{"pi", "media", "plex", day(2, 4, 30), ""}, // Monday
		{"pi", "", "plex", day(1, 4, 30), ""},
		{"pi", "", "", day(1, 4, 30), ""},           // a project window does not cover a host
		{"pi", "", "backup", day(2, 0, 5), "paris"}, // 02:05 in Paris, summer time
		{"pi", "", "backup", day(2, 2, 5), ""},
	}
	for _, tc := range tests {
		got, ok := e.InMaintenance(tc.host, tc.project, tc.container, tc.at)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("InMaintenance(%s, %s, %s, %s) = %q %v, want %q", tc.host, tc.project, tc.container, tc.at.Format(time.DateTime), got, ok, tc.want)
		}
	}
}

func TestRebuiltEngineContinuesTheStory(t *testing.T) {
	cfg := DefaultConfig()
	s := newSim(t, cfg)
	s.eval(host("nas", up("jellyfin"), up("db", restartCount(0))))
	s.now = t0.Add(time.Minute)
	s.eval(host("nas", crashed("jellyfin"), up("db", restartCount(3))))
	s.now = t0.Add(2 * time.Minute)
	s.eval(host("nas", up("db", restartCount(3)))) // jellyfin removed: still down
	if got := kinds(s.notices); !slices.Equal(got, []deckhand.NoticeKind{deckhand.NoticeOpened, deckhand.NoticeOpened}) {
		t.Fatalf("notices %v", got)
	}
	// deckhand restarts: a new engine, the store's alerts.
	var err error
	if s.e, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	s.notices = nil
	for at := 3 * time.Minute; at <= 61*time.Minute; at += time.Minute {
		s.now = t0.Add(at)
		s.eval(host("nas", up("db", restartCount(3))))
	}
	if got := kinds(s.notices); !slices.Equal(got, []deckhand.NoticeKind{deckhand.NoticeRecovered, deckhand.NoticeReminder}) {
		t.Errorf("after rebuild notices %v %q, want the loop recovered then a reminder for jellyfin at +61m", got, texts(s.notices))
	}
	if a, ok := s.activeFor(ckey("jellyfin", deckhand.AlertContainerDown)); !ok || !strings.Contains(a.Message, "missing") {
		t.Errorf("jellyfin alert %v %v: must stay down while missing", ok, a)
	}
}

func TestAck(t *testing.T) {
	e, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	k := ckey("jellyfin", deckhand.AlertContainerDown)
	now := t0.Add(time.Minute)
	tests := []struct {
		state      deckhand.AlertState
		wantErr    error
		wantState  deckhand.AlertState
		wantNotice bool
	}{
		{deckhand.AlertOpen, nil, acked, true},
		{deckhand.AlertPending, nil, acked, true},
		{deckhand.AlertAcked, nil, acked, false},
		{deckhand.AlertClosed, deckhand.ErrInvalidInput, deckhand.AlertClosed, false},
	}
	for _, tc := range tests {
		a := deckhand.Alert{ID: 7, Key: k, State: tc.state, FirstSeenAt: t0, AckedBy: "earlier"}
		got, n, err := e.Ack(a, "alice", now)
		if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
			t.Errorf("%s: err %v, want %v", tc.state, err, tc.wantErr)
		}
		if got.State != tc.wantState {
			t.Errorf("%s: state %q, want %q", tc.state, got.State, tc.wantState)
		}
		if (n != nil) != tc.wantNotice {
			t.Errorf("%s: notice %v, want %v", tc.state, n, tc.wantNotice)
		}
		if n != nil {
			if n.Kind != deckhand.NoticeAcked || n.Alert.AckedBy != "alice" || got.AckedBy != "alice" || !got.AckedAt.Equal(now) {
				t.Errorf("%s: notice %+v alert %+v", tc.state, n, got)
			}
			if got.LastNotifiedAt != a.LastNotifiedAt || got.Notifications != a.Notifications {
				t.Errorf("%s: ack changed the notification history", tc.state)
			}
		}
	}
}

func TestSelectExclude(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Select = []deckhand.Selector{{Host: "nas", Name: "plex"}, {Project: "media*"}, {Host: "pi", Name: "*"}}
	cfg.Exclude = []deckhand.Selector{{Name: "*-tmp"}, {Host: "pi", Name: "watchtower"}}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := func(h, name, proj string, labelled bool) deckhand.Container {
		x := ctr(name, deckhand.StateRunning, project(proj))
		x.Host = h
		if !labelled {
			delete(x.Labels, deckhand.LabelMonitor)
		}
		return x
	}
	tests := []struct {
		c    deckhand.Container
		want bool
	}{
		{c("nas", "jellyfin", "", true), true},
		{c("nas", "jellyfin", "", false), false},
		{c("nas", "plex", "", false), true},
		{c("vps", "plex", "", false), false},
		{c("vps", "sonarr", "media-arr", false), true},
		{c("vps", "sonarr", "web", false), false},
		{c("pi", "pihole", "", false), true},
		{c("pi", "watchtower", "", true), false},
		{c("nas", "build-tmp", "", true), false},
		{c("nas", "build-tmp", "media", false), false},
	}
	for _, tc := range tests {
		if got := e.Monitored(tc.c); got != tc.want {
			t.Errorf("Monitored(%s/%s project %q labelled %v) = %v, want %v", tc.c.Host, tc.c.Name, tc.c.ComposeProject,
				tc.c.Labels[deckhand.LabelMonitor] != "", got, tc.want)
		}
	}

	// And through Evaluate: the selected container pages, the excluded one does not.
	s := newSim(t, cfg)
	r := s.eval(host("nas", crashed("plex", unlabelled()), crashed("build-tmp")))
	if len(r.Notices) != 1 || r.Notices[0].Alert.Key.Container != "plex" {
		t.Errorf("notices %q, want plex only", texts(r.Notices))
	}
}

func TestDuplicateActiveAlertsCollapse(t *testing.T) {
	e, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	k := ckey("jellyfin", deckhand.AlertContainerDown)
	a := deckhand.Alert{Key: k, State: deckhand.AlertOpen, FirstSeenAt: t0, OpenedAt: t0, LastNotifiedAt: t0, Notifications: 1,
		Severity: deckhand.SeverityError, Message: "nas/jellyfin is down (exited 137)",
		Public: true, Condition: deckhand.ConditionDown}
	a1, a2 := a, a
	a1.ID, a2.ID = 9, 4
	r := e.Evaluate(Input{Now: t0.Add(time.Minute), Active: []deckhand.Alert{a1, a2},
		Snapshots: snaps(host("nas", crashed("jellyfin")))})
	if len(r.Notices) != 0 {
		t.Errorf("notices %q", texts(r.Notices))
	}
	if len(r.Changed) != 1 || r.Changed[0].ID != 9 || r.Changed[0].State != deckhand.AlertClosed {
		t.Errorf("changed %+v, want the younger copy (ID 9) closed", r.Changed)
	}
}

func TestOtherHostsAreLeftAlone(t *testing.T) {
	s := newSim(t, DefaultConfig())
	s.eval(host("nas", crashed("jellyfin")), host("pi", crashed("pihole")))
	// Evaluating only pi (a re-collect of one host) must not touch nas.
	for at := time.Minute; at < 10*time.Minute; at += time.Minute {
		s.now = t0.Add(at)
		s.eval(host("pi", up("pihole")))
	}
	if _, ok := s.activeFor(ckey("jellyfin", deckhand.AlertContainerDown)); !ok {
		t.Error("nas/jellyfin alert closed by an evaluation without nas")
	}
	if len(s.active()) != 1 {
		t.Errorf("active %v", s.active())
	}
}

func TestConcurrentUse(t *testing.T) {
	e, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 200; i++ {
			o := RestartOrder{Host: "nas", Container: "jellyfin", Attempt: 1, AlertKey: ckey("jellyfin", deckhand.AlertContainerDown)}
			e.RestartDone(o, nil, t0)
			a := deckhand.Alert{Key: o.AlertKey, State: deckhand.AlertOpen}
			if _, _, err := e.Ack(a, "bob", t0); err != nil {
				t.Error(err)
			}
			e.InMaintenance("nas", "", "jellyfin", t0)
		}
	}()
	for i := 0; i < 200; i++ {
		e.Evaluate(Input{Now: t0.Add(time.Duration(i) * time.Second), Snapshots: snaps(host("nas", crashed("jellyfin", auto())))})
	}
	<-done
}

func TestRecentFromStoreReopensAfterRebuild(t *testing.T) {
	cfg := DefaultConfig()
	s := newSim(t, cfg)
	for _, st := range []struct {
		at time.Duration
		c  deckhand.Container
	}{{0, crashed("jellyfin")}, {10 * time.Second, up("jellyfin")}, {70 * time.Second, up("jellyfin")}} {
		s.now = t0.Add(st.at)
		s.eval(host("nas", st.c))
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.now = t0.Add(2 * time.Minute)
	in := s.input(snaps(host("nas", crashed("jellyfin"))))
	in.Recent = s.recent()
	r := e.Evaluate(in)
	if len(r.Notices) != 0 || len(r.Changed) != 1 || r.Changed[0].ID != 1 || r.Changed[0].State != open {
		t.Errorf("notices %q changed %+v, want alert 1 re-opened quietly", texts(r.Notices), r.Changed)
	}
}
