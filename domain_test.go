package deckhand

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestContainerLabels(t *testing.T) {
	tests := []struct {
		labels                             map[string]string
		monitored, auto, protected, public bool
		desired                            ContainerState
	}{
		{nil, false, false, false, false, StateRunning},
		{map[string]string{LabelMonitor: "true"}, true, false, false, true, StateRunning},
		{map[string]string{LabelMonitor: "TRUE", LabelPublic: "false"}, true, false, false, false, StateRunning},
		{map[string]string{LabelPublic: "yes"}, false, false, false, true, StateRunning},
		{map[string]string{LabelMonitor: "1", LabelDesired: "stopped", LabelAutoRestart: "on", LabelProtected: "true"}, true, true, true, true, StateExited},
		{map[string]string{LabelMonitor: "false", LabelDesired: "Running"}, false, false, false, false, StateRunning},
		{map[string]string{LabelMonitor: "truthy"}, false, false, false, false, StateRunning},
	}
	for i, tt := range tests {
		c := Container{Labels: tt.labels}
		got := []any{Watchlist{}.Watched(c), c.AutoRestart(), c.Protected(), Watchlist{}.Public(c), c.Desired()}
		want := []any{tt.monitored, tt.auto, tt.protected, tt.public, tt.desired}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%d %v: got %v, want %v", i, tt.labels, got, want)
		}
	}
}

func TestStatusOf(t *testing.T) {
	tests := []struct {
		err  error
		want HostStatus
	}{
		{nil, HostOK},
		{fmt.Errorf("dial: %w", ErrUnreachable), HostUnreachable},
		{fmt.Errorf("x: %w", ErrHostKeyMismatch), HostKeyMismatch},
		{fmt.Errorf("x: %w", ErrDaemonDown), HostDaemonDown},
		{fmt.Errorf("x: %w", ErrPermissionDenied), HostPermissionDenied},
		{fmt.Errorf("x: %w", ErrDockerMissing), HostDockerMissing},
		{fmt.Errorf("x: %w", ErrTimeout), HostTimeout},
		{fmt.Errorf("x: %w", ErrBadOutput), HostBadOutput},
		{errors.New("something else"), HostError},
	}
	for _, tt := range tests {
		if got := StatusOf(tt.err); got != tt.want {
			t.Errorf("StatusOf(%v) = %s, want %s", tt.err, got, tt.want)
		}
	}
	if HostDaemonDown.DockerUp() || !HostDaemonDown.Reachable() || HostUnreachable.Reachable() {
		t.Error("reachability of statuses is wrong")
	}
}

func TestSilenceMatches(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	a := Alert{Key: AlertKey{Host: "nas", Container: "jellyfin", Kind: AlertContainerDown}, Project: "media"}
	tests := []struct {
		s    Silence
		want bool
	}{
		{Silence{Host: "nas", Until: now.Add(time.Hour)}, true},
		{Silence{Host: "nas", Container: "jellyfin", Until: now.Add(time.Hour)}, true},
		{Silence{Project: "media", Until: now.Add(time.Hour)}, true},
		{Silence{Host: "pi", Until: now.Add(time.Hour)}, false},
		{Silence{Host: "nas", Until: now}, false},   // ended
		{Silence{Until: now.Add(time.Hour)}, false}, // matches nothing by construction
	}
	for i, tt := range tests {
		if got := tt.s.Matches(a, now); got != tt.want {
			t.Errorf("%d: Matches = %v, want %v", i, got, tt.want)
		}
	}
}

func TestWhitelistIsClosed(t *testing.T) {
	for _, a := range Actions() {
		if !a.Known() || a.MinRole() < RoleViewer || a.MinRole() > RoleAdmin {
			t.Errorf("%s: known=%v min=%v", a, a.Known(), a.MinRole())
		}
	}
	if Action("exec").Known() || Action("exec").MinRole() <= RoleAdmin {
		t.Error("an action outside the whitelist must be unreachable for every role")
	}
	for _, a := range []Action{ActionRemove, ActionRedeploy} {
		if a.MinRole() != RoleAdmin || !a.NeedsConfirmation() {
			t.Errorf("%s must be admin-only and confirmed", a)
		}
	}
	if _, err := ParseRole("root"); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("ParseRole(root) = %v", err)
	}
	if !(Actor{Hosts: []string{"nas"}}).CanReach("nas") || (Actor{Hosts: []string{"nas"}}).CanReach("pi") || !(Actor{}).CanReach("pi") {
		t.Error("host scoping is wrong")
	}
}

// The list that queries order by and the rule say the same.
func TestUrgentNoticeKinds(t *testing.T) {
	all := []NoticeKind{NoticeOpened, NoticeReminder, NoticeAcked, NoticeRecovered, NoticeAutoRestart, NoticeAnnouncement, NoticeSystem}
	listed := map[NoticeKind]bool{}
	for _, k := range UrgentNoticeKinds() {
		listed[k] = true
	}
	for _, k := range all {
		if k.Urgent() != listed[k] {
			t.Errorf("%s: Urgent() = %v, listed = %v", k, k.Urgent(), listed[k])
		}
	}
	if NoticeReminder.Urgent() || NoticeRecovered.Urgent() || !NoticeOpened.Urgent() {
		t.Error("an opening must go before reminders and recoveries")
	}
}
