package collector

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"maps"
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
	seed        maphash.Seed // of the ps line hashes
	fullSlots   chan struct{}
	slots       chan struct{} // Concurrency: collections running at once
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
	lines    *lineCache // the last collection's containers
}

func (h *hostConn) argv(args ...string) []string {
	return append([]string{h.cfg.DockerPath}, args...)
}

// labelFilters are the host's Labels as docker filter arguments.
func (h *hostConn) labelFilters() []string {
	out := make([]string, 0, 2*len(h.cfg.Labels))
	for _, l := range h.cfg.Labels {
		out = append(out, "--filter", "label="+l)
	}
	return out
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
		seed:        maphash.MakeSeed(),
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
	full := opts.FullConcurrency
	if full <= 0 {
		full = DefaultFullConcurrency
	}
	c.fullSlots = make(chan struct{}, full)
	c.slots = make(chan struct{}, c.concurrency)
	backoff := opts.Backoff
	if len(backoff) == 0 {
		backoff = defaultBackoff
	}
	if err := errors.Join(opts.Validate(), ValidateHosts(hosts)); err != nil {
		return nil, err
	}
	known := newKnownHostsCache()
	for _, hc := range hosts {
		hc = hc.WithDefaults()
		h := &hostConn{cfg: hc}
		if hc.Transport == TransportLocal {
			h.tr = localTransport{}
		} else {
			h.tr = newSSHTransport(hc, c.log, c.now, backoff, &c.handshakes, known)
		}
		c.hosts[hc.Name] = h
		c.order = append(c.order, hc.Name)
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
	var g errgroup.Group // Collect bounds itself to Concurrency
	for i, name := range c.order {
		g.Go(func() error {
			snaps[i] = c.Collect(ctx, name, full)
			return nil
		})
	}
	_ = g.Wait()
	return snaps
}

// Collect runs one collection of one host. The container tier costs one
// command when no container changed since the last collection, two
// otherwise (ps, then one inspect for the changed ones; see containers);
// full inspects every container and adds docker version, images, volumes
// and the slow `system df -v`. The returned containers share memory with
// the next collection's: treat them as read-only. It never panics: any failure
// is in Snapshot.Err, classified with the deckhand sentinels, and in
// Snapshot.Host.Status / LastError.
func (c *Collector) Collect(ctx context.Context, host string, full bool) deckhand.Snapshot {
	m := modeFast
	if full {
		m = modeFull
	}
	snap, _ := c.collectMode(ctx, host, m)
	return snap
}

// CollectQuick is Collect for the fast path after an event: a container
// already known whose ps line changed (it died, started, turned
// unhealthy) is not inspected. Its state, health, exit code and status
// text come from ps, and what only inspect tells (restart count, start
// and finish times) is carried over from the last collection, so the
// alert decision costs one command. stale counts such containers: the
// caller collects again (Collect) to have them exact; until then they are
// inspected by every collection.
func (c *Collector) CollectQuick(ctx context.Context, host string) (snap deckhand.Snapshot, stale int) {
	return c.collectMode(ctx, host, modeQuick)
}

type mode int

const (
	modeFast  mode = iota // ps, inspect of what changed
	modeQuick             // ps, inspect of new containers only
	modeFull              // inspect everything, version, images, volumes
)

func (c *Collector) collectMode(ctx context.Context, host string, m mode) (snap deckhand.Snapshot, stale int) {
	full := m == modeFull
	start := c.now()
	snap.CollectedAt = start
	snap.Host = deckhand.Host{Name: host, Status: deckhand.HostUnknown, LastCollectAt: start}
	h, err := c.host(host)
	if err != nil {
		snap.Err = err
		snap.Host.Status = deckhand.HostError
		snap.Host.LastError = err.Error()
		return snap, 0
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
		return snap, 0
	}
	// Concurrency bounds every collection at once, whoever asks (the
	// monitor's per-host workers, CollectAll); full ones also take one of
	// the fewer full slots.
	slots := []chan struct{}{c.slots}
	if full {
		slots = append(slots, c.fullSlots)
	}
	for _, sl := range slots {
		select {
		case sl <- struct{}{}:
			defer func() { <-sl }()
		case <-ctx.Done():
			snap.Err = fmt.Errorf("%s: waiting for a collection slot: %w", host, deckhand.ErrTimeout)
			return snap, 0
		}
	}
	stale, err = c.collect(ctx, h, m, &snap)
	if err != nil {
		snap.Err = err
		snap.Full = false
	}
	return snap, stale
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
}

func (c *Collector) collect(ctx context.Context, h *hostConn, m mode, snap *deckhand.Snapshot) (stale int, err error) {
	full := m == modeFull
	h.mu.Lock()
	probe := full || !h.probed
	h.mu.Unlock()
	// The version is fetched once, then only on the slow tier: the fast tier
	// must stay at two commands, and ps reports a down daemon just as well.
	if probe {
		v, err := probeVersion(ctx, h)
		if err != nil {
			return 0, err
		}
		h.mu.Lock()
		h.versions, h.probed = v, true
		h.mu.Unlock()
	}

	ctrs, stale, err := c.containers(ctx, h, m)
	if err != nil {
		return 0, err
	}
	snap.Containers = ctrs
	if full {
		snap.Full = c.slowTier(ctx, h, snap)
	}
	return stale, nil
}

// containers runs ps, then one inspect for the containers whose ps line is
// new since the host's last collection (for every container when full).
// A line seen again means nothing inspect reports has changed: ps shows
// state, health, exit code and restarts in its Status text (so a start or
// stop changes the line, and with it StartedAt / FinishedAt), and a
// container's labels and image are fixed for its life. So a steady host
// costs one command, nothing is decoded twice, and an unchanged container
// shares its strings and labels with the previous snapshot. The full tier
// still inspects everything, which bounds what a stale entry could hide.
func (c *Collector) containers(ctx context.Context, h *hostConn, m mode) ([]deckhand.Container, int, error) {
	name := h.cfg.Name
	full := m == modeFull
	res, err := h.run(ctx, append([]string{"ps", "-a", "--no-trunc", "--format", psFormat}, h.labelFilters()...)...)
	if err := classify("docker ps", name, h.cfg.DockerPath, res, err); err != nil {
		return nil, 0, err
	}
	h.mu.Lock()
	last := h.lines
	h.mu.Unlock()
	var known map[string]int // by ID, built only when a quick collection needs it
	stale := 0
	n := bytes.Count(res.Stdout, []byte("\n")) + 1
	var (
		ctrs    = make([]deckhand.Container, 0, n)
		hashes  = make([]uint64, 0, n)
		exact   = make([]bool, 0, n) // reused from the cache, or inspected below
		raw     = map[int]psLabels{} // ps labels of the new lines, the fallback
		recheck []int                // reused, but inspected again because full
		inspect []string
		bad     []lineError
	)
	for i, l := range splitLines(res.Stdout) {
		sum := maphash.Bytes(c.seed, l)
		if j, ok := last.lookup(sum); ok {
			if full {
				recheck = append(recheck, len(ctrs))
				inspect = append(inspect, last.ctrs[j].ID)
			}
			ctrs, hashes, exact = append(ctrs, last.ctrs[j]), append(hashes, sum), append(exact, true)
			continue
		}
		ct, labels, err := parsePSLine(l)
		if err != nil {
			bad = append(bad, lineError{Line: i + 1, Err: err})
			continue
		}
		// Set before the cache is published: a concurrent collection of
		// this host may be copying its entries from then on.
		ct.Host = name
		if m == modeQuick {
			if known == nil {
				known = last.byID()
			}
			if j, ok := known[ct.ID]; ok {
				// Not cached as exact: the next collection inspects it.
				carryInspect(&ct, last.ctrs[j])
				ctrs, hashes, exact = append(ctrs, ct), append(hashes, sum), append(exact, false)
				stale++
				continue
			}
		}
		raw[len(ctrs)] = labels
		inspect = append(inspect, ct.ID)
		ctrs, hashes, exact = append(ctrs, ct), append(hashes, sum), append(exact, false)
	}
	if err := badLines("docker ps", name, len(ctrs), bad, res, c.log); err != nil {
		return nil, 0, err
	}
	if len(inspect) > 0 {
		info, err := c.inspect(ctx, h, inspect)
		if err != nil {
			return nil, 0, err
		}
		for i, labels := range raw {
			if in, ok := info[ctrs[i].ID]; ok {
				mergeInspect(&ctrs[i], in)
				exact[i] = true
			} else {
				setPSLabels(&ctrs[i], labels)
			}
		}
		// A reused container keeps its memory unless inspect now says
		// otherwise: a full cycle must not hold a second copy of every
		// container while the first is still the snapshot.
		for _, i := range recheck {
			in, ok := info[ctrs[i].ID]
			if !ok {
				continue
			}
			fresh := ctrs[i]
			mergeInspect(&fresh, in)
			if !sameInspect(fresh, ctrs[i]) {
				c.log.Info("container changed without its ps line changing", "host", name, "container", fresh.Name)
				ctrs[i] = fresh
			}
		}
	}
	next := &lineCache{ctrs: ctrs, byLine: make(map[uint64]int32, len(ctrs))}
	for i, sum := range hashes {
		if exact[i] {
			next.byLine[sum] = int32(i)
		}
	}
	h.mu.Lock()
	h.lines = next
	h.mu.Unlock()
	if len(ctrs) == 0 {
		return nil, stale, nil
	}
	return ctrs, stale, nil
}

// carryInspect gives a container read from a changed ps line what only
// inspect tells, as the last collection had it: labels and image are
// fixed for a container's life; restart count and times may be one
// collection late.
func carryInspect(ct *deckhand.Container, prev deckhand.Container) {
	ct.Labels, ct.ImageID, ct.CreatedAt = prev.Labels, prev.ImageID, prev.CreatedAt
	ct.RestartCount, ct.StartedAt, ct.FinishedAt = prev.RestartCount, prev.StartedAt, prev.FinishedAt
	ct.RestartPolicy = prev.RestartPolicy
	ct.ComposeProject, ct.ComposeService = prev.ComposeProject, prev.ComposeService
}

// inspect runs one docker inspect for ids. It fails only when the host hung
// or went away: inspect prints what it found even when an ID vanished since
// ps (exit 1, "No such object"), so its stdout is used whatever the exit
// code, and a container it did not return keeps what ps said.
func (c *Collector) inspect(ctx context.Context, h *hostConn, ids []string) (map[string]inspectLine, error) {
	args := append([]string{"inspect", "--format", inspectFormat}, ids...)
	res, err := h.run(ctx, args...)
	if err != nil && (errors.Is(err, deckhand.ErrTimeout) || errors.Is(err, deckhand.ErrUnreachable)) {
		return nil, classify("docker inspect", h.cfg.Name, h.cfg.DockerPath, res, err)
	}
	info, ibad := parseInspect(res.Stdout)
	if len(ibad) > 0 || res.ExitCode != 0 {
		c.log.Warn("docker inspect incomplete, using ps data for the rest", "host", h.cfg.Name,
			"exit", res.ExitCode, "bad_lines", len(ibad), "stderr", firstLine(string(res.Stderr)))
	}
	return info, nil
}

// sameInspect reports whether a and b agree on everything inspect reports.
func sameInspect(a, b deckhand.Container) bool {
	return a.ImageID == b.ImageID && a.RestartCount == b.RestartCount && a.CreatedAt.Equal(b.CreatedAt) &&
		a.StartedAt.Equal(b.StartedAt) && a.FinishedAt.Equal(b.FinishedAt) && maps.Equal(a.Labels, b.Labels)
}

// lineCache is a host's last collection: its containers, and which of them
// are exact (inspected) by a hash of their ps line. It is built by one
// collection and then only read. ctrs is also the slice that collection
// returned, so the snapshot callers hold and the cache share it.
type lineCache struct {
	ctrs   []deckhand.Container
	byLine map[uint64]int32
}

// byID indexes the cached containers by ID.
func (lc *lineCache) byID() map[string]int {
	if lc == nil {
		return map[string]int{}
	}
	out := make(map[string]int, len(lc.ctrs))
	for i, c := range lc.ctrs {
		out[c.ID] = i
	}
	return out
}

func (lc *lineCache) lookup(sum uint64) (int, bool) {
	if lc == nil {
		return 0, false
	}
	j, ok := lc.byLine[sum]
	return int(j), ok
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

// probeVersion runs docker version: the first command on a host, so its
// error says whether the host, SSH, the CLI or the daemon failed.
func probeVersion(ctx context.Context, h *hostConn) (Versions, error) {
	name := h.cfg.Name
	res, err := h.run(ctx, "version", "--format", jsonLineFormat)
	v, perr := ParseVersion(res.Stdout)
	cerr := classify("docker version", name, h.cfg.DockerPath, res, err)
	switch {
	case cerr != nil && (isClassified(cerr) || !errors.Is(perr, deckhand.ErrDaemonDown)):
		return v, cerr
	case errors.Is(perr, deckhand.ErrDaemonDown):
		msg := firstLine(string(res.Stderr))
		if msg == "" {
			msg = "server not reachable"
		}
		return v, fmt.Errorf("docker version on %s: %s: %w", name, msg, deckhand.ErrDaemonDown)
	case perr != nil:
		return v, fmt.Errorf("docker version on %s: %w", name, perr)
	}
	return v, nil
}
