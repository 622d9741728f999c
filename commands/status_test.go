package commands_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/commands"
	"github.com/deckhand/deckhand/commands/commandstest"
)

// TestStatusUsesTheWatchlistAndVerdicts: /status said "as they should be"
// about what the page called down, because it read the monitor label
// alone and decided conditions its own way.
func TestStatusUsesTheWatchlistAndVerdicts(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	env := commandstest.NewEnv(func() time.Time { return now })
	mon := map[string]string{deckhand.LabelMonitor: "true"}
	env.Inventory.SetContainers("nas",
		deckhand.Container{Host: "nas", ID: "1", Name: "plex", State: deckhand.StateExited, ExitCode: 137},    // selected
		deckhand.Container{Host: "nas", ID: "2", Name: "build-tmp", State: deckhand.StateExited, Labels: mon}, // excluded
		deckhand.Container{Host: "nas", ID: "3", Name: "web", State: deckhand.StateRunning, Labels: mon},      // recovering
		deckhand.Container{Host: "nas", ID: "4", Name: "backup", State: deckhand.StateRunning, Labels: map[string]string{deckhand.LabelMonitor: "true", deckhand.LabelDesired: "stopped"}},
		deckhand.Container{Host: "nas", ID: "5", Name: "db", State: deckhand.StateRunning, Labels: mon},
		deckhand.Container{Host: "nas", ID: "6", Name: "helper", State: deckhand.StateExited}, // not watched: kept stopped on purpose
	)
	at := now.Add(-5 * time.Minute)
	env.Alerts = commandstest.NewAlerts(env.Alerts.Now, deckhand.Alert{ID: 1,
		Key: deckhand.AlertKey{Host: "nas", Container: "web", Kind: deckhand.AlertContainerDown}, State: deckhand.AlertOpen,
		FirstSeenAt: at, OpenedAt: at, LastNotifiedAt: at, Notifications: 1, ClearedAt: now.Add(-10 * time.Second)})
	cfg := commands.Config{Secret: testSecret, Watch: deckhand.Watchlist{
		Select: []deckhand.Selector{{Name: "plex"}}, Exclude: []deckhand.Selector{{Name: "*-tmp"}}}}
	r, err := commands.NewRouter(env.Deps(), cfg, commands.Options{Now: env.Alerts.Now})
	if err != nil {
		t.Fatal(err)
	}
	rep := r.Handle(context.Background(), commands.Request{Actor: viewer, Command: "status", Args: []string{"nas"}})
	if rep.Error {
		t.Fatalf("status: %q", rep.Text)
	}
	_, attention, _ := strings.Cut(rep.Text, "Needs attention")
	for _, want := range []string{"`plex` exited: down", "`web` running: recovering", "`backup` running: degraded"} {
		if !strings.Contains(attention, want) {
			t.Errorf("attention lacks %q:\n%s", want, rep.Text)
		}
	}
	for _, no := range []string{"build-tmp", "`db`", "helper"} {
		if strings.Contains(attention, no) {
			t.Errorf("attention lists %s:\n%s", no, rep.Text)
		}
	}
}

type problemLines []string

func (p problemLines) ProblemLines() []string { return p }

// TestStatusShowsDeckhandsOwnProblems: a second poller stealing Telegram
// commands, or a gateway down, is said in /status, where people look
// when the bot seems odd; with none, /status says nothing about it.
func TestStatusShowsDeckhandsOwnProblems(t *testing.T) {
	for _, tt := range []struct {
		name  string
		lines problemLines
	}{{"problems", problemLines{"telegram poller: another program polls getUpdates with this bot token"}}, {"none", nil}} {
		t.Run(tt.name, func(t *testing.T) {
			env := commandstest.NewEnv(nil)
			deps := env.Deps()
			deps.Health = tt.lines
			r, err := commands.NewRouter(deps, commands.Config{Secret: testSecret}, commands.Options{})
			if err != nil {
				t.Fatal(err)
			}
			rep := r.Handle(context.Background(), commands.Request{Actor: viewer, Command: "status"})
			if rep.Error {
				t.Fatalf("status: %q", rep.Text)
			}
			has := strings.Contains(rep.Text, "deckhand itself")
			if has != (len(tt.lines) > 0) {
				t.Errorf("section about deckhand itself shown = %v, want %v:\n%s", has, len(tt.lines) > 0, rep.Text)
			}
			for _, l := range tt.lines {
				if !strings.Contains(rep.Text, l) {
					t.Errorf("status lacks %q:\n%s", l, rep.Text)
				}
			}
		})
	}
}
