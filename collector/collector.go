package collector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/deckhand/deckhand"
)

// Collector collects snapshots from and acts on a fixed set of hosts. It is
// safe for concurrent use.
type Collector struct {
	log         *slog.Logger
	now         func() time.Time
	concurrency int
	hosts       map[string]*hostConn
	order       []string
	handshakes  atomic.Int64
}

// hostConn is one host with its transport and what the last version probe
// learnt.
type hostConn struct {
	cfg HostConfig
	tr  transport

	mu       sync.Mutex
	versions Versions
	probed   bool
	lastOK   time.Time
}

func (h *hostConn) argv(args ...string) []string {
	return append([]string{h.cfg.DockerPath}, args...)
}

func (h *hostConn) run(ctx context.Context, args ...string) (result, error) {
	return h.tr.Run(ctx, h.argv(args...), runOpts{Timeout: h.cfg.CommandTimeout})
}

// New validates the host list and prepares one transport per host. It does
// no I/O: connections are opened on first use.
func New(hosts []HostConfig, opts Options) (*Collector, error) {
	c := &Collector{
		log:         opts.Logger,
		now:         opts.Now,
		concurrency: opts.Concurrency,
		hosts:       make(map[string]*hostConn, len(hosts)),
	}
	if c.log == nil {
		c.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.concurrency <= 0 {
		c.concurrency = DefaultConcurrency
	}
	backoff := opts.Backoff
	if len(backoff) == 0 {
		backoff = defaultBackoff
	}
	known := newKnownHostsCache()
	var errs []error
	for _, hc := range hosts {
		hc, err := hc.normalize()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if _, dup := c.hosts[hc.Name]; dup {
			errs = append(errs, fmt.Errorf("host %q is configured twice: %w", hc.Name, deckhand.ErrInvalidInput))
			continue
		}
		h := &hostConn{cfg: hc}
		if hc.Transport == TransportLocal {
			h.tr = localTransport{}
		} else {
			h.tr = newSSHTransport(hc, c.log, c.now, backoff, &c.handshakes, known)
		}
		c.hosts[hc.Name] = h
		c.order = append(c.order, hc.Name)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// Hosts lists the configured host names in configuration order.
func (c *Collector) Hosts() []string { return append([]string(nil), c.order...) }

func (c *Collector) host(name string) (*hostConn, error) {
	h, ok := c.hosts[name]
	if !ok {
		return nil, fmt.Errorf("host %q: %w", name, deckhand.ErrNotFound)
	}
	return h, nil
}

// Handshakes counts SSH handshakes started since New, over all hosts.
// Steady-state collection reuses connections, so it should stay at one per
// host.
func (c *Collector) Handshakes() int64 { return c.handshakes.Load() }

// Close closes every connection. Calls in flight fail.
func (c *Collector) Close() error {
	var errs []error
	for _, name := range c.order {
		if err := c.hosts[name].tr.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// CollectAll collects every enabled host, at most Concurrency at a time, and
// returns one snapshot per configured host in configuration order. Each
// host is bounded by its own timeouts, so a hung host only delays its own
// snapshot.
func (c *Collector) CollectAll(ctx context.Context, full bool) []deckhand.Snapshot {
	snaps := make([]deckhand.Snapshot, len(c.order))
	var g errgroup.Group
	g.SetLimit(c.concurrency)
	for i, name := range c.order {
		g.Go(func() error {
			snaps[i] = c.Collect(ctx, name, full)
			return nil
		})
	}
	_ = g.Wait()
	return snaps
}

// Collect runs one collection of one host. The container tier costs two
// commands (ps, then one inspect for all IDs); full adds docker version,
// images, volumes and the slow `system df -v`. It never panics: any failure
// is in Snapshot.Err, classified with the deckhand sentinels, and in
// Snapshot.Host.Status / LastError.
func (c *Collector) Collect(ctx context.Context, host string, full bool) (snap deckhand.Snapshot) {
	start := c.now()
	snap.CollectedAt = start
	snap.Host = deckhand.Host{Name: host, Status: deckhand.HostUnknown, LastCollectAt: start}
	h, err := c.host(host)
	if err != nil {
		snap.Err = err
		snap.Host.Status = deckhand.HostError
		snap.Host.LastError = err.Error()
		return snap
	}
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("collector panic", "host", host, "panic", r)
			snap.Err = fmt.Errorf("collecting %s: internal error: %v", host, r)
		}
		snap.Duration = c.now().Sub(start)
		c.finish(h, &snap)
	}()
	snap.Host.Transport = h.cfg.Transport
	snap.Host.Enabled = h.cfg.Enabled
	if !h.cfg.Enabled {
		snap.Err = fmt.Errorf("%s: %w", host, deckhand.ErrHostDisabled)
		return snap
	}
	if err := c.collect(ctx, h, full, &snap); err != nil {
		snap.Err = err
		snap.Full = false
	}
	return snap
}

func (c *Collector) finish(h *hostConn, snap *deckhand.Snapshot) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if snap.Err == nil {
		h.lastOK = snap.CollectedAt
	}
	snap.Host.DockerVersion = h.versions.Server
	snap.Host.ClientVersion = h.versions.Client
	snap.Host.APIVersion = h.versions.API
	snap.Host.LastOKAt = h.lastOK
	snap.Host.Status = deckhand.StatusOf(snap.Err)
	if snap.Err != nil {
		snap.Host.LastError = snap.Err.Error()
	}
	for i := range snap.Containers {
		snap.Containers[i].Host = h.cfg.Name
	}
}

func (c *Collector) collect(ctx context.Context, h *hostConn, full bool, snap *deckhand.Snapshot) error {
	name := h.cfg.Name
	h.mu.Lock()
	probe := full || !h.probed
	h.mu.Unlock()
	// The version is fetched once, then only on the slow tier: the fast tier
	// must stay at two commands, and ps reports a down daemon just as well.
	if probe {
		res, err := h.run(ctx, "version", "--format", jsonLineFormat)
		v, perr := ParseVersion(res.Stdout)
		cerr := classify("docker version", name, h.cfg.DockerPath, res, err)
		switch {
		case cerr != nil && (isClassified(cerr) || !errors.Is(perr, deckhand.ErrDaemonDown)):
			return cerr
		case errors.Is(perr, deckhand.ErrDaemonDown):
			msg := firstLine(string(res.Stderr))
			if msg == "" {
				msg = "server not reachable"
			}
			return fmt.Errorf("docker version on %s: %s: %w", name, msg, deckhand.ErrDaemonDown)
		case perr != nil:
			return fmt.Errorf("docker version on %s: %w", name, perr)
		}
		h.mu.Lock()
		h.versions, h.probed = v, true
		h.mu.Unlock()
	}

	ctrs, err := c.containers(ctx, h)
	if err != nil {
		return err
	}
	snap.Containers = ctrs
	if full {
		snap.Full = c.slowTier(ctx, h, snap)
	}
	return nil
}

// containers runs ps, then inspect on every listed ID.
func (c *Collector) containers(ctx context.Context, h *hostConn) ([]deckhand.Container, error) {
	name := h.cfg.Name
	res, err := h.run(ctx, "ps", "-a", "--no-trunc", "--format", psFormat)
	if err := classify("docker ps", name, h.cfg.DockerPath, res, err); err != nil {
		return nil, err
	}
	ctrs, rawLabels, bad := parsePS(res.Stdout)
	if err := badLines("docker ps", name, len(ctrs), bad, res, c.log); err != nil {
		return nil, err
	}
	if len(ctrs) == 0 {
		return ctrs, nil
	}
	args := []string{"inspect", "--format", inspectFormat}
	for _, ct := range ctrs {
		args = append(args, ct.ID)
	}
	res, err = h.run(ctx, args...)
	if err != nil {
		// A hung or lost inspect is the host's problem, not a detail.
		if errors.Is(err, deckhand.ErrTimeout) || errors.Is(err, deckhand.ErrUnreachable) {
			return nil, classify("docker inspect", name, h.cfg.DockerPath, res, err)
		}
	}
	// inspect prints what it found even when one ID vanished since ps (exit
	// 1, "No such object"), so its stdout is used whatever the exit code.
	info, ibad := parseInspect(res.Stdout)
	if len(ibad) > 0 || res.ExitCode != 0 {
		c.log.Warn("docker inspect incomplete, using ps data for the rest", "host", name,
			"exit", res.ExitCode, "bad_lines", len(ibad), "stderr", firstLine(string(res.Stderr)))
	}
	for i := range ctrs {
		if in, ok := info[ctrs[i].ID]; ok {
			mergeInspect(&ctrs[i], in)
		} else {
			psLabels(&ctrs[i], rawLabels[i])
		}
	}
	return ctrs, nil
}

// badLines logs unparseable lines and fails only when nothing at all could
// be read from a non-empty output.
func badLines(op, host string, good int, bad []lineError, res result, log *slog.Logger) error {
	if len(bad) == 0 {
		return nil
	}
	if good == 0 {
		return fmt.Errorf("%s on %s: %d unreadable lines (first: line %d: %v): %w", op, host, len(bad), bad[0].Line, bad[0].Err, deckhand.ErrBadOutput)
	}
	for _, b := range bad {
		log.Warn("skipping unreadable line", "op", op, "host", host, "line", b.Line, "err", b.Err)
	}
	return nil
}

// slowTier collects images, volumes and volume sizes. It is best effort:
// the host is fine if its containers were collected, and a false result
// tells the caller to keep the previous images and volumes.
func (c *Collector) slowTier(ctx context.Context, h *hostConn, snap *deckhand.Snapshot) bool {
	name := h.cfg.Name
	res, err := h.run(ctx, "images", "--no-trunc", "--format", jsonLineFormat)
	if err := classify("docker images", name, h.cfg.DockerPath, res, err); err != nil {
		c.log.Warn("images not collected", "host", name, "err", err)
		return false
	}
	imgs, bad := ParseImages(res.Stdout)
	if err := badLines("docker images", name, len(imgs), bad, res, c.log); err != nil {
		c.log.Warn("images not collected", "host", name, "err", err)
		return false
	}
	res, err = h.run(ctx, "volume", "ls", "--format", jsonLineFormat)
	if err := classify("docker volume ls", name, h.cfg.DockerPath, res, err); err != nil {
		c.log.Warn("volumes not collected", "host", name, "err", err)
		return false
	}
	vols, bad := ParseVolumes(res.Stdout)
	if err := badLines("docker volume ls", name, len(vols), bad, res, c.log); err != nil {
		c.log.Warn("volumes not collected", "host", name, "err", err)
		return false
	}
	if len(vols) > 0 {
		res, err = h.run(ctx, "system", "df", "-v", "--format", jsonLineFormat)
		if cerr := classify("docker system df", name, h.cfg.DockerPath, res, err); cerr != nil {
			c.log.Info("volume sizes not collected", "host", name, "err", cerr)
		} else if df, err := ParseSystemDF(res.Stdout); err != nil {
			c.log.Info("volume sizes not collected", "host", name, "err", err)
		} else {
			for i := range vols {
				if d, ok := df[vols[i].Name]; ok {
					vols[i].Size, vols[i].Links = d.Size, d.Links
				}
			}
		}
	}
	snap.Images, snap.Volumes = imgs, vols
	return true
}
