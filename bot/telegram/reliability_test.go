package telegram

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deckhand/deckhand/bot"
	"github.com/deckhand/deckhand/internal/logtest"
)

// lines counts the log lines at level that contain substr.
func lines(l *logtest.Buffer, level, substr string) int {
	n := 0
	for _, line := range strings.Split(l.String(), "\n") {
		if strings.Contains(line, "level="+level) && strings.Contains(line, substr) {
			n++
		}
	}
	return n
}

type counter struct{ n atomic.Int64 }

func (c *counter) Inc() { c.n.Add(1) }

// waitFor polls cond until it holds; the test fails after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func problem(h *bot.Health, part string) (bot.Problem, bool) {
	for _, p := range h.Problems() {
		if p.Platform == "telegram" && p.Part == part {
			return p, true
		}
	}
	return bot.Problem{}, false
}

// TestUnreachableAtStartIsRetried: a Bot API that cannot be reached when
// deckhand starts is retried, with backoff, for as long as it takes; the
// chat works once it is back, and /status's problem line comes and goes.
func TestUnreachableAtStartIsRetried(t *testing.T) {
	health := bot.NewHealth()
	h := start(t, setup{
		opts: func(o *Options) {
			o.Health = health
			o.Backoff = bot.Backoff{Min: 5 * time.Millisecond, Max: 20 * time.Millisecond}
		},
		down: true,
	})
	h.fake.WaitRefused(t, 3, wait)
	waitFor(t, wait, "a telegram problem in bot.Health", func() bool { _, ok := problem(health, "poller"); return ok })
	p, _ := problem(health, "poller")
	if !strings.Contains(p.Text, "cannot reach") {
		t.Errorf("problem = %q, want it to say the Bot API cannot be reached", p.Text)
	}
	h.fake.SetUnreachable(false)
	h.fake.SendUserMessage(alertChat, vic, "/help")
	h.fake.WaitMessage(t, alertChat, nil, wait)
	waitFor(t, wait, "the problem to clear", func() bool { _, ok := problem(health, "poller"); return !ok })
}

// TestSecondPollerIsAnError: another program polling getUpdates with the
// same token steals commands. deckhand says so at ERROR (once, not per
// 409), counts it, and reports it in bot.Health (so /status shows it);
// when the other poller stops, the problem clears.
func TestSecondPollerIsAnError(t *testing.T) {
	health := bot.NewHealth()
	conflicts := &counter{}
	logs := &logtest.Buffer{}
	h := start(t, setup{opts: func(o *Options) {
		o.Health = health
		o.Conflicts = conflicts
		o.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}})
	ctx, cancel := context.WithCancel(context.Background())
	other := make(chan struct{})
	go func() {
		defer close(other)
		for ctx.Err() == nil {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.fake.URL()+"/bot"+token+"/getUpdates?timeout=1", nil)
			if resp, err := h.fake.Client().Do(req); err == nil {
				resp.Body.Close()
			}
		}
	}()
	defer func() { cancel(); <-other }()

	waitFor(t, wait, "three conflicts counted", func() bool { return conflicts.n.Load() >= 3 })
	p, ok := problem(health, "poller")
	if !ok || !strings.Contains(p.Text, "another") || !strings.Contains(p.Text, "token") {
		t.Errorf("health problem = %+v (%v), want one saying another program polls with this token", p, ok)
	}
	if n := lines(logs, "ERROR", "409"); n != 1 {
		t.Errorf("%d ERROR lines about the 409, want exactly 1 (then every few minutes):\n%s", n, logs.String())
	}
	if n := lines(logs, "WARN", "409"); n != 0 {
		t.Errorf("%d WARN lines about the 409, want none", n)
	}
	cancel()
	<-other
	waitFor(t, 6*wait, "the conflict to clear once the other poller stopped", func() bool { _, ok := problem(health, "poller"); return !ok })
}
