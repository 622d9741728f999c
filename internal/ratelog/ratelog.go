// Package ratelog owns the one rule for a log line that a fault repeats:
// said the first time, then at most once per period with how many were
// held back. The chat bots, the outbox's workers and the monitor use it.
package ratelog

import (
	"log/slog"
	"sync"
	"time"
)

// Every rate-limits a log line that a fault repeats: Allow says yes the
// first time and then at most once per Period, with how many it said no
// to in between. The zero Period means five minutes.
type Every struct {
	Period time.Duration

	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// Allow reports whether to log now and how many were held back since the
// last line.
func (e *Every) Allow(now time.Time) (bool, int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	period := e.Period
	if period <= 0 {
		period = 5 * time.Minute
	}
	if !e.last.IsZero() && now.Sub(e.last) < period {
		e.suppressed++
		return false, 0
	}
	n := e.suppressed
	e.last, e.suppressed = now, 0
	return true, n
}

// Reset makes the next Allow say yes: the fault ended, and a new one is
// news.
func (e *Every) Reset() {
	e.mu.Lock()
	e.last, e.suppressed = time.Time{}, 0
	e.mu.Unlock()
}

// LogFailure logs the n-th failure in a row to reach a platform, retried
// in next: the first at WARN (a blip is common), the later ones at ERROR,
// at most once per e's period, with the count held back. err must hold no
// secret.
func (e *Every) LogFailure(log *slog.Logger, now time.Time, msg string, n int, next time.Duration, err string) {
	ok, held := e.Allow(now)
	switch {
	case !ok:
	case n == 1:
		log.Warn(msg, "err", err, "retry_in", next.Round(time.Millisecond))
	default:
		log.Error(msg, "err", err, "attempts", n, "held_back", held, "retry_in", next.Round(time.Millisecond))
	}
}

// Keyed is one Every per key (a kind of write, a host): faults of
// different keys are said apart.
type Keyed struct {
	Period time.Duration

	mu sync.Mutex
	m  map[string]*Every
}

// Allow is Every.Allow for key.
func (k *Keyed) Allow(key string, now time.Time) (bool, int) {
	k.mu.Lock()
	e := k.m[key]
	if e == nil {
		if k.m == nil {
			k.m = map[string]*Every{}
		}
		e = &Every{Period: k.Period}
		k.m[key] = e
	}
	k.mu.Unlock()
	return e.Allow(now)
}
