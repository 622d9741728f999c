package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/robfig/cron/v3"
	"golang.org/x/sync/errgroup"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/alerts"
	"github.com/deckhand/deckhand/bot"
	"github.com/deckhand/deckhand/bot/discord"
	"github.com/deckhand/deckhand/bot/ntfy"
	"github.com/deckhand/deckhand/collector"
	"github.com/deckhand/deckhand/commands"
	"github.com/deckhand/deckhand/statuspage"
	"github.com/deckhand/deckhand/store"
)

// daemon is the running deckhand: it owns the loop collect → store →
// evaluate → outbox, the events streams, the status page and the chat bots.
type daemon struct {
	cfg     *fileConfig
	log     *slog.Logger
	store   *store.Store
	coll    *collector.Collector
	engine  *alerts.Engine
	router  *commands.Router
	disp    *bot.Dispatcher
	page    *statuspage.Page
	metrics *statuspage.Metrics
	reg     *prometheus.Registry
	senders []bot.Sender
	bots    []interface{ Run(context.Context) error }
	now     func() time.Time

	platforms []string
	hosts     []string // enabled hosts, in config order

	snapMu sync.Mutex
	snaps  map[string]deckhand.Snapshot // latest snapshot per host

	evalMu sync.Mutex // one evaluation at a time: alerts are read-modify-write

	triggers map[string]chan struct{} // per host: re-collect now (events, actions)

	// pageDirty asks the page worker for a rebuild. A rebuild reads every
	// container and renders the whole page, so bursts of events across
	// hosts are coalesced into at most one rebuild per pageEvery.
	pageDirty chan struct{}

	collecting sync.Map // host → true while a cycle's collection of it runs

	// ln, when set before run, is used instead of listening on
	// statuspage.listen (tests pass a 127.0.0.1:0 listener).
	ln net.Listener
	// started is closed once the first full collection is stored and the
	// workers are running.
	started chan struct{}

	lastSample time.Time // availability recording; guarded by evalMu
	uptimeMu   sync.Mutex
	uptimeAt   time.Time
	uptimeBusy bool // a background re-read is running
	uptime     map[statuspage.ContainerKey]statuspage.UptimeSeries
}

// newDaemon opens the store and builds every part; nothing runs yet.
func newDaemon(ctx context.Context, cfg *fileConfig, log *slog.Logger, withBots bool) (*daemon, error) {
	d := &daemon{cfg: cfg, log: log, now: time.Now, snaps: map[string]deckhand.Snapshot{}, triggers: map[string]chan struct{}{}, started: make(chan struct{}), pageDirty: make(chan struct{}, 1)}
	var err error
	d.store, err = store.Open(ctx, cfg.Data)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", cfg.Data, err)
	}
	if err := d.store.SyncHosts(ctx, cfg.domainHosts()); err != nil {
		d.store.Close()
		return nil, fmt.Errorf("sync hosts: %w", err)
	}
	hostCfgs := cfg.collectorHosts()
	for _, h := range hostCfgs {
		if h.Enabled {
			d.hosts = append(d.hosts, h.Name)
			// Made here, read-only afterwards: Refresh may run on any goroutine.
			d.triggers[h.Name] = make(chan struct{}, 1)
		}
	}
	d.coll, err = collector.New(hostCfgs, collector.Options{Logger: log.With("part", "collector"), Concurrency: cfg.Collector.Concurrency})
	if err != nil {
		d.store.Close()
		return nil, err
	}
	d.engine, err = alerts.New(cfg.alertsConfig())
	if err != nil {
		d.close()
		return nil, err
	}
	if err := recallAutoRestarts(ctx, d.store, d.engine, d.now()); err != nil {
		log.Warn("auto-restart history not recalled: the hourly limit starts afresh", "err", err)
	}
	d.router, err = commands.NewRouter(commands.Deps{
		Inventory: d.store, Docker: dockerActions{d.coll}, Alerts: alertActions{d}, Audit: d.store,
		Hosts: d.store, Announcer: announcer{d}, Refresher: d,
	}, cfg.commandsConfig(cfg.buttonSecret(log, withBots)), commands.Options{Logger: log.With("part", "commands")})
	if err != nil {
		d.close()
		return nil, err
	}
	d.reg = prometheus.NewRegistry()
	d.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	d.metrics = statuspage.NewMetrics(d.reg)
	d.platforms = cfg.platforms()
	if !withBots {
		return d, nil
	}
	if cfg.Ntfy.Topic != "" {
		ncfg, role := cfg.ntfyConfig()
		s, err := ntfy.New(ncfg, d.router, httpClient(), log.With("part", "ntfy"))
		if err != nil {
			d.close()
			return nil, err
		}
		d.senders = append(d.senders, s)
		_ = role
	}
	if cfg.Discord.Token.value != "" {
		b, err := discord.New(cfg.discordConfig(), d.router, discord.Options{Logger: log.With("part", "discord"), HTTPClient: httpClient(), APIBase: cfg.Discord.APIBase})
		if err != nil {
			d.close()
			return nil, err
		}
		d.senders = append(d.senders, b)
		d.bots = append(d.bots, b)
	}
	if cfg.Telegram.Token.value != "" {
		b, err := newTelegram(cfg, d.router, log)
		if err != nil {
			d.close()
			return nil, err
		}
		d.senders = append(d.senders, b)
		d.bots = append(d.bots, b)
	}
	d.disp = bot.NewDispatcher(d.store, d.senders, bot.DispatcherOptions{
		Logger:  log.With("part", "outbox"),
		Metrics: d.metrics.NotificationSent,
	})
	if !cfg.statusEnabled() {
		return d, nil
	}
	scfg := cfg.statusConfig()
	scfg.Gatherer = d.reg
	d.page, err = statuspage.New(scfg, log.With("part", "statuspage"))
	if err != nil {
		d.close()
		return nil, err
	}
	return d, nil
}

func (d *daemon) close() {
	if d.page != nil {
		d.page.Close()
	}
	if d.coll != nil {
		d.coll.Close()
	}
	if d.store != nil {
		d.store.Close()
	}
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	path := configFlag(fs)
	once := fs.Bool("once", false, "collect every host once, evaluate alerts, and exit")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := readConfig(*path)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	d, err := newDaemon(ctx, cfg, log, true)
	if err != nil {
		return err
	}
	defer d.close()
	if *once {
		d.cycle(ctx, true)
		fmt.Fprintf(stdout, "collected %d host(s) into %s\n", len(d.hosts), cfg.Data)
		return nil
	}
	return d.run(ctx)
}

// run serves until ctx ends, then shuts down in order: stop taking work,
// let in-flight deliveries finish, close the store last.
func (d *daemon) run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	if d.page != nil {
		if err := d.serve(gctx, g); err != nil {
			return err
		}
	} else {
		d.log.Info("deckhand started", "hosts", len(d.hosts), "database", d.cfg.Data, "status_page", "off", "notify", d.platforms)
	}
	if len(d.senders) > 0 {
		g.Go(func() error { return d.disp.Run(gctx) })
	}
	for _, b := range d.bots {
		g.Go(func() error {
			if err := b.Run(gctx); err != nil && gctx.Err() == nil {
				d.log.Error("chat bot stopped", "err", err)
			}
			return nil
		})
	}

	// First a full collection, so the page and the alerts start from facts.
	d.refreshPage(gctx, true)
	d.cycle(gctx, true) // leaves a rebuild asked for: the worker does it at once
	g.Go(func() error { d.pageWorker(gctx); return nil })

	for _, h := range d.hosts {
		ch := d.triggers[h]
		g.Go(func() error { d.hostWorker(gctx, h, ch); return nil })
		if d.cfg.Collector.Events == nil || *d.cfg.Collector.Events {
			g.Go(func() error { d.watchEvents(gctx, h); return nil })
		}
	}

	c := cron.New(cron.WithChain(cron.Recover(cronLogger{d.log}), cron.SkipIfStillRunning(cronLogger{d.log})))
	every := func(dur time.Duration, fn func()) {
		c.Schedule(cron.Every(dur), cron.FuncJob(fn))
	}
	every(d.cfg.Collector.Interval.or(15*time.Second), func() { d.cycle(gctx, false) })
	every(d.cfg.Collector.InventoryInterval.or(5*time.Minute), func() { d.inventory(gctx) })
	every(time.Minute, func() { d.maintain(gctx) })
	every(d.cfg.Collector.Retention.or(time.Hour), func() { d.prune(gctx) })
	c.Start()
	close(d.started)
	<-gctx.Done()
	<-c.Stop().Done()
	err := g.Wait()
	d.log.Info("deckhand stopped")
	return err
}

// serve starts the status page's listener (with /metrics, /healthz and
// /hooks/ntfy) in g until gctx ends.
func (d *daemon) serve(gctx context.Context, g *errgroup.Group) error {
	ln := d.ln
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", d.cfg.Status.Listen); err != nil {
			return fmt.Errorf("status page: %w", err)
		}
	}
	d.log.Info("deckhand started", "hosts", len(d.hosts), "database", d.cfg.Data,
		"status_page", "http://"+ln.Addr().String(), "notify", d.platforms)

	mux := http.NewServeMux()
	if d.cfg.Ntfy.Topic != "" {
		_, role := d.cfg.ntfyConfig()
		mux.Handle("/hooks/ntfy", ntfy.CallbackHandler(d.router.TokenHandler(role), d.log.With("part", "ntfy")))
	}
	mux.Handle("/", d.page.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 2 * time.Minute}
	g.Go(func() error {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("status page: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		d.page.Close() // ends /events streams, which Shutdown would wait for
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	})
	return nil
}

// cycle collects every enabled host (containers; images and volumes too
// when full), then evaluates alerts once and refreshes the page.
func (d *daemon) cycle(ctx context.Context, full bool) {
	snaps := d.collectAll(ctx, full)
	if ctx.Err() != nil {
		return
	}
	for _, s := range snaps {
		d.record(ctx, s)
	}
	d.evaluate(ctx, true)
	d.pageChanged()
}

func (d *daemon) inventory(ctx context.Context) { d.cycle(ctx, true) }

// collectAll collects every host that is enabled in the store (an admin can
// /disable-host one for maintenance), at most collector.concurrency at a time.
// Once the daemon runs, it waits at most one interval: a host that answers
// late (up to its command timeout) records itself when done instead of
// holding back every other host's cycle, and is not asked again meanwhile.
func (d *daemon) collectAll(ctx context.Context, full bool) []deckhand.Snapshot {
	limit := d.cfg.Collector.Concurrency
	if limit <= 0 {
		limit = collector.DefaultConcurrency
	}
	sem := make(chan struct{}, limit)
	results := make(chan deckhand.Snapshot)
	abandoned := make(chan struct{})
	defer close(abandoned)
	disabled := d.disabledHosts(ctx)
	n := 0
	for _, h := range d.hosts {
		if _, busy := d.collecting.LoadOrStore(h, true); busy {
			continue
		}
		n++
		go func() {
			sem <- struct{}{}
			s := d.collectOne(ctx, h, full, disabled[h])
			<-sem
			d.collecting.Delete(h)
			select {
			case results <- s:
			case <-abandoned:
				if ctx.Err() == nil {
					d.record(ctx, s)
				}
			}
		}()
	}
	var late <-chan time.Time
	select {
	case <-d.started:
		late = time.After(d.cfg.Collector.Interval.or(15 * time.Second))
	default: // the first collection and --once wait for every host
	}
	snaps := make([]deckhand.Snapshot, 0, n)
	for len(snaps) < n {
		select {
		case s := <-results:
			snaps = append(snaps, s)
		case <-late:
			return snaps
		}
	}
	return snaps
}

// disabledHosts reads which hosts an admin disabled from chat: one query
// per cycle, not one per host.
func (d *daemon) disabledHosts(ctx context.Context) map[string]bool {
	hosts, err := d.store.Hosts(ctx)
	if err != nil {
		d.log.Error("read hosts", "err", err)
		return nil
	}
	off := map[string]bool{}
	for _, h := range hosts {
		off[h.Name] = !h.Enabled
	}
	return off
}

func (d *daemon) collectOne(ctx context.Context, host string, full, disabled bool) deckhand.Snapshot {
	if disabled {
		now := d.now()
		return deckhand.Snapshot{Host: deckhand.Host{Name: host, Status: deckhand.HostDisabled, LastCollectAt: now},
			CollectedAt: now, Err: fmt.Errorf("%s: %w", host, deckhand.ErrHostDisabled)}
	}
	return d.coll.Collect(ctx, host, full)
}

// collectHost re-collects one host now (after an event or an action).
func (d *daemon) collectHost(ctx context.Context, host string) {
	s := d.collectOne(ctx, host, false, d.disabledHosts(ctx)[host])
	if ctx.Err() != nil {
		return
	}
	d.record(ctx, s)
	d.evaluate(ctx, false)
	d.pageChanged()
}

func (d *daemon) record(ctx context.Context, s deckhand.Snapshot) {
	if errors.Is(s.Err, deckhand.ErrHostDisabled) {
		// Keep the host's last facts; the alert engine freezes a disabled host.
		d.snapMu.Lock()
		d.snaps[s.Host.Name] = s
		d.snapMu.Unlock()
		return
	}
	if err := d.store.SaveSnapshot(ctx, s); err != nil {
		d.log.Error("save snapshot", "host", s.Host.Name, "err", err)
	}
	d.metrics.ObserveCollect(s.Host.Name, s.Duration, s.Err == nil)
	if s.Err != nil {
		d.log.Warn("host not collected", "host", s.Host.Name, "status", s.Host.Status, "reason", s.Err)
	}
	d.snapMu.Lock()
	d.snaps[s.Host.Name] = s
	d.snapMu.Unlock()
}

func (d *daemon) snapshots() []deckhand.Snapshot {
	d.snapMu.Lock()
	defer d.snapMu.Unlock()
	out := make([]deckhand.Snapshot, 0, len(d.snaps))
	for _, s := range d.snaps {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Host.Name < out[j].Host.Name })
	return out
}

// evaluate runs the alert engine on the latest snapshots and persists its
// transitions and notices in one transaction. sample records availability
// for the status page's history (on the polling cadence only, so that a
// burst of events does not weigh more than a quiet minute).
func (d *daemon) evaluate(ctx context.Context, sample bool) {
	d.evalMu.Lock()
	defer d.evalMu.Unlock()
	now := d.now()
	active, err := d.store.ActiveAlerts(ctx)
	if err != nil {
		d.log.Error("read alerts", "err", err)
		return
	}
	silences, err := d.store.ActiveSilences(ctx, now)
	if err != nil {
		d.log.Error("read silences", "err", err)
		return
	}
	recent, _ := d.store.RecentAlerts(ctx, now.Add(-d.cfg.Alerts.Cooldown.or(alerts.DefaultCooldown)), 200)
	snaps := d.snapshots()
	res := d.engine.Evaluate(alerts.Input{Now: now, Snapshots: snaps, Active: active, Silences: silences, Recent: recent})
	if len(res.Changed) > 0 || len(res.Notices) > 0 {
		if err := d.store.ApplyAlerts(ctx, res.Changed, res.Notices, d.platforms); err != nil {
			d.log.Error("save alerts", "err", err)
			return
		}
		for _, n := range res.Notices {
			d.log.Info("alert", "kind", n.Kind, "host", n.Alert.Key.Host, "container", n.Alert.Key.Container, "alert", n.Alert.Key.Kind, "text", n.Text)
		}
		d.kick()
	}
	for _, o := range res.Restarts {
		go d.autoRestart(context.WithoutCancel(ctx), o)
	}
	if sample {
		d.sample(ctx, now, snaps)
	}
}

func (d *daemon) kick() {
	if d.disp != nil {
		d.disp.Kick()
	}
}

// autoRestartActor is who the audit log says did an automatic restart.
var autoRestartActor = deckhand.Actor{Platform: "deckhand", UserID: "auto_restart", Name: "auto-restart", Role: deckhand.RoleOperator}

// recallAutoRestarts hands the engine the automatic restarts of its window
// from the audit log, so that their limit survives a restart of deckhand.
func recallAutoRestarts(ctx context.Context, st *store.Store, engine *alerts.Engine, now time.Time) error {
	entries, err := st.AuditBy(ctx, autoRestartActor.Platform, autoRestartActor.UserID, now.Add(-engine.AutoRestartWindow()))
	if err != nil {
		return err
	}
	byContainer := map[[2]string][]time.Time{}
	for _, e := range entries {
		k := [2]string{e.Host, e.Target}
		byContainer[k] = append(byContainer[k], e.At)
	}
	for k, at := range byContainer {
		engine.RecallAutoRestarts(k[0], k[1], at)
	}
	return nil
}

// autoRestart performs one bounded automatic restart, audits it and
// announces it in the alert.
func (d *daemon) autoRestart(ctx context.Context, o alerts.RestartOrder) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	start := d.now()
	target := o.ContainerID
	if target == "" {
		target = o.Container
	}
	err := d.coll.Restart(ctx, o.Host, target)
	result, detail := "ok", fmt.Sprintf("automatic restart %d", o.Attempt)
	if err != nil {
		result, detail = "error", err.Error()
	}
	_ = d.store.AddAudit(ctx, deckhand.AuditEntry{At: start, Actor: autoRestartActor,
		Action: deckhand.ActionRestart, Host: o.Host, Target: o.Container, Result: result, Detail: detail, Duration: d.now().Sub(start)})
	d.log.Info("auto-restart", "host", o.Host, "container", o.Container, "attempt", o.Attempt, "err", err)
	d.evalMu.Lock()
	n := d.engine.RestartDone(o, err, d.now())
	if n != nil {
		if active, aerr := d.store.ActiveAlerts(ctx); aerr == nil {
			for _, a := range active {
				if a.Key == n.Alert.Key {
					n.Alert = a
				}
			}
		}
		if err := d.store.ApplyAlerts(ctx, nil, []deckhand.Notice{*n}, d.platforms); err != nil {
			d.log.Error("save auto-restart notice", "err", err)
		}
	}
	d.evalMu.Unlock()
	d.kick()
	d.Refresh(ctx, o.Host)
}

// Refresh asks for a re-collect of a host now (commands.Refresher).
func (d *daemon) Refresh(_ context.Context, host string) {
	if ch, ok := d.triggers[host]; ok {
		select {
		case ch <- struct{}{}:
		default: // one is already queued: it will see this change too
		}
	}
}

// hostWorker serialises on-demand collections of one host and coalesces
// bursts of triggers (a `docker stop` emits kill, die, stop) into one.
func (d *daemon) hostWorker(ctx context.Context, host string, ch <-chan struct{}) {
	const settle = 50 * time.Millisecond
	for {
		select {
		case <-ctx.Done():
			return
		case <-ch:
		}
		t := time.NewTimer(settle)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		d.collectHost(ctx, host)
	}
}

// watchEvents keeps a `docker events` stream open to one host. Each
// container event triggers a re-collect of that host; after the stream
// drops, a full collect catches what the daemon did not replay.
func (d *daemon) watchEvents(ctx context.Context, host string) {
	backoff := []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second}
	failures := 0
	for ctx.Err() == nil {
		started := d.now()
		err := d.coll.Events(ctx, host, func(ev collector.Event) {
			d.log.Debug("docker event", "host", host, "container", ev.Name, "action", ev.Action)
			d.Refresh(ctx, host)
		})
		if ctx.Err() != nil {
			return
		}
		if d.now().Sub(started) > time.Minute {
			failures = 0
		}
		wait := backoff[min(failures, len(backoff)-1)]
		failures++
		d.log.Debug("events stream ended", "host", host, "err", err, "retry_in", wait)
		d.Refresh(ctx, host)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// sample records one polling interval of availability for every public or
// monitored container: the history behind the status page's uptime bars.
func (d *daemon) sample(ctx context.Context, now time.Time, snaps []deckhand.Snapshot) {
	span := d.cfg.Collector.Interval.or(15 * time.Second)
	if !d.lastSample.IsZero() {
		if gap := now.Sub(d.lastSample); gap < span {
			span = gap
		}
	}
	if d.lastSample.IsZero() {
		// The page's history was read before anything was recorded.
		d.uptimeMu.Lock()
		d.uptimeAt = time.Time{}
		d.uptimeMu.Unlock()
	}
	d.lastSample = now
	var samples []store.Availability
	for _, s := range snaps {
		ctrs := s.Containers
		hostDown := s.Err != nil
		if hostDown {
			// The host did not answer: its containers are unreachable for the people using them.
			known, err := d.store.Containers(ctx, s.Host.Name)
			if err != nil {
				continue
			}
			ctrs = known
		}
		for _, c := range ctrs {
			if !c.Public() && !d.engine.Monitored(c) {
				continue
			}
			up := !hostDown && (c.State == c.Desired() || (c.Desired() == deckhand.StateRunning && c.Up())) && c.Health != deckhand.HealthUnhealthy
			_, maint := d.engine.InMaintenance(c.Host, c.ComposeProject, c.Name, now)
			samples = append(samples, store.Availability{Host: s.Host.Name, Container: c.Name, Up: up, Maintenance: maint})
		}
	}
	if len(samples) == 0 {
		return
	}
	if err := d.store.RecordAvailability(ctx, now, span, samples); err != nil {
		d.log.Error("record availability", "err", err)
	}
}

// maintain runs every minute: reminders, silences that ended, maintenance
// windows that closed — all decided by the engine — and gauges.
func (d *daemon) maintain(ctx context.Context) {
	d.evaluate(ctx, false)
	if depth, err := d.store.OutboxDepth(ctx); err == nil {
		for _, p := range d.platforms {
			d.metrics.SetOutboxDepth(p, depth[p])
		}
	}
}

func (d *daemon) prune(ctx context.Context) {
	st, err := d.store.Prune(ctx, d.now())
	if err != nil {
		d.log.Error("prune", "err", err)
		return
	}
	d.log.Debug("pruned", "stats", fmt.Sprintf("%+v", st))
}

const pageEvery = 250 * time.Millisecond

// pageChanged asks for a page rebuild; it never blocks.
func (d *daemon) pageChanged() {
	select {
	case d.pageDirty <- struct{}{}:
	default: // a rebuild is already asked for and will see this change
	}
}

// pageWorker rebuilds the page when asked, at most once per pageEvery.
func (d *daemon) pageWorker(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.pageDirty:
		}
		d.refreshPage(ctx, false)
		select {
		case <-ctx.Done():
			return
		case <-time.After(pageEvery):
		}
	}
}

// refreshPage rebuilds the status page's in-memory view from the store.
// Uptime history is re-read at most once a minute: it changes slowly and is
// the expensive part.
func (d *daemon) refreshPage(ctx context.Context, force bool) {
	if d.page == nil {
		return
	}
	now := d.now()
	hosts, err := d.store.Hosts(ctx)
	if err != nil {
		d.log.Error("status page: hosts", "err", err)
		return
	}
	ctrs := d.pageContainers(ctx, hosts)
	active, _ := d.store.ActiveAlerts(ctx)
	recent, _ := d.store.RecentAlerts(ctx, now.Add(-90*24*time.Hour), 50)
	var past []deckhand.Alert
	for _, a := range recent {
		if a.State == deckhand.AlertClosed {
			past = append(past, a)
		}
	}
	anns, _ := d.store.Announcements(ctx, now)
	maint := map[statuspage.ContainerKey]string{}
	up, down := 0, 0
	states := map[string]int{}
	for _, c := range ctrs {
		states[string(c.State)]++
		if name, ok := d.engine.InMaintenance(c.Host, c.ComposeProject, c.Name, now); ok {
			maint[statuspage.ContainerKey{Host: c.Host, Container: c.Name}] = name
		}
	}
	for _, h := range hosts {
		if h.Enabled && h.Status == deckhand.HostOK {
			up++
		} else if h.Enabled {
			down++
		}
	}
	d.metrics.SetHostsUp(up)
	for _, st := range []deckhand.ContainerState{deckhand.StateRunning, deckhand.StateExited, deckhand.StatePaused, deckhand.StateRestarting, deckhand.StateCreated, deckhand.StateDead} {
		d.metrics.SetContainers(string(st), states[string(st)])
	}
	open := 0
	for _, a := range active {
		if a.State == deckhand.AlertOpen || a.State == deckhand.AlertAcked {
			open++
		}
	}
	d.metrics.SetAlertsOpen(open)
	d.page.Update(statuspage.View{
		GeneratedAt: now, Hosts: hosts, Containers: ctrs, Active: active, Recent: past,
		Uptime: d.uptimeSeries(ctx, now, force), Maintenance: maint, Announcements: anns,
	})
}

// pageContainers is every host's containers for the page: the latest
// collection's from memory, and the store's last known ones for a host
// whose latest collection failed, is disabled or has not run yet (a down
// host still lists what it ran). Reading all of them back from SQLite on
// every rebuild was a third of what the daemon allocated at 200 hosts.
func (d *daemon) pageContainers(ctx context.Context, hosts []deckhand.Host) []deckhand.Container {
	d.snapMu.Lock()
	fresh := make(map[string][]deckhand.Container, len(d.snaps))
	n := 0
	for name, s := range d.snaps {
		if s.Err == nil {
			fresh[name] = s.Containers
			n += len(s.Containers)
		}
	}
	d.snapMu.Unlock()
	out := make([]deckhand.Container, 0, n)
	for _, h := range hosts {
		if cs, ok := fresh[h.Name]; ok {
			out = append(out, cs...)
			continue
		}
		cs, err := d.store.Containers(ctx, h.Name)
		if err != nil {
			d.log.Error("status page: containers", "host", h.Name, "err", err)
			continue
		}
		out = append(out, cs...)
	}
	return out
}

func (d *daemon) uptimeSeries(ctx context.Context, now time.Time, force bool) map[statuspage.ContainerKey]statuspage.UptimeSeries {
	d.uptimeMu.Lock()
	cached := d.uptime
	fresh := cached != nil && now.Sub(d.uptimeAt) < time.Minute
	if cached != nil && !fresh && !force && !d.uptimeBusy {
		// Re-read in the background: on a large fleet these queries take
		// seconds, and a detection must not wait for history bars.
		d.uptimeBusy = true
		go func() {
			out := d.readUptime(ctx, now)
			d.uptimeMu.Lock()
			d.uptime, d.uptimeAt, d.uptimeBusy = out, now, false
			d.uptimeMu.Unlock()
			d.pageChanged()
		}()
	}
	d.uptimeMu.Unlock()
	if cached != nil && !force {
		return cached
	}
	out := d.readUptime(ctx, now)
	d.uptimeMu.Lock()
	d.uptime, d.uptimeAt = out, now
	d.uptimeMu.Unlock()
	return out
}

// readUptime reads the bars' buckets: hourly for the last day, daily for
// 90 days (the week and month bars are the tail of the same buckets, one per
// day with gaps included).
func (d *daemon) readUptime(ctx context.Context, now time.Time) map[statuspage.ContainerKey]statuspage.UptimeSeries {
	out, err := readUptime(ctx, d.store, now)
	if err != nil && ctx.Err() == nil {
		d.log.Error("status page: uptime", "err", err)
	}
	return out
}

// readUptime is the status page's history, straight from the store, one
// container at a time into the page's packed form: at 8000 containers the
// store's buckets for all of them at once were 85 MB.
func readUptime(ctx context.Context, st *store.Store, now time.Time) (map[statuspage.ContainerKey]statuspage.UptimeSeries, error) {
	out := map[statuspage.ContainerKey]statuspage.UptimeSeries{}
	read := func(res string, since time.Duration, set func(*statuspage.UptimeSeries, []deckhand.UptimeBucket)) error {
		return st.UptimeEach(ctx, res, now.Add(-since), now, func(k store.ContainerKey, b []deckhand.UptimeBucket) {
			key := statuspage.ContainerKey{Host: k.Host, Container: k.Container}
			s := out[key]
			set(&s, b)
			out[key] = s
		})
	}
	return out, errors.Join(
		read(store.Res1h, 24*time.Hour, (*statuspage.UptimeSeries).SetDay),
		read(store.Res1d, 90*24*time.Hour, (*statuspage.UptimeSeries).SetQuarter),
	)
}

// cronLogger adapts slog to cron's logger.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug("cron: "+msg, kv...) }
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append(kv, "err", err)...)
}
