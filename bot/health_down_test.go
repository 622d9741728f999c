package bot

import (
	"testing"
	"time"
)

func TestHealthDownIsDeckhandsOwnProblem(t *testing.T) {
	h := NewHealth()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	h.Set("telegram", "credentials", "telegram rejects the bot token", now)
	if d := h.Down(); d != "" {
		t.Errorf("a platform's problem makes deckhand down: %q", d)
	}
	h.Set("", "database", "deckhand cannot write its database: disk full", now)
	if d := h.Down(); d != "deckhand cannot write its database: disk full" {
		t.Errorf("Down = %q", d)
	}
	h.Set("", "database", "", now)
	if d := h.Down(); d != "" {
		t.Errorf("Down after the database recovered = %q", d)
	}
}
