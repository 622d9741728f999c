// Package backlog owns what deckhand computes while its database cannot
// be written (disk full, read-only, I/O error): the alert transitions and
// the notices they queue are kept in memory, in order, delivered from
// there, and written once the database takes writes again.
//
// A Backlog stands in front of the *store.Store for the two parts that
// write alerts and outbox rows, the monitor and the dispatcher: it
// overrides ActiveAlerts, Alert, RecentAlerts, ApplyAlerts, OutboxDepth
// (monitor.Store), DueOutbox, MarkSending, MarkSent, MarkFailed
// (bot.Outbox) and Enqueue (deckhand's own notices to admins); every other method is the store's own, reached through
// the embedded field. While nothing is held, reads go straight to the
// store, and writes go to it under one mutex (the store has one write
// connection: they queued already).
//
// What it decides, and why:
//   - Only a write the database cannot take (store.CannotWrite) is held. A
//     write it refuses (a constraint, a bug) would be refused again, so it
//     fails as before.
//   - Once something is held, every later alert and outbox write is held
//     too, until the whole backlog is written: writing a later transition
//     before an earlier one would break their order (a recovery before its
//     opening).
//   - Held rows get the IDs the database would give them (above the
//     highest stored, store.NextIDs), so the Ack button of a message sent
//     from memory and a Discord nonce name the row it becomes. Another
//     writer on the same file may take one meanwhile: the row is then
//     written under a new ID and calls naming the old one are mapped.
//   - The engine reads the stored alerts with the held ones laid over
//     them, so it sees the alerts it opened (and does not open them again)
//     and the recoveries it recorded (and does not lose them). When the
//     read itself fails, the last one that worked stands in: every alert
//     write since went through here.
//   - The delivery state of held items, and of stored items delivered
//     meanwhile, is kept here too, so nothing is sent twice.
//   - Memory is bounded (Options.Limit outbox items): past it the oldest
//     reminders go first, then other items already delivered (only their
//     record is lost; their message ref is kept apart). An opening is
//     never dropped, nor an undelivered recovery, ack, automatic restart or
//     notice of deckhand's own: each stands for a change of an alert, which
//     the engine's grace and cooldowns keep rare, so the backlog can only
//     outgrow the limit by what an outage storm opens.
//   - Admins are told once that the database cannot be written, and once
//     that it can, after it has taken writes for Options.Settle: a nearly
//     full disk takes a write now and then (SQLite reuses its WAL), and
//     every flap would otherwise be two chat messages. /healthz and the
//     metrics follow every flap.
//   - The backlog lives in memory only: deckhand killed while it holds
//     something loses what was not delivered yet. Writing it to another
//     disk would only move the problem.
package backlog

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/store"
)

// Health records what is wrong with deckhand's parts (bot.Health).
type Health interface {
	Set(platform, part, text string, now time.Time) bool
}

// Metrics are the series the backlog reports into (statuspage.Metrics).
type Metrics interface {
	SetStoreWritable(ok bool)
	SetBacklogItems(n int)
}

// Options tune a Backlog. Platforms are where deckhand's own notices go.
type Options struct {
	Platforms []string
	Health    Health
	Metrics   Metrics
	Logger    *slog.Logger
	Now       func() time.Time
	// Limit bounds the outbox items held (default 2000, some 2 MB).
	Limit int
	// Retry is how often Run tries to write the backlog (default 5s).
	Retry time.Duration
	// Settle is how long the database must stay writable before admins
	// are told it is again (default 30s): a full disk often takes a write
	// now and then, and each flap would otherwise be two chat messages.
	Settle time.Duration
}

// Problem is the bot.Health part the backlog reports under.
const Problem = "database"

// Backlog is a store whose alert and outbox writes fall back to memory.
// Build it with New; it is safe for concurrent use.
type Backlog struct {
	*store.Store
	opts Options
	log  *slog.Logger

	// mu guards everything below and is held across every store write the
	// backlog makes, so that no write slips between the backlog and the
	// database while it is being written.
	mu      sync.Mutex
	reason  string // why the database cannot be written; "" when it can
	held    held
	remap   store.Remap
	lastAct []deckhand.Alert // the last stored active alerts read
	maxSeen [2]int64         // highest alert and outbox IDs seen
	// served are the stored rows handed to the dispatcher and not yet
	// delivered: a delivery recorded here later knows which alert's
	// message it is.
	served map[int64]about
	told   told
}

// told is what admins were told: that the database cannot be written,
// and what was written since, for the all-clear.
type told struct {
	down      bool
	reason    string
	writtenAt time.Time // the last time the backlog was written
	written   int
	dropped   int
}

// held is what waits to be written.
type held struct {
	alerts  map[int64]*store.HeldAlert
	items   []*store.HeldItem // oldest first
	marks   map[int64]*mark   // stored outbox rows, by ID
	refs    []deckhand.MessageRef
	next    [2]int64 // the last alert and outbox IDs given
	dropped int
}

// mark is a stored row's delivery record and what it is about.
type mark struct {
	store.OutboxMark
	about
}

// about is what a stored row is about: its platform and alert.
type about struct {
	platform string
	alertID  int64
}

// New wraps st.
func New(st *store.Store, opts Options) *Backlog {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Limit <= 0 {
		opts.Limit = 2000
	}
	if opts.Retry <= 0 {
		opts.Retry = 5 * time.Second
	}
	if opts.Settle <= 0 {
		opts.Settle = 30 * time.Second
	}
	b := &Backlog{Store: st, opts: opts, log: opts.Logger,
		remap: store.Remap{Alerts: map[int64]int64{}, Outbox: map[int64]int64{}}, served: map[int64]about{}}
	b.held.reset()
	if opts.Metrics != nil {
		opts.Metrics.SetStoreWritable(true)
		opts.Metrics.SetBacklogItems(0)
	}
	return b
}

func (h *held) reset() {
	*h = held{alerts: map[int64]*store.HeldAlert{}, marks: map[int64]*mark{}}
}

// Holding reports why the database cannot be written, "" when it can, and
// how many outbox items wait in memory.
func (b *Backlog) Holding() (reason string, items int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.reason, len(b.held.items)
}

// writable reports whether nothing is held: reads then go to the store
// as they are, without holding the lock across them.
func (b *Backlog) writable() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.reason == ""
}

// Run writes the backlog every Options.Retry until ctx ends. Writes that
// come in (an evaluation, a delivery) do not try it: they would all pay
// for a write that fails.
func (b *Backlog) Run(ctx context.Context) {
	t := time.NewTicker(b.opts.Retry)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = b.Flush(ctx)
		}
	}
}

// failed decides what a failed write means: true when the database cannot
// be written, and the backlog now holds (the caller then keeps the write
// in memory); false for an error to return as it is.
func (b *Backlog) failed(ctx context.Context, err error) bool {
	reason, ok := store.CannotWrite(err)
	if !ok {
		return false
	}
	if b.reason == reason {
		return true
	}
	first := b.reason == ""
	b.reason = reason
	b.log.Error("deckhand cannot write its database: alerts and notices are kept in memory and delivered until it can",
		"reason", reason, "err", err)
	b.report()
	if first {
		b.startIDs(ctx)
	}
	if !b.told.down {
		b.told = told{down: true, reason: reason}
		b.holdNotice("deckhand cannot write its database: " + reason +
			". Alerts are still delivered and kept in memory (a restart loses them); free space or fix the disk under the database and they are written.")
	}
	return true
}

// report tells Health and Metrics how things stand.
func (b *Backlog) report() {
	text := ""
	if b.reason != "" {
		text = "deckhand cannot write its database: " + b.reason
	}
	if b.opts.Health != nil {
		b.opts.Health.Set("", Problem, text, b.opts.Now())
	}
	if m := b.opts.Metrics; m != nil {
		m.SetStoreWritable(b.reason == "")
		m.SetBacklogItems(len(b.held.items))
	}
}

// startIDs sets where held IDs start: above the stored ones, or above the
// highest seen when even reading fails (a clash is remapped on writing).
func (b *Backlog) startIDs(ctx context.Context) {
	a, o, err := b.Store.NextIDs(ctx)
	if err != nil {
		b.log.Warn("reading the highest IDs failed; held rows may be renumbered when written", "err", err)
	}
	b.held.next = [2]int64{max(a, b.maxSeen[0]), max(o, b.maxSeen[1])}
}

func (b *Backlog) seen(alertID, outboxID int64) {
	b.maxSeen[0] = max(b.maxSeen[0], alertID)
	b.maxSeen[1] = max(b.maxSeen[1], outboxID)
}

// holdNotice queues deckhand's own notice to every platform.
func (b *Backlog) holdNotice(text string) {
	b.holdNotices([]deckhand.Notice{{Kind: deckhand.NoticeSystem, Text: text, At: b.opts.Now()}}, b.opts.Platforms)
}
