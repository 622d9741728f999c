package alerts

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
)

type tstep struct {
	at       time.Duration
	snaps    []deckhand.Snapshot
	silences []deckhand.Silence // replaces the silences when non-nil
	ack      bool               // ack the case's alert before evaluating
	want     []deckhand.NoticeKind
	state    deckhand.AlertState // of the case's alert after the step; "" = none active
	text     string              // expected in the first notice's text
}

func snaps(s ...deckhand.Snapshot) []deckhand.Snapshot { return s }

var (
	opened    = []deckhand.NoticeKind{deckhand.NoticeOpened}
	reminder  = []deckhand.NoticeKind{deckhand.NoticeReminder}
	recovered = []deckhand.NoticeKind{deckhand.NoticeRecovered}
	pending   = deckhand.AlertPending
	open      = deckhand.AlertOpen
	acked     = deckhand.AlertAcked
	none      = deckhand.AlertState("")
)

func TestTransitions(t *testing.T) {
	jf := ckey("jellyfin", deckhand.AlertContainerDown)
	unreachable := fmt.Errorf("dial tcp 10.0.0.2:22: connect: connection refused: %w", deckhand.ErrUnreachable)
	silenceJF := []deckhand.Silence{{Host: "nas", Container: "jellyfin", Until: t0.Add(10 * time.Minute)}}
	tests := []struct {
		name  string
		cfg   func(*Config)
		key   deckhand.AlertKey
		steps []tstep
	}{
		{name: "crash pages at once", key: jf, steps: []tstep{
			{at: 0, snaps: snaps(host("nas", crashed("jellyfin"))), want: opened, state: open,
				text: "nas/jellyfin is down (exited 137)"},
			{at: time.Minute, snaps: snaps(host("nas", crashed("jellyfin"))), state: open},
		}},
		{name: "crash grace delays the page", key: jf, cfg: func(c *Config) { c.CrashGrace = time.Minute }, steps: []tstep{
			{at: 0, snaps: snaps(host("nas", crashed("jellyfin"))), state: pending},
			{at: 59 * time.Second, snaps: snaps(host("nas", crashed("jellyfin"))), state: pending},
			{at: time.Minute, snaps: snaps(host("nas", crashed("jellyfin"))), want: opened, state: open},
		}},
		{name: "clean stop waits for the deploy grace", key: jf, steps: []tstep{
			{at: 0, snaps: snaps(host("nas", up("jellyfin"))), state: none},
			{at: 10 * time.Second, snaps: snaps(host("nas", ctr("jellyfin", deckhand.StateExited))), state: pending},
			{at: 39 * time.Second, snaps: snaps(host("nas", ctr("jellyfin", deckhand.StateExited))), state: pending},
			{at: 40 * time.Second, snaps: snaps(host("nas", ctr("jellyfin", deckhand.StateExited))), want: opened, state: open,
				text: "nas/jellyfin is down (exited 0)"},
		}},
		{name: "recreated within the deploy grace is no outage", key: jf, steps: []tstep{
			{at: 0, snaps: snaps(host("nas", up("jellyfin"))), state: none},
			{at: 5 * time.Second, snaps: snaps(host("nas")), state: pending},
			{at: 20 * time.Second, snaps: snaps(host("nas", up("jellyfin", id("new")))), state: none},
			{at: time.Minute, snaps: snaps(host("nas", up("jellyfin", id("new")))), state: none},
		}},
		{name: "missing beyond the deploy grace pages", key: jf, steps: []tstep{
			{at: 0, snaps: snaps(host("nas", up("jellyfin"))), state: none},
			{at: 5 * time.Second, snaps: snaps(host("nas")), state: pending},
			{at: 35 * time.Second, snaps: snaps(host("nas")), want: opened, state: open, text: "(container missing)"},
			{at: 40 * time.Second, snaps: snaps(host("nas", up("jellyfin", id("new")))), state: open},
			{at: 100 * time.Second, snaps: snaps(host("nas", up("jellyfin", id("new")))), want: recovered, state: none,
				text: "(down 35s)"},
		}},
		{name: "dead pages at once", key: jf, steps: []tstep{
			{at: 0, snaps: snaps(host("nas", ctr("jellyfin", deckhand.StateDead))), want: opened, state: open, text: "(dead)"},
		}},
		{name: "created but not started waits for the deploy grace", key: jf, steps: []tstep{
			{at: 0, snaps: snaps(host("nas", ctr("jellyfin", deckhand.StateCreated))), state: pending},
			{at: 30 * time.Second, snaps: snaps(host("nas", ctr("jellyfin", deckhand.StateCreated))), want: opened, state: open,
				text: "created, not started"},
		}},
		{name: "paused is down after the deploy grace", key: jf, steps: []tstep{
			{at: 0, snaps: snaps(host("nas", ctr("jellyfin", deckhand.StatePaused))), state: pending},
			{at: 30 * time.Second, snaps: snaps(host("nas", ctr("jellyfin", deckhand.StatePaused))), want: opened, state: open},
		}},
		{name: "pending that recovers closes silently", key: jf, cfg: func(c *Config) { c.CrashGrace = time.Minute }, steps: []tstep{
			{at: 0, snaps: snaps(host("nas", crashed("jellyfin"))), state: pending},
			{at: 10 * time.Second, snaps: snaps(host("nas", up("jellyfin"))), state: none},
		}},
		{name: "recovery waits for the hold", key: jf, steps: []tstep{
			{at: 0, snaps: snaps(host("nas", crashed("jellyfin"))), want: opened, state: open},
			{at: 10 * time.Second, snaps: snaps(host("nas", up("jellyfin"))), state: open},
			{at: 69 * time.Second, snaps: snaps(host("nas", up("jellyfin"))), state: open},
			{at: 70 * time.Second, snaps: snaps(host("nas", up("jellyfin"))), want: recovered, state: none,
				text: "(down 10s)"},
		}},
		{name: "down again during the hold continues the same alert", key: jf, steps: []tstep{
			{at: 0, snaps: snaps(host("nas", crashed("jellyfin"))), want: opened, state: open},
			{at: 10 * time.Second, snaps: snaps(host("nas", up("jellyfin"))), state: open},
			{at: 40 * time.Second, snaps: snaps(host("nas", crashed("jellyfin"))), state: open},
			{at: 50 * time.Second, snaps: snaps(host("nas", up("jellyfin"))), state: open},
			{at: 110 * time.Second, snaps: snaps(host("nas", up("jellyfin"))), want: recovered, state: none},
		}},
		{name: "reminders every repeat until acked", key: jf, steps: []tstep{
			{at: 0, snaps: snaps(host("nas", crashed("jellyfin"))), want: opened, state: open},
			{at: 59 * time.Minute, snaps: snaps(host("nas", crashed("jellyfin"))), state: open},
			{at: 60 * time.Minute, snaps: snaps(host("nas", crashed("jellyfin"))), want: reminder, state: open,
				text: "nas/jellyfin is down (exited 137) (down 1h)"},
			{at: 119 * time.Minute, snaps: snaps(host("nas", crashed("jellyfin"))), state: open},
			{at: 120 * time.Minute, snaps: snaps(host("nas", crashed("jellyfin"))), want: reminder, state: open},
			{at: 150 * time.Minute, ack: true, snaps: snaps(host("nas", crashed("jellyfin"))), state: acked},
			{at: 5 * time.Hour, snaps: snaps(host("nas", crashed("jellyfin"))), state: acked},
			{at: 5*time.Hour + 10*time.Second, snaps: snaps(host("nas", up("jellyfin"))), state: acked},
			{at: 5*time.Hour + 70*time.Second, snaps: snaps(host("nas", up("jellyfin"))), want: recovered, state: none,
				text: "(down 5h)"},
		}},
		{name: "reminders never closer than the cooldown", key: jf,
			cfg: func(c *Config) { c.Repeat, c.Cooldown = time.Minute, 5*time.Minute }, steps: []tstep{
				{at: 0, snaps: snaps(host("nas", crashed("jellyfin"))), want: opened, state: open},
				{at: time.Minute, snaps: snaps(host("nas", crashed("jellyfin"))), state: open},
				{at: 299 * time.Second, snaps: snaps(host("nas", crashed("jellyfin"))), state: open},
				{at: 5 * time.Minute, snaps: snaps(host("nas", crashed("jellyfin"))), want: reminder, state: open},
				{at: 9 * time.Minute, snaps: snaps(host("nas", crashed("jellyfin"))), state: open},
				{at: 10 * time.Minute, snaps: snaps(host("nas", crashed("jellyfin"))), want: reminder, state: open},
			}},
		{name: "repeat 0 disables reminders", key: jf, cfg: func(c *Config) { c.Repeat = 0 }, steps: []tstep{
			{at: 0, snaps: snaps(host("nas", crashed("jellyfin"))), want: opened, state: open},
			{at: 5 * time.Hour, snaps: snaps(host("nas", crashed("jellyfin"))), state: open},
		}},
		{name: "acked while pending never pages", key: jf, cfg: func(c *Config) { c.CrashGrace = time.Minute }, steps: []tstep{
			{at: 0, snaps: snaps(host("nas", crashed("jellyfin"))), state: pending},
			{at: 10 * time.Second, ack: true, snaps: snaps(host("nas", crashed("jellyfin"))), state: acked},
			{at: 2 * time.Minute, snaps: snaps(host("nas", crashed("jellyfin"))), state: acked},
			{at: 3 * time.Minute, snaps: snaps(host("nas", up("jellyfin"))), state: acked},
			{at: 4 * time.Minute, snaps: snaps(host("nas", up("jellyfin"))), state: none},
		}},
		{name: "unhealthy warns after its grace", key: ckey("jellyfin", deckhand.AlertUnhealthy), steps: []tstep{
			{at: 0, snaps: snaps(host("nas", up("jellyfin", health(deckhand.HealthUnhealthy)))), state: pending},
			{at: 30 * time.Second, snaps: snaps(host("nas", up("jellyfin", health(deckhand.HealthUnhealthy)))), want: opened, state: open,
				text: "nas/jellyfin is unhealthy"},
			{at: 40 * time.Second, snaps: snaps(host("nas", up("jellyfin", health(deckhand.HealthHealthy)))), state: open},
			{at: 100 * time.Second, snaps: snaps(host("nas", up("jellyfin", health(deckhand.HealthHealthy)))), want: recovered, state: none,
				text: "(down 40s)"},
		}},
		{name: "unhealthy but not running is the down alert's business", key: ckey("jellyfin", deckhand.AlertUnhealthy), steps: []tstep{
			{at: 0, snaps: snaps(host("nas", crashed("jellyfin", health(deckhand.HealthUnhealthy)))), want: opened, state: none},
		}},
		{name: "health starting is not unhealthy", key: ckey("jellyfin", deckhand.AlertUnhealthy), steps: []tstep{
			{at: 0, snaps: snaps(host("nas", up("jellyfin", health(deckhand.HealthStarting)))), state: none},
			{at: time.Hour, snaps: snaps(host("nas", up("jellyfin", health(deckhand.HealthStarting)))), state: none},
		}},
		{name: "desired stopped but running is a wrong state", key: jf, steps: []tstep{
			{at: 0, snaps: snaps(host("nas", up("jellyfin", label(deckhand.LabelDesired, "stopped")))), state: pending},
			{at: 30 * time.Second, snaps: snaps(host("nas", up("jellyfin", label(deckhand.LabelDesired, "stopped")))), want: opened, state: open,
				text: "nas/jellyfin is running but should be stopped"},
		}},
		{name: "desired stopped and stopped or gone is fine", key: jf, steps: []tstep{
			{at: 0, snaps: snaps(host("nas", crashed("jellyfin", label(deckhand.LabelDesired, "stopped")))), state: none},
			{at: time.Minute, snaps: snaps(host("nas")), state: none},
			{at: time.Hour, snaps: snaps(host("nas")), state: none},
		}},
		{name: "unmonitored container never alerts", key: jf, steps: []tstep{
			{at: 0, snaps: snaps(host("nas", crashed("jellyfin", unlabelled()))), state: none},
			{at: time.Hour, snaps: snaps(host("nas")), state: none},
		}},
		{name: "host unreachable after the host grace", key: hkey(deckhand.AlertHostUnreachable), steps: []tstep{
			{at: 0, snaps: snaps(hostErr("nas", unreachable)), state: pending},
			{at: 30 * time.Second, snaps: snaps(hostErr("nas", unreachable)), want: opened, state: open,
				text: "host nas unreachable: dial tcp 10.0.0.2:22: connect: connection refused: host unreachable"},
			{at: 40 * time.Second, snaps: snaps(host("nas")), state: open},
			{at: 100 * time.Second, snaps: snaps(host("nas")), want: recovered, state: none, text: "(down 40s)"},
		}},
		{name: "auth failure counts as unreachable", key: hkey(deckhand.AlertHostUnreachable), cfg: func(c *Config) { c.HostGrace = time.Second }, steps: []tstep{
			{at: 0, snaps: snaps(hostErr("nas", deckhand.ErrAuthFailed)), state: pending},
			{at: time.Second, snaps: snaps(hostErr("nas", deckhand.ErrAuthFailed)), want: opened, state: open, text: "ssh authentication failed"},
		}},
		{name: "daemon down is critical after the host grace", key: hkey(deckhand.AlertDaemonDown), steps: []tstep{
			{at: 0, snaps: snaps(hostErr("nas", fmt.Errorf("Cannot connect to the Docker daemon at unix:///var/run/docker.sock: %w", deckhand.ErrDaemonDown))), state: pending},
			{at: 30 * time.Second, snaps: snaps(hostErr("nas", deckhand.ErrDaemonDown)), want: opened, state: open, text: "host nas: docker daemon down"},
			{at: 31 * time.Second, snaps: snaps(host("nas")), state: open},
			{at: 91 * time.Second, snaps: snaps(host("nas")), want: recovered, state: none, text: "(down 31s)"},
		}},
		{name: "permission denied counts as daemon down", key: hkey(deckhand.AlertDaemonDown), cfg: func(c *Config) { c.HostGrace = time.Second }, steps: []tstep{
			{at: 0, snaps: snaps(hostErr("nas", deckhand.ErrPermissionDenied)), state: pending},
			{at: time.Second, snaps: snaps(hostErr("nas", deckhand.ErrPermissionDenied)), want: opened, state: open, text: "no permission on the docker socket"},
		}},
		{name: "docker missing counts as daemon down", key: hkey(deckhand.AlertDaemonDown), cfg: func(c *Config) { c.HostGrace = time.Second }, steps: []tstep{
			{at: 0, snaps: snaps(hostErr("nas", deckhand.ErrDockerMissing)), state: pending},
			{at: time.Second, snaps: snaps(hostErr("nas", deckhand.ErrDockerMissing)), want: opened, state: open, text: "docker cli not found"},
		}},
		{name: "disabled, unknown and bad output hold the alerts", key: jf, steps: []tstep{
			{at: 0, snaps: snaps(host("nas", crashed("jellyfin"))), want: opened, state: open},
			{at: time.Minute, snaps: snaps(deckhand.Snapshot{Host: deckhand.Host{Name: "nas", Status: deckhand.HostDisabled}}), state: open},
			{at: 2 * time.Hour, snaps: snaps(hostErr("nas", deckhand.ErrBadOutput)), state: open},
			{at: 4 * time.Hour, snaps: snaps(), state: open},
		}},
		{name: "crash while silenced opens quietly and pages when the silence ends", key: jf, steps: []tstep{
			{at: 0, silences: silenceJF, snaps: snaps(host("nas", crashed("jellyfin"))), state: open},
			{at: 5 * time.Minute, snaps: snaps(host("nas", crashed("jellyfin"))), state: open},
			{at: 10 * time.Minute, snaps: snaps(host("nas", crashed("jellyfin"))), want: opened, state: open},
			{at: 11 * time.Minute, snaps: snaps(host("nas", up("jellyfin"))), state: open},
			{at: 12 * time.Minute, snaps: snaps(host("nas", up("jellyfin"))), want: recovered, state: none},
		}},
		{name: "recovery while silenced is silent", key: jf, steps: []tstep{
			{at: 0, silences: silenceJF, snaps: snaps(host("nas", crashed("jellyfin"))), state: open},
			{at: time.Minute, snaps: snaps(host("nas", up("jellyfin"))), state: open},
			{at: 2 * time.Minute, snaps: snaps(host("nas", up("jellyfin"))), state: none},
			{at: 20 * time.Minute, snaps: snaps(host("nas", up("jellyfin"))), state: none},
		}},
		{name: "silence after the page stops reminders, not the recovery", key: jf, steps: []tstep{
			{at: 0, snaps: snaps(host("nas", crashed("jellyfin"))), want: opened, state: open},
			{at: 30 * time.Minute, silences: []deckhand.Silence{{Project: "media", Until: t0.Add(3 * time.Hour)}},
				snaps: snaps(host("nas", crashed("jellyfin", project("media")))), state: open},
			{at: time.Hour, snaps: snaps(host("nas", crashed("jellyfin", project("media")))), state: open},
			{at: 70 * time.Minute, snaps: snaps(host("nas", up("jellyfin", project("media")))), state: open},
			{at: 71 * time.Minute, snaps: snaps(host("nas", up("jellyfin", project("media")))), want: recovered, state: none},
		}},
		{name: "silence of another container does not apply", key: jf, steps: []tstep{
			{at: 0, silences: []deckhand.Silence{{Host: "nas", Container: "plex", Until: t0.Add(time.Hour)}},
				snaps: snaps(host("nas", crashed("jellyfin"))), want: opened, state: open},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			s := newSim(t, cfg)
			for i, st := range tc.steps {
				s.now = t0.Add(st.at)
				if st.silences != nil {
					s.silences = st.silences
				}
				if st.ack {
					if n := s.ack(tc.key, "alice"); n == nil || n.Kind != deckhand.NoticeAcked {
						t.Fatalf("step %d: ack notice = %v", i, n)
					}
				}
				r := s.eval(st.snaps...)
				got := kinds(r.Notices)
				want := st.want
				if want == nil {
					want = []deckhand.NoticeKind{}
				}
				if !slices.Equal(got, want) {
					t.Errorf("step %d (+%s): notices %v %q, want %v", i, st.at, got, texts(r.Notices), want)
				}
				if st.text != "" && (len(r.Notices) == 0 || !strings.Contains(fact(r.Notices[0]), st.text)) {
					t.Errorf("step %d (+%s): notice texts %q, want one containing %q", i, st.at, texts(r.Notices), st.text)
				}
				a, ok := s.activeFor(tc.key)
				var state deckhand.AlertState
				if ok {
					state = a.State
				}
				if state != st.state {
					t.Errorf("step %d (+%s): state %q, want %q", i, st.at, state, st.state)
				}
			}
		})
	}
}
