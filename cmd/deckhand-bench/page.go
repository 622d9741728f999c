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
func benchPage(ctx context.Context, o options, rep *benchReport, _ io.Writer) error {
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
		name := "index.html"
		if path != "/" {
			name = "status.json"
		}
		l := loadPair{rep: rep, sec: sec, dir: dir, static: static.URL, conns: conns, d: o.loadFor}
		if err := l.run(ctx, path, srv.URL+path, nil, name, false); err != nil {
			return err
		}
		// What a browser receives: every browser sends Accept-Encoding:
		// gzip, and the page keeps a gzipped copy of each document. The
		// baseline serves the very same gzipped bytes as a plain file.
		gz := http.Header{"Accept-Encoding": {"gzip"}}
		if err := l.run(ctx, path+" gzip", srv.URL+path, gz, name+".gz", true); err != nil {
			return err
		}
	}
	rep.note("status page: %d concurrent keep-alive connections for %s per target, uncompressed and with Accept-Encoding: gzip (what browsers send); the static baseline is http.FileServer serving the same bytes from a file", conns, o.loadFor)
	return nil
}

// loadPair load-tests one deckhand URL next to a plain file server serving
// the very same bytes, and reports both.
type loadPair struct {
	rep    *benchReport
	sec    string
	dir    string // the file server's root
	static string // its URL
	conns  int
	d      time.Duration
}

// run fetches url with header, writes the body to file for the baseline,
// loads both and reports them under label; p99Goal checks deckhand's p99
// against the 25 ms goal.
func (l loadPair) run(ctx context.Context, label, url string, header http.Header, file string, p99Goal bool) error {
	body, err := fetchHeader(ctx, url, header)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(l.dir, file), body, 0o644); err != nil {
		return err
	}
	baseRPS, baseP99 := loadTest(ctx, l.static+"/"+file, nil, l.conns, l.d)
	rps, p99 := loadTest(ctx, url, header, l.conns, l.d)
	if baseRPS == 0 || rps == 0 {
		return fmt.Errorf("%s: no successful request (deckhand %.0f/s, static %.0f/s)", label, rps, baseRPS)
	}
	l.rep.add(l.sec, label+" size", float64(len(body))/1024, "KiB")
	l.rep.add(l.sec, label+" static file server: req/s", baseRPS, "req/s")
	l.rep.add(l.sec, label+" static file server: p99", ms(baseP99), "ms")
	l.rep.add(l.sec, label+" deckhand: req/s", rps, "req/s")
	if p99Goal {
		l.rep.goal(l.sec, label+" deckhand: p99", ms(p99), "ms", true, 25, true)
	} else {
		l.rep.add(l.sec, label+" deckhand: p99", ms(p99), "ms")
	}
	l.rep.goal(l.sec, label+" deckhand / static req/s", 100*rps/baseRPS, "%", false, 50, true)
	return nil
}

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
