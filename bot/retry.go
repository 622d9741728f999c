package bot

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff is the wait between attempts to reach a chat platform: doubling
// from Min up to Max, each wait shortened by up to a fifth at random so
// that processes restarted together do not retry in step.
type Backoff struct {
	Min, Max time.Duration
}

// DefaultBackoff is for reaching a platform's API: quick after a blip,
// once a minute during an outage.
var DefaultBackoff = Backoff{Min: time.Second, Max: time.Minute}

// wait is the pause after the n-th failure in a row (n ≥ 1).
func (b Backoff) wait(n int) time.Duration {
	if b.Min <= 0 {
		b.Min = DefaultBackoff.Min
	}
	if b.Max < b.Min {
		b.Max = max(b.Min, DefaultBackoff.Max)
	}
	d := b.Min
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	return d - time.Duration(rand.Int64N(int64(d)/5+1))
}

// Retry calls attempt until it succeeds, waiting b's backoff after each
// failure, and returns nil; or ctx.Err() once ctx is done. failed, when
// not nil, hears of every failure: the error, how many in a row, and the
// wait before the next attempt. A chat bot that cannot reach its platform
// keeps trying for as long as deckhand runs: giving up would leave the
// chat silent until someone restarts deckhand.
func Retry(ctx context.Context, b Backoff, attempt func(context.Context) error, failed func(err error, n int, next time.Duration)) error {
	for n := 1; ; n++ {
		err := attempt(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		next := b.wait(n)
		if failed != nil {
			failed(err, n, next)
		}
		t := time.NewTimer(next)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
