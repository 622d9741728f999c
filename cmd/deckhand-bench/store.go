package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/monitor"
	"github.com/deckhand/deckhand/statuspage"
	"github.com/deckhand/deckhand/store"
)

// benchStorage simulates 30 days of history for storeHosts × containers in
// a fresh database: availability at storeSpan granularity (one
// RecordAvailability per span, as the daemon does per polling interval but
// coarser), about one incident per 100 containers a day (alert opened and
// closed, two notices delivered to one platform) and twenty audit entries a
// day. It reports the size, what Prune removes, and how long the status
// page takes to refresh from that database.
func benchStorage(ctx context.Context, o options, rep *benchReport, _ io.Writer) error {
	const sec, days = "storage", 30
	dir, err := os.MkdirTemp("", "deckhand-bench-store-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "deckhand.db")
	st, err := store.Open(ctx, path)
	if err != nil {
		return err
	}
	defer st.Close()

	now := time.Now().UTC()
	begin := now.Add(-days * 24 * time.Hour)
	hosts, perHost := o.storeHosts, o.containers
	samples := make([]store.Availability, 0, hosts*perHost)
	for h := range hosts {
		snap := deckhand.Snapshot{Host: deckhand.Host{Name: fmt.Sprintf("host-%03d", h), Transport: "ssh"}, CollectedAt: now}
		for c := range perHost {
			name := fmt.Sprintf("app-%02d", c)
			snap.Containers = append(snap.Containers, deckhand.Container{
				ID: fmt.Sprintf("%056x%08x", h, c), Name: name, Image: "registry.example/app:1", State: deckhand.StateRunning,
				Health: deckhand.HealthNone, CreatedAt: begin, ComposeProject: fmt.Sprintf("stack-%d", c%5),
				Labels: map[string]string{deckhand.LabelMonitor: "true", deckhand.LabelComposeProject: fmt.Sprintf("stack-%d", c%5)},
			})
			samples = append(samples, store.Availability{Host: snap.Host.Name, Container: name, Up: true})
		}
		if err := st.SaveSnapshot(ctx, snap); err != nil {
			return err
		}
	}

	t0 := time.Now()
	calls, incidentsPerDay := 0, max(1, hosts*perHost/100)
	day := -1
	for at := begin; at.Before(now); at = at.Add(o.storeSpan) {
		if err := ctx.Err(); err != nil {
			return err
		}
		for i := range samples {
			// About one sample in 500 is down, so outages open and close.
			samples[i].Up = (i+calls*131)%500 != 0
		}
		if err := st.RecordAvailability(ctx, at, o.storeSpan, samples); err != nil {
			return err
		}
		calls++
		if d := int(at.Sub(begin) / (24 * time.Hour)); d != day {
			day = d
			if err := simulateDay(ctx, st, at, day, incidentsPerDay, hosts, perHost); err != nil {
				return err
			}
		}
	}
	fill := time.Since(t0)
	before := fileSize(path)
	t0 = time.Now()
	ps, err := st.Prune(ctx, now)
	if err != nil {
		return err
	}
	pruneTime := time.Since(t0)
	after := fileSize(path)

	rep.add(sec, fmt.Sprintf("simulate %d days (%d hosts × %d, %d calls of %s)", days, hosts, perHost, calls, o.storeSpan), ms(fill), "ms")
	rep.add(sec, "database size (file + WAL)", float64(before)/(1<<20), "MB")
	rep.add(sec, "prune time", ms(pruneTime), "ms")
	rep.add(sec, "prune: 5m buckets removed", float64(ps.Buckets5m), "rows")
	rep.add(sec, "prune: sent outbox rows removed", float64(ps.Outbox), "rows")
	rep.add(sec, "database size after prune", float64(after)/(1<<20), "MB")

	// The daemon's page refresh: every uptime series, then one Update.
	p, err := statuspage.New(statuspage.Config{Title: "Bench"}, nil)
	if err != nil {
		return err
	}
	defer p.Close()
	t0 = time.Now()
	uptime, err := monitor.ReadUptime(ctx, st, now)
	if err != nil {
		return err
	}
	queries := time.Since(t0)
	hs, err := st.Hosts(ctx)
	if err != nil {
		return err
	}
	ctrs, err := st.Containers(ctx, "")
	if err != nil {
		return err
	}
	active, _ := st.ActiveAlerts(ctx)
	recent, _ := st.RecentAlerts(ctx, now.Add(-90*24*time.Hour), 50)
	t1 := time.Now()
	p.Update(statuspage.View{GeneratedAt: now, Hosts: hs, Containers: ctrs, Active: active, Recent: recent, Uptime: uptime})
	update := time.Since(t1)
	rep.add(sec, "page refresh: uptime queries (1h for 24h, 1d for 90d)", ms(queries), "ms")
	rep.add(sec, "page refresh: Page.Update", ms(update), "ms")
	rep.add(sec, "page refresh: total from the database", ms(time.Since(t0)), "ms")
	// Rows do not depend on how often the daemon samples (one row per
	// container per bucket), only on retention: the bound after Prune.
	perCtr := float64(store.Keep5m/(5*time.Minute) + store.Keep1h/time.Hour)
	rep.add(sec, "bucket rows per container after Prune (5m + 1h), plus 1 per day kept", perCtr, "rows")
	rep.note("storage: availability recorded once per %s (coarse: the daemon samples every polling interval into the same buckets, so a real 1h table holds up to %d× more rows than this one, bounded by Prune at %s of 5m and %s of 1h buckets; Prune frees pages for reuse, it does not shrink the file)",
		o.storeSpan, int(o.storeSpan/time.Hour), store.Keep5m, store.Keep1h)
	return nil
}

// simulateDay adds one day of incidents (alert, opened and recovered
// notices, delivered) and audit entries.
func simulateDay(ctx context.Context, st *store.Store, at time.Time, day, incidents, hosts, perHost int) error {
	var alerts []deckhand.Alert
	var notices []deckhand.Notice
	for i := range incidents {
		n := (day*incidents + i) * 7919 % (hosts * perHost)
		key := deckhand.AlertKey{Host: fmt.Sprintf("host-%03d", n/perHost), Container: fmt.Sprintf("app-%02d", n%perHost), Kind: deckhand.AlertContainerDown}
		opened := at.Add(time.Duration(i) * time.Minute)
		a := deckhand.Alert{Key: key, Severity: deckhand.SeverityError, State: deckhand.AlertClosed, Message: "exited (137)",
			FirstSeenAt: opened, OpenedAt: opened, ClosedAt: opened.Add(7 * time.Minute), LastNotifiedAt: opened.Add(7 * time.Minute), Notifications: 2}
		alerts = append(alerts, a)
		notices = append(notices,
			deckhand.Notice{Kind: deckhand.NoticeOpened, Alert: a, Text: key.Container + " on " + key.Host + " is down", At: opened},
			deckhand.Notice{Kind: deckhand.NoticeRecovered, Alert: a, Text: key.Container + " on " + key.Host + " recovered", At: a.ClosedAt})
	}
	if err := st.ApplyAlerts(ctx, alerts, notices, []string{deckhand.PlatformNtfy}); err != nil {
		return err
	}
	for {
		due, err := st.DueOutbox(ctx, deckhand.PlatformNtfy, at.Add(24*time.Hour), 500)
		if err != nil {
			return err
		}
		if len(due) == 0 {
			break
		}
		for _, it := range due {
			if err := st.MarkSent(ctx, it.ID, it.CreatedAt.Add(time.Second), "msg"); err != nil {
				return err
			}
		}
	}
	for i := range 20 {
		if err := st.AddAudit(ctx, deckhand.AuditEntry{At: at.Add(time.Duration(i) * time.Hour),
			Actor:  deckhand.Actor{Platform: deckhand.PlatformDiscord, UserID: "1", Name: "op", Role: deckhand.RoleOperator},
			Action: deckhand.ActionRestart, Host: "host-000", Target: "app-01", Result: "ok", Duration: 800 * time.Millisecond}); err != nil {
			return err
		}
	}
	return nil
}

func fileSize(path string) int64 {
	var n int64
	for _, p := range []string{path, path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n
}
