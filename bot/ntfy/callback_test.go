package ntfy

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/bot/ntfy/ntfytest"
)

// webMessage is a published message whose one http action posts token t
// to the callback at base, with extra headers when given.
func webMessage(base, t string, headers map[string]string) ntfytest.Message {
	return ntfytest.Message{ID: "m1", Actions: []ntfytest.Action{{
		Action: "http", Label: "Restart", Method: http.MethodPost,
		URL: base + "/hooks/ntfy?t=" + url.QueryEscape(t), Headers: headers,
	}}}
}

// TestCallbackFromTheWebApp: the ntfy web app calls the action with fetch()
// from the ntfy origin, so every answer, refusals included, must allow
// that origin, or the app says "TypeError: Failed to fetch" for an action
// that worked.
func TestCallbackFromTheWebApp(t *testing.T) {
	h := ActionHandlerFunc(func(_ context.Context, _ deckhand.Actor, token string) (string, error) {
		if token == "bad" {
			return "", deckhand.ErrBadSignature
		}
		return "Restarted **nas/jellyfin** for alert #42 (by `ntfy`).", nil
	})
	dh := httptest.NewServer(CallbackHandler(h, nil))
	t.Cleanup(dh.Close)
	srv := ntfytest.NewServer(t)

	for _, tc := range []struct {
		name    string
		token   string
		headers map[string]string
		status  int
	}{
		{"simple request", "good", nil, http.StatusOK},
		{"refusal", "bad", nil, http.StatusForbidden},
		{"preflighted", "good", map[string]string{"Content-Type": "application/json"}, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := srv.WebTap(t, webMessage(dh.URL, tc.token, tc.headers), "Restart")
			if err != nil {
				t.Fatalf("web app tap: %v", err)
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
		})
	}
}

// TestCallbackPreflight answers the browser's OPTIONS without running
// anything.
func TestCallbackPreflight(t *testing.T) {
	ran := false
	h := ActionHandlerFunc(func(context.Context, deckhand.Actor, string) (string, error) {
		ran = true
		return "", nil
	})
	req := httptest.NewRequest(http.MethodOptions, "/hooks/ntfy?t=x", nil)
	req.Header.Set("Origin", "https://ntfy.example.org")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type")
	rec := httptest.NewRecorder()
	CallbackHandler(h, nil).ServeHTTP(rec, req)
	if ran {
		t.Error("a preflight ran the action")
	}
	hd := rec.Header()
	if rec.Code != http.StatusNoContent || hd.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(hd.Get("Access-Control-Allow-Methods"), "POST") ||
		!strings.Contains(strings.ToLower(hd.Get("Access-Control-Allow-Headers")), "content-type") {
		t.Fatalf("preflight: %d %v", rec.Code, hd)
	}
}

// TestCallbackAnswersInPlainText: ntfy shows an action's answer as it is,
// so the router's light Markdown must not reach it.
func TestCallbackAnswersInPlainText(t *testing.T) {
	h := ActionHandlerFunc(func(context.Context, deckhand.Actor, string) (string, error) {
		return "Restarted **nas/jellyfin** for alert #42 (by `ntfy`).", nil
	})
	rec := httptest.NewRecorder()
	CallbackHandler(h, nil).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/hooks/ntfy?t=x", nil))
	body, _ := io.ReadAll(rec.Body)
	if got, want := string(body), "Restarted nas/jellyfin for alert #42 (by ntfy).\n"; got != want {
		t.Fatalf("answer %q, want %q", got, want)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("content type %q", ct)
	}
}
