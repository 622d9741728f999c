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
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/deckhand/deckhand/alerts"
	"github.com/deckhand/deckhand/backlog"
	"github.com/deckhand/deckhand/bot"
	"github.com/deckhand/deckhand/bot/discord"
	"github.com/deckhand/deckhand/bot/ntfy"
	"github.com/deckhand/deckhand/collector"
	"github.com/deckhand/deckhand/commands"
	"github.com/deckhand/deckhand/monitor"
	"github.com/deckhand/deckhand/statuspage"
	"github.com/deckhand/deckhand/store"
)

// daemon is deckhand's parts wired together: the monitor loop (package
// monitor) and what surrounds it, the chat bots, the outbox's delivery
// workers and the status page's listener.
type daemon struct {
	cfg     *fileConfig
	log     *slog.Logger
	store   *store.Store
	backlog *backlog.Backlog // the store as the monitor and the outbox see it
	coll    *collector.Collector
	engine  *alerts.Engine
	mon     *monitor.Monitor
	router  *commands.Router
	disp    *bot.Dispatcher
	page    *statuspage.Page
	metrics *statuspage.Metrics
	reg     *prometheus.Registry
	senders []bot.Sender
	bots    []interface{ Run(context.Context) error }
	// health is what is wrong with deckhand's own parts.
	health *bot.Health

	platforms []string
	hosts     []string // enabled hosts, in config order
	withBots  bool     // the daemon, not `deckhand exec` or a test without chat

	// ln, when set before run, is used instead of listening on
	// statuspage.listen (tests pass a 127.0.0.1:0 listener).
	ln net.Listener
	// started is closed once every host was collected once (successfully
	// or not) and the workers are running. Nothing in deckhand waits for
	// it: the tests do.
	started chan struct{}
}

// newDaemon opens the store and builds every part; nothing runs yet.
// inventory, when not nil, replaces the store as the router's view of the
// hosts (`deckhand exec` collects only what a command names).
func newDaemon(ctx context.Context, cfg *fileConfig, log *slog.Logger, withBots bool) (*daemon, error) {
	d := &daemon{cfg: cfg, log: log, started: make(chan struct{}), withBots: withBots, health: bot.NewHealth()}
	var err error
	d.store, err = store.Open(ctx, cfg.Data)
	if err != nil {
		if errors.As(err, new(*store.OpenError)) {
			// The store names the path, the cause and the fix; the file's
			// key is ours to name.
			return nil, fmt.Errorf("%w (data = \"/path/to/deckhand.db\" in the config file chooses the database)", err)
		}
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
		}
	}
	d.coll, err = collector.New(hostCfgs, cfg.collectorOptions(log.With("part", "collector")))
	if err != nil {
		d.store.Close()
		return nil, err
	}
	d.engine, err = alerts.New(cfg.alertsConfig())
	if err != nil {
		d.close()
		return nil, err
	}
	d.reg = prometheus.NewRegistry()
	d.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	d.metrics = statuspage.NewMetrics(d.reg)
	d.platforms = cfg.platforms()
	d.backlog = backlog.New(d.store, backlog.Options{Platforms: d.platforms, Health: d.health, Metrics: d.metrics,
		Logger: log.With("part", "backlog")})
	if withBots && cfg.statusEnabled() {
		scfg := cfg.statusConfig()
		scfg.Gatherer = d.reg
		scfg.Down = d.health.Down
		if d.page, err = statuspage.New(scfg, log.With("part", "statuspage")); err != nil {
			d.close()
			return nil, err
		}
	}
	d.mon, err = monitor.New(cfg.monitorConfig(d.hosts, d.platforms), monitor.Deps{
		Store: d.backlog, Collector: d.coll, Engine: d.engine, Actor: routerActor{d},
		Page: d.page, Metrics: d.metrics, Kicker: kicker{d}, Logger: log.With("part", "monitor"),
	})
	if err != nil {
		d.close()
		return nil, err
	}
	d.router, err = commands.NewRouter(commands.Deps{
		Inventory: d.store, Docker: dockerActions{d.coll}, Alerts: d.mon, Audit: d.store,
		Hosts: d.store, Announcer: d.mon, Refresher: d.mon, Intents: d.store, Tokens: d.store,
		Health: healthLines{d.health},
	}, d.commandsConfig(), commands.Options{Logger: log.With("part", "commands")})
	if err != nil {
		d.close()
		return nil, err
	}
	if !withBots {
		return d, nil
	}
	if err := d.addBots(); err != nil {
		d.close()
		return nil, err
	}
	d.watchHealth()
	d.disp = bot.NewDispatcher(d.backlog, d.senders, bot.DispatcherOptions{
		Logger:  log.With("part", "outbox"),
		Metrics: d.metrics.NotificationSent,
		Health:  d.health,
	})
	return d, nil
}

// watchHealth wires what is wrong with deckhand's parts to
// deckhand_platform_up and to the admins on the other platforms.
func (d *daemon) watchHealth() {
	for _, p := range d.platforms {
		d.metrics.SetPlatformUp(p, true)
	}
	d.health.OnChange(func(p bot.Problem, _ bool) {
		if p.Platform != "" {
			d.metrics.SetPlatformUp(p.Platform, d.health.Up(p.Platform))
		}
	})
	d.health.OnChange(bot.TellAdmins(d.backlog, d.platforms, func() { d.disp.Kick() }, d.log.With("part", "outbox")))
}

// addBots builds the configured notification channels and chat bots.
func (d *daemon) addBots() error {
	cfg, log := d.cfg, d.log
	if cfg.Ntfy.Topic != "" {
		ncfg, _ := cfg.ntfyConfig()
		s, err := ntfy.New(ncfg, d.router, httpClient(), log.With("part", "ntfy"))
		if err != nil {
			return err
		}
		d.senders = append(d.senders, s)
	}
	if cfg.Discord.Token.value != "" {
		opts := cfg.discordOptions(log.With("part", "discord"))
		opts.Health, opts.HeartbeatTimeouts = d.health, d.metrics.DiscordHeartbeatTimeouts()
		b, err := discord.New(cfg.discordConfig(), d.router, opts)
		if err != nil {
			return err
		}
		d.senders = append(d.senders, b)
		d.bots = append(d.bots, b)
	}
	if cfg.Telegram.Token.value != "" {
		b, err := newTelegram(cfg, d.router, log, d.health, d.metrics.TelegramConflicts())
		if err != nil {
			return err
		}
		d.senders = append(d.senders, b)
		d.bots = append(d.bots, b)
	}
	return nil
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
	if !*once {
		applyMemoryLimit(ctx, cfg, log)
	}
	if *once {
		d.mon.RunOnce(ctx)
		d.flushBacklog()
		fmt.Fprintf(stdout, "collected %d host(s) into %s\n", len(d.hosts), cfg.Data)
		return nil
	}
	return d.run(ctx)
}

// serve runs the status page's listener (with /healthz, /hooks/ntfy and
// /metrics when statuspage.metrics = "page") in g until gctx ends.
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

// serveMetrics runs /metrics' own listener (statuspage.metrics =
// "host:port") in g until gctx ends and returns its address.
func (d *daemon) serveMetrics(gctx context.Context, g *errgroup.Group) (string, error) {
	ln, err := net.Listen("tcp", d.cfg.statusConfig().MetricsAddr())
	if err != nil {
		return "", fmt.Errorf("metrics listener: %w", err)
	}
	srv := &http.Server{Handler: statuspage.MetricsHandler(d.reg), ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 2 * time.Minute}
	g.Go(func() error {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("metrics listener: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	})
	return ln.Addr().String(), nil
}

// run serves until ctx ends, then shuts down in order: stop taking work,
// let in-flight deliveries finish, close the store last.
func (d *daemon) run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	if d.cfg.statusConfig().MetricsAddr() != "" {
		addr, err := d.serveMetrics(gctx, g)
		if err != nil {
			return err
		}
		d.log.Info("metrics listener started", "metrics", "http://"+addr+"/metrics")
	}
	if d.page == nil {
		d.log.Info("deckhand started", "hosts", len(d.hosts), "database", d.cfg.Data, "status_page", "off", "notify", d.platforms)
	} else if err := d.serve(gctx, g); err != nil {
		return err
	}
	if len(d.senders) > 0 {
		g.Go(func() error { return d.disp.Run(gctx) })
	}
	for _, b := range d.bots {
		g.Go(func() error {
			// Run retries every outage itself; an error is a bug
			// (Run called twice, commands no platform takes).
			if err := b.Run(gctx); err != nil && gctx.Err() == nil {
				d.log.Error("chat bot stopped for good", "err", err)
			}
			return nil
		})
	}

	g.Go(func() error { d.backlog.Run(gctx); return nil })
	g.Go(func() error { return d.mon.Run(gctx) })
	go func() {
		select {
		case <-d.mon.FirstPass():
			<-d.mon.Started()
			close(d.started)
		case <-gctx.Done():
		}
	}()
	<-gctx.Done()
	err := g.Wait()
	d.flushBacklog()
	d.log.Info("deckhand stopped")
	return err
}

// flushBacklog makes a last attempt at writing what the database could
// not take; what stays held is lost with the process, and the log says so.
func (d *daemon) flushBacklog() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.backlog.Flush(ctx); err != nil {
		reason, n := d.backlog.Holding()
		d.log.Error("stopping with notices held in memory: they are lost", "reason", reason, "items", n, "err", err)
	}
}
