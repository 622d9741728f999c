package discord

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/bot"
)

// partGateway is the bot.Health part of what keeps the gateway down.
const partGateway = "gateway"

// defaultHeartbeat is the interval Discord announces in HELLO today
// (41.25 s), used until the watchdog has measured the real one.
const defaultHeartbeat = 41250 * time.Millisecond

// connect registers the slash commands (once) and opens the gateway; Run
// retries it until it works.
func (b *Bot) connect(ctx context.Context, cmds []*discordgo.ApplicationCommand, registered *bool) error {
	if !*registered {
		_, err := b.s.ApplicationCommandBulkOverwrite(b.cfg.ApplicationID, b.cfg.GuildID, cmds, discordgo.WithContext(ctx))
		var re *discordgo.RESTError
		switch {
		case errors.As(err, &re) && re.Response != nil && re.Response.StatusCode == http.StatusBadRequest:
			// A list Discord refuses will not change on retry: the gateway
			// (buttons, commands registered earlier) still works.
			b.log.Error("discord: slash commands refused; connecting without them", "err", describe(err))
		case errors.As(err, &re) && re.Response != nil && re.Response.StatusCode == http.StatusUnauthorized:
			return fmt.Errorf("register commands: %w: %w", errTokenRefused, describe(err))
		case err != nil:
			return fmt.Errorf("register commands: %w", describe(err))
		default:
			b.log.Info("discord commands registered", "guild", b.cfg.GuildID, "count", len(cmds))
		}
		*registered = true
	}
	return b.open()
}

// open opens the gateway; one already open (discordgo reconnected it
// itself meanwhile) is fine.
func (b *Bot) open() error {
	if err := b.s.Open(); err != nil && !errors.Is(err, discordgo.ErrWSAlreadyOpen) {
		return fmt.Errorf("open gateway: %w", describe(err))
	}
	b.setHealth("")
	b.startLog.Reset()
	b.log.Info("discord gateway connected")
	return nil
}

func (b *Bot) setHealth(text string) {
	b.opts.Health.Set(deckhand.PlatformDiscord, partGateway, text, time.Now())
}

// errTokenRefused is Discord answering 401: retrying is right (a token
// just reset in the portal), but the fix is the token, not the network.
var errTokenRefused = errors.New("token refused")

// connectFailed hears of a failed attempt to reach Discord.
func (b *Bot) connectFailed(err error, n int, next time.Duration) {
	text := "cannot reach Discord (" + err.Error() + "): slash commands and buttons are not answered; retrying"
	if errors.Is(err, errTokenRefused) {
		text = "Discord refuses the bot token (401 Unauthorized): check discord.token; retrying"
	}
	b.setHealth(text)
	b.startLog.LogFailure(b.log, time.Now(), "discord: cannot connect; retrying", n, next, err.Error())
}

// watch is the gateway watchdog, until ctx is done. discordgo reconnects
// only after five heartbeat intervals without an ACK (about 3.5 minutes
// on Discord), all that time deaf to commands on a connection whose other
// end is gone; Discord's documentation says to reconnect (and resume) as soon
// as a heartbeat goes unacknowledged. The watchdog reopens the session when no ACK came
// for two intervals: one late ACK is tolerated, a dead connection costs
// under 90 s.
func (b *Bot) watch(ctx context.Context) {
	var connected atomic.Bool
	remove := b.s.AddHandler(func(*discordgo.Session, *discordgo.Connect) { connected.Store(true) })
	defer remove()
	w := ackWatch{fallback: defaultHeartbeat}
	w.reset(b.lastAck())
	t := time.NewTimer(w.period())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if connected.Swap(false) {
			// A new connection (discordgo's own reconnect): its ACKs start afresh.
			w.reset(b.lastAck())
		}
		if since, stale := w.observe(time.Now(), b.lastAck()); stale {
			b.reopen(ctx, since, w.interval())
			connected.Store(false)
			w.reset(b.lastAck())
		}
		t.Reset(w.period())
	}
}

func (b *Bot) lastAck() time.Time {
	b.s.RLock()
	defer b.s.RUnlock()
	return b.s.LastHeartbeatAck
}

// reopen closes a gateway connection that stopped ACKing heartbeats and
// opens a new one, retrying until it works or ctx is done.
func (b *Bot) reopen(ctx context.Context, since, interval time.Duration) {
	if b.opts.HeartbeatTimeouts != nil {
		b.opts.HeartbeatTimeouts.Inc()
	}
	b.log.Error("discord: the gateway stopped ACKing heartbeats; reconnecting",
		"since_last_ack", since.Round(time.Millisecond), "interval", interval.Round(time.Millisecond))
	b.setHealth(fmt.Sprintf("the Discord gateway stopped answering heartbeats (none for %s): reconnecting", since.Round(time.Second)))
	// Not 1000 or 1001, which would end the session: Discord lets a
	// connection closed otherwise RESUME.
	if err := b.s.CloseWithCode(websocket.CloseServiceRestart); err != nil {
		b.log.Warn("discord: closing the silent gateway", "err", err)
	}
	_ = bot.Retry(ctx, b.opts.Backoff, func(context.Context) error { return b.open() }, b.connectFailed)
}

// ackWatch decides when a gateway connection is dead. discordgo keeps the
// heartbeat interval of HELLO to itself, so the watch measures it: the
// gateway ACKs one heartbeat per interval, and the interval is the
// longest of the last few gaps between ACKs (an extra heartbeat the
// gateway asks for only shortens one gap).
type ackWatch struct {
	fallback time.Duration // until two gaps were measured
	last     time.Time     // the newest ACK seen
	gaps     []time.Duration
}

const measuredGaps = 3

func (w *ackWatch) reset(ack time.Time) {
	w.last, w.gaps = ack, nil
}

func (w *ackWatch) interval() time.Duration {
	if len(w.gaps) < 2 {
		return w.fallback
	}
	longest := w.gaps[0]
	for _, g := range w.gaps[1:] {
		longest = max(longest, g)
	}
	return longest
}

// observe takes the session's last ACK time at now and reports how long
// ago the newest ACK came and whether that is more than two intervals.
func (w *ackWatch) observe(now, ack time.Time) (time.Duration, bool) {
	if ack.After(w.last) {
		if !w.last.IsZero() {
			w.gaps = append(w.gaps, ack.Sub(w.last))
			if len(w.gaps) > measuredGaps {
				w.gaps = w.gaps[1:]
			}
		}
		w.last = ack
	}
	since := now.Sub(w.last)
	return since, since > 2*w.interval()
}

// period is how often to look: often enough to measure the gaps to a
// tenth of an interval, and quickly while the interval is unknown (a
// slower look would see several ACKs as one long gap).
func (w *ackWatch) period() time.Duration {
	if len(w.gaps) < 2 {
		return 50 * time.Millisecond
	}
	return min(max(w.interval()/10, 10*time.Millisecond), time.Second)
}
