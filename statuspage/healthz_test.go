package statuspage

import (
	"strings"
	"testing"
)

// /healthz answers 503 with the reason while deckhand cannot do its job
// (its database cannot be written), 200 otherwise.
func TestHealthzSaysWhyDeckhandIsDown(t *testing.T) {
	reason := ""
	p := newTestPage(t, Config{Down: func() string { return reason }})
	if r := get(t, p.Handler(), "GET", "/healthz", nil); r.Code != 200 || strings.TrimSpace(r.Body.String()) != "ok" {
		t.Errorf("healthy: %d %q", r.Code, r.Body.String())
	}
	reason = "deckhand cannot write its database: disk full"
	r := get(t, p.Handler(), "GET", "/healthz", nil)
	if r.Code != 503 || strings.TrimSpace(r.Body.String()) != reason || r.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("database not writable: %d %q %q, want 503 with the reason, not cached", r.Code, r.Body.String(), r.Header().Get("Cache-Control"))
	}
}
