package telegram

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/bot"
	"github.com/deckhand/deckhand/commands"
	"github.com/deckhand/deckhand/commands/commandstest"
)

// TestServerErrorsAndTimeoutsAreTransient: a Bot API that answers 5xx or
// not at all must leave the notice in the outbox for a retry — neither
// dead-lettered (Permanent) nor treated as a rate limit.
func TestServerErrorsAndTimeoutsAreTransient(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"502", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "<html>Bad Gateway</html>", http.StatusBadGateway)
		}},
		{"500 json", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"ok":false,"error_code":500,"description":"Internal Server Error"}`))
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
			router, err := commands.NewRouter(commandstest.NewEnv(nil).Deps(), commands.Config{Secret: []byte(strings.Repeat("k", 32))}, commands.Options{})
			if err != nil {
				t.Fatal(err)
			}
			b, err := New(Config{Token: token, AlertChatID: alertChat}, router, Options{ServerURL: srv.URL, HTTPClient: srv.Client()})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			a := deckhand.Alert{ID: 1, Key: deckhand.AlertKey{Host: "nas", Container: "web", Kind: deckhand.AlertContainerDown}, State: deckhand.AlertOpen, Severity: deckhand.SeverityError}
			_, err = b.Send(ctx, deckhand.OutboxItem{ID: 1, Notice: deckhand.Notice{Kind: deckhand.NoticeOpened, Alert: a, At: time.Now()}})
			if err == nil {
				t.Fatal("Send succeeded against a failing server")
			}
			if errors.As(err, new(bot.Permanent)) || errors.As(err, new(bot.RetryAfter)) {
				t.Errorf("err = %v (%T): want a transient error", err, err)
			}
		})
	}
}
