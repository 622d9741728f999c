package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/deckhand/deckhand/internal/fleet"
)

// daemonFigures are what the whole daemon costs on a simulated fleet: the
// monitor of the fleet section plus everything a real install runs beside
// it (the status page and its history, the outbox, /metrics), in its own
// process with whatever child processes it starts.
type daemonFigures struct {
	FirstCollection time.Duration   // start to every healthy host up
	EventsOpen      []time.Duration // per healthy host: start → its events stream open
	EventsMissing   int
	Window          time.Duration // measured after the first collection
	Collects        float64       // host collections in the window
	CPU             time.Duration // daemon and children, in the window
	PeakKB          int64         // peak summed RSS of the daemon and its descendants, whole run
	HWMKB           int64         // the daemon's own VmHWM
	RSSKB           int64         // summed RSS at the end
	Procs           int           // most processes in the tree at once
}

// measureDaemon runs `exe run` on m's hosts with the given collection and
// inventory intervals, waits for every healthy host to be up, then watches
// it for window. opens, when set, tells when each host's events stream
// opened.
func measureDaemon(ctx context.Context, exe string, m fleet.Manifest, interval, inventory, window time.Duration, opens *streamOpens, logs io.Writer) (daemonFigures, error) {
	var f daemonFigures
	dir, err := os.MkdirTemp("", "deckhand-bench-daemon-")
	if err != nil {
		return f, err
	}
	defer os.RemoveAll(dir)
	port, err := freePort()
	if err != nil {
		return f, err
	}
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, daemonConfig(m, filepath.Join(dir, "deckhand.db"), port, interval, inventory), 0o600); err != nil {
		return f, err
	}
	var healthy []string
	for _, h := range m.Hosts {
		if h.Fault == "" {
			healthy = append(healthy, h.Name)
		}
	}

	cmd := exec.CommandContext(ctx, exe, "run", "--config", cfgPath)
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return f, fmt.Errorf("start deckhand run: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		<-exited
	}()
	// gone says how the daemon ended when it did before its time.
	gone := func(err error) error {
		select {
		case <-exited:
			return fmt.Errorf("daemon exited (%s) after %s: %w", cmd.ProcessState, time.Since(start).Round(time.Millisecond), err)
		case <-time.After(time.Second):
			return err
		}
	}
	pid := cmd.Process.Pid
	peak := sampleTree(pid, 100*time.Millisecond)
	defer peak.stop()
	metrics := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)

	deadline := time.Now().Add(2 * time.Minute)
	for {
		up, _, err := scrape(ctx, metrics)
		if err == nil && up >= float64(len(healthy)) {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return f, gone(fmt.Errorf("daemon: %v hosts up after %s, want %d (last error: %v)", up, time.Since(start).Round(time.Second), len(healthy), err))
		}
		time.Sleep(50 * time.Millisecond)
	}
	f.FirstCollection = time.Since(start)

	_, c0, err := scrape(ctx, metrics)
	if err != nil {
		return f, gone(err)
	}
	cpu0, t0 := treeNow(pid).CPU, time.Now()
	select {
	case <-time.After(window):
	case <-ctx.Done():
		return f, ctx.Err()
	}
	_, c1, err := scrape(ctx, metrics)
	if err != nil {
		return f, gone(err)
	}
	end := treeNow(pid)
	f.Window, f.CPU, f.Collects = time.Since(t0), end.CPU-cpu0, c1-c0
	f.RSSKB = end.RSSKB
	_, f.HWMKB, _ = pidMemory(pid)
	p := peak.stop()
	f.PeakKB, f.Procs = max(p.RSSKB, end.RSSKB), max(p.Procs, end.Procs)
	if f.RSSKB <= 0 {
		return f, fmt.Errorf("daemon: memory of pid %d not readable", pid)
	}
	if opens != nil {
		for _, h := range healthy {
			if at, ok := opens.first(h, start); ok {
				f.EventsOpen = append(f.EventsOpen, at.Sub(start))
			} else {
				f.EventsMissing++
			}
		}
	}
	return f, nil
}

// daemonConfig is a config.toml for m's hosts, with the status page (and
// /metrics) on 127.0.0.1:port and no chat platform.
func daemonConfig(m fleet.Manifest, db string, port int, interval, inventory time.Duration) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "data = %q\nlog_level = \"warn\"\n\n", db)
	fmt.Fprintf(&b, "[collector]\ninterval = %q\ninventory_interval = %q\n\n", interval.String(), inventory.String())
	fmt.Fprintf(&b, "[statuspage]\nlisten = \"127.0.0.1:%d\"\n\n", port)
	for _, h := range m.Hosts {
		fmt.Fprintf(&b, "[[hosts]]\nname = %q\naddress = %q\nuser = %q\nkey_file = %q\nknown_hosts = %q\n\n",
			h.Name, h.Addr, fleet.User, m.KeyFile, m.KnownHosts)
	}
	return b.Bytes()
}

// scrape reads deckhand_hosts_up and the sum of deckhand_collects_total
// from /metrics.
func scrape(ctx context.Context, url string) (up, collects float64, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("%s: %s", url, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", url, err)
	}
	for _, m := range families["deckhand_hosts_up"].GetMetric() {
		up = m.GetGauge().GetValue()
	}
	for _, m := range families["deckhand_collects_total"].GetMetric() {
		collects += m.GetCounter().GetValue()
	}
	return up, collects, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// daemonRSSGoalMB is the whole daemon's peak at 200 × 40, children included.
const daemonRSSGoalMB = 100

func benchDaemon(ctx context.Context, o options, rep *benchReport, stderr io.Writer) error {
	child, err := startFleetChild(ctx, o, 0, stderr)
	if err != nil {
		return err
	}
	defer child.stop()
	var logs bytes.Buffer
	f, err := measureDaemon(ctx, o.deckhand, child.Manifest, o.daemonInterval, o.daemonInventory, o.daemonWindow, child.opens, &logs)
	if err != nil {
		return fmt.Errorf("%w\ndaemon log:\n%s", err, tail(logs.String(), 40))
	}
	const sec = "daemon"
	mb := func(kb int64) float64 { return float64(kb) / 1024 }
	rep.add(sec, "start to every host collected", ms(f.FirstCollection), "ms")
	if f.EventsMissing > 0 {
		rep.add(sec, "hosts whose events stream never opened", float64(f.EventsMissing), "")
	}
	if len(f.EventsOpen) > 0 {
		rep.add(sec, "events streams: process start → open on every host", ms(slices.Max(f.EventsOpen)), "ms")
	}
	rep.unchecked(sec, "peak RSS, whole run, daemon and its child processes", mb(f.PeakKB), "MB", true, daemonRSSGoalMB,
		"missed: the first seconds (every host's first collection and the first inventories at once) peak above it, under the soft memory_limit that already costs CPU a collection; GOMEMLIMIT=off shows the run without it")
	rep.add(sec, "  the daemon's own VmHWM", mb(f.HWMKB), "MB")
	rep.add(sec, "  most processes at once (the daemon and its children)", float64(f.Procs), "")
	rep.add(sec, "RSS at the end, daemon and children", mb(f.RSSKB), "MB")
	if f.Collects > 0 {
		rep.add(sec, "host collections in the window", f.Collects, "")
		rep.add(sec, "CPU per host collection (collect, store, alerts, page)", ms(f.CPU)/f.Collects, "ms")
	}
	rep.add(sec, "CPU, share of one core", 100*float64(f.CPU)/float64(f.Window), "%")
	rep.note("daemon: the real binary, `deckhand run`, on the simulated fleet (a child process), with interval %s and inventory_interval %s "+
		"(the defaults are 15s and 5m: this is %0.1f× the default pace), docker events on, no chat platform, watched for %s after every host was up; "+
		"memory and CPU are summed over the daemon and its descendants from /proc, sampled every 100 ms",
		o.daemonInterval, o.daemonInventory, float64(15*time.Second)/float64(o.daemonInterval), o.daemonWindow)
	return nil
}

func tail(s string, lines int) string {
	parts := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}
