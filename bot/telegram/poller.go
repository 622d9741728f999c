package telegram

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	tgbot "github.com/go-telegram/bot"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/bot"
	"github.com/deckhand/deckhand/internal/ratelog"
)

// partPoller is the bot.Health part of everything that keeps the poller
// from receiving commands.
const partPoller = "poller"

// failGrace is how long polling may fail before it is a problem on
// /status: the library retries within seconds, and a blip is not news.
const failGrace = 30 * time.Second

// pollHealth turns what the poller meets into log lines, a metric and the
// one bot.Health entry of the poller. Telegram gives getUpdates to one
// poller at a time: a second one on the same token ends ours with 409
// Conflict, and commands go to whichever asked last, so a stolen command
// looks like deckhand ignoring people. That is an ERROR, not the library's
// retry WARN.
type pollHealth struct {
	health    *bot.Health
	log       *slog.Logger
	conflicts Counter
	// quiet is how long without a 409 means the other poller is gone: it
	// ends one of our polls each time it polls itself, which it does at
	// least once per long-poll timeout.
	quiet time.Duration

	conflictLog, failLog, startLog ratelog.Every

	mu           sync.Mutex
	lastConflict time.Time
	failingSince time.Time
}

func (p *pollHealth) set(text string, now time.Time) bool {
	return p.health.Set(deckhand.PlatformTelegram, partPoller, text, now)
}

// inConflict reports a 409 within the quiet window; p.mu held.
func (p *pollHealth) inConflict(now time.Time) bool {
	return !p.lastConflict.IsZero() && now.Sub(p.lastConflict) < p.quiet
}

// conflict is a 409 from getUpdates; desc is the Bot API's description.
func (p *pollHealth) conflict(now time.Time, desc string) {
	if p.conflicts != nil {
		p.conflicts.Inc()
	}
	p.mu.Lock()
	p.lastConflict = now
	p.mu.Unlock()
	text := "another program polls getUpdates with this bot token (409 Conflict), so commands go to whichever asks first: stop it or give deckhand its own token"
	if strings.Contains(desc, "webhook") {
		text = "a webhook is set on this bot token, so getUpdates is refused (409 Conflict): remove it or give deckhand its own token"
	}
	p.set(text, now)
	if ok, n := p.conflictLog.Allow(now); ok {
		p.log.Error("telegram: 409 Conflict: "+text, "conflicts_since_last_line", n, "err", desc)
	}
}

// failed is any other getUpdates failure, retried by the library.
func (p *pollHealth) failed(now time.Time, desc string) {
	p.mu.Lock()
	if p.failingSince.IsZero() {
		p.failingSince = now
	}
	long := now.Sub(p.failingSince) >= failGrace
	conflicted := p.inConflict(now)
	p.mu.Unlock()
	if ok, n := p.failLog.Allow(now); ok {
		p.log.Warn("telegram: polling failed; retrying", "err", desc, "failures_since_last_line", n)
	}
	if long && !conflicted {
		p.set("cannot reach the Bot API ("+desc+"): commands are not answered; retrying", now)
	}
}

// startFailed is a failed attempt to start polling (getMe, deleteWebhook,
// setMyCommands), retried with backoff.
func (p *pollHealth) startFailed(now time.Time, err error, desc string, n int, next time.Duration) {
	text := "cannot reach the Bot API (" + desc + "): commands are not answered; retrying"
	if errors.Is(err, tgbot.ErrorUnauthorized) {
		text = "the Bot API refuses the token (401 Unauthorized): check telegram.token; retrying"
	}
	p.set(text, now)
	p.startLog.LogFailure(p.log, now, "telegram: cannot start polling; retrying", n, next, desc)
}

// ok is a getUpdates answered: polling works, unless another poller was
// seen within the quiet window.
func (p *pollHealth) ok(now time.Time) {
	p.mu.Lock()
	p.failingSince = time.Time{}
	conflicted := p.inConflict(now)
	ended := !conflicted && !p.lastConflict.IsZero()
	if ended {
		p.lastConflict = time.Time{}
	}
	p.mu.Unlock()
	if conflicted {
		return
	}
	p.failLog.Reset()
	p.startLog.Reset()
	if p.set("", now) && ended {
		p.conflictLog.Reset()
		p.log.Info("telegram: no 409 Conflict for a while: the other poller is gone", "quiet", p.quiet)
	}
}

// pollWatch tells pollHealth of every getUpdates the Bot API answered:
// the library reports only failures.
type pollWatch struct {
	next http.RoundTripper
	ok   func()
}

func (w pollWatch) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := w.next.RoundTrip(req)
	if err == nil && resp.StatusCode == http.StatusOK && strings.HasSuffix(req.URL.Path, "/getUpdates") {
		w.ok()
	}
	return resp, err
}

// watched is a copy of client whose getUpdates answers reach ok.
func watched(client *http.Client, ok func()) *http.Client {
	c := *client
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = pollWatch{next: next, ok: ok}
	return &c
}
