package telegram

import (
	"log/slog"
	"testing"
	"time"

	"github.com/deckhand/deckhand/bot"
)

// TestPollHealthDecides: a polling blip is not a problem, an outage past
// the grace is; a 409 is one at once and outlives the answered polls
// around it until the quiet window passed without one.
func TestPollHealthDecides(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	type step struct {
		at    time.Duration
		event string // "fail", "conflict", "ok"
		want  bool   // a poller problem afterwards
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"blip", []step{{0, "fail", false}, {5 * time.Second, "fail", false}, {6 * time.Second, "ok", false}}},
		{"outage", []step{{0, "fail", false}, {31 * time.Second, "fail", true}, {40 * time.Second, "ok", false}}},
		{"conflict", []step{{0, "conflict", true}, {time.Second, "ok", true}, {50 * time.Second, "ok", true}, {106 * time.Second, "ok", false}}},
		{"outage during a conflict says conflict", []step{{0, "conflict", true}, {time.Second, "fail", true}, {40 * time.Second, "fail", true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := bot.NewHealth()
			p := &pollHealth{health: h, log: slog.New(slog.DiscardHandler), quiet: 105 * time.Second}
			for _, s := range tt.steps {
				now := t0.Add(s.at)
				switch s.event {
				case "fail":
					p.failed(now, "connection refused")
				case "conflict":
					p.conflict(now, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running")
				case "ok":
					p.ok(now)
				}
				probs := h.Problems()
				if got := len(probs) > 0; got != s.want {
					t.Fatalf("after %s at %s: problem = %v (%+v), want %v", s.event, s.at, got, probs, s.want)
				}
				if s.want && tt.name != "outage" && probs[0].Text[:7] != "another" {
					t.Errorf("after %s at %s: problem %q, want the conflict", s.event, s.at, probs[0].Text)
				}
			}
		})
	}
}
