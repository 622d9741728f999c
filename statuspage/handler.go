package statuspage

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const (
	cachePage = "public, max-age=10"
	// cacheFresh is for a page that says "checking": it changes within
	// seconds, and a browser must not hold on to it.
	cacheFresh  = "no-cache"
	cacheStatic = "public, max-age=31536000, immutable"
)

// Handler returns the whole site. Every response carries the security
// headers; anything but GET and HEAD is refused with 405.
func (p *Page) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		s := p.current()
		serveDoc(w, r, s.index, s.cache())
	})
	mux.HandleFunc("/host/{name}", p.serveHost)
	mux.HandleFunc("/api/status.json", func(w http.ResponseWriter, r *http.Request) {
		s := p.current()
		serveDoc(w, r, s.json, s.cache())
	})
	mux.HandleFunc("/badge/{host}/{file}", p.serveBadge)
	mux.HandleFunc("/events", p.serveEvents)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if p.cfg.Down != nil {
			if reason := p.cfg.Down(); reason != "" {
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = w.Write([]byte(reason + "\n"))
				return
			}
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	if p.cfg.Gatherer != nil && p.cfg.metricsOnPage() {
		mux.Handle("/metrics", promhttp.HandlerFor(p.cfg.Gatherer, promhttp.HandlerOpts{}))
	}
	mux.HandleFunc("/static/{file}", p.serveStatic)
	mux.HandleFunc("/", notFound)
	return p.secure(mux)
}

// MetricsHandler is /metrics on its own listener (Config.MetricsAddr):
// g's series to GET and HEAD, 404 for any other path.
func MetricsHandler(g prometheus.Gatherer) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	mux.HandleFunc("/", notFound)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (p *Page) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", p.csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func notFound(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, "not found", http.StatusNotFound)
}

func (p *Page) serveHost(w http.ResponseWriter, r *http.Request) {
	d, err := p.hostPage(p.current(), r.PathValue("name"))
	if errors.Is(err, errNoHost) {
		notFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	serveDoc(w, r, d, cachePage)
}

func (p *Page) serveStatic(w http.ResponseWriter, r *http.Request) {
	f, ok := p.static[r.PathValue("file")]
	if !ok {
		notFound(w, r)
		return
	}
	// Links carry ?v=<content hash>, so the bytes behind a URL never change.
	serveDoc(w, r, f.doc, cacheStatic)
}

// serveDoc writes a pre-rendered document, honouring If-None-Match and
// gzip.
func serveDoc(w http.ResponseWriter, r *http.Request, d *doc, cache string) {
	h := w.Header()
	body, etag := d.body, d.etag
	compressible := !strings.HasPrefix(d.ctype, "image/") || strings.HasPrefix(d.ctype, "image/svg")
	if compressible {
		h.Add("Vary", "Accept-Encoding")
		if len(body) > 1024 && acceptsGzip(r) {
			body, etag = d.gzipped()
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("Content-Type", d.ctype)
	h.Set("Cache-Control", cache)
	h.Set("ETag", etag)
	if etagMatches(r.Header.Get("If-None-Match"), etag) {
		h.Del("Content-Encoding")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			q := strings.ReplaceAll(params, " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

// etagMatches implements If-None-Match's weak comparison (RFC 9110 13.1.2).
func etagMatches(header, etag string) bool {
	if header == "" {
		return false
	}
	if strings.TrimSpace(header) == "*" {
		return true
	}
	want := strings.TrimPrefix(etag, "W/")
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == want {
			return true
		}
	}
	return false
}

// cache is the Cache-Control of the snapshot's pages.
func (s *snapshot) cache() string {
	if s.overall == overallChecking {
		return cacheFresh
	}
	return cachePage
}
