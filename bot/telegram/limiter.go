package telegram

import (
	"context"
	"sync"
	"time"
)

// Telegram's flood limits, as documented: about one message per second in
// a chat (short bursts are tolerated) and 20 messages per minute in a
// group. Edits count like messages. Telegram does not say where its
// windows start, and a message sent exactly at the limit got a 429 at the
// edge of the minute: the limiter keeps a margin under both, in count and
// in time: 3 per 4 s in a chat, and 19 in any 62 s in a group (so that no
// minute, however Telegram aligns it, sees a 20th).
var chatWindows = []window{{n: 3, per: 4 * time.Second}}
var groupWindows = []window{{n: 3, per: 4 * time.Second}, {n: 19, per: 62 * time.Second}}

type window struct {
	n   int
	per time.Duration
}

// limiter paces messages per chat so that 429s stay rare: each call
// reserves the earliest slot that keeps every window of the chat within
// its limit, then sleeps until that slot.
type limiter struct {
	now func() time.Time

	mu      sync.Mutex
	slots   map[int64][]time.Time // reserved send times, oldest first
	blocked map[int64]time.Time   // after a 429: nothing before this time
}

func newLimiter(now func() time.Time) *limiter {
	return &limiter{now: now, slots: map[int64][]time.Time{}, blocked: map[int64]time.Time{}}
}

// reserve returns the time at which the next message to chatID may go,
// and keeps that slot for it.
func (l *limiter) reserve(chatID int64) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	at, slots := l.slot(chatID, now)
	l.slots[chatID] = append(slots, at)
	if len(l.slots) > 10000 {
		l.gc(now)
	}
	return at
}

// delay is how long until a message to chatID may go, reserving nothing.
func (l *limiter) delay(chatID int64) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	at, _ := l.slot(chatID, now)
	return max(at.Sub(now), 0)
}

// slot is the earliest time that keeps every window of the chat within its
// limit, and the chat's reserved slots that a window can still see; the
// caller holds l.mu.
func (l *limiter) slot(chatID int64, now time.Time) (time.Time, []time.Time) {
	ws := chatWindows
	if chatID < 0 {
		ws = groupWindows
	}
	slots := l.slots[chatID]
	// Forget what no window can see any more.
	longest := ws[len(ws)-1].per
	i := 0
	for i < len(slots) && now.Sub(slots[i]) >= longest {
		i++
	}
	slots = slots[i:]
	at := now
	if b := l.blocked[chatID]; b.After(at) {
		at = b
	}
	if n := len(slots); n > 0 && slots[n-1].After(at) {
		at = slots[n-1]
	}
	for _, w := range ws {
		if len(slots) >= w.n {
			if t := slots[len(slots)-w.n].Add(w.per); t.After(at) {
				at = t
			}
		}
	}
	return at, slots
}

// gc drops chats with nothing recent; the caller holds l.mu.
func (l *limiter) gc(now time.Time) {
	for id, s := range l.slots {
		if len(s) == 0 || now.Sub(s[len(s)-1]) > time.Minute {
			delete(l.slots, id)
		}
	}
	for id, t := range l.blocked {
		if now.After(t) {
			delete(l.blocked, id)
		}
	}
}

// wait blocks until the next message to chatID may go.
func (l *limiter) wait(ctx context.Context, chatID int64) error {
	d := l.reserve(chatID).Sub(l.now())
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// block holds every message to chatID until the platform's retry_after
// has passed.
func (l *limiter) block(chatID int64, d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if until := l.now().Add(d); until.After(l.blocked[chatID]) {
		l.blocked[chatID] = until
	}
}
