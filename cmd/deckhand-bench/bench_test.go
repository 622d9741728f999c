package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/deckhand/deckhand/internal/fleet"
)

// startFleet serves a fleet in-process, its events streams followed as
// the -serve-fleet child follows them.
func startFleet(t *testing.T, cfg fleet.Config) (*fleet.Fleet, *streamOpens) {
	t.Helper()
	f, err := fleet.Start(cfg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	opens := newStreamOpens()
	go func() { defer close(done); watchStreams(ctx, f, eventsPoll, opens.add) }()
	t.Cleanup(func() { cancel(); <-done; f.Close() })
	return f, opens
}

// TestMeasureMonitorTiny runs the fleet measurements on an in-process
// fleet: steady rounds open no connection, every host's events stream
// opens, and a hung host beside the others delays neither.
func TestMeasureMonitorTiny(t *testing.T) {
	f, opens := startFleet(t, fleet.Config{Hosts: 3, Containers: 3, RTT: time.Millisecond, Hang: 1})
	ctx := context.Background()
	got, err := measureMonitor(ctx, f.Manifest, f.Hosts[:3], monitorRun{interval: 200 * time.Millisecond, rounds: 2, memory: true, opens: opens})
	if err != nil {
		t.Fatal(err)
	}
	if got.Handshakes != 0 || got.Containers != 9 || got.FailedHosts != 0 {
		t.Errorf("per steady round: %.1f handshakes, %d containers, %d failed hosts; want 0, 9, 0", got.Handshakes, got.Containers, got.FailedHosts)
	}
	if len(got.Rounds) != 2 || len(got.Collect) != 6 || len(got.Cycle) != 6 {
		t.Fatalf("%d rounds, %d collections, %d cycles; want 2, 6, 6", len(got.Rounds), len(got.Collect), len(got.Cycle))
	}
	for i := range got.Collect {
		if got.Collect[i] <= 0 || got.Cycle[i] < got.Collect[i] {
			t.Errorf("collection %d took %v, its cycle %v: want > 0 and the cycle at least as long", i, got.Collect[i], got.Cycle[i])
		}
	}
	if got.Cold <= 0 || got.FullDone < got.Cold || len(got.FullTook) != 3 || got.AllocPerCtr <= 0 {
		t.Errorf("first round %v, full collections done %v (%d timed), %.0f B per container: want > 0, after the first round, 3, > 0",
			got.Cold, got.FullDone, len(got.FullTook), got.AllocPerCtr)
	}
	if len(got.EventsOpen) != 3 || got.EventsMissing != 0 {
		t.Errorf("events streams opened on %d hosts, %d missing; want 3 and 0", len(got.EventsOpen), got.EventsMissing)
	}
	m := got.Mem
	if m.SteadyHWMKB <= 0 || m.ColdHWMKB <= 0 || m.RSSKB <= 0 || m.ConnKB() <= 0 || m.RestKB() <= 0 {
		t.Errorf("memory not read: %+v (connections %d kB, rest %d kB)", m, m.ConnKB(), m.RestKB())
	}

	start := time.Now()
	hung, err := measureMonitor(ctx, f.Manifest, []fleet.Host{f.Hosts[0], f.Hosts[1], f.Hosts[3]}, monitorRun{interval: 200 * time.Millisecond, rounds: 2, opens: opens})
	if err != nil {
		t.Fatal(err)
	}
	if len(hung.Cycle) != 4 || len(hung.EventsOpen) != 2 || hung.EventsMissing != 0 {
		t.Errorf("beside a hung host: %d cycles, events on %d hosts (%d missing); want 4, 2, 0", len(hung.Cycle), len(hung.EventsOpen), hung.EventsMissing)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the run beside a hung host took %v: something waited for it", took)
	}
}

// TestMeasureDaemonTiny runs the real binary on an in-process fleet: it
// collects every host, keeps collecting, opens every events stream, and
// its memory is read.
func TestMeasureDaemonTiny(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin, err := buildDeckhand(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f, opens := startFleet(t, fleet.Config{Hosts: 3, Containers: 2, RTT: time.Millisecond})
	var logs bytes.Buffer
	got, err := measureDaemon(ctx, bin, f.Manifest, time.Second, 2*time.Second, 2500*time.Millisecond, opens, &logs)
	if err != nil {
		t.Fatalf("%v\n%s", err, logs.String())
	}
	// Two polls at least in the window, of three hosts each.
	if got.FirstCollection <= 0 || got.Collects < 6 {
		t.Errorf("first collection after %v, %v host collections in %v; want > 0 and ≥ 6", got.FirstCollection, got.Collects, got.Window)
	}
	if got.RSSKB <= 0 || got.PeakKB < got.RSSKB || got.HWMKB <= 0 || got.CPU <= 0 || got.Procs < 1 {
		t.Errorf("rss %d kB, peak %d kB, hwm %d kB, cpu %v, %d processes", got.RSSKB, got.PeakKB, got.HWMKB, got.CPU, got.Procs)
	}
	if len(got.EventsOpen) != 3 || got.EventsMissing != 0 {
		t.Errorf("events streams opened on %d hosts, %d missing; want 3, 0", len(got.EventsOpen), got.EventsMissing)
	}
	if f.ServerHandshakes() != 3 {
		t.Errorf("the daemon opened %d connections to 3 hosts, want 3", f.ServerHandshakes())
	}
}

func TestReportGoalsAndCheck(t *testing.T) {
	var r benchReport
	r.goal("fleet", "ratio", 1.5, "×", true, 2, true)
	r.goal("fleet", "speed-up", 49, "×", false, 50, true)
	r.goal("page", "p99", 30, "ms", true, 25, false) // missed but not checked
	r.add("page", "size", 10, "KiB")
	r.unchecked("fleet", "rss", 60, "MB", true, 40, "the binary alone is 20 MB")
	missed := r.missed()
	if len(missed) != 1 || !strings.Contains(missed[0], "speed-up = 49.0×, goal ≥ 50.0×") {
		t.Fatalf("missed = %q, want only the speed-up", missed)
	}
	var out bytes.Buffer
	r.print(&out)
	for _, want := range []string{"PASS", "FAIL", "FAIL (not checked)", "≤ 2.00×", "10.0 KiB", "FAIL (not checked: the binary alone is 20 MB)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{{"-fail", "1"}, {"-hosts", "1"}, {"-serve-fleet"}, {"extra"}, {"-nope"}, {"-h"}} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, &out, &errOut)
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
}

func TestPercentile(t *testing.T) {
	d := []time.Duration{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	if p := percentile(d, 0.5); p != 5 {
		t.Errorf("p50 = %d, want 5", p)
	}
	if p := percentile(d, 0.95); p != 10 {
		t.Errorf("p95 = %d, want 10", p)
	}
	if p := percentile(nil, 0.5); p != 0 {
		t.Errorf("p50 of nothing = %d", p)
	}
}

// TestHopsOf reads a crash's steps from log lines shaped as the daemon
// writes them: the collection that produced the alert is the last to end
// before it; the re-collect starts at the first start line after the
// event, else at that collection's end minus its duration.
func TestHopsOf(t *testing.T) {
	at := func(ms int) string {
		return time.Date(2026, 12, 1, 12, 0, 0, ms*int(time.Millisecond), time.UTC).Format(time.RFC3339Nano)
	}
	line := func(ms int, msg, rest string) string {
		return fmt.Sprintf(`{"time":%q,"level":"DEBUG","msg":%q,"part":"monitor",%s}`, at(ms), msg, rest)
	}
	log := strings.Join([]string{
		`not json`,
		line(1, "collected", `"host":"bench","full":false,"took":5000000,"hop":"collect_end"`),
		line(10, "docker event", `"host":"bench","container":"app","action":"kill","hop":"event_received"`),
		line(12, "docker event", `"host":"bench","container":"app","action":"die","hop":"event_received"`),
		line(13, "re-collect", `"host":"bench","hop":"collect_start"`),
		line(20, "collected", `"host":"bench","full":false,"took":6000000,"hop":"collect_end"`),
		line(25, "alert", `"kind":"opened","host":"bench","container":"app","hop":"alert_stored"`),
		line(27, "re-collect", `"host":"bench","hop":"collect_start"`),
		line(40, "notification delivered", `"platform":"ntfy","kind":"opened","host":"bench","container":"app","hop":"delivered"`),
		line(41, "alert", `"kind":"opened","host":"bench","container":"other","hop":"alert_stored"`),
	}, "\n")
	recs, err := readLog(strings.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	die := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	h := hopsOf(recs, "bench", hopTimes{name: "app", die: die})
	ms := func(t time.Time) int64 { return t.Sub(die).Milliseconds() }
	if got := []int64{ms(h.received), ms(h.collectStart), ms(h.collectEnd), ms(h.stored), ms(h.delivered)}; fmt.Sprint(got) != "[12 13 20 25 40]" {
		t.Errorf("hops at %v ms, want [12 13 20 25 40]", got)
	}
	// Without its start line, a re-collect began took before its end.
	recs = append(recs[:3:3], recs[4:]...)
	if h := hopsOf(recs, "bench", hopTimes{name: "app", die: die}); ms(h.collectStart) != 14 {
		t.Errorf("re-collect start at %d ms, want 14 (20 ms end - 6 ms took)", ms(h.collectStart))
	}
	// A re-collect that saw nothing yet; the next poll saw the container
	// down: the re-collect started at once, the collection that saw it
	// ended with the poll.
	log = strings.Join([]string{
		line(12, "docker event", `"host":"bench","container":"app","action":"die","hop":"event_received"`),
		line(13, "re-collect", `"host":"bench","hop":"collect_start"`),
		line(20, "collected", `"host":"bench","full":false,"took":6000000,"hop":"collect_end"`),
		line(30, "collected", `"host":"bench","full":true,"took":25000000,"hop":"collect_end"`),
		line(40, "collected", `"host":"bench","full":false,"took":5000000,"hop":"collect_end"`),
		line(41, "alert", `"kind":"opened","host":"bench","container":"app","hop":"alert_stored"`),
	}, "\n")
	if recs, err = readLog(strings.NewReader(log)); err != nil {
		t.Fatal(err)
	}
	if h := hopsOf(recs, "bench", hopTimes{name: "app", die: die}); ms(h.collectStart) != 13 || ms(h.collectEnd) != 40 {
		t.Errorf("re-collect %d → seen %d ms, want 13 → 40", ms(h.collectStart), ms(h.collectEnd))
	}
	// Down on its die event (no restart policy): recorded at once, before
	// any re-collect ends.
	log = strings.Join([]string{
		line(2, "docker event", `"host":"bench","container":"app","action":"die","hop":"event_received"`),
		line(3, "down on its die event", `"host":"bench","container":"app","exit":137,"hop":"die_applied"`),
		line(4, "alert", `"kind":"opened","host":"bench","container":"app","hop":"alert_stored"`),
		line(5, "re-collect", `"host":"bench","hop":"collect_start"`),
		line(70, "collected", `"host":"bench","full":false,"took":6000000,"hop":"collect_end"`),
	}, "\n")
	if recs, err = readLog(strings.NewReader(log)); err != nil {
		t.Fatal(err)
	}
	if h := hopsOf(recs, "bench", hopTimes{name: "app", die: die}); ms(h.collectStart) != 2 || ms(h.collectEnd) != 3 || ms(h.stored) != 4 {
		t.Errorf("down on the event: %d → %d → stored %d ms, want 2 → 3 → 4", ms(h.collectStart), ms(h.collectEnd), ms(h.stored))
	}
	if h := hopsOf(recs, "bench", hopTimes{name: "gone", die: die}); !h.received.IsZero() || !h.stored.IsZero() {
		t.Errorf("a container absent from the log has hops: %+v", h)
	}
}

func TestLoadTest(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ok" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	rps, p99 := loadTest(context.Background(), srv.URL+"/ok", nil, 2, 200*time.Millisecond)
	if rps <= 0 || p99 <= 0 {
		t.Fatalf("loadTest against a working server: rps %v, p99 %v", rps, p99)
	}
	if rps, _ = loadTest(context.Background(), srv.URL+"/nope", nil, 2, 100*time.Millisecond); rps != 0 {
		t.Fatalf("loadTest counted %v rps of 404s", rps)
	}
}

// The tree's memory includes child processes: the local transport's
// `docker events` child is deckhand's memory too.
func TestTreeCountsChildren(t *testing.T) {
	child := exec.Command("sleep", "30")
	if err := child.Start(); err != nil {
		t.Skip("no sleep command:", err)
	}
	t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })
	self, _, _ := procMemory()
	u := treeNow(os.Getpid())
	if u.Procs < 2 || u.RSSKB <= self {
		t.Errorf("tree of this process: %d processes, %d kB; want ≥ 2 and more than its own %d kB", u.Procs, u.RSSKB, self)
	}
	if p := sampleTree(os.Getpid(), 10*time.Millisecond).stop(); p.Procs < 2 || p.RSSKB <= 0 {
		t.Errorf("sampled peak: %+v", p)
	}
}

func TestNtfyReceiverFilesByContainer(t *testing.T) {
	n := newNtfyReceiver("deckhand-bench")
	n.watch("app-1", "app-2")
	srv := httptest.NewServer(n)
	t.Cleanup(srv.Close)
	post := func(body string) int {
		resp, err := http.Post(srv.URL+"/", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	since := time.Now()
	if code := post(`{"topic":"deckhand-bench","title":"app-1 on bench is down","message":"exited (137)","actions":[{"action":"http","label":"Restart","url":"http://x/hooks/ntfy?t=1","method":"POST"}]}`); code != 200 {
		t.Fatalf("publish: %d", code)
	}
	if code := post(`{"topic":"other","message":"app-2"}`); code != 400 {
		t.Errorf("wrong topic: %d, want 400", code)
	}
	a, err := n.wait("app-1", since, time.Second)
	if err != nil || len(a.actions) != 1 || a.actions[0].Label != "Restart" {
		t.Fatalf("app-1: %+v, %v", a, err)
	}
	if c := n.count("app-2", since); c != 0 {
		t.Errorf("app-2: %d messages, want 0", c)
	}
}
