package statuspage

import (
	"bytes"
	"compress/gzip"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/deckhand/deckhand"
)

var update = flag.Bool("update", false, "rewrite golden files")

const wantCSP = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func newTestPage(t *testing.T, cfg Config) *Page {
	t.Helper()
	p, err := New(cfg, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(p.Close)
	return p
}

func get(t *testing.T, h http.Handler, method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestNewValidatesConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
		wantCSP string
	}{
		{name: "zero config", cfg: Config{}, wantCSP: wantCSP},
		{name: "site logo", cfg: Config{LogoURL: "/static/favicon.svg"}, wantCSP: wantCSP},
		{name: "remote logo widens img-src to its origin only", cfg: Config{LogoURL: "https://cdn.example.org/logo.png?x=1"},
			wantCSP: strings.Replace(wantCSP, "img-src 'self' data:", "img-src 'self' data: https://cdn.example.org", 1)},
		{name: "javascript logo", cfg: Config{LogoURL: "javascript:alert(1)"}, wantErr: true},
		{name: "relative logo", cfg: Config{LogoURL: "logo.png"}, wantErr: true},
		{name: "footer mailto", cfg: Config{Footer: []Link{{Label: "Mail", URL: "mailto:ops@example.org"}}}, wantCSP: wantCSP},
		{name: "footer javascript", cfg: Config{Footer: []Link{{Label: "x", URL: "javascript:alert(1)"}}}, wantErr: true},
		{name: "footer without label", cfg: Config{Footer: []Link{{URL: "https://example.org"}}}, wantErr: true},
		{name: "relative public url", cfg: Config{PublicURL: "/status"}, wantErr: true},
		{name: "public url", cfg: Config{PublicURL: "https://status.example.org"}, wantCSP: wantCSP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.cfg, nil)
			if tt.wantErr {
				if err == nil {
					t.Fatal("New accepted an invalid config")
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			rec := get(t, p.Handler(), "GET", "/", nil)
			if got := rec.Header().Get("Content-Security-Policy"); got != tt.wantCSP {
				t.Errorf("CSP = %q, want %q", got, tt.wantCSP)
			}
		})
	}
}

func TestRoutes(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	m.SetHostsUp(2)
	cfg := fixtureConfig
	cfg.Gatherer = reg
	p := newTestPage(t, cfg)
	p.Update(fixtureView())
	h := p.Handler()

	tests := []struct {
		method, path string
		status       int
		ctype        string
		cache        string
		contains     string
	}{
		{"GET", "/", 200, "text/html; charset=utf-8", cachePage, "Homelab status"},
		{"HEAD", "/", 200, "text/html; charset=utf-8", cachePage, ""},
		{"GET", "/host/vps", 200, "text/html; charset=utf-8", cachePage, "<h1>vps</h1>"},
		{"GET", "/host/nope", 404, "", "no-store", ""},
		{"GET", "/host/", 404, "", "", ""},
		{"GET", "/api/status.json", 200, "application/json", cachePage, `"overall":"major_outage"`},
		{"GET", "/badge/nas/jellyfin.svg", 200, "image/svg+xml", cachePage, "jellyfin: up"},
		{"GET", "/badge/vps/web.svg", 200, "image/svg+xml", cachePage, "web: down"},
		{"GET", "/badge/nas/vaultwarden.svg", 404, "", "no-store", ""}, // homelab.public=false
		{"GET", "/badge/vps/grafana.svg", 404, "", "no-store", ""},     // not monitored, no public label
		{"GET", "/badge/nas/nope.svg", 404, "", "no-store", ""},
		{"GET", "/badge/nas/jellyfin", 404, "", "no-store", ""},
		{"GET", "/badge/nas/jellyfin.png", 404, "", "no-store", ""},
		{"GET", "/healthz", 200, "text/plain; charset=utf-8", "no-store", "ok"},
		{"GET", "/metrics", 200, "", "", "deckhand_hosts_up 2"},
		{"GET", "/static/style.css", 200, "text/css; charset=utf-8", cacheStatic, "prefers-color-scheme"},
		{"GET", "/static/live.js", 200, "text/javascript; charset=utf-8", cacheStatic, "EventSource"},
		{"GET", "/static/nope.css", 404, "", "no-store", ""},
		{"GET", "/static/", 404, "", "", ""},
		{"GET", "/nope", 404, "", "no-store", ""},
		{"GET", "/index.html", 404, "", "no-store", ""},
		{"POST", "/", 405, "", "", ""},
		{"PUT", "/api/status.json", 405, "", "", ""},
		{"DELETE", "/badge/nas/jellyfin.svg", 405, "", "", ""},
		{"OPTIONS", "/healthz", 405, "", "", ""},
		{"POST", "/nope", 405, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := get(t, h, tt.method, tt.path, nil)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %q", rec.Code, tt.status, rec.Body.String())
			}
			hdr := rec.Header()
			for k, want := range map[string]string{
				"Content-Security-Policy": wantCSP,
				"X-Content-Type-Options":  "nosniff",
				"Referrer-Policy":         "no-referrer",
			} {
				if got := hdr.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if tt.status == 405 && hdr.Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow = %q, want GET, HEAD", hdr.Get("Allow"))
			}
			if tt.ctype != "" && !strings.HasPrefix(hdr.Get("Content-Type"), tt.ctype) {
				t.Errorf("Content-Type = %q, want %q", hdr.Get("Content-Type"), tt.ctype)
			}
			if tt.cache != "" && hdr.Get("Cache-Control") != tt.cache {
				t.Errorf("Cache-Control = %q, want %q", hdr.Get("Cache-Control"), tt.cache)
			}
			if tt.method == "HEAD" {
				if rec.Body.Len() != 0 {
					t.Errorf("HEAD wrote %d body bytes", rec.Body.Len())
				}
				if hdr.Get("Content-Length") == "" || hdr.Get("Content-Length") == "0" {
					t.Errorf("HEAD Content-Length = %q", hdr.Get("Content-Length"))
				}
			}
			if !strings.Contains(rec.Body.String(), tt.contains) {
				t.Errorf("body does not contain %q", tt.contains)
			}
		})
	}
}

func TestMetricsAbsentWithoutGatherer(t *testing.T) {
	p := newTestPage(t, Config{})
	if rec := get(t, p.Handler(), "GET", "/metrics", nil); rec.Code != 404 {
		t.Fatalf("/metrics without a gatherer = %d, want 404", rec.Code)
	}
}

func TestMetricsSeries(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	m.ObserveCollect("nas", 120*time.Millisecond, true)
	m.ObserveCollect("nas", 5*time.Second, false)
	m.SetHostsUp(3)
	m.SetContainers("running", 12)
	m.SetContainers("exited", 2)
	m.SetAlertsOpen(1)
	m.NotificationSent("discord", true)
	m.NotificationSent("telegram", false)
	m.SetOutboxDepth("telegram", 4)
	m.SetOutboxDead("telegram", 2)
	m.SetPlatformUp("telegram", false)
	m.SetPlatformUp("ntfy", true)
	var nilMetrics *Metrics
	nilMetrics.SetHostsUp(9) // must not panic

	p := newTestPage(t, Config{Gatherer: reg})
	body := get(t, p.Handler(), "GET", "/metrics", nil).Body.String()
	for _, want := range []string{
		`deckhand_collect_duration_seconds_count{host="nas"} 2`,
		`deckhand_collects_total{host="nas",result="ok"} 1`,
		`deckhand_collects_total{host="nas",result="error"} 1`,
		`deckhand_hosts_up 3`,
		`deckhand_containers{state="running"} 12`,
		`deckhand_containers{state="exited"} 2`,
		`deckhand_alerts_open 1`,
		`deckhand_notifications_total{platform="discord",result="ok"} 1`,
		`deckhand_notifications_total{platform="telegram",result="error"} 1`,
		`deckhand_outbox_depth{platform="telegram"} 4`,
		`deckhand_outbox_dead{platform="telegram"} 2`,
		`deckhand_platform_up{platform="telegram"} 0`,
		`deckhand_platform_up{platform="ntfy"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestETagAndConditionalRequests(t *testing.T) {
	p := newTestPage(t, fixtureConfig)
	p.Update(fixtureView())
	h := p.Handler()
	for _, path := range []string{"/", "/api/status.json", "/host/nas", "/badge/nas/jellyfin.svg", "/static/style.css"} {
		t.Run(path, func(t *testing.T) {
			first := get(t, h, "GET", path, nil)
			etag := first.Header().Get("ETag")
			if !regexp.MustCompile(`^"[0-9a-f]{24}"$`).MatchString(etag) {
				t.Fatalf("ETag = %q, want a strong quoted hash", etag)
			}
			for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
				rec := get(t, h, "GET", path, map[string]string{"If-None-Match": inm})
				if rec.Code != http.StatusNotModified {
					t.Errorf("If-None-Match %s: status %d, want 304", inm, rec.Code)
				}
				if rec.Body.Len() != 0 {
					t.Errorf("304 carried a body")
				}
				if rec.Header().Get("ETag") != etag {
					t.Errorf("304 ETag = %q", rec.Header().Get("ETag"))
				}
			}
			if rec := get(t, h, "GET", path, map[string]string{"If-None-Match": `"stale"`}); rec.Code != 200 {
				t.Errorf("stale If-None-Match: status %d, want 200", rec.Code)
			}
		})
	}

	before := get(t, h, "GET", "/", nil).Header().Get("ETag")
	v := fixtureView()
	v.Containers[0].State = deckhand.StateExited // jellyfin goes down
	p.Update(v)
	after := get(t, h, "GET", "/", map[string]string{"If-None-Match": before})
	if after.Code != 200 || after.Header().Get("ETag") == before {
		t.Fatalf("after a change: status %d, ETag %q (before %q)", after.Code, after.Header().Get("ETag"), before)
	}
	p.Update(v) // same content, same validator
	if again := get(t, h, "GET", "/", nil).Header().Get("ETag"); again != after.Header().Get("ETag") {
		t.Errorf("identical update changed the ETag: %q → %q", after.Header().Get("ETag"), again)
	}
}

func TestGzip(t *testing.T) {
	p := newTestPage(t, fixtureConfig)
	p.Update(fixtureView())
	h := p.Handler()
	plain := get(t, h, "GET", "/", nil)
	gz := get(t, h, "GET", "/", map[string]string{"Accept-Encoding": "br, gzip"})
	if gz.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding = %q, want gzip", gz.Header().Get("Content-Encoding"))
	}
	if gz.Header().Get("ETag") == plain.Header().Get("ETag") {
		t.Error("gzip and identity representations share a strong ETag")
	}
	zr, err := gzip.NewReader(gz.Body)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, plain.Body.Bytes()) {
		t.Error("gzip body does not decompress to the identity body")
	}
	if rec := get(t, h, "GET", "/", map[string]string{"Accept-Encoding": "gzip;q=0"}); rec.Header().Get("Content-Encoding") != "" {
		t.Error("gzip;q=0 still got gzip")
	}
	if rec := get(t, h, "GET", "/", map[string]string{"Accept-Encoding": "gzip", "If-None-Match": gz.Header().Get("ETag")}); rec.Code != 304 {
		t.Errorf("gzip revalidation: %d, want 304", rec.Code)
	}
}

func TestStatusJSONGolden(t *testing.T) {
	p := newTestPage(t, fixtureConfig)
	p.Update(fixtureView())
	rec := get(t, p.Handler(), "GET", "/api/status.json", nil)
	var pretty bytes.Buffer
	if err := jsonIndent(&pretty, rec.Body.Bytes()); err != nil {
		t.Fatalf("status.json is not valid JSON: %v", err)
	}
	golden := filepath.Join("testdata", "status.golden.json")
	if *update {
		if err := os.WriteFile(golden, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read golden (run with -update to create it): %v", err)
	}
	if !bytes.Equal(pretty.Bytes(), want) {
		t.Errorf("status.json differs from %s (run go test -run TestStatusJSONGolden -update to accept):\n%s", golden, pretty.String())
	}
}

func TestStatusJSONBeforeFirstUpdate(t *testing.T) {
	p := newTestPage(t, Config{})
	rec := get(t, p.Handler(), "GET", "/api/status.json", nil)
	want := `{"overall":"operational","generated_at":null,"hosts":[],"incidents":[],"announcements":[]}`
	if rec.Body.String() != want {
		t.Errorf("empty status = %s, want %s", rec.Body.String(), want)
	}
	if body := get(t, p.Handler(), "GET", "/", nil).Body.String(); !strings.Contains(body, "No data yet") {
		t.Error("empty page does not say there is no data yet")
	}
}

func TestMarkdownAnnouncements(t *testing.T) {
	tests := []struct {
		name, md      string
		want, mustNot []string
	}{
		{"emphasis", "We replaced the **router**.", []string{"<strong>router</strong>"}, nil},
		{"script tag", "hi <script>alert(1)</script>", []string{"raw HTML omitted"}, []string{"<script>alert", "alert(1)</script>"}},
		{"script block", "<script>\nalert(1)\n</script>", nil, []string{"<script>\nalert"}},
		{"event handler", `<img src=x onerror=alert(3)>`, nil, []string{"onerror"}},
		{"javascript link", "[click](javascript:alert(2))", []string{">click</a>"}, []string{"javascript:"}},
		{"heading demoted", "# Big news", []string{"<h3>Big news</h3>"}, []string{"<h1>Big"}},
		{"link kept", "[docs](https://example.org/x)", []string{`<a href="https://example.org/x">docs</a>`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newTestPage(t, Config{})
			p.Update(View{GeneratedAt: fixtureNow, Announcements: []deckhand.Announcement{{ID: 1, Title: "T <b>x</b>", Body: tt.md}}})
			body := get(t, p.Handler(), "GET", "/", nil).Body.String()
			if !strings.Contains(body, "T &lt;b&gt;x&lt;/b&gt;") {
				t.Error("announcement title is not escaped")
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, w := range tt.mustNot {
				if strings.Contains(body, w) {
					t.Errorf("page contains %q", w)
				}
			}
		})
	}
}

func TestExpiredAnnouncementHidden(t *testing.T) {
	p := newTestPage(t, fixtureConfig)
	p.Update(fixtureView())
	body := get(t, p.Handler(), "GET", "/", nil).Body.String()
	if strings.Contains(body, "Old news") {
		t.Error("an announcement past its Until is shown")
	}
	if !strings.Contains(body, "<strong>Planned:</strong> NAS disk swap") {
		t.Error("config announcement missing")
	}
}

// The CSP allows no inline script or style: the markup must not need them.
func TestNoInlineScriptOrStyle(t *testing.T) {
	p := newTestPage(t, fixtureConfig)
	p.Update(fixtureView())
	for _, path := range []string{"/", "/host/nas", "/host/pi"} {
		body := get(t, p.Handler(), "GET", path, nil).Body.String()
		for _, re := range []*regexp.Regexp{
			regexp.MustCompile(`(?i)\sstyle\s*=`),
			regexp.MustCompile(`(?i)<style`),
			regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>[^<]`),
			regexp.MustCompile(`(?i)<script(?:\s(?:[^s>]|s[^r])*)?>`), // a script without src
			regexp.MustCompile(`(?i)\son[a-z]+\s*=`),
			regexp.MustCompile(`(?i)http-equiv\s*=\s*"?refresh`),
		} {
			if m := re.FindString(body); m != "" {
				t.Errorf("%s: found %q (%s)", path, m, re)
			}
		}
	}
}

func TestPageContent(t *testing.T) {
	p := newTestPage(t, fixtureConfig)
	p.Update(fixtureView())
	body := get(t, p.Handler(), "GET", "/", nil).Body.String()
	for _, want := range []string{
		"<title>Homelab status</title>",
		`<link rel="canonical" href="https://status.example.org">`,
		"Major outage", // pi is unreachable
		`data-host="nas" data-container="jellyfin" data-status="up"`,
		`data-host="nas" data-container="nextcloud" data-status="degraded"`,
		`data-host="nas" data-container="backup" data-status="stopped"`,
		`data-host="vps" data-container="web" data-status="down"`,
		`data-host="vps" data-container="updater" data-status="maintenance"`,
		`data-host="pi" data-container="pihole" data-status="unknown"`,
		"nightly updates until 12:30 UTC",
		"<h4>media</h4>", "<h4>cloud</h4>", "<h4>Other containers</h4>",
		"pi unreachable", "Acknowledged: yes",
		"web on vps down", "Acknowledged: no",
		"jellyfin on nas down", "lasted 12m", // past incident
		"since <time data-field=\"since\" datetime=\"2025-03-07T12:00:00Z\">2025-03-07 12:00 UTC</time>", // Docker's StartedAt
		"since <time data-field=\"since\" datetime=\"2025-03-10T11:35:00Z\">",                            // derived from the open alert
		"Uptime over the last 7 days: 99.87%, 1 outage: down 8 Mar 10:00–10:12 UTC (12m)",
		`title="10 Mar 11:00–12:00 UTC: maintenance"`,
		`<a href="https://example.org/deckhand">Source</a>`,
		"<header", "<main", "<footer", `<nav aria-label="Hosts">`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, hidden := range []string{"vaultwarden", "grafana", "sonarr on nas unhealthy"} {
		if strings.Contains(body, hidden) {
			t.Errorf("page shows %q", hidden)
		}
	}
	// Headings never skip a level.
	last := 0
	for _, m := range regexp.MustCompile(`<h([1-6])[ >]`).FindAllStringSubmatch(body, -1) {
		lvl := int(m[1][0] - '0')
		if lvl > last+1 {
			t.Errorf("heading h%d follows h%d", lvl, last)
		}
		last = lvl
	}

	host := get(t, p.Handler(), "GET", "/host/vps", nil).Body.String()
	if !strings.Contains(host, "web on vps down") || strings.Contains(host, "pi unreachable") {
		t.Error("host page does not limit incidents to its host")
	}
	if strings.Contains(host, `data-host="nas"`) {
		t.Error("host page lists another host's containers")
	}
}

func TestOverall(t *testing.T) {
	up := func(name string) deckhand.Container {
		return deckhand.Container{Host: "h", Name: name, State: deckhand.StateRunning, Labels: labels(deckhand.LabelMonitor, "true")}
	}
	down := func(name string) deckhand.Container {
		c := up(name)
		c.State = deckhand.StateExited
		return c
	}
	hosts := []deckhand.Host{{Name: "h", Status: deckhand.HostOK}}
	tests := []struct {
		name string
		v    View
		want string
	}{
		{"all up", View{Hosts: hosts, Containers: []deckhand.Container{up("a"), up("b")}}, overallOperational},
		{"one of three down", View{Hosts: hosts, Containers: []deckhand.Container{up("a"), up("b"), down("c")}}, overallDegraded},
		{"half down", View{Hosts: hosts, Containers: []deckhand.Container{up("a"), down("b")}}, overallMajor},
		{"down but in maintenance", View{Hosts: hosts, Containers: []deckhand.Container{up("a"), down("b")},
			Maintenance: map[ContainerKey]string{{"h", "b"}: "upgrade"}}, overallOperational},
		{"hidden container down", View{Hosts: hosts, Containers: []deckhand.Container{up("a"), func() deckhand.Container {
			c := down("b")
			c.Labels[deckhand.LabelPublic] = "false"
			return c
		}()}}, overallOperational},
		{"host down", View{Hosts: []deckhand.Host{{Name: "h", Status: deckhand.HostTimeout}}, Containers: []deckhand.Container{up("a")}}, overallMajor},
		{"host never collected", View{Hosts: []deckhand.Host{{Name: "h", Status: deckhand.HostUnknown}}}, overallChecking},
		{"unhealthy", View{Hosts: hosts, Containers: []deckhand.Container{func() deckhand.Container {
			c := up("a")
			c.Health = deckhand.HealthUnhealthy
			return c
		}()}}, overallDegraded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newTestPage(t, Config{})
			p.Update(tt.v)
			if got := p.current().overall; got != tt.want {
				t.Errorf("overall = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBucketClass(t *testing.T) {
	tests := []struct {
		b    deckhand.UptimeBucket
		want string
	}{
		{deckhand.UptimeBucket{Up: time.Hour}, "d0"},
		{deckhand.UptimeBucket{Up: 59 * time.Minute, Down: time.Minute}, "d1"},
		{deckhand.UptimeBucket{Up: 30 * time.Minute, Down: 30 * time.Minute}, "d5"},
		{deckhand.UptimeBucket{Down: time.Hour}, "d10"},
		{deckhand.UptimeBucket{}, "n"},
		{deckhand.UptimeBucket{Maintenance: time.Hour}, "m"},
		{deckhand.UptimeBucket{Up: 30 * time.Minute, Maintenance: 30 * time.Minute}, "d0"}, // maintenance excluded
	}
	for _, tt := range tests {
		if got := bucketClass(tt.b); got != tt.want {
			t.Errorf("bucketClass(%+v) = %q, want %q", tt.b, got, tt.want)
		}
	}
}

func TestBadgeSVG(t *testing.T) {
	tests := []struct {
		label, level string
		want         []string
	}{
		{"jellyfin", levelUp, []string{`aria-label="jellyfin: up"`, `fill="#2e7d32"`, ">up</text>"}},
		{"web", levelDown, []string{`fill="#c62828"`, ">down</text>"}},
		{"updater", levelMaintenance, []string{`fill="#1565c0"`}},
		{"pihole", levelUnknown, []string{`fill="#616161"`}},
		{`a<b&"c`, levelUp, []string{"a&lt;b&amp;&#34;c"}},
	}
	for _, tt := range tests {
		svg := string(badgeSVG(tt.label, tt.level))
		if !strings.HasPrefix(svg, `<svg xmlns="http://www.w3.org/2000/svg"`) || !strings.HasSuffix(svg, "</svg>") {
			t.Errorf("%s: not an SVG document", tt.label)
		}
		for _, w := range tt.want {
			if !strings.Contains(svg, w) {
				t.Errorf("%s badge lacks %q: %s", tt.label, w, svg)
			}
		}
	}
}

func TestConcurrentUpdatesAndRequests(t *testing.T) {
	p := newTestPage(t, fixtureConfig)
	h := p.Handler()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, path := range []string{"/", "/host/nas", "/api/status.json", "/badge/nas/jellyfin.svg"} {
					rec := get(t, h, "GET", path, map[string]string{"Accept-Encoding": "gzip"})
					if rec.Code != 200 && rec.Code != 404 {
						t.Errorf("%s: %d", path, rec.Code)
					}
				}
			}
		}()
	}
	v := fixtureView()
	for i := range 30 {
		v.GeneratedAt = fixtureNow.Add(time.Duration(i) * time.Second)
		p.Update(v)
	}
	close(stop)
	wg.Wait()
}

func TestSummaryFrontPage(t *testing.T) {
	cfg := fixtureConfig
	cfg.DetailLimit = 3 // the fixture has 7 public containers
	p := newTestPage(t, cfg)
	p.Update(fixtureView())
	index := get(t, p.Handler(), "GET", "/", nil).Body.String()
	for _, want := range []string{
		"<main id=\"main\" class=\"wrap\" data-summary>",
		`data-container="web"`, `data-container="nextcloud"`, // need attention
		"2 up · 1 degraded · 1 stopped", // nas
		"1 down · 1 in maintenance",     // vps
		"1 unknown",                     // pi
		`<a href="/host/nas">All services and uptime on nas</a>`,
	} {
		if !strings.Contains(index, want) {
			t.Errorf("summary page lacks %q", want)
		}
	}
	for _, detail := range []string{`data-container="jellyfin"`, `data-container="updater"`, `data-container="backup"`} {
		if strings.Contains(index, detail) {
			t.Errorf("summary page lists %s", detail)
		}
	}
	host := get(t, p.Handler(), "GET", "/host/nas", nil).Body.String()
	if !strings.Contains(host, `data-container="jellyfin"`) || strings.Contains(host, "data-summary") {
		t.Error("host page is not the full detail")
	}
}

func TestConfigValidateNamesKeys(t *testing.T) {
	cfg := Config{LogoURL: "ftp://x/logo.png", PublicURL: "/status",
		Footer: []Link{{Label: "ok", URL: "/ok"}, {Label: " ", URL: "javascript:alert(1)"}}}
	want := `statuspage.logo_url: "ftp://x/logo.png" must be an http(s) URL or a path on this site
statuspage.footer[1].label: required: the text of the link
statuspage.footer[1].url: "javascript:alert(1)" must be an http(s) or mailto: URL, or a path on this site
statuspage.public_url: "/status" must be an absolute http(s) URL`
	if err := cfg.Validate(); err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
	if _, err := New(cfg, nil); err == nil {
		t.Error("New accepted what Validate refuses")
	}
}
