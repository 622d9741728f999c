package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/statuspage"
)

// benchView is a status page model of hosts × perHost public containers
// with full uptime history, one container in forty down with an open alert.
func benchView(now time.Time, hosts, perHost int) statuspage.View {
	series := func(n int, w time.Duration) []deckhand.UptimeBucket {
		out := make([]deckhand.UptimeBucket, n)
		start := now.Truncate(w).Add(-time.Duration(n-1) * w)
		for i := range out {
			out[i] = deckhand.UptimeBucket{Start: start.Add(time.Duration(i) * w), Width: w, Up: w}
		}
		return out
	}
	healthy := statuspage.NewUptimeSeries(series(24, time.Hour), series(90, 24*time.Hour))
	flakyDay := series(24, time.Hour)
	flakyDay[20].Up, flakyDay[20].Down = 40*time.Minute, 20*time.Minute
	flakyDay[20].Outages = []deckhand.Outage{{Start: flakyDay[20].Start.Add(10 * time.Minute), End: flakyDay[20].Start.Add(30 * time.Minute)}}
	flaky := statuspage.NewUptimeSeries(flakyDay, series(90, 24*time.Hour))
	v := statuspage.View{GeneratedAt: now, Uptime: map[statuspage.ContainerKey]statuspage.UptimeSeries{}}
	for h := range hosts {
		host := fmt.Sprintf("host-%03d", h)
		v.Hosts = append(v.Hosts, deckhand.Host{Name: host, Status: deckhand.HostOK, Enabled: true, LastCollectAt: now})
		for c := range perHost {
			ctr := deckhand.Container{Host: host, Name: fmt.Sprintf("app-%02d", c), State: deckhand.StateRunning,
				ComposeProject: fmt.Sprintf("stack-%d", c%5), Labels: map[string]string{deckhand.LabelMonitor: "true"}}
			k := statuspage.ContainerKey{Host: host, Container: ctr.Name}
			v.Uptime[k] = healthy
			if c == 7 {
				ctr.State, ctr.ExitCode = deckhand.StateExited, 137
				v.Uptime[k] = flaky
				v.Active = append(v.Active, deckhand.Alert{Key: deckhand.AlertKey{Host: host, Container: ctr.Name, Kind: deckhand.AlertContainerDown},
					State: deckhand.AlertOpen, Severity: deckhand.SeverityError, FirstSeenAt: now.Add(-time.Hour), OpenedAt: now.Add(-time.Hour)})
			}
			v.Containers = append(v.Containers, ctr)
		}
	}
	return v
}

// benchPage serves a 200 × 40 page and, in the same run, a plain file server
// with the same bytes, and load-tests both with 64 connections.
func benchPage(ctx context.Context, o benchOptions, rep *benchReport) error {
	const sec, conns, hosts, perHost = "status page", 64, 200, 40
	p, err := statuspage.New(statuspage.Config{Title: "Bench"}, nil)
	if err != nil {
		return err
	}
	defer p.Close()
	v := benchView(time.Now(), hosts, perHost)
	t := time.Now()
	p.Update(v)
	rep.add(sec, fmt.Sprintf("render %d × %d (Page.Update)", hosts, perHost), ms(time.Since(t)), "ms")

	srv := httptest.NewServer(p.Handler())
	defer srv.Close()
	dir, err := os.MkdirTemp("", "deckhand-bench-page-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	static := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer static.Close()

	for _, path := range []string{"/", "/api/status.json"} {
		body, err := fetch(ctx, srv.URL+path)
		if err != nil {
			return err
		}
		name := "index.html"
		if path != "/" {
			name = "status.json"
		}
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			return err
		}
		baseRPS, baseP99 := statuspage.LoadTest(ctx, static.URL+"/"+name, conns, o.loadFor)
		rps, p99 := statuspage.LoadTest(ctx, srv.URL+path, conns, o.loadFor)
		if baseRPS == 0 || rps == 0 {
			return fmt.Errorf("%s: no successful request (deckhand %.0f/s, static %.0f/s)", path, rps, baseRPS)
		}
		rep.add(sec, fmt.Sprintf("%s size", path), float64(len(body))/1024, "KiB")
		rep.add(sec, fmt.Sprintf("%s static file server: req/s", path), baseRPS, "req/s")
		rep.add(sec, fmt.Sprintf("%s static file server: p99", path), ms(baseP99), "ms")
		rep.add(sec, fmt.Sprintf("%s deckhand: req/s", path), rps, "req/s")
		rep.add(sec, fmt.Sprintf("%s deckhand: p99", path), ms(p99), "ms")
		rep.goal(sec, fmt.Sprintf("%s deckhand / static req/s", path), 100*rps/baseRPS, "%", false, 50, true)

		// What a browser receives: every browser sends Accept-Encoding:
		// gzip, and the page keeps a gzipped copy of each document. The
		// baseline serves the very same gzipped bytes as a plain file.
		gz := http.Header{"Accept-Encoding": {"gzip"}}
		zbody, err := fetchHeader(ctx, srv.URL+path, gz)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name+".gz"), zbody, 0o644); err != nil {
			return err
		}
		zbaseRPS, zbaseP99 := statuspage.LoadTest(ctx, static.URL+"/"+name+".gz", conns, o.loadFor)
		zrps, zp99 := statuspage.LoadTestHeader(ctx, srv.URL+path, gz, conns, o.loadFor)
		if zbaseRPS == 0 || zrps == 0 {
			return fmt.Errorf("%s gzip: no successful request (deckhand %.0f/s, static %.0f/s)", path, zrps, zbaseRPS)
		}
		rep.add(sec, fmt.Sprintf("%s gzip size", path), float64(len(zbody))/1024, "KiB")
		rep.add(sec, fmt.Sprintf("%s gzip static file server: req/s", path), zbaseRPS, "req/s")
		rep.add(sec, fmt.Sprintf("%s gzip static file server: p99", path), ms(zbaseP99), "ms")
		rep.add(sec, fmt.Sprintf("%s gzip deckhand: req/s", path), zrps, "req/s")
		rep.goal(sec, fmt.Sprintf("%s gzip deckhand: p99", path), ms(zp99), "ms", true, 25, true)
		rep.goal(sec, fmt.Sprintf("%s gzip deckhand / static req/s", path), 100*zrps/zbaseRPS, "%", false, 50, true)
	}
	rep.note("status page: %d concurrent keep-alive connections for %s per target, uncompressed and with Accept-Encoding: gzip (what browsers send); the static baseline is http.FileServer serving the same bytes from a file", conns, o.loadFor)
	return nil
}

func fetch(ctx context.Context, url string) ([]byte, error) { return fetchHeader(ctx, url, nil) }

// fetchHeader GETs url with extra headers and returns the body as sent
// (compressed bodies stay compressed).
func fetchHeader(ctx context.Context, url string, header http.Header) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return io.ReadAll(resp.Body)
}
