package bot

import (
	"slices"
	"strings"
	"sync"
	"time"
)

// Health is what deckhand knows is wrong with its own parts: a platform
// that rejects its credentials or cannot be reached, a second poller on the
// Telegram token, a database that cannot be written. The dispatcher, the
// bots and the monitor report into it; /metrics (deckhand_platform_up),
// /status and /healthz read it. The zero value is not usable: NewHealth.
type Health struct {
	mu       sync.Mutex
	problems map[healthKey]Problem
	onChange []func(Problem, bool)
}

type healthKey struct{ platform, part string }

// Problem is one thing wrong with one part of deckhand.
type Problem struct {
	// Platform is the platform ("telegram", …), or "" for deckhand itself
	// (the database).
	Platform string
	// Part names what is wrong on it: "delivery", "credentials", "poller",
	// "gateway", "database".
	Part string
	// Text says what and how to fix it, one line, no secret.
	Text  string
	Since time.Time
}

// NewHealth returns an empty registry.
func NewHealth() *Health { return &Health{problems: map[healthKey]Problem{}} }

// OnChange registers f, called (outside the lock) when a problem starts
// (set true) or ends (set false). A Set with a new text for an existing
// problem is not a change.
func (h *Health) OnChange(f func(p Problem, set bool)) {
	h.mu.Lock()
	h.onChange = append(h.onChange, f)
	h.mu.Unlock()
}

// Set records a problem of platform's part; an empty text clears it. It
// reports whether this started or ended a problem.
func (h *Health) Set(platform, part, text string, now time.Time) bool {
	if h == nil {
		return false
	}
	k := healthKey{platform, part}
	h.mu.Lock()
	old, had := h.problems[k]
	var p Problem
	changed := false
	switch {
	case text == "" && had:
		delete(h.problems, k)
		p, changed = old, true
	case text != "" && !had:
		p = Problem{Platform: platform, Part: part, Text: text, Since: now}
		h.problems[k], changed = p, true
	case text != "":
		old.Text = text
		h.problems[k] = old
	}
	fs := slices.Clone(h.onChange)
	h.mu.Unlock()
	if changed {
		for _, f := range fs {
			f(p, text != "")
		}
	}
	return changed
}

// Problems are the current problems, platform then part order.
func (h *Health) Problems() []Problem {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	out := make([]Problem, 0, len(h.problems))
	for _, p := range h.problems {
		out = append(out, p)
	}
	h.mu.Unlock()
	slices.SortFunc(out, func(a, b Problem) int {
		if c := strings.Compare(a.Platform, b.Platform); c != 0 {
			return c
		}
		return strings.Compare(a.Part, b.Part)
	})
	return out
}

// Up reports whether platform has no problem recorded.
func (h *Health) Up(platform string) bool {
	if h == nil {
		return true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for k := range h.problems {
		if k.platform == platform {
			return false
		}
	}
	return true
}

// Down is the text of a problem of deckhand itself (Platform ""), such as
// a database it cannot write, "" when there is none: /healthz answers 503
// with it. A platform's problem does not make deckhand down: it still
// alerts on the others, and deckhand_platform_up says which.
func (h *Health) Down() string {
	for _, p := range h.Problems() {
		if p.Platform == "" {
			return p.Text
		}
	}
	return ""
}
