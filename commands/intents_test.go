package commands_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
)

func (f *fixture) intent(host, ctr string) (deckhand.Intent, bool) {
	return f.env.Intents.Get(host, ctr)
}

func (f *fixture) putIntent(i deckhand.Intent) {
	f.t.Helper()
	if err := f.env.Intents.PutIntent(context.Background(), i); err != nil {
		f.t.Fatal(err)
	}
}

func TestStopRecordsIntentBeforeDocker(t *testing.T) {
	f := newFixture(t, nil)
	entered, release := f.env.Docker.Block()
	t.Cleanup(release)
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.handle(operator, "stop", "nas", "jellyfin")
	}()
	<-entered
	// While Docker stops it, a collection may already see it exited.
	i, ok := f.intent("nas", "jellyfin")
	if !ok || i.Action != deckhand.ActionStop || i.By != operator.String() || !i.At.Equal(f.clock.Now()) {
		t.Fatalf("intent during the stop = %+v, %v", i, ok)
	}
	f.clock.Advance(10 * time.Second) // docker stop waits for the process
	release()
	<-done
	// Restamped when the stop took effect: a snapshot started while it
	// ran and still showing it running does not end the intent.
	if i, ok := f.intent("nas", "jellyfin"); !ok || !i.At.Equal(f.clock.Now()) {
		t.Fatalf("intent after the stop = %+v, %v; want At %v", i, ok, f.clock.Now())
	}
	if got := f.env.Audit.Last(); got.Action != deckhand.ActionStop || got.Result != "ok" {
		t.Fatalf("audit %+v", got)
	}
}

func TestConfirmedRemoveRecordsIntent(t *testing.T) {
	f := newFixture(t, nil)
	rep := f.handle(admin, "remove", "nas", "jellyfin")
	if _, ok := f.intent("nas", "jellyfin"); ok {
		t.Fatal("asking for a confirmation recorded an intent")
	}
	f.mustOK(f.press(admin, buttonByLabel(t, rep.Buttons, "Confirm").Payload))
	i, ok := f.intent("nas", "jellyfin")
	if !ok || i.Action != deckhand.ActionRemove || i.By != admin.String() {
		t.Fatalf("intent after a confirmed remove = %+v, %v", i, ok)
	}
	if got := i.Phrase(); got != "removed by "+admin.String() {
		t.Errorf("Phrase = %q", got)
	}
}

func TestFailedActionWithdrawsIntent(t *testing.T) {
	f := newFixture(t, nil)
	f.env.Docker.FailOn("stop", fmt.Errorf("ssh: %w", deckhand.ErrTimeout))
	f.mustFail(f.handle(operator, "stop", "nas", "jellyfin"), "timed out")
	if i, ok := f.intent("nas", "jellyfin"); ok {
		t.Fatalf("failed stop left intent %+v", i)
	}

	// A failed removal of a container stopped on purpose earlier leaves
	// that stop's intent as it was.
	earlier := deckhand.Intent{Host: "nas", Container: "media-radarr-1", Action: deckhand.ActionStop, By: "telegram:bob", At: f.clock.Now().Add(-time.Hour)}
	f.putIntent(earlier)
	f.env.Docker.FailOn("remove", errors.New("device or resource busy"))
	rep := f.handle(admin, "remove", "nas", "media-radarr-1")
	f.mustFail(f.press(admin, buttonByLabel(t, rep.Buttons, "Confirm").Payload), "busy")
	if i, ok := f.intent("nas", "media-radarr-1"); !ok || i != earlier {
		t.Fatalf("after a failed remove: %+v, %v; want %+v", i, ok, earlier)
	}
}

func TestStartRestartRedeployEndIntent(t *testing.T) {
	tests := []struct {
		name string
		run  func(f *fixture)
	}{
		{"start", func(f *fixture) { f.mustOK(f.handle(operator, "start", "nas", "media-radarr-1")) }},
		{"restart", func(f *fixture) { f.mustOK(f.handle(operator, "restart", "nas", "media-radarr-1")) }},
		{"restart-project", func(f *fixture) { f.mustOK(f.handle(operator, "restart-project", "nas", "media")) }},
		{"redeploy", func(f *fixture) {
			rep := f.handle(admin, "redeploy", "nas", "media-radarr-1")
			f.mustOK(f.press(admin, buttonByLabel(t, rep.Buttons, "Confirm").Payload))
		}},
		{"restart button", func(f *fixture) {
			a, _ := f.env.Alerts.Alert(12)
			f.mustOK(f.press(operator, buttonByLabel(t, f.r.AlertButtons(a, alertActions), "Restart").Payload))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.putIntent(deckhand.Intent{Host: "nas", Container: "media-radarr-1", Action: deckhand.ActionStop, By: "telegram:bob", At: f.clock.Now().Add(-time.Hour)})
			tt.run(f)
			if i, ok := f.intent("nas", "media-radarr-1"); ok {
				t.Fatalf("intent %+v survived %s", i, tt.name)
			}
		})
	}
	// A start that fails leaves the container stopped on purpose.
	f := newFixture(t, nil)
	f.putIntent(deckhand.Intent{Host: "nas", Container: "media-radarr-1", Action: deckhand.ActionStop, At: f.clock.Now()})
	f.env.Docker.FailOn("start", errors.New("port is already allocated"))
	f.mustFail(f.handle(operator, "start", "nas", "media-radarr-1"), "port")
	if _, ok := f.intent("nas", "media-radarr-1"); !ok {
		t.Fatal("a failed start ended the intent")
	}
}

func TestIntentStoreDownDoesNotBlockStop(t *testing.T) {
	f := newFixture(t, nil)
	f.env.Intents.Err = errors.New("disk full")
	f.mustOK(f.handle(operator, "stop", "nas", "jellyfin"))
	if m := f.mutations(); len(m) != 1 || m[0].Op != "stop" {
		t.Fatalf("mutations %+v", m)
	}
}

func TestStatusShowsDeliberateStops(t *testing.T) {
	f := newFixture(t, nil)
	// media-radarr-1 is monitored and exited: someone stopped it on purpose.
	f.putIntent(deckhand.Intent{Host: "nas", Container: "media-radarr-1", Action: deckhand.ActionStop, By: "telegram:bob", At: f.clock.Now().Add(-2 * time.Hour)})
	rep := f.handle(viewer, "status")
	f.mustOK(rep)
	attention, deliberate, _ := strings.Cut(rep.Text, "Stopped on purpose")
	if strings.Contains(attention, "media-radarr-1") {
		t.Errorf("a deliberate stop listed as needing attention:\n%s", rep.Text)
	}
	if !strings.Contains(deliberate, "media-radarr-1") || !strings.Contains(deliberate, "stopped by telegram:bob") {
		t.Errorf("/status does not say who stopped it:\n%s", rep.Text)
	}
	// An intent its container has outlived says nothing.
	f.putIntent(deckhand.Intent{Host: "nas", Container: "jellyfin", Action: deckhand.ActionStop, By: "telegram:bob", At: f.clock.Now().Add(-time.Hour)})
	if rep := f.handle(viewer, "status"); strings.Contains(rep.Text, "jellyfin") {
		t.Errorf("a running container shown as stopped:\n%s", rep.Text)
	}
}
