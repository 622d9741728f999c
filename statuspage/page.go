package statuspage

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/deckhand/deckhand"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Link is one entry of the page footer.
type Link struct {
	Label string `toml:"label"`
	URL   string `toml:"url"`
}

// Config is the status page's part of config.toml.
type Config struct {
	Title   string `toml:"title"`    // shown in the header and the <title>; "Status" when empty
	LogoURL string `toml:"logo_url"` // http(s) URL or a path on this site; an absolute URL's origin is added to img-src
	Footer  []Link `toml:"footer"`
	// PublicURL is where the page is reachable from outside, used for the
	// canonical link; empty leaves it out.
	PublicURL string `toml:"public_url"`
	// Announcements are Markdown notices from the config file, shown before
	// the ones posted from chat.
	Announcements []string `toml:"announcements"`
	// DetailLimit is how many public containers the front page lists with
	// their uptime bars; above it the front page summarises each host and
	// lists only the containers that need attention, and /host/{name} has
	// the detail. 0 means 200.
	DetailLimit int `toml:"detail_limit"`
	// MaxEventClients bounds concurrent /events streams; 0 means 256.
	MaxEventClients int `toml:"max_event_clients"`
	// Metrics says where /metrics is served: MetricsOnPage (the default,
	// also ""), MetricsOff, or a host:port of its own listener (see
	// MetricsAddr and MetricsHandler). Its series tell how many hosts and
	// containers exist and which are down, which a public page may not
	// want to.
	Metrics string `toml:"metrics"`
	// Gatherer is what /metrics serves (typically the registry given to
	// NewMetrics); nil answers /metrics with 404.
	Gatherer prometheus.Gatherer `toml:"-"`
	// Down, when set, says why deckhand cannot do its job ("" when it
	// can): /healthz then answers 503 with it.
	Down func() string `toml:"-"`
}

// Where /metrics is served (Config.Metrics), besides a host:port.
const (
	MetricsOnPage = "page"
	MetricsOff    = "off"
)

// metricsOnPage reports whether the page's own handler serves /metrics.
func (c Config) metricsOnPage() bool { return c.Metrics == "" || c.Metrics == MetricsOnPage }

// MetricsAddr is the address of /metrics' own listener; "" when it has
// none (on the page, or off).
func (c Config) MetricsAddr() string {
	if c.metricsOnPage() || c.Metrics == MetricsOff {
		return ""
	}
	return c.Metrics
}

// ContainerKey names one container on one host.
type ContainerKey struct{ Host, Container string }

// View is the in-memory model the page renders. cmd/deckhand builds it from
// the store after each collection; the page filters it again itself, so a
// View may safely hold private data.
type View struct {
	GeneratedAt time.Time
	// Hosts: only Name, Status and LastCollectAt are ever shown; never
	// addresses or LastError.
	Hosts []deckhand.Host
	// Containers: only those Watch.Public accepts are shown. Their
	// "since" is Docker's (Container.Since).
	Containers []deckhand.Container
	// Watch is the configured watchlist (alerts.Engine.Watchlist): which
	// containers are public.
	Watch deckhand.Watchlist
	// Checking names the enabled hosts not collected yet since deckhand
	// started: the store's status of them is the previous run's. They, and
	// their containers, read "checking", and the banner is never
	// "operational" while one is left. A host whose status is
	// deckhand.HostUnknown reads "checking" without being named here.
	Checking []string
	// Intents are the deliberate stops and removals through deckhand: a
	// container one explains is stopped on purpose, not down.
	Intents []deckhand.Intent
	Active  []deckhand.Alert // open problems; only incidents (deckhand.Alert.Incident) are shown
	Recent  []deckhand.Alert // past incidents (closed), newest first
	Uptime  map[ContainerKey]UptimeSeries
	// Maintenance holds the containers currently in a maintenance window,
	// with the window's public description.
	Maintenance   map[ContainerKey]string
	Announcements []deckhand.Announcement
}

// Page is the status site. It is safe for concurrent use: Update may run
// while requests are served.
type Page struct {
	cfg       Config
	logger    *slog.Logger
	tmpl      *template.Template
	static    map[string]staticFile
	staticVer map[string]string // file name → content hash, for cache-busting URLs
	config    []template.HTML   // rendered config announcements
	csp       string
	snap      atomic.Pointer[snapshot]
	events    *broker
	heartbeat time.Duration
}

// doc is one pre-rendered response body with its validators. The gzip
// variant is computed on first demand: most updates are never fetched
// compressed.
type doc struct {
	body  []byte
	etag  string
	ctype string

	gzOnce sync.Once
	gzBody []byte
	gzETag string
}

func newDoc(body []byte, ctype string) *doc {
	return &doc{body: trimmed(body), etag: etagOf(body), ctype: ctype}
}

// trimmed returns b without the spare capacity a growing buffer leaves
// (up to half of it): a doc lives as long as its snapshot.
func trimmed(b []byte) []byte {
	if cap(b)-len(b) > len(b)/8 {
		return bytes.Clone(b)
	}
	return b
}

func (d *doc) gzipped() ([]byte, string) {
	d.gzOnce.Do(func() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		_, _ = zw.Write(d.body)
		_ = zw.Close()
		d.gzBody = trimmed(buf.Bytes())
		// A distinct validator per representation, as RFC 9110 requires
		// for strong ETags.
		d.gzETag = strings.TrimSuffix(d.etag, `"`) + `-gz"`
	})
	return d.gzBody, d.gzETag
}

func etagOf(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

type staticFile struct {
	doc  *doc
	name string
}

// New checks the configuration, parses the embedded templates and returns a
// page that shows "no data yet" until the first Update.
func New(cfg Config, logger *slog.Logger) (*Page, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if strings.TrimSpace(cfg.Title) == "" {
		cfg.Title = "Status"
	}
	if cfg.DetailLimit <= 0 {
		cfg.DetailLimit = 200
	}
	if cfg.MaxEventClients <= 0 {
		cfg.MaxEventClients = 256
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("statuspage: %w", err)
	}
	imgSrc := "'self' data:"
	if origin, _ := checkURL("", cfg.LogoURL, false); origin != "" {
		imgSrc += " " + origin
	}

	p := &Page{
		cfg:       cfg,
		logger:    logger,
		static:    map[string]staticFile{},
		staticVer: map[string]string{},
		heartbeat: 15 * time.Second,
		csp: "default-src 'none'; style-src 'self'; script-src 'self'; img-src " + imgSrc +
			"; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
	}
	p.events = newBroker(cfg.MaxEventClients)
	if err := p.loadStatic(); err != nil {
		return nil, err
	}
	for i, md := range cfg.Announcements {
		h, err := renderMarkdown(md)
		if err != nil {
			return nil, fmt.Errorf("statuspage: announcements[%d]: %w", i, err)
		}
		p.config = append(p.config, h)
	}
	tmpl, err := template.New("").Funcs(p.funcs()).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("statuspage: parse templates: %w", err)
	}
	p.tmpl = tmpl
	s, err := p.build(View{})
	if err != nil {
		return nil, fmt.Errorf("statuspage: render empty view: %w", err)
	}
	p.snap.Store(s)
	return p, nil
}

// checkURL accepts http(s) URLs and site-relative paths (and mailto: when
// allowMailto), returning the origin of an absolute URL.
// Validate reports every problem of the configuration as a
// *deckhand.SettingError named by its key ("statuspage.logo_url").
func (c Config) Validate() error {
	var errs []error
	if c.LogoURL != "" {
		if _, err := checkURL("statuspage.logo_url", c.LogoURL, false); err != nil {
			errs = append(errs, err)
		}
	}
	for i, l := range c.Footer {
		key := fmt.Sprintf("statuspage.footer[%d]", i)
		if strings.TrimSpace(l.Label) == "" {
			errs = append(errs, deckhand.Invalid(key+".label", "required: the text of the link"))
		}
		if _, err := checkURL(key+".url", l.URL, true); err != nil {
			errs = append(errs, err)
		}
	}
	if c.PublicURL != "" {
		if origin, err := checkURL("statuspage.public_url", c.PublicURL, false); err != nil || origin == "" {
			errs = append(errs, deckhand.Invalid("statuspage.public_url", "%q must be an absolute http(s) URL", c.PublicURL))
		}
	}
	if err := checkMetrics(c.MetricsAddr()); err != nil {
		errs = append(errs, err)
	}
	for i, md := range c.Announcements {
		if _, err := renderMarkdown(md); err != nil {
			errs = append(errs, deckhand.Invalid(fmt.Sprintf("statuspage.announcements[%d]", i), "%v", err))
		}
	}
	return errors.Join(errs...)
}

// checkMetrics checks the address of /metrics' own listener ("" is none).
func checkMetrics(addr string) error {
	if addr == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || strings.ContainsAny(host, " /") {
		return deckhand.Invalid("statuspage.metrics", "%q is not %q, %q or host:port (e.g. 127.0.0.1:9100)", addr, MetricsOnPage, MetricsOff)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return deckhand.Invalid("statuspage.metrics", "port %q is not 0..65535", port)
	}
	return nil
}

// checkURL accepts an http(s) URL (returning its origin), a path on this
// site and, when allowMailto, a mailto: link.
func checkURL(key, raw string, allowMailto bool) (origin string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", deckhand.Invalid(key, "%q is not a URL", raw)
	}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" {
			return "", deckhand.Invalid(key, "%q has no host", raw)
		}
		return u.Scheme + "://" + u.Host, nil
	case "mailto":
		if allowMailto {
			return "", nil
		}
	case "":
		if u.Host == "" && strings.HasPrefix(u.Path, "/") {
			return "", nil
		}
	}
	if allowMailto {
		return "", deckhand.Invalid(key, "%q must be an http(s) or mailto: URL, or a path on this site", raw)
	}
	return "", deckhand.Invalid(key, "%q must be an http(s) URL or a path on this site", raw)
}

func (p *Page) loadStatic() error {
	return fs.WalkDir(staticFS, "static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(path)
		if err != nil {
			return fmt.Errorf("statuspage: read %s: %w", path, err)
		}
		name := strings.TrimPrefix(path, "static/")
		ctype := "application/octet-stream"
		switch {
		case strings.HasSuffix(name, ".css"):
			ctype = "text/css; charset=utf-8"
		case strings.HasSuffix(name, ".js"):
			ctype = "text/javascript; charset=utf-8"
		case strings.HasSuffix(name, ".svg"):
			ctype = "image/svg+xml"
		}
		d2 := newDoc(b, ctype)
		p.static[name] = staticFile{doc: d2, name: name}
		p.staticVer[name] = strings.Trim(d2.etag, `"`)[:10]
		return nil
	})
}

// Update swaps in a new snapshot: it filters the view, renders the front
// page and the JSON document once, and pushes the JSON to every live page.
// On a rendering failure the previous snapshot stays in place.
func (p *Page) Update(v View) {
	s, err := p.build(v)
	if err != nil {
		p.logger.Error("status page render failed; keeping the previous one", "err", err)
		return
	}
	p.snap.Store(s)
	p.events.publish(s.json.body)
}

// Close ends every open /events stream so that an http.Server can shut
// down; the page keeps serving everything else.
func (p *Page) Close() {
	p.events.close()
}

func (p *Page) current() *snapshot { return p.snap.Load() }

var errNoHost = errors.New("no such host")
