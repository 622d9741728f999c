package commands_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/commands"
)

func (f *fixture) restarts() int {
	n := 0
	for _, c := range f.mutations() {
		if c.Op == "restart" {
			n++
		}
	}
	return n
}

// TestRestartButtonWorksOnce: a used Restart token restarted the container
// again on every replay until it expired.
func TestRestartButtonWorksOnce(t *testing.T) {
	f := newFixture(t, nil)
	alert, _ := f.env.Alerts.Alert(12)
	restart := buttonByLabel(t, f.r.AlertButtons(alert, alertActions), "Restart").Payload

	f.mustOK(f.press(operator, restart))
	for _, who := range []deckhand.Actor{operator, admin} {
		f.mustFail(f.press(who, restart), "already used")
		if got := f.env.Audit.Last(); got.Result != "denied" || got.Action != deckhand.ActionRestart || !strings.Contains(got.Detail, "already used") {
			t.Fatalf("audit of a replayed restart: %+v", got)
		}
	}
	if n := f.restarts(); n != 1 {
		t.Fatalf("%d restarts, want 1", n)
	}

	// ntfy's token path says why, so that it can choose a status.
	_, err := f.r.TokenHandler(deckhand.RoleOperator).HandleButton(context.Background(),
		deckhand.Actor{Platform: deckhand.PlatformNtfy, UserID: "ntfy", Name: "ntfy"}, restart)
	if !errors.Is(err, deckhand.ErrAlreadyUsed) {
		t.Fatalf("replay through the token handler: %v, want ErrAlreadyUsed", err)
	}

	// A fresh token (the next reminder's) is a new decision.
	f.clock.Advance(time.Minute)
	f.mustOK(f.press(operator, buttonByLabel(t, f.r.AlertButtons(alert, alertActions), "Restart").Payload))
	if n := f.restarts(); n != 2 {
		t.Fatalf("%d restarts after a fresh token, want 2", n)
	}
}

// TestUsedTokensSurviveARestart: the used ids live in the store, so a new
// router (deckhand restarted) refuses a replay too.
func TestUsedTokensSurviveARestart(t *testing.T) {
	f := newFixture(t, nil)
	alert, _ := f.env.Alerts.Alert(12)
	restart := buttonByLabel(t, f.r.AlertButtons(alert, alertActions), "Restart").Payload
	f.mustOK(f.press(operator, restart))

	again, err := commands.NewRouter(f.env.Deps(), commands.Config{Secret: testSecret}, commands.Options{Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	rep := again.HandleButton(context.Background(), operator, restart)
	f.mustFail(rep, "already used")
	if n := f.restarts(); n != 1 {
		t.Fatalf("%d restarts, want 1", n)
	}
}

// TestAckAndSilenceStayIdempotent: pressing Ack or Silence again is
// harmless and keeps working.
func TestAckAndSilenceStayIdempotent(t *testing.T) {
	f := newFixture(t, nil)
	alert, _ := f.env.Alerts.Alert(12)
	bs := f.r.AlertButtons(alert, alertActions)
	for range 2 {
		f.mustOK(f.press(operator, buttonByLabel(t, bs, "Ack").Payload))
		f.mustOK(f.press(operator, buttonByLabel(t, bs, "Silence").Payload))
	}
	if f.env.Tokens.Len() != 0 {
		t.Errorf("%d tokens recorded as used by ack and silence", f.env.Tokens.Len())
	}
}

// TestRetriedPressRestartsOnce: Telegram or Discord delivering the same
// press twice, also while the first is still running, restarts once.
func TestRetriedPressRestartsOnce(t *testing.T) {
	f := newFixture(t, nil)
	alert, _ := f.env.Alerts.Alert(12)
	restart := buttonByLabel(t, f.r.AlertButtons(alert, alertActions), "Restart").Payload
	entered, release := f.env.Docker.Block()
	t.Cleanup(release)
	var wg sync.WaitGroup
	var first commands.Reply
	wg.Add(1)
	go func() {
		defer wg.Done()
		first = f.r.HandleButton(context.Background(), operator, restart)
	}()
	<-entered
	if rep := f.press(operator, restart); !rep.Error {
		t.Fatalf("retry during the restart: %q", rep.Text)
	}
	release()
	wg.Wait()
	f.mustOK(first)
	f.mustFail(f.press(operator, restart), "already used")
	if n := f.restarts(); n != 1 {
		t.Fatalf("%d restarts, want 1", n)
	}
}

// TestRefusedPressKeepsTheToken: a press that does nothing (wrong role,
// another action in progress) does not spend the alert's button.
func TestRefusedPressKeepsTheToken(t *testing.T) {
	f := newFixture(t, nil)
	alert, _ := f.env.Alerts.Alert(12)
	restart := buttonByLabel(t, f.r.AlertButtons(alert, alertActions), "Restart").Payload
	f.mustFail(f.press(viewer, restart), "may not")

	entered, release := f.env.Docker.Block()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		f.r.Handle(context.Background(), commands.Request{Actor: operator, Command: "stop", Args: []string{"nas", "media-radarr-1"}})
	}()
	<-entered
	f.mustFail(f.press(operator, restart), "already in progress")
	release()
	wg.Wait()

	f.mustOK(f.press(operator, restart))
	if n := f.restarts(); n != 1 {
		t.Fatalf("%d restarts, want 1", n)
	}
}

// TestUnwritableTokenStore: a database that cannot write must not stop a
// restart, and the process still refuses a replay.
func TestUnwritableTokenStore(t *testing.T) {
	f := newFixture(t, nil)
	f.env.Tokens.Fail(errors.New("disk full"))
	alert, _ := f.env.Alerts.Alert(12)
	restart := buttonByLabel(t, f.r.AlertButtons(alert, alertActions), "Restart").Payload
	f.mustOK(f.press(operator, restart))
	f.mustFail(f.press(operator, restart), "already used")
	if n := f.restarts(); n != 1 {
		t.Fatalf("%d restarts, want 1", n)
	}
}

// TestConfirmTokenIsRecorded: a confirmation is single-use like a restart
// (its pending entry goes too), and its token is remembered with the rest.
func TestConfirmTokenIsRecorded(t *testing.T) {
	f := newFixture(t, nil)
	rep := f.handle(admin, "remove", "nas", "jellyfin")
	f.mustOK(f.press(admin, buttonByLabel(t, rep.Buttons, "Confirm").Payload))
	if f.env.Tokens.Len() != 1 {
		t.Fatalf("%d tokens recorded, want the confirmation's", f.env.Tokens.Len())
	}
	f.mustFail(f.press(admin, buttonByLabel(t, rep.Buttons, "Confirm").Payload), "already used")
}
