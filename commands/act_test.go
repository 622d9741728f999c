package commands_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/deckhand/deckhand"
)

var autoRestart = deckhand.Actor{Platform: "deckhand", UserID: "auto_restart", Name: "auto-restart", Role: deckhand.RoleOperator}

func TestActGoesThroughTheActionPath(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	// By full ID, as the alert engine's restart order carries it.
	if err := f.r.Act(ctx, autoRestart, deckhand.ActionRestart, "nas", "a1b2c3"+strings.Repeat("0", 58)); err != nil {
		t.Fatalf("Act = %v", err)
	}
	if m := f.mutations(); len(m) != 1 || m[0].Op != "restart" || m[0].Container != "jellyfin" {
		t.Fatalf("mutations %+v", m)
	}
	got := f.env.Audit.Last()
	if got.Actor.UserID != "auto_restart" || got.Action != deckhand.ActionRestart || got.Host != "nas" ||
		got.Target != "jellyfin" || got.Result != "ok" {
		t.Fatalf("audit %+v", got)
	}
	if h := f.env.Refresher.Hosts(); !slices.Equal(h, []string{"nas"}) {
		t.Fatalf("refreshes %v", h)
	}
}

func TestActSharesTheLock(t *testing.T) {
	f := newFixture(t, nil)
	entered, release := f.env.Docker.Block()
	t.Cleanup(release)
	done := make(chan error, 1)
	go func() { done <- f.r.Act(context.Background(), autoRestart, deckhand.ActionRestart, "nas", "jellyfin") }()
	<-entered
	f.mustFail(f.handle(admin, "stop", "nas", "jellyfin"), "already in progress")
	if err := f.r.Act(context.Background(), autoRestart, deckhand.ActionRestart, "nas", "jellyfin"); !errors.Is(err, deckhand.ErrBusy) {
		t.Fatalf("second Act = %v, want ErrBusy", err)
	}
	if got := f.env.Audit.Last(); got.Actor.UserID != "auto_restart" || got.Result != "denied" || got.Detail != "busy" {
		t.Fatalf("busy audit %+v", got)
	}
	release()
	if err := <-done; err != nil {
		t.Fatalf("first Act = %v", err)
	}
}

func TestActRefusals(t *testing.T) {
	protectedAuto := deckhand.Container{Host: "nas", ID: strings.Repeat("e", 64), Name: "gitea", State: deckhand.StateExited,
		Labels: map[string]string{deckhand.LabelProtected: "true", deckhand.LabelAutoRestart: "true", deckhand.LabelMonitor: "true"}}
	tests := []struct {
		name    string
		actor   deckhand.Actor
		action  deckhand.Action
		target  string
		wantErr error // nil: allowed
	}{
		{"restart a protected container that asks for auto-restart", autoRestart, deckhand.ActionRestart, "gitea", nil},
		{"protected without auto_restart", autoRestart, deckhand.ActionRestart, "vaultwarden", deckhand.ErrForbidden},
		{"the exception is a restart only", autoRestart, deckhand.ActionStop, "gitea", deckhand.ErrForbidden},
		{"remove needs admin", autoRestart, deckhand.ActionRemove, "jellyfin", deckhand.ErrForbidden},
		{"no role", deckhand.Actor{Platform: "deckhand", UserID: "x"}, deckhand.ActionRestart, "jellyfin", deckhand.ErrForbidden},
		{"not a container action", autoRestart, deckhand.ActionStatus, "jellyfin", deckhand.ErrNotWhitelisted},
		{"project restart is not one container", autoRestart, deckhand.ActionRestartProject, "jellyfin", deckhand.ErrNotWhitelisted},
		{"gone", autoRestart, deckhand.ActionRestart, "nothing-here", deckhand.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			list, _ := f.env.Inventory.Containers(context.Background(), "nas")
			f.env.Inventory.SetContainers("nas", append(list, protectedAuto)...)
			err := f.r.Act(context.Background(), tt.actor, tt.action, "nas", tt.target)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Act = %v, want %v", err, tt.wantErr)
			}
			if got := f.env.Audit.Last(); got.Action != tt.action || got.Actor.UserID != tt.actor.UserID {
				t.Fatalf("not audited: %+v", got)
			}
			if tt.wantErr != nil && len(f.mutations()) != 0 {
				t.Fatalf("refused Act reached Docker: %+v", f.mutations())
			}
		})
	}
}

func TestChatCannotBorrowTheAutoRestartException(t *testing.T) {
	f := newFixture(t, nil)
	list, _ := f.env.Inventory.Containers(context.Background(), "nas")
	f.env.Inventory.SetContainers("nas", append(list, deckhand.Container{Host: "nas", ID: strings.Repeat("e", 64), Name: "gitea",
		Labels: map[string]string{deckhand.LabelProtected: "true", deckhand.LabelAutoRestart: "true"}})...)
	// Even claiming to be deckhand from a chat.
	f.mustFail(f.handle(autoRestart, "restart", "nas", "gitea"), "protected")
	if len(f.mutations()) != 0 {
		t.Fatalf("mutations %+v", f.mutations())
	}
}
