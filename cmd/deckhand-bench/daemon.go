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
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/deckhand/deckhand/internal/fleet"
)

// daemonFigures are what the whole daemon costs on a simulated fleet: the
// collecting process of the fleet section plus everything a real install
// runs beside it (a docker events stream per host, SQLite writes of every
// snapshot, alerts, the status page and its history).
type daemonFigures struct {
	FirstCollection time.Duration // start to every healthy host up
	Window          time.Duration // measured after that
	Collects        float64       // host collections in the window
	CPU             time.Duration // daemon CPU in the window
	HWMKB, RSSKB    int64         // peak RSS of the whole run, RSS at the end
}

// measureDaemon runs `exe run` on m's hosts with the given collection and
// inventory intervals, waits for every healthy host to be up, then watches
// it for window.
func measureDaemon(ctx context.Context, exe string, m fleet.Manifest, interval, inventory, window time.Duration, logs io.Writer) (daemonFigures, error) {
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
	healthy := 0
	for _, h := range m.Hosts {
		if h.Fault == "" {
			healthy++
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
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	pid := cmd.Process.Pid
	metrics := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)

	deadline := time.Now().Add(2 * time.Minute)
	for {
		up, _, err := scrape(ctx, metrics)
		if err == nil && up >= float64(healthy) {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return f, fmt.Errorf("daemon: %v hosts up after %s, want %d (last error: %v)", up, time.Since(start).Round(time.Second), healthy, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	f.FirstCollection = time.Since(start)

	_, c0, err := scrape(ctx, metrics)
	if err != nil {
		return f, err
	}
	cpu0, t0 := procCPU(pid), time.Now()
	select {
	case <-time.After(window):
	case <-ctx.Done():
		return f, ctx.Err()
	}
	_, c1, err := scrape(ctx, metrics)
	if err != nil {
		return f, err
	}
	f.Window, f.CPU, f.Collects = time.Since(t0), procCPU(pid)-cpu0, c1-c0
	f.RSSKB, f.HWMKB, _ = pidMemory(pid)
	if f.RSSKB <= 0 {
		return f, fmt.Errorf("daemon: memory of pid %d not readable", pid)
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

// pidMemory reads VmRSS, VmHWM and RssFile of process pid, in kB.
func pidMemory(pid int) (rss, hwm, file int64) {
	return readMemory(fmt.Sprintf("/proc/%d/status", pid))
}

func benchDaemon(ctx context.Context, o benchOptions, rep *benchReport, stderr io.Writer) error {
	child, err := startFleetChild(ctx, o, stderr)
	if err != nil {
		return err
	}
	defer child.stop()
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	var logs bytes.Buffer
	f, err := measureDaemon(ctx, exe, child.Manifest, o.daemonInterval, o.daemonInventory, o.daemonWindow, &logs)
	if err != nil {
		return fmt.Errorf("%w\ndaemon log:\n%s", err, tail(logs.String(), 40))
	}
	const sec = "daemon"
	mb := func(kb int64) float64 { return float64(kb) / 1024 }
	rep.add(sec, "start to every host collected", ms(f.FirstCollection), "ms")
	rep.add(sec, "peak RSS, whole run (VmHWM)", mb(f.HWMKB), "MB")
	rep.add(sec, "RSS at the end", mb(f.RSSKB), "MB")
	if f.Collects > 0 {
		rep.add(sec, "host collections in the window", f.Collects, "")
		rep.add(sec, "CPU per host collection (collect, store, alerts, page)", ms(f.CPU)/f.Collects, "ms")
	}
	rep.add(sec, "CPU, share of one core", 100*float64(f.CPU)/float64(f.Window), "%")
	rep.note("daemon: `deckhand run` on the simulated fleet (a child process), with interval %s and inventory_interval %s "+
		"(the defaults are 15s and 5m: this is %0.1f× the default pace), docker events on, no chat platform, watched for %s after every host was up",
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
