// Package monitor owns deckhand's running loop: one worker per host
// (collection on its own schedule, the host's events stream, the slow
// inventory), recording what was collected, evaluating alerts, automatic
// restarts through the action path, availability sampling, and the status
// page's view and metrics. Hosts never wait for each other: there is no
// cycle that every host must finish.
package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"golang.org/x/sync/errgroup"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/alerts"
	"github.com/deckhand/deckhand/collector"
	"github.com/deckhand/deckhand/internal/ratelog"
	"github.com/deckhand/deckhand/statuspage"
	"github.com/deckhand/deckhand/store"
)

// Collector reaches the hosts (collector.Collector).
type Collector interface {
	Collect(ctx context.Context, host string, full bool) deckhand.Snapshot
	CollectQuick(ctx context.Context, host string) (snap deckhand.Snapshot, stale int)
	Events(ctx context.Context, host string, fn func(collector.Event)) error
}

// Store is what the loop reads and writes (store.Store).
type Store interface {
	SaveSnapshot(ctx context.Context, snap deckhand.Snapshot) error
	Hosts(ctx context.Context) ([]deckhand.Host, error)
	Containers(ctx context.Context, host string) ([]deckhand.Container, error)
	ActiveAlerts(ctx context.Context) ([]deckhand.Alert, error)
	Alert(ctx context.Context, id int64) (deckhand.Alert, error)
	ActiveSilences(ctx context.Context, now time.Time) ([]deckhand.Silence, error)
	RecentAlerts(ctx context.Context, since time.Time, limit int) ([]deckhand.Alert, error)
	ApplyAlerts(ctx context.Context, alerts []deckhand.Alert, notices []deckhand.Notice, platforms []string) error
	RecordAvailabilitySlots(ctx context.Context, slots []store.SlotSums) error
	UptimeEach(ctx context.Context, resolution string, since, until time.Time, fn func(store.ContainerKey, []deckhand.UptimeBucket)) error
	Announcements(ctx context.Context, now time.Time) ([]deckhand.Announcement, error)
	AddAnnouncement(ctx context.Context, a deckhand.Announcement) (int64, error)
	AddSilence(ctx context.Context, s deckhand.Silence) (int64, error)
	AuditBy(ctx context.Context, platform, userID string, since time.Time) ([]deckhand.AuditEntry, error)
	OutboxDepth(ctx context.Context) (map[string]int, error)
	OutboxDead(ctx context.Context) (map[string]int, error)
	Intents(ctx context.Context) ([]deckhand.Intent, error)
	DeleteIntent(ctx context.Context, host, container string, upTo time.Time) error
	Prune(ctx context.Context, now time.Time) (store.PruneStats, error)
}

// Actor performs a whitelisted action the way a chat command does: the
// router's lock, role check, audit and refresh (commands.Router).
type Actor interface {
	Act(ctx context.Context, actor deckhand.Actor, action deckhand.Action, host, container string) error
}

// Kicker wakes the outbox's delivery workers (bot.Dispatcher).
type Kicker interface{ Kick() }

// Config is the loop's schedule.
type Config struct {
	// Hosts are the enabled hosts, in config order.
	Hosts             []string
	Interval          time.Duration // polling, default 15s
	InventoryInterval time.Duration // full collections, default 5m
	Retention         time.Duration // how often history is pruned, default 1h
	Events            bool          // follow `docker events` on every host
	// Platforms are the notification channels every notice is queued for.
	Platforms []string
}

func (c Config) withDefaults() Config {
	if c.Interval <= 0 {
		c.Interval = 15 * time.Second
	}
	if c.InventoryInterval <= 0 {
		c.InventoryInterval = 5 * time.Minute
	}
	if c.Retention <= 0 {
		c.Retention = time.Hour
	}
	return c
}

// Deps are the parts the loop drives. Store, Collector and Engine are
// required; a nil Page, Metrics, Kicker or Actor leaves that part out.
type Deps struct {
	Store     Store
	Collector Collector
	Engine    *alerts.Engine
	Actor     Actor
	Page      *statuspage.Page
	Metrics   *statuspage.Metrics
	Kicker    Kicker
	Logger    *slog.Logger
	Now       func() time.Time
	// OnCollect, when set, is called from the host's worker with the
	// snapshot of each poll and full collection (not the quick one after an
	// event) once the loop is done with it: recorded and evaluated, or
	// found unchanged, or dropped as older than the one recorded.
	// cmd/deckhand-bench times the loop with it. It must return quickly.
	OnCollect func(deckhand.Snapshot)
}

// Monitor is the running loop. Build it with New, run it with Run.
type Monitor struct {
	cfg   Config
	st    Store
	coll  Collector
	eng   *alerts.Engine
	actor Actor
	page  *statuspage.Page
	met   *statuspage.Metrics
	kick  Kicker
	log   *slog.Logger
	now   func() time.Time
	onCol func(deckhand.Snapshot)

	hosts  map[string]*hostState
	order  []string
	evalMu sync.Mutex // one evaluation at a time: alerts are read-modify-write

	wake chan time.Time // the engine's next deadline, for the wake timer

	pageDirty chan struct{}
	started   chan struct{}
	firstPass chan struct{}
	firstOnce sync.Once
	pending   sync.WaitGroup // hosts not yet collected once

	disabledHosts disabledCache
	writeErrs     ratelog.Keyed // store writes failing: logged once a minute per kind

	lastSample time.Time // guarded by evalMu
	avail      availability
	uptime     uptimeCache
}

// New checks deps and builds a Monitor; nothing runs yet.
func New(cfg Config, deps Deps) (*Monitor, error) {
	if deps.Store == nil || deps.Collector == nil || deps.Engine == nil {
		return nil, fmt.Errorf("monitor: store, collector and engine are required: %w", deckhand.ErrInvalidInput)
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	cfg = cfg.withDefaults()
	m := &Monitor{
		cfg: cfg, st: deps.Store, coll: deps.Collector, eng: deps.Engine, actor: deps.Actor,
		page: deps.Page, met: deps.Metrics, kick: deps.Kicker, log: deps.Logger, now: deps.Now, onCol: deps.OnCollect,
		hosts: map[string]*hostState{}, wake: make(chan time.Time, 1), writeErrs: ratelog.Keyed{Period: time.Minute},
		pageDirty: make(chan struct{}, 1), started: make(chan struct{}), firstPass: make(chan struct{}),
	}
	for _, h := range cfg.Hosts {
		if _, dup := m.hosts[h]; dup {
			return nil, fmt.Errorf("monitor: host %q twice: %w", h, deckhand.ErrInvalidInput)
		}
		m.hosts[h] = newHostState(h)
		m.order = append(m.order, h)
	}
	m.pending.Add(len(m.order))
	go func() { m.pending.Wait(); m.firstOnce.Do(func() { close(m.firstPass) }) }()
	if err := m.recallAutoRestarts(context.Background()); err != nil {
		m.log.Warn("auto-restart history not recalled: the hourly limit starts afresh", "err", err)
	}
	return m, nil
}

// Started is closed once every worker runs (not once hosts answered).
func (m *Monitor) Started() <-chan struct{} { return m.started }

// FirstPass is closed once every host has been collected at least once,
// successfully or not.
func (m *Monitor) FirstPass() <-chan struct{} { return m.firstPass }

// Run runs every worker until ctx ends. Each host starts at once: its
// fast collection and its events stream do not wait for any other host,
// nor for its own slow inventory.
func (m *Monitor) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	m.refreshPage(gctx, true)
	g.Go(func() error { m.pageWorker(gctx); return nil })
	g.Go(func() error { m.wakeWorker(gctx); return nil })
	for _, name := range m.order {
		h := m.hosts[name]
		g.Go(func() error { m.pollLoop(gctx, h); return nil })
		g.Go(func() error { m.inventoryLoop(gctx, h); return nil })
		if m.cfg.Events {
			g.Go(func() error { m.watchEvents(gctx, h); return nil })
		}
	}
	c := cron.New(cron.WithChain(cron.Recover(cronLogger{m.log}), cron.SkipIfStillRunning(cronLogger{m.log})))
	every := func(d time.Duration, fn func()) { c.Schedule(cron.Every(d), cron.FuncJob(fn)) }
	every(m.cfg.Interval, func() { m.sampleAll(gctx) })
	every(time.Minute, func() { m.maintain(gctx) })
	every(m.cfg.Retention, func() { m.prune(gctx) })
	c.Start()
	close(m.started)
	<-gctx.Done()
	<-c.Stop().Done()
	err := g.Wait()
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	m.avail.flush(fctx, m)
	return err
}

// CollectOnce collects the named hosts (all when names is nil) at once,
// records them and evaluates alerts: `run --once` and `deckhand exec`.
func (m *Monitor) CollectOnce(ctx context.Context, names []string, full bool) {
	if names == nil {
		names = m.order
	}
	var wg sync.WaitGroup
	for _, name := range names {
		h := m.hosts[name]
		if h == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.collect(ctx, h, full)
		}()
	}
	wg.Wait()
}

// Refresh asks for a re-collect of a host now (commands.Refresher). It
// never blocks: a collection already asked for will see the change too.
func (m *Monitor) Refresh(_ context.Context, host string) {
	if h := m.hosts[host]; h != nil {
		h.poke()
	}
}

func (m *Monitor) maintain(ctx context.Context) {
	m.evaluate(ctx, nil)
	if m.met == nil {
		return
	}
	if depth, err := m.st.OutboxDepth(ctx); err == nil {
		for _, p := range m.cfg.Platforms {
			m.met.SetOutboxDepth(p, depth[p])
		}
	}
	if dead, err := m.st.OutboxDead(ctx); err == nil {
		for _, p := range m.cfg.Platforms {
			m.met.SetOutboxDead(p, dead[p])
		}
	}
}

func (m *Monitor) prune(ctx context.Context) {
	st, err := m.st.Prune(ctx, m.now())
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			m.log.Error("prune", "err", err)
		}
		return
	}
	m.log.Debug("pruned", "stats", fmt.Sprintf("%+v", st))
}

// cronLogger adapts slog to cron's logger.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug("cron: "+msg, kv...) }
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append(kv, "err", err)...)
}

// RunOnce collects every host in full, evaluates alerts and records one
// sample of availability: `deckhand run --once`.
func (m *Monitor) RunOnce(ctx context.Context) {
	m.CollectOnce(ctx, nil, true)
	m.sampleAll(ctx)
	m.avail.flush(ctx, m)
}
