package bot

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/deckhand/deckhand/internal/ratelog"
)

// Health parts the dispatcher reports.
const (
	PartCredentials = "credentials"
	PartDelivery    = "delivery"
)

// outage is a platform's current run of failures: what the worker knows
// between a failed attempt and the next delivery.
type outage struct {
	failures int           // consecutive failed attempts and probes; 0: none
	since    time.Time     // the first failure of the run
	creds    bool          // the last failure rejected deckhand's credentials
	credsLog ratelog.Every // the credentials rejection's ERROR lines
	probed   bool          // a probe succeeded since the last failure
}

// failure records a failed attempt or probe: it tells Health and the log
// what is wrong and returns how long the platform pauses.
func (w *worker) failure(err error, log *slog.Logger) time.Duration {
	now := w.d.opts.Now()
	o := &w.down
	if o.failures == 0 {
		o.since = now
	}
	o.failures++
	o.probed = false
	text := truncate(err.Error(), 300)
	wasCreds := o.creds
	o.creds = isUnauthorized(err)
	if o.creds {
		w.d.opts.Health.Set(w.platform, PartCredentials, fmt.Sprintf(
			"%s rejects deckhand's credentials (%s): check the [%s] section of the config file and the bot's access, "+
				"then restart deckhand; notices wait in the outbox until then", w.platform, text, w.platform), now)
		if !wasCreds {
			o.credsLog = ratelog.Every{Period: w.d.opts.ErrorEvery}
		}
		if ok, held := o.credsLog.Allow(now); ok {
			log.Error("the platform rejects deckhand's credentials: notices are kept and delivered once they are fixed",
				"err", text, "since", o.since, "held_back", held)
		} else {
			log.Debug("credentials still rejected", "err", text)
		}
	} else if now.Sub(o.since) >= w.d.opts.DownAfter {
		w.d.opts.Health.Set(w.platform, PartDelivery, fmt.Sprintf("%s cannot be reached since %s (%s); notices wait in the outbox",
			w.platform, o.since.UTC().Format(time.RFC3339), text), now)
	}
	return w.pause()
}

// pause is the wait after the current run of failures.
func (w *worker) pause() time.Duration {
	switch _, prober := w.sender.(Prober); {
	case w.down.creds:
		return step(w.d.opts.CredentialsBackoff, w.down.failures)
	case prober:
		return step(w.d.opts.ProbeBackoff, w.down.failures)
	}
	return w.backoff(w.down.failures)
}

func (w *worker) backoff(n int) time.Duration { return step(w.d.opts.Backoff, n) }

// step is the nth (1-based) entry of a schedule, its last one repeating.
func step(schedule []time.Duration, n int) time.Duration {
	return schedule[min(max(n-1, 0), len(schedule)-1)]
}

// delivered ends the outage, if any: the platform answers and accepts
// deckhand again.
func (w *worker) delivered() {
	if w.down.failures > 0 {
		w.log.Info("the platform accepts notices again", "failures", w.down.failures, "since", w.down.since)
	}
	now := w.d.opts.Now()
	w.d.opts.Health.Set(w.platform, PartCredentials, "", now)
	w.d.opts.Health.Set(w.platform, PartDelivery, "", now)
	w.down = outage{}
}

// probe checks a failing platform cheaply before anything is sent to it
// again. It reports ok when a delivery may be tried: the platform is not
// failing, cannot be probed (then the attempt is the probe), or answered.
func (w *worker) probe(ctx context.Context) (time.Duration, bool) {
	p, isProber := w.sender.(Prober)
	if !isProber || w.down.failures == 0 || w.down.probed {
		return 0, true
	}
	pctx, cancel := context.WithTimeout(ctx, w.d.opts.ProbeTimeout)
	err := p.Probe(pctx)
	cancel()
	if ctx.Err() != nil {
		return 0, false
	}
	if after, ok := retryAfterOf(err); ok {
		// Not a failure: the platform answers and asks for a pause.
		return max(after, 0), false
	}
	if err != nil {
		return w.failure(fmt.Errorf("probe: %w", err), w.log), false
	}
	w.down.probed = true
	w.log.Debug("the platform answers a probe; delivering")
	return 0, true
}
