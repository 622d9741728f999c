package discord

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/bot"
	"github.com/deckhand/deckhand/bot/discord/discordtest"
)

// TestServerErrorsAndTimeoutsAreTransient: Discord answering 5xx or not at
// all leaves the notice in the outbox for a retry — not dead-lettered, not
// a rate limit.
func TestServerErrorsAndTimeoutsAreTransient(t *testing.T) {
	ref := discordtest.NewServer(t, token) // only for a valid config
	cfg := testConfig(ref)
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"503", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "upstream connect error", http.StatusServiceUnavailable)
		}},
		{"500 json", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"message": "500: Internal Server Error", "code": 0}`))
		}},
		{"hang", func(w http.ResponseWriter, r *http.Request) {
			// Longer than the caller's deadline; bounded so the server can close.
			select {
			case <-r.Context().Done():
			case <-time.After(3 * time.Second):
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			t.Cleanup(srv.Close)
			b, err := New(cfg, &fakeRouter{}, Options{APIBase: srv.URL, HTTPClient: srv.Client()})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_, err = b.Send(ctx, alertItem(80, deckhand.NoticeOpened, ""))
			if err == nil {
				t.Fatal("Send succeeded against a failing server")
			}
			if errors.As(err, new(bot.Permanent)) || errors.As(err, new(bot.RetryAfter)) {
				t.Errorf("err = %v (%T): want a transient error", err, err)
			}
		})
	}
}
