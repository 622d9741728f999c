package discord

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/bot"
	"github.com/deckhand/deckhand/bot/discord/discordtest"
)

type counter struct{ n atomic.Int64 }

func (c *counter) Inc() { c.n.Add(1) }

func gatewayProblem(h *bot.Health) (bot.Problem, bool) {
	for _, p := range h.Problems() {
		if p.Platform == deckhand.PlatformDiscord && p.Part == "gateway" {
			return p, true
		}
	}
	return bot.Problem{}, false
}

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

// runBot runs b until the test ends and checks that Run returned nil.
func runBot(t *testing.T, b *Bot) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// TestUnreachableAtStartIsRetried: Discord out of reach when deckhand
// starts (REST and gateway) is retried with backoff for as long as it
// takes; slash commands work once it is back, and bot.Health says what
// was wrong meanwhile.
func TestUnreachableAtStartIsRetried(t *testing.T) {
	fake := discordtest.NewServer(t, token)
	fake.SetUnreachable(true)
	health := bot.NewHealth()
	router := &fakeRouter{}
	b, err := New(testConfig(fake), router, Options{APIBase: fake.URL, Health: health,
		Backoff: bot.Backoff{Min: 5 * time.Millisecond, Max: 20 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	runBot(t, b)
	fake.WaitRefused(t, 3, wait)
	waitFor(t, wait, "a gateway problem in bot.Health", func() bool { _, ok := gatewayProblem(health); return ok })
	if p, _ := gatewayProblem(health); !strings.Contains(p.Text, "cannot reach") {
		t.Errorf("problem = %q, want it to say Discord cannot be reached", p.Text)
	}
	fake.SetUnreachable(false)
	fake.WaitReady(t, wait)
	it := fake.SlashCommand(fake.GuildID, userVic, []string{roleViewer}, "status")
	fake.WaitResponses(t, it.ID, hasKind(discordtest.KindEditOriginal), wait)
	waitFor(t, wait, "the problem to clear", func() bool { _, ok := gatewayProblem(health); return !ok })
}

// TestSilentGatewayIsReconnected: a gateway connection that stays open
// but stops ACKing heartbeats is dead. deckhand's watchdog closes and
// reopens it (discordgo alone waits for five missed ACKs), counts it, and
// commands work on the new connection.
func TestSilentGatewayIsReconnected(t *testing.T) {
	fake := discordtest.NewServer(t, token)
	// discordgo gives up after five intervals (3 s), the watchdog after two.
	fake.SetHeartbeatInterval(600 * time.Millisecond)
	timeouts := &counter{}
	b, err := New(testConfig(fake), &fakeRouter{}, Options{APIBase: fake.URL, HeartbeatTimeouts: timeouts,
		Backoff: bot.Backoff{Min: 5 * time.Millisecond, Max: 20 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	runBot(t, b)
	fake.WaitReady(t, wait)
	fake.WaitHeartbeats(t, 4, wait) // the watchdog has seen the interval
	ids, res := fake.Connections()
	fake.StopHeartbeatACKs()
	stopped := time.Now()
	waitFor(t, 4*wait, "a reconnection", func() bool { i, r := fake.Connections(); return i+r > ids+res })
	t.Logf("reconnected %s after the ACKs stopped (interval 600ms; discordgo's Close waits 1s)", time.Since(stopped).Round(time.Millisecond))
	if timeouts.n.Load() == 0 {
		t.Error("the reconnection was not deckhand's watchdog's (no heartbeat timeout counted)")
	}
	fake.WaitReady(t, wait)
	it := fake.SlashCommand(fake.GuildID, userVic, []string{roleViewer}, "status")
	fake.WaitResponses(t, it.ID, hasKind(discordtest.KindEditOriginal), wait)
}

// TestAckWatchAllowsTwoIntervals: the watchdog measures the interval from
// the ACKs and calls a connection dead after two intervals without one,
// not before; until it has measured, it assumes Discord's 41.25 s.
func TestAckWatchAllowsTwoIntervals(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	const iv = 10 * time.Second
	// HELLO at 0, the first heartbeat's ACK at once, then one per interval.
	acks := []time.Duration{0, 50 * time.Millisecond, iv, 2 * iv, 3 * iv}
	tests := []struct {
		name  string
		acks  int           // how many of acks were seen
		now   time.Duration // when the watch looks, after the last ACK seen
		stale bool
	}{
		{"interval unknown: Discord's default", 2, 2*iv + time.Second, false},
		{"interval unknown, past twice the default", 2, 83 * time.Second, true},
		{"measured: one late ACK is fine", 4, 19 * time.Second, false},
		{"measured: two intervals without an ACK", 4, 21 * time.Second, true},
		{"measured over three gaps", 5, 21 * time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := ackWatch{fallback: defaultHeartbeat}
			w.reset(at(acks[0]))
			for _, a := range acks[1:tt.acks] {
				w.observe(at(a), at(a))
			}
			last := acks[tt.acks-1]
			if _, stale := w.observe(at(last+tt.now), at(last)); stale != tt.stale {
				t.Errorf("stale = %v after %s (interval %s), want %v", stale, tt.now, w.interval(), tt.stale)
			}
		})
	}
}

// TestRefusedTokenIsRetriedAndNamed: a 401 is retried too (a token just
// reset in the developer portal), and /status names the token as the fix.
func TestRefusedTokenIsRetriedAndNamed(t *testing.T) {
	fake := discordtest.NewServer(t, "another-token")
	health := bot.NewHealth()
	b, err := New(testConfig(fake), &fakeRouter{}, Options{APIBase: fake.URL, Health: health,
		Backoff: bot.Backoff{Min: 5 * time.Millisecond, Max: 20 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	runBot(t, b)
	waitFor(t, wait, "a gateway problem in bot.Health", func() bool { _, ok := gatewayProblem(health); return ok })
	if p, _ := gatewayProblem(health); !strings.Contains(p.Text, "discord.token") || strings.Contains(p.Text, token) {
		t.Errorf("problem = %q, want it to name discord.token (and never the token)", p.Text)
	}
}
