package statuspage

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
)

// bigView is a large fleet: hosts × perHost public containers with full
// uptime history, a few of them down.
func bigView(hosts, perHost int) View {
	now := fixtureNow
	v := View{
		GeneratedAt: now,
		Uptime:      map[ContainerKey]UptimeSeries{},
		Maintenance: map[ContainerKey]string{},
	}
	healthy := series(now, nil, false)
	flaky := series(now, []deckhand.Outage{{Start: now.Add(-30 * time.Hour), End: now.Add(-29 * time.Hour)}}, false)
	for h := range hosts {
		host := fmt.Sprintf("host-%03d", h)
		v.Hosts = append(v.Hosts, deckhand.Host{Name: host, Status: deckhand.HostOK, LastCollectAt: now})
		for c := range perHost {
			name := fmt.Sprintf("app-%02d", c)
			ctr := deckhand.Container{
				Host: host, Name: name, State: deckhand.StateRunning, Health: deckhand.HealthHealthy,
				ComposeProject: fmt.Sprintf("stack-%d", c%5),
				Labels:         labels(deckhand.LabelMonitor, "true"),
			}
			k := ContainerKey{host, name}
			v.Uptime[k] = healthy
			if c == 7 {
				ctr.State = deckhand.StateExited
				v.Uptime[k] = flaky
				v.Active = append(v.Active, deckhand.Alert{Key: deckhand.AlertKey{Host: host, Container: name, Kind: deckhand.AlertContainerDown},
					State: deckhand.AlertOpen, FirstSeenAt: now.Add(-time.Hour)})
			}
			v.Containers = append(v.Containers, ctr)
		}
	}
	return v
}

func BenchmarkUpdate(b *testing.B) {
	p, err := New(fixtureConfig, nil)
	if err != nil {
		b.Fatal(err)
	}
	v := bigView(200, 40)
	b.ReportAllocs()
	for b.Loop() {
		p.Update(v)
	}
	b.ReportMetric(float64(len(p.current().index.body)), "page-bytes")
	b.ReportMetric(float64(len(p.current().json.body)), "json-bytes")
}

func BenchmarkPage(b *testing.B) {
	benchServe(b, "/", func(s *snapshot) []byte { return s.index.body })
}

func BenchmarkStatusJSON(b *testing.B) {
	benchServe(b, "/api/status.json", func(s *snapshot) []byte { return s.json.body })
}

// benchServe measures deckhand serving path for 200 hosts × 40 containers
// and, in the same run, http.FileServer serving the same bytes from disk as a
// baseline; it logs the ratio of their costs per request.
func benchServe(b *testing.B, path string, body func(*snapshot) []byte) {
	p, err := New(fixtureConfig, nil)
	if err != nil {
		b.Fatal(err)
	}
	p.Update(bigView(200, 40))
	srv := httptest.NewServer(p.Handler())
	b.Cleanup(srv.Close)
	dir := b.TempDir()
	content := body(p.current())
	if err := os.WriteFile(filepath.Join(dir, "doc"), content, 0o644); err != nil {
		b.Fatal(err)
	}
	fsrv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	b.Cleanup(fsrv.Close)

	targets := []struct{ name, url string }{{"deckhand", srv.URL + path}, {"fileserver", fsrv.URL + "/doc"}}
	perOp := map[string]time.Duration{}
	for _, tg := range targets {
		b.Run(tg.name, func(b *testing.B) {
			client := &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 64}}
			b.Cleanup(client.CloseIdleConnections)
			b.SetBytes(int64(len(content)))
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := client.Get(tg.url)
					if err != nil {
						b.Error(err)
						return
					}
					n, _ := io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 || n != int64(len(content)) {
						b.Errorf("%s: status %d, %d bytes", tg.url, resp.StatusCode, n)
						return
					}
				}
			})
			perOp[tg.name] = b.Elapsed() / time.Duration(b.N)
		})
	}
	if perOp["fileserver"] > 0 {
		b.Logf("%s: %d bytes; deckhand %v/req, http.FileServer %v/req, ratio %.2f (deckhand/baseline)",
			path, len(content), perOp["deckhand"], perOp["fileserver"], float64(perOp["deckhand"])/float64(perOp["fileserver"]))
	}
}
