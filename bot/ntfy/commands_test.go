package ntfy

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/bot/ntfy/ntfytest"
	"github.com/deckhand/deckhand/commands"
	"github.com/deckhand/deckhand/commands/commandstest"
)

// The commands package satisfies what this one declares.
var (
	_ ButtonMaker   = (*commands.Router)(nil)
	_ ActionHandler = (*commands.TokenHandler)(nil)
)

// TestButtonsThroughTheRouter wires the real commands router: the alert is
// published with its signed buttons, the phone taps them, and the router
// restarts the container and acks the alert with the role lent to ntfy.
func TestButtonsThroughTheRouter(t *testing.T) {
	host := deckhand.Host{Name: "nas", Enabled: true, Status: deckhand.HostOK}
	ctr := deckhand.Container{Host: "nas", ID: strings.Repeat("ab", 32), Name: "jellyfin", State: deckhand.StateExited,
		Labels: map[string]string{deckhand.LabelMonitor: "true"}}
	a := alert(deckhand.SeverityError, deckhand.AlertOpen)
	inv := commandstest.NewInventory([]deckhand.Host{host}, ctr)
	docker := commandstest.NewDocker(inv)
	alerts := commandstest.NewAlerts(nil, a)
	router, err := commands.NewRouter(commands.Deps{Inventory: inv, Docker: docker, Alerts: alerts, Audit: &commandstest.Audit{}},
		commands.Config{Secret: []byte(strings.Repeat("k", 32))}, commands.Options{})
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name   string
		role   deckhand.Role
		status int
	}{
		{"unmapped ntfy is refused", deckhand.RoleNone, http.StatusForbidden},
		{"viewer may not restart", deckhand.RoleViewer, http.StatusForbidden},
		{"operator restarts", deckhand.RoleOperator, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dh := httptest.NewServer(CallbackHandler(router.TokenHandler(tc.role), nil))
			t.Cleanup(dh.Close)
			srv := ntfytest.NewServer(t)
			s := newSender(t, srv, Config{Actions: true, ActionBaseURL: dh.URL}, router, nil)
			if _, err := s.Send(context.Background(), item(1, deckhand.NoticeOpened, a)); err != nil {
				t.Fatal(err)
			}
			m := srv.Messages()[0]
			var labels []string
			for _, act := range m.Actions {
				labels = append(labels, act.Label)
			}
			if !slices.Equal(labels, []string{"Restart", "Ack", "Silence 1h"}) {
				t.Fatalf("buttons %v", labels)
			}
			before := len(docker.Calls())
			resp := srv.Tap(t, m, "Restart")
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("tap: %d %q, want %d", resp.StatusCode, body, tc.status)
			}
			calls := docker.Calls()[before:]
			restarted := slices.ContainsFunc(calls, func(c commandstest.Call) bool {
				return c.Op == "restart" && c.Host == "nas" && c.Container == "jellyfin"
			})
			if restarted != (tc.status == http.StatusOK) {
				t.Errorf("docker calls %+v after a %d", calls, resp.StatusCode)
			}
		})
	}

	t.Run("ack", func(t *testing.T) {
		dh := httptest.NewServer(CallbackHandler(router.TokenHandler(deckhand.RoleOperator), nil))
		t.Cleanup(dh.Close)
		srv := ntfytest.NewServer(t)
		s := newSender(t, srv, Config{Actions: true, ActionBaseURL: dh.URL}, router, nil)
		if _, err := s.Send(context.Background(), item(1, deckhand.NoticeOpened, a)); err != nil {
			t.Fatal(err)
		}
		if resp := srv.Tap(t, srv.Messages()[0], "Ack"); resp.StatusCode != http.StatusOK {
			t.Fatalf("ack: %d", resp.StatusCode)
		}
		if got, _ := alerts.Alert(a.ID); got.State != deckhand.AlertAcked {
			t.Errorf("alert state %s after Ack", got.State)
		}
	})

	// The web app taps through fetch(); a second tap of the same Restart
	// (or a replay of its URL) is refused and restarts nothing.
	t.Run("web app, tapped twice", func(t *testing.T) {
		dh := httptest.NewServer(CallbackHandler(router.TokenHandler(deckhand.RoleOperator), nil))
		t.Cleanup(dh.Close)
		// Minted a minute later than the other subtests' tokens: a token
		// is its op, alert and expiry, so one minted in the same second is
		// the same token, already used above.
		later := time.Now().Add(time.Minute)
		minter, err := commands.NewRouter(commands.Deps{Inventory: inv, Docker: docker, Alerts: alerts, Audit: &commandstest.Audit{}},
			commands.Config{Secret: []byte(strings.Repeat("k", 32))}, commands.Options{Now: func() time.Time { return later }})
		if err != nil {
			t.Fatal(err)
		}
		srv := ntfytest.NewServer(t)
		s := newSender(t, srv, Config{Actions: true, ActionBaseURL: dh.URL}, minter, nil)
		if _, err := s.Send(context.Background(), item(1, deckhand.NoticeOpened, a)); err != nil {
			t.Fatal(err)
		}
		before := len(docker.Calls())
		for i, want := range []int{http.StatusOK, http.StatusConflict} {
			resp, err := srv.WebTap(t, srv.Messages()[0], "Restart")
			if err != nil {
				t.Fatalf("tap %d: %v", i+1, err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != want || strings.ContainsAny(string(body), "*`") {
				t.Fatalf("tap %d: %d %q, want %d in plain text", i+1, resp.StatusCode, body, want)
			}
		}
		restarts := 0
		for _, c := range docker.Calls()[before:] {
			if c.Op == "restart" {
				restarts++
			}
		}
		if restarts != 1 {
			t.Fatalf("%d restarts, want 1", restarts)
		}
	})

	t.Run("expired", func(t *testing.T) {
		past := time.Now().Add(-48 * time.Hour)
		old, err := commands.NewRouter(commands.Deps{Inventory: inv, Docker: docker, Alerts: alerts, Audit: &commandstest.Audit{}},
			commands.Config{Secret: []byte(strings.Repeat("k", 32))}, commands.Options{Now: func() time.Time { return past }})
		if err != nil {
			t.Fatal(err)
		}
		dh := httptest.NewServer(CallbackHandler(router.TokenHandler(deckhand.RoleOperator), nil))
		t.Cleanup(dh.Close)
		srv := ntfytest.NewServer(t)
		s := newSender(t, srv, Config{Actions: true, ActionBaseURL: dh.URL}, old, nil) // minted two days ago
		if _, err := s.Send(context.Background(), item(1, deckhand.NoticeOpened, a)); err != nil {
			t.Fatal(err)
		}
		if resp := srv.Tap(t, srv.Messages()[0], "Restart"); resp.StatusCode != http.StatusGone {
			t.Fatalf("expired token: %d, want 410", resp.StatusCode)
		}
	})
}
