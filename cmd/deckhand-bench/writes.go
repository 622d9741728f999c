package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/alerts"
	"github.com/deckhand/deckhand/collector"
	"github.com/deckhand/deckhand/internal/fleet"
	"github.com/deckhand/deckhand/monitor"
	"github.com/deckhand/deckhand/store"
)

// Goals and pace of the writes section.
const (
	writesGoalMB    = 10  // bytes written to storage per day, 40 unchanged containers
	writesPace      = 120 // virtual seconds per real second
	writesContainer = 40
)

// benchWrites measures what deckhand writes to storage when nothing
// changes: one host of 40 running containers at the default schedule
// (poll 15 s, inventory 5 min, availability slots of 5 min, prune hourly),
// run on a clock 120× faster than the wall so that a few hours pass in a
// minute. The bytes are the kernel's count of what this process sent to the
// storage layer (/proc/self/io write_bytes), with the database's
// filesystem synced every 30 virtual seconds, as the kernel's writeback
// would at most: a page rewritten between two syncs counts once, as on a
// real disk, and never less often than at the real pace.
func benchWrites(ctx context.Context, o options, rep *benchReport, _ io.Writer) error {
	const sec = "writes"
	window := 2 * time.Minute
	if o.short {
		window = 45 * time.Second
	}
	dir, err := os.MkdirTemp("", "deckhand-bench-writes-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fl, err := fleet.Start(fleet.Config{Hosts: 1, Containers: writesContainer, RTT: time.Millisecond}, dir)
	if err != nil {
		return err
	}
	defer fl.Close()
	path := filepath.Join(dir, "deckhand.db")
	st, err := store.Open(ctx, path)
	if err != nil {
		return err
	}
	defer st.Close()
	host := fl.Hosts[0].Name
	if err := st.SyncHosts(ctx, []deckhand.Host{{Name: host, Transport: collector.TransportSSH, Enabled: true, Status: deckhand.HostUnknown}}); err != nil {
		return err
	}
	coll, err := collector.New(fl.Manifest.HostConfigs(), collector.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	defer coll.Close()
	eng, err := alerts.New(alerts.DefaultConfig())
	if err != nil {
		return err
	}
	t0 := time.Now()
	now := func() time.Time { return t0.Add(time.Since(t0) * writesPace) }
	var fulls atomic.Int64
	mon, err := monitor.New(monitor.Config{
		Hosts: []string{host}, Events: true,
		Interval:          15 * time.Second / writesPace,
		InventoryInterval: 5 * time.Minute / writesPace,
		Retention:         time.Hour / writesPace,
	}, monitor.Deps{Store: st, Collector: coll, Engine: eng, Now: now, OnCollect: func(s deckhand.Snapshot) {
		if s.Full {
			fulls.Add(1)
		}
	}})
	if err != nil {
		return err
	}
	mctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- mon.Run(mctx) }()
	// Start-up (the first collections, the host's first inventory, the
	// first writes of every row) happens once per start, not per day.
	for fulls.Load() == 0 {
		if time.Since(t0) > time.Minute {
			return fmt.Errorf("writes: no full collection within a minute")
		}
		time.Sleep(20 * time.Millisecond)
	}
	w0, err := writeBytes()
	if err != nil {
		return err
	}
	v0, r0 := now(), time.Now()
	syncEvery(mctx, dir, 30*time.Second/writesPace, r0.Add(window))
	w1, err := writeBytes()
	if err != nil {
		return err
	}
	virtual := now().Sub(v0)
	cancel()
	if err := <-done; err != nil {
		return err
	}
	perDay := float64(w1-w0) * float64(24*time.Hour) / float64(virtual)
	size := fileSize(path)
	rep.add(sec, fmt.Sprintf("simulated: %s of one host with %d unchanged containers, at 15s / 5m", virtual.Round(time.Minute), writesContainer), float64(w1-w0)/1024, "KiB")
	rep.goal(sec, "bytes written to storage per day (/proc/self/io)", perDay/(1<<20), "MB", true, writesGoalMB, true)
	rep.add(sec, "database files at the end (file + WAL)", float64(size)/(1<<20), "MB")
	rep.note("writes: the monitor (one simulated host of %d running containers, events on, default schedule) on a clock %d× the wall's for %s of real time; "+
		"write_bytes of this process, the data directory synced every 30 virtual seconds; start-up excluded; extrapolated to 24 h", writesContainer, writesPace, window)
	return nil
}

// syncEvery syncs dir's filesystem every d until the deadline.
func syncEvery(ctx context.Context, dir string, d time.Duration, until time.Time) {
	f, err := os.Open(dir)
	if err != nil {
		return
	}
	defer f.Close()
	t := time.NewTicker(d)
	defer t.Stop()
	for time.Now().Before(until) {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = unix.Syncfs(int(f.Fd()))
		}
	}
	_ = unix.Syncfs(int(f.Fd()))
}

// writeBytes is this process's write_bytes from /proc/self/io.
func writeBytes() (int64, error) {
	f, err := os.Open("/proc/self/io")
	if err != nil {
		return 0, fmt.Errorf("writes: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "write_bytes:"); ok {
			return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, fmt.Errorf("writes: no write_bytes in /proc/self/io")
}
