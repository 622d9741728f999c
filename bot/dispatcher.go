package bot

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/deckhand/deckhand"
)

// Sender delivers one outbox item to one platform. The ntfy, Discord and
// Telegram adapters satisfy it.
//
// Send returns the platform's reference of the message it posted (stored for
// later edits; empty when the platform has none). When item.Ref is not empty
// the notice should edit that message if the platform can; platforms that
// cannot (ntfy) post a new one.
//
// Errors: return RetryAfter for rate limits, Permanent for rejections that
// will never succeed, anything else for transient failures (network, 5xx,
// timeouts). Error texts are logged and stored in the outbox, so they must
// never contain a token, a password or a URL that embeds one.
type Sender interface {
	Platform() string
	Send(ctx context.Context, item deckhand.OutboxItem) (ref string, err error)
}

// Reconciler is a Sender that can tell whether an earlier attempt at an
// item reached the platform after all: deckhand died between the
// platform's answer and MarkSent, or the answer was lost. The dispatcher
// records each attempt before it starts (MarkSending) and asks before
// sending an item an attempt was made at, which closes the window in which
// a crash duplicates a message. ref is the platform's message reference.
type Reconciler interface {
	Delivered(ctx context.Context, item deckhand.OutboxItem) (ref string, ok bool, err error)
}

// Prober is a Sender that can check cheaply, sending nothing, that its
// platform answers and accepts deckhand's credentials (ntfy's health
// endpoint, Telegram's getMe, Discord's GET /users/@me). While a platform
// fails, the dispatcher probes it every second or two instead of resending
// notices, each probe bounded by ProbeTimeout, and delivers as soon as one
// succeeds: a platform that hangs costs a short probe, not a 30-second
// send. Errors follow Send's contract (Unauthorized for 401/403).
type Prober interface {
	Probe(ctx context.Context) error
}

// Pacer is a Sender that paces its own messages under the platform's
// flood limits (Telegram's per-chat and per-group rates). Pace is how long
// until the next message may go. The dispatcher waits that out before it
// chooses the next item, so the wait is neither spent inside SendTimeout
// nor a failure, and an alert enqueued meanwhile goes first.
type Pacer interface {
	Pace() time.Duration
}

// Outbox is the durable queue the dispatcher drains. *store.Store satisfies it.
type Outbox interface {
	// MarkSending records that an attempt at id starts now (only for a
	// Reconciler's items: the next start asks it about them).
	MarkSending(ctx context.Context, id int64, at time.Time) error
	// DueOutbox returns the platform's unsent, not dead items whose next
	// attempt is at or before now, at most limit of them, in delivery
	// order: urgent notices first, never before an earlier item of their
	// own alert, which holds back later ones while it is not due (see
	// store.Store.DueOutbox).
	DueOutbox(ctx context.Context, platform string, now time.Time, limit int) ([]deckhand.OutboxItem, error)
	// MarkSent records a delivery and the platform's message reference.
	MarkSent(ctx context.Context, id int64, at time.Time, ref string) error
	// MarkFailed records a failed attempt (incrementing the attempt count),
	// when to try again, and whether the item is dead-lettered.
	MarkFailed(ctx context.Context, id int64, next time.Time, errText string, dead bool) error
}

// defaultBackoff is the delay before the next attempt after the 1st, 2nd,
// … consecutive transient failure of a platform that cannot be probed; the
// last entry is the cap. The attempt is the probe: one request every few
// seconds costs a platform that is down nothing, and the notice arrives
// within the cap of it answering again. A cap of five minutes delivered
// alerts up to five minutes after ntfy or Telegram was back.
var defaultBackoff = []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}

// defaultProbeBackoff spaces the probes of a failing Prober. Probes are
// cheap, and a probe that hangs is cut at ProbeTimeout (2 s), so a
// platform is probed again at most 4 s after it answers again.
var defaultProbeBackoff = []time.Duration{time.Second, 2 * time.Second}

// defaultCredentialsBackoff spaces the attempts while a platform rejects
// deckhand's credentials: nothing changes until someone fixes them, and a
// bot hammering an API with a bad token gets its address blocked.
var defaultCredentialsBackoff = []time.Duration{5 * time.Second, 15 * time.Second, 30 * time.Second}

// DispatcherOptions tune a Dispatcher. The zero value is usable.
type DispatcherOptions struct {
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Poll is how often an idle platform looks for due items (default 1s).
	// Kick makes new items go out without waiting for it.
	Poll time.Duration
	// Backoff is the pause after the 1st, 2nd, … consecutive transient
	// failure of a platform; the last entry repeats. Default 1s, 2s, 4s.
	Backoff []time.Duration
	// ProbeBackoff replaces Backoff for a Prober (default 1s, 2s).
	ProbeBackoff []time.Duration
	// ProbeTimeout bounds one probe (default 2s).
	ProbeTimeout time.Duration
	// CredentialsBackoff is the pause while a platform rejects deckhand's
	// credentials (default 5s, 15s, 30s).
	CredentialsBackoff []time.Duration
	// MaxAttempts dead-letters an item after that many transient failures;
	// 0 retries forever (an alert that cannot be delivered is still worth
	// delivering late). Permanent errors dead-letter at once regardless,
	// once the plain form was refused too; credential rejections never do.
	MaxAttempts int
	// Batch is how many due items are fetched at once (default 50).
	Batch int
	// SendTimeout bounds one Send call (default 30s) so that a platform that
	// hangs cannot stall its queue forever.
	SendTimeout time.Duration
	// ShutdownGrace is how long an attempt in flight when Run's context is
	// cancelled may still finish (default 5s). Cutting it at once would
	// abandon requests the platform may already have accepted, and those
	// would be sent again after the restart.
	ShutdownGrace time.Duration
	// Metrics, when set, is called after every delivery attempt.
	Metrics func(platform string, ok bool)
	// Health, when set, is told what is wrong with each platform: part
	// "credentials" at the first rejection of deckhand's credentials,
	// "delivery" once a platform has failed for DownAfter; both clear at
	// the next delivery.
	Health *Health
	// DownAfter is how long transient failures last before a platform
	// counts as down (default 30s): one 502 is not worth telling admins.
	DownAfter time.Duration
	// ErrorEvery is how often a credentials rejection that goes on is
	// logged at ERROR again (default 5m); the attempts in between log at
	// DEBUG.
	ErrorEvery time.Duration
}

// Dispatcher drains the outbox: one worker per platform, so a platform that
// is down or rate limited never delays the others. Within a platform items go
// out in the outbox's delivery order (urgent first, each alert's notices in
// order); after a failure the platform waits (backoff or the platform's
// retry-after) before anything is tried again, and the outbox holds back the
// later notices of an alert whose earlier one is not due, so a recovery never
// overtakes the alert it recovers, across restarts too.
type Dispatcher struct {
	outbox  Outbox
	senders []Sender
	opts    DispatcherOptions
	log     *slog.Logger
	kicks   map[string]chan struct{}
}

// NewDispatcher wires a dispatcher; Run starts it.
func NewDispatcher(outbox Outbox, senders []Sender, opts DispatcherOptions) *Dispatcher {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Poll <= 0 {
		opts.Poll = time.Second
	}
	if len(opts.Backoff) == 0 {
		opts.Backoff = defaultBackoff
	}
	if len(opts.ProbeBackoff) == 0 {
		opts.ProbeBackoff = defaultProbeBackoff
	}
	if len(opts.CredentialsBackoff) == 0 {
		opts.CredentialsBackoff = defaultCredentialsBackoff
	}
	if opts.ProbeTimeout <= 0 {
		opts.ProbeTimeout = 2 * time.Second
	}
	if opts.DownAfter <= 0 {
		opts.DownAfter = 30 * time.Second
	}
	if opts.ErrorEvery <= 0 {
		opts.ErrorEvery = 5 * time.Minute
	}
	if opts.Batch <= 0 {
		opts.Batch = 50
	}
	if opts.SendTimeout <= 0 {
		opts.SendTimeout = 30 * time.Second
	}
	if opts.ShutdownGrace <= 0 {
		opts.ShutdownGrace = 5 * time.Second
	}
	d := &Dispatcher{
		outbox:  outbox,
		senders: senders,
		opts:    opts,
		log:     opts.Logger,
		kicks:   make(map[string]chan struct{}, len(senders)),
	}
	for _, s := range senders {
		// Buffered so that a Kick before Run, or during a delivery, is not lost.
		d.kicks[s.Platform()] = make(chan struct{}, 1)
	}
	return d
}

// Kick wakes every idle worker now. Call it right after enqueueing so that an
// alert leaves in milliseconds instead of up to one Poll. A platform that is
// paused by a backoff or a retry-after stays paused. It never blocks.
func (d *Dispatcher) Kick() {
	for _, ch := range d.kicks {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// Run delivers until ctx is cancelled, then returns nil once every worker has
// finished its current attempt (bounded by ShutdownGrace). It fails at once when there is nothing to
// run or two senders claim the same platform.
func (d *Dispatcher) Run(ctx context.Context) error {
	if len(d.senders) == 0 {
		return fmt.Errorf("dispatcher: no senders: %w", deckhand.ErrInvalidInput)
	}
	seen := make(map[string]bool, len(d.senders))
	for _, s := range d.senders {
		p := s.Platform()
		if p == "" || seen[p] {
			return fmt.Errorf("dispatcher: platform %q configured twice or empty: %w", p, deckhand.ErrInvalidInput)
		}
		seen[p] = true
	}
	var wg sync.WaitGroup
	for _, s := range d.senders {
		w := &worker{
			d:         d,
			sender:    s,
			platform:  s.Platform(),
			kick:      d.kicks[s.Platform()],
			log:       d.log.With("platform", s.Platform()),
			unmarked:  make(map[int64]string),
			refused:   make(map[int64]bool),
			abandoned: make(map[int64]bool),
		}
		wg.Go(func() { w.run(ctx) })
	}
	wg.Wait()
	return nil
}

// worker owns one platform's queue. Only its goroutine touches its fields.
type worker struct {
	d        *Dispatcher
	sender   Sender
	platform string
	kick     chan struct{}
	log      *slog.Logger
	// unmarked holds items that were delivered but whose MarkSent failed:
	// they come back from DueOutbox and must be recorded, not sent again.
	unmarked map[int64]string
	// refused holds items whose last attempt the platform answered with a
	// refusal (a 429, a 401/403, a 4xx): it did not take them, so asking
	// whether it has them would only spend a request of the same budget.
	refused map[int64]bool
	// abandoned holds items whose hung send was given up on once (see
	// watchHung): their next attempt runs its full SendTimeout.
	abandoned map[int64]bool
	// down is the platform's current run of failures (see failing.go).
	down outage
}

func (w *worker) run(ctx context.Context) {
	for ctx.Err() == nil {
		pause, paused := w.drain(ctx)
		if ctx.Err() != nil {
			return
		}
		if paused {
			// A kick must not cut a backoff short: newer items would then
			// overtake the failed one, which DueOutbox does not return yet.
			sleep(ctx, pause)
			continue
		}
		t := time.NewTimer(w.d.opts.Poll)
		select {
		case <-ctx.Done():
		case <-t.C:
		case <-w.kick:
		}
		t.Stop()
	}
}

// drain delivers everything due. It reports paused with how long to wait when
// the platform must not be tried again before then.
func (w *worker) drain(ctx context.Context) (time.Duration, bool) {
	if pause, ok := w.probe(ctx); !ok {
		return pause, true
	}
	batch := w.d.opts.Batch
	for {
		items, err := w.d.outbox.DueOutbox(ctx, w.platform, w.d.opts.Now(), batch)
		if err != nil {
			if ctx.Err() == nil {
				w.log.Error("reading the outbox", "err", err)
			}
			return 0, false
		}
		for _, it := range items {
			if ctx.Err() != nil {
				return 0, false
			}
			if p, ok := w.sender.(Pacer); ok {
				if pause := p.Pace(); pause > 0 {
					// Waiting out the platform's pace is no failure; the
					// queue is read again after it, urgent items first.
					return pause, true
				}
			}
			if pause, stop := w.deliver(ctx, it); stop {
				return pause, true
			}
		}
		if len(items) < batch {
			return 0, false
		}
	}
}

// deliver makes one attempt at one item: deliver, then record. It reports
// stop when nothing newer may be tried for pause.
//
// The order matters for exactly-once: recording before delivering would lose
// a notice on a crash, recording after can only duplicate it, and only when
// the process dies in the few milliseconds between the platform's answer and
// MarkSent (or when MarkSent keeps failing until a restart). Inside one
// process a failed MarkSent is retried without sending again (unmarked).
// Platforms that deduplicate or can be asked close the window entirely:
// Discord accepts a nonce with enforce_nonce derived from the outbox ID, and
// ntfy lists a topic's recent messages (a Reconciler); Telegram has no such
// mechanism.
func (w *worker) deliver(ctx context.Context, it deckhand.OutboxItem) (time.Duration, bool) {
	log := w.log.With("outbox_id", it.ID, "kind", string(it.Notice.Kind),
		"host", it.Notice.Alert.Key.Host, "container", it.Notice.Alert.Key.Container)
	if ref, ok := w.unmarked[it.ID]; ok {
		if err := w.markSent(ctx, it.ID, ref); err != nil {
			log.Error("recording a delivered notification, will retry", "err", err)
			return w.d.opts.Poll, true
		}
		delete(w.unmarked, it.ID)
		return 0, false
	}
	if r, ok := w.sender.(Reconciler); ok {
		if pause, stop, done := w.reconcile(ctx, r, it, log); done {
			return pause, stop
		}
	}
	return w.attempt(ctx, it, log)
}

// reconcile asks a Reconciler whether an earlier attempt at it arrived,
// then records that an attempt starts. done reports that the item was
// dealt with (recorded as delivered, or the worker must pause).
func (w *worker) reconcile(ctx context.Context, r Reconciler, it deckhand.OutboxItem, log *slog.Logger) (pause time.Duration, stop, done bool) {
	if !it.SendingAt.IsZero() && !w.refused[it.ID] {
		rctx, cancel := context.WithTimeout(ctx, w.d.opts.SendTimeout)
		ref, found, err := r.Delivered(rctx, it)
		cancel()
		switch {
		case err != nil && ctx.Err() != nil:
			return 0, true, true
		case err != nil && (isPermanent(err) || isUnauthorized(err)):
			// The platform will not say (no read access to the topic,
			// its cache is off): at least once, then. While it rejects
			// deckhand's credentials that is already said at ERROR.
			level := slog.LevelWarn
			if w.down.creds {
				level = slog.LevelDebug
			}
			log.Log(ctx, level, "cannot tell whether an earlier attempt arrived; sending again", "err", err)
		case err != nil:
			pause, stop = w.failed(ctx, it, log, fmt.Errorf("asking whether an earlier attempt arrived: %w", err))
			return pause, stop, true
		case found:
			pause, stop = w.recordSent(ctx, it.ID, ref, log)
			log.Info("an earlier attempt had arrived: recorded, not sent again", "ref", ref)
			return pause, stop, true
		}
	}
	// Recorded first, so that after a crash the next start knows to ask.
	c, cancel := context.WithTimeout(context.WithoutCancel(ctx), bookkeepingTimeout)
	err := w.d.outbox.MarkSending(c, it.ID, w.d.opts.Now())
	cancel()
	if err != nil {
		log.Error("recording a delivery attempt, will retry", "err", err)
		return w.d.opts.Poll, true, true
	}
	return 0, false, false
}

// attempt sends it, in its plain form too when the platform refuses the
// full one, and records the outcome.
func (w *worker) attempt(ctx context.Context, it deckhand.OutboxItem, log *slog.Logger) (time.Duration, bool) {
	ref, interrupted, err := w.send(ctx, it)
	plain := false
	if err != nil && !interrupted && isPermanent(err) && !isUnauthorized(err) {
		// The platform refuses this form (an embed too big, markup it
		// cannot parse): the same words plain and shortened are better
		// than a lost alert.
		log.Warn("notification rejected, sending its plain form", "err", truncate(err.Error(), 500))
		p := it
		p.Plain, plain = true, true
		ref, interrupted, err = w.send(ctx, p)
	}
	if interrupted {
		// Shutting down interrupted the attempt: not the platform's fault,
		// so it does not count; the item is retried on the next start.
		return 0, true
	}
	delete(w.refused, it.ID)
	if err != nil {
		if _, limited := retryAfterOf(err); limited || isPermanent(err) || isUnauthorized(err) {
			w.refused[it.ID] = true
		}
		return w.failed(ctx, it, log, err)
	}
	w.delivered()
	log.Debug("notification delivered", "ref", ref, "hop", "delivered", "plain", plain)
	return w.recordSent(ctx, it.ID, ref, log)
}

// recordSent records a delivery; when that fails the item is remembered
// as delivered (unmarked) and recorded again later, never sent again.
func (w *worker) recordSent(ctx context.Context, id int64, ref string, log *slog.Logger) (time.Duration, bool) {
	if err := w.markSent(ctx, id, ref); err != nil {
		w.unmarked[id] = ref
		log.Error("recording a delivered notification, will retry", "err", err)
		return w.d.opts.Poll, true
	}
	return 0, false
}

// send makes one Send call within SendTimeout, letting it finish for
// ShutdownGrace after ctx ends. interrupted reports that the shutdown cut
// it short.
func (w *worker) send(ctx context.Context, it deckhand.OutboxItem) (ref string, interrupted bool, err error) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.d.opts.SendTimeout)
	stopGrace := context.AfterFunc(ctx, func() { time.AfterFunc(w.d.opts.ShutdownGrace, cancel) })
	res := make(chan sendResult, 1)
	go func() {
		r, e := w.sender.Send(sctx, it)
		res <- sendResult{r, e}
	}()
	abandoned := w.watchHung(ctx, it.ID, res, cancel)
	r := <-res
	ref, err = r.ref, r.err
	stopGrace()
	cancel()
	if abandoned && err != nil {
		err = fmt.Errorf("abandoned: the platform answers a new connection while this request hangs: %w", err)
	}
	if m := w.d.opts.Metrics; m != nil {
		m(w.platform, err == nil)
	}
	return ref, err != nil && ctx.Err() != nil && sctx.Err() != nil, err
}

// sendResult is what one Send call returned.
type sendResult struct {
	ref string
	err error
}

// watchHung waits for res while probing a Prober every ProbeTimeout
// once the send has been in flight that long. A send that hangs on a
// connection that died (an outage drops its packets) would otherwise hold
// the queue for all of SendTimeout after the platform is back; when a
// probe on a new connection is answered while the send still hangs, the
// send is cancelled and reported abandoned, and the notice goes again at
// once. ntfy is then asked whether the first one arrived (Reconciler),
// Discord deduplicates by nonce; on Telegram a request that did arrive
// would show twice, so each item is abandoned at most once, and a
// platform that is merely slow still gets its full SendTimeout the next
// time. It does not consume res.
func (w *worker) watchHung(ctx context.Context, id int64, res chan sendResult, cancel context.CancelFunc) bool {
	p, ok := w.sender.(Prober)
	if !ok || w.abandoned[id] {
		return false
	}
	t := time.NewTicker(w.d.opts.ProbeTimeout)
	defer t.Stop()
	for {
		select {
		case r := <-res:
			res <- r
			return false
		case <-ctx.Done():
			return false
		case <-t.C:
			pctx, pcancel := context.WithTimeout(ctx, w.d.opts.ProbeTimeout)
			err := p.Probe(pctx)
			pcancel()
			if err == nil && len(res) == 0 {
				w.abandoned[id] = true
				w.log.Warn("a send hangs while the platform answers a probe: sending again", "outbox_id", id)
				cancel()
				return true
			}
		}
	}
}

// failed records a failed attempt at it: paused for a rate limit, kept
// and paused while deckhand's credentials are rejected, dead-lettered when
// permanent or too often, else retried after a backoff.
func (w *worker) failed(ctx context.Context, it deckhand.OutboxItem, log *slog.Logger, err error) (time.Duration, bool) {
	now := w.d.opts.Now()
	text := truncate(err.Error(), 500)
	attempt := it.Attempts + 1
	if after, ok := retryAfterOf(err); ok {
		after = max(after, 0)
		if err := w.markFailed(ctx, it.ID, now.Add(after), text, false); err != nil {
			log.Error("recording a failed attempt", "err", err)
			return max(after, w.d.opts.Poll), true
		}
		log.Warn("rate limited, pausing the platform", "attempt", attempt, "retry_after", after, "err", text)
		return after, true
	}
	if isPermanent(err) && !isUnauthorized(err) {
		if err := w.markFailed(ctx, it.ID, now, text, true); err != nil {
			log.Error("recording a failed attempt", "err", err)
			return w.d.opts.Poll, true
		}
		log.Error("notification rejected in every form, dead-lettered (deckhand outbox retry queues it again)",
			"attempt", attempt, "err", text)
		return 0, false
	}
	delay := w.failure(err, log)
	next := now.Add(delay)
	if isUnauthorized(err) {
		// The pause lives in the worker only: after the fix and a
		// restart the notice goes out at once.
		next = now
	}
	// Rejected credentials are deckhand's fault, not the notice's: never
	// dead-lettered.
	dead := !isUnauthorized(err) && w.d.opts.MaxAttempts > 0 && attempt >= w.d.opts.MaxAttempts
	if err := w.markFailed(ctx, it.ID, next, text, dead); err != nil {
		log.Error("recording a failed attempt", "err", err)
		return max(delay, w.d.opts.Poll), true
	}
	if dead {
		log.Error("notification failed too often, dead-lettered", "attempt", attempt, "err", text)
		return 0, false
	}
	if !isUnauthorized(err) {
		log.Warn("delivery failed, will retry", "attempt", attempt, "retry_in", delay, "err", text)
	}
	return delay, true
}

// bookkeepingTimeout bounds MarkSent/MarkFailed. They run on a context that
// ignores cancellation: a delivery that happened during shutdown must still
// be recorded, or it would be sent again on the next start.
const bookkeepingTimeout = 5 * time.Second

func (w *worker) markSent(ctx context.Context, id int64, ref string) error {
	c, cancel := context.WithTimeout(context.WithoutCancel(ctx), bookkeepingTimeout)
	defer cancel()
	return w.d.outbox.MarkSent(c, id, w.d.opts.Now(), ref)
}

func (w *worker) markFailed(ctx context.Context, id int64, next time.Time, text string, dead bool) error {
	c, cancel := context.WithTimeout(context.WithoutCancel(ctx), bookkeepingTimeout)
	defer cancel()
	return w.d.outbox.MarkFailed(c, id, next, text, dead)
}

func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
