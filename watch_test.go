package deckhand

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestWatchlist(t *testing.T) {
	ctr := func(host, name, project string, kv ...string) Container {
		l := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			l[kv[i]] = kv[i+1]
		}
		return Container{Host: host, Name: name, ComposeProject: project, Labels: l}
	}
	w := Watchlist{
		Select:  []Selector{{Host: "nas", Name: "jelly*"}, {Project: "cloud"}},
		Exclude: []Selector{{Name: "*-test"}},
	}
	tests := []struct {
		name            string
		c               Container
		watched, public bool
	}{
		{"no label, no selector", ctr("nas", "sonarr", ""), false, false},
		{"label", ctr("nas", "sonarr", "", LabelMonitor, "true"), true, true},
		{"selected by name", ctr("nas", "jellyfin", ""), true, true},
		{"selected name on another host", ctr("pi", "jellyfin", ""), false, false},
		{"selected by project", ctr("vps", "db", "cloud"), true, true},
		{"selected by project label only", ctr("vps", "db", "", LabelComposeProject, "cloud"), true, true},
		{"excluded beats label", ctr("nas", "web-test", "", LabelMonitor, "true"), false, false},
		{"excluded beats select", ctr("nas", "jelly-test", ""), false, false},
		{"public label on unwatched", ctr("nas", "grafana", "", LabelPublic, "true"), false, true},
		{"public=false hides watched", ctr("nas", "jellyfin", "", LabelPublic, "false"), true, false},
		{"public label on excluded", ctr("nas", "x-test", "", LabelPublic, "yes"), false, true},
	}
	for _, tt := range tests {
		if got := w.Watched(tt.c); got != tt.watched {
			t.Errorf("%s: Watched = %v, want %v", tt.name, got, tt.watched)
		}
		if got := w.Public(tt.c); got != tt.public {
			t.Errorf("%s: Public = %v, want %v", tt.name, got, tt.public)
		}
	}
}

func TestSelectorValidate(t *testing.T) {
	tests := []struct {
		s    Selector
		want string // "" when valid
	}{
		{Selector{Host: "nas"}, ""},
		{Selector{Name: "*"}, ""},
		{Selector{Project: "media-*"}, ""},
		{Selector{}, "empty selector"},
		{Selector{Name: "a[^-]*"}, `name: bad pattern "a[^-]*"`},
		{Selector{Name: "[a-"}, `name: bad pattern "[a-"`},
		{Selector{Project: "x["}, `project: bad pattern "x["`},
	}
	for _, tt := range tests {
		err := tt.s.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%+v: unexpected error %v", tt.s, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrInvalidInput)):
			t.Errorf("%+v: error %v, want one containing %q wrapping ErrInvalidInput", tt.s, err, tt.want)
		}
	}
	// path.Match refuses "a[^-]*" only once it reaches the class: a pattern
	// accepted against "" must still be rejected.
	if (Selector{Name: "a[^-]*"}).Matches(Container{Name: "abc"}) {
		t.Error("a broken pattern matched")
	}
}

func TestConditionOf(t *testing.T) {
	stopped := map[string]string{LabelDesired: "stopped"}
	tests := []struct {
		c         Container
		want      Condition
		available bool
	}{
		{Container{State: StateRunning, Health: HealthNone}, ConditionUp, true},
		{Container{State: StateRunning, Health: HealthHealthy}, ConditionUp, true},
		{Container{State: StateRunning, Health: HealthStarting}, ConditionUp, true},
		{Container{State: StateRunning, Health: HealthUnhealthy}, ConditionUnhealthy, false},
		{Container{State: StateRestarting, ExitCode: 1}, ConditionRestarting, false},
		{Container{State: StatePaused}, ConditionPaused, false},
		{Container{State: StateExited, ExitCode: 137}, ConditionDown, false},
		{Container{State: StateExited}, ConditionDown, false},
		{Container{State: StateCreated}, ConditionDown, false},
		{Container{State: StateDead}, ConditionDown, false},
		{Container{State: StateRemoving}, ConditionDown, false},
		{Container{State: StateExited, Labels: stopped}, ConditionStopped, true},
		{Container{State: StateCreated, Labels: stopped}, ConditionStopped, true},
		{Container{State: StateDead, Labels: stopped}, ConditionStopped, true},
		{Container{State: StateRunning, Labels: stopped}, ConditionRunningUnwanted, true},
		{Container{State: StateRestarting, Labels: stopped}, ConditionRunningUnwanted, true},
		{Container{State: StatePaused, Labels: stopped}, ConditionRunningUnwanted, true},
	}
	for _, tt := range tests {
		got := ConditionOf(tt.c)
		if got != tt.want || got.Available() != tt.available {
			t.Errorf("%s/%s %v: %s (available %v), want %s (%v)", tt.c.State, tt.c.Health, tt.c.Labels, got, got.Available(), tt.want, tt.available)
		}
	}
	for _, c := range []Condition{ConditionUp, ConditionStopped} {
		if !c.AsDesired() {
			t.Errorf("%s is as desired", c)
		}
	}
	for _, c := range []Condition{ConditionDown, ConditionUnhealthy, ConditionRestarting, ConditionPaused, ConditionRunningUnwanted, ConditionGone} {
		if c.AsDesired() {
			t.Errorf("%s is not as desired", c)
		}
	}
}

func TestIncident(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		a    Alert
		want bool
	}{
		{"pending", Alert{State: AlertPending, FirstSeenAt: now}, false},
		{"closed inside its grace", Alert{State: AlertClosed, FirstSeenAt: now, ClosedAt: now}, false},
		{"opened", Alert{State: AlertOpen, FirstSeenAt: now, OpenedAt: now}, true},
		{"opened suppressed", Alert{State: AlertOpen, OpenedAt: now, Suppressed: true}, true},
		{"closed after opening", Alert{State: AlertClosed, OpenedAt: now, ClosedAt: now.Add(time.Minute)}, true},
		{"re-opened story back in grace, notified before", Alert{State: AlertPending, FirstSeenAt: now, Notifications: 2}, true},
	}
	for _, tt := range tests {
		if got := tt.a.Incident(); got != tt.want {
			t.Errorf("%s: Incident = %v, want %v", tt.name, got, tt.want)
		}
	}
	if (Alert{State: AlertOpen, OpenedAt: now, ClearedAt: now}).Recovering() != true ||
		(Alert{State: AlertClosed, OpenedAt: now, ClearedAt: now}).Recovering() ||
		(Alert{State: AlertOpen, OpenedAt: now}).Recovering() {
		t.Error("Recovering is wrong")
	}
}

func TestContainerVerdict(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	open := Alert{Key: AlertKey{Kind: AlertRestartLoop}, State: AlertOpen, FirstSeenAt: now, OpenedAt: now}
	cleared := open
	cleared.ClearedAt = now.Add(time.Minute)
	pending := Alert{Key: AlertKey{Kind: AlertContainerDown}, State: AlertPending, FirstSeenAt: now}
	tests := []struct {
		name   string
		host   HostStatus
		cond   Condition
		alerts []Alert
		maint  bool
		want   Verdict
	}{
		{"up", HostOK, ConditionUp, nil, false, VerdictUp},
		{"not collected yet", HostUnknown, ConditionUp, nil, false, VerdictChecking},
		{"never collected, empty status", "", ConditionDown, nil, false, VerdictChecking},
		{"host unreachable", HostUnreachable, ConditionUp, nil, false, VerdictUnknown},
		{"host disabled", HostDisabled, ConditionUp, nil, false, VerdictUnknown},
		{"maintenance", HostOK, ConditionDown, []Alert{open}, true, VerdictMaintenance},
		{"down", HostOK, ConditionDown, nil, false, VerdictDown},
		{"down inside grace", HostOK, ConditionDown, []Alert{pending}, false, VerdictDown},
		{"restarting", HostOK, ConditionRestarting, nil, false, VerdictDown},
		{"gone", HostOK, ConditionGone, nil, false, VerdictDown},
		{"unhealthy", HostOK, ConditionUnhealthy, nil, false, VerdictDegraded},
		{"paused", HostOK, ConditionPaused, nil, false, VerdictDegraded},
		{"running unwanted", HostOK, ConditionRunningUnwanted, nil, false, VerdictDegraded},
		{"stopped", HostOK, ConditionStopped, nil, false, VerdictStopped},
		{"recovery hold", HostOK, ConditionUp, []Alert{cleared}, false, VerdictRecovering},
		{"recovery hold of one alert, another still on", HostOK, ConditionUp, []Alert{cleared, open}, false, VerdictDegraded},
		{"loop between restarts", HostOK, ConditionUp, []Alert{open}, false, VerdictDegraded},
		{"down again during the hold", HostOK, ConditionDown, []Alert{cleared}, false, VerdictDown},
		{"pending on an up container", HostOK, ConditionUp, []Alert{pending}, false, VerdictUp},
	}
	for _, tt := range tests {
		if got := ContainerVerdict(tt.host, tt.cond, tt.alerts, tt.maint); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

func ExampleSelector_Validate() {
	fmt.Println(Selector{Name: "a[^-]*"}.Validate())
	// Output: name: bad pattern "a[^-]*": syntax error in pattern
}

func TestContainerSince(t *testing.T) {
	created := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	started, finished := created.Add(time.Minute), created.Add(time.Hour)
	tests := []struct {
		c    Container
		want time.Time
	}{
		{Container{State: StateRunning, CreatedAt: created, StartedAt: started}, started},
		{Container{State: StateExited, CreatedAt: created, StartedAt: started, FinishedAt: finished}, finished},
		{Container{State: StateRestarting, StartedAt: started, FinishedAt: finished}, finished},
		{Container{State: StateCreated, CreatedAt: created}, created},
		{Container{State: StateExited}, time.Time{}},
	}
	for _, tt := range tests {
		if got := tt.c.Since(); !got.Equal(tt.want) {
			t.Errorf("%s: Since = %v, want %v", tt.c.State, got, tt.want)
		}
	}
}
