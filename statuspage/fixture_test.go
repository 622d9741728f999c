package statuspage

import (
	"fmt"
	"time"

	"github.com/deckhand/deckhand"
)

var fixtureNow = time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)

func labels(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// series builds a full history ending at now: 24 hourly buckets and 90
// daily ones. outages are placed in whichever buckets they touch;
// maint marks the last hour as maintenance.
func series(now time.Time, outages []deckhand.Outage, maint bool) UptimeSeries {
	return NewUptimeSeries(seriesBuckets(now, outages, maint))
}

// seriesBuckets is series unpacked: the hourly and daily buckets.
func seriesBuckets(now time.Time, outages []deckhand.Outage, maint bool) (day, quarter []deckhand.UptimeBucket) {
	mk := func(n int, width time.Duration) []deckhand.UptimeBucket {
		out := make([]deckhand.UptimeBucket, n)
		end := now.Truncate(width)
		if end.Before(now) {
			end = end.Add(width)
		}
		for i := range out {
			start := end.Add(-time.Duration(n-i) * width)
			b := deckhand.UptimeBucket{Start: start, Width: width}
			slotEnd := start.Add(width)
			if slotEnd.After(now) {
				slotEnd = now
			}
			monitored := slotEnd.Sub(start)
			for _, o := range outages {
				oe := o.End
				if oe.IsZero() {
					oe = now
				}
				s, e := maxTime(o.Start, start), minTime(oe, slotEnd)
				if e.After(s) {
					b.Down += e.Sub(s)
					b.Outages = append(b.Outages, o)
				}
			}
			if maint && i == n-1 && width == time.Hour {
				b.Maintenance = monitored - b.Down
				monitored = b.Down
			}
			b.Up = monitored - b.Down
			out[i] = b
		}
		return out
	}
	return mk(24, time.Hour), mk(90, 24*time.Hour)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// fixtureView is a small homelab with every case the page distinguishes.
func fixtureView() View {
	now := fixtureNow
	mon := deckhand.LabelMonitor
	ctr := func(host, name, project string, state deckhand.ContainerState, health deckhand.Health, l map[string]string) deckhand.Container {
		if project != "" {
			l[deckhand.LabelComposeProject] = project
		}
		return deckhand.Container{
			Host: host, ID: fmt.Sprintf("%064x", len(host)*1000+len(name)), Name: name, Image: "example/" + name + ":latest",
			State: state, Health: health, Labels: l, ComposeProject: project,
		}
	}
	jellyOutage := deckhand.Outage{Start: now.Add(-50 * time.Hour), End: now.Add(-50*time.Hour + 12*time.Minute)}
	webOutage := deckhand.Outage{Start: now.Add(-25 * time.Minute)}
	v := View{
		GeneratedAt: now,
		Hosts: []deckhand.Host{
			{Name: "nas", Transport: "ssh", Enabled: true, Status: deckhand.HostOK, LastCollectAt: now.Add(-5 * time.Second), LastOKAt: now.Add(-5 * time.Second)},
			{Name: "vps", Transport: "ssh", Enabled: true, Status: deckhand.HostOK, LastCollectAt: now.Add(-7 * time.Second)},
			{Name: "pi", Transport: "ssh", Enabled: true, Status: deckhand.HostUnreachable, LastError: "dial tcp 10.1.2.3:22: connect: no route to host", LastCollectAt: now.Add(-3 * time.Second)},
		},
		Containers: []deckhand.Container{
			ctr("nas", "jellyfin", "media", deckhand.StateRunning, deckhand.HealthHealthy, labels(mon, "true")),
			ctr("nas", "sonarr", "media", deckhand.StateRunning, deckhand.HealthNone, labels(mon, "true")),
			ctr("nas", "nextcloud", "cloud", deckhand.StateRunning, deckhand.HealthUnhealthy, labels(deckhand.LabelPublic, "true")),
			ctr("nas", "backup", "", deckhand.StateExited, deckhand.HealthNone, labels(mon, "true", deckhand.LabelDesired, "stopped")),
			ctr("nas", "vaultwarden", "", deckhand.StateRunning, deckhand.HealthHealthy, labels(mon, "true", deckhand.LabelPublic, "false")),
			ctr("vps", "web", "site", deckhand.StateExited, deckhand.HealthNone, labels(mon, "true")),
			ctr("vps", "updater", "", deckhand.StateRunning, deckhand.HealthNone, labels(mon, "true")),
			ctr("vps", "grafana", "", deckhand.StateRunning, deckhand.HealthNone, labels()),
			ctr("pi", "pihole", "", deckhand.StateRunning, deckhand.HealthHealthy, labels(mon, "true")),
		},
		Active: []deckhand.Alert{
			{ID: 7, Key: deckhand.AlertKey{Host: "vps", Container: "web", Kind: deckhand.AlertContainerDown}, Project: "site",
				Severity: deckhand.SeverityError, State: deckhand.AlertOpen, Message: "web exited (1)",
				FirstSeenAt: webOutage.Start, OpenedAt: webOutage.Start.Add(time.Minute)},
			{ID: 8, Key: deckhand.AlertKey{Host: "pi", Kind: deckhand.AlertHostUnreachable}, Severity: deckhand.SeverityCritical,
				State: deckhand.AlertAcked, Message: "dial tcp 10.1.2.3:22: connect: no route to host", AckedBy: "alice",
				FirstSeenAt: now.Add(-10 * time.Minute), OpenedAt: now.Add(-9 * time.Minute), AckedAt: now.Add(-8 * time.Minute)},
			{ID: 9, Key: deckhand.AlertKey{Host: "nas", Container: "sonarr", Kind: deckhand.AlertUnhealthy}, State: deckhand.AlertPending,
				FirstSeenAt: now.Add(-10 * time.Second)},
			{ID: 10, Key: deckhand.AlertKey{Host: "nas", Container: "vaultwarden", Kind: deckhand.AlertContainerDown}, State: deckhand.AlertOpen,
				FirstSeenAt: now.Add(-time.Hour)},
		},
		Recent: []deckhand.Alert{
			{ID: 5, Key: deckhand.AlertKey{Host: "nas", Container: "jellyfin", Kind: deckhand.AlertContainerDown}, Project: "media",
				Severity: deckhand.SeverityError, State: deckhand.AlertClosed, FirstSeenAt: jellyOutage.Start,
				OpenedAt: jellyOutage.Start, LastNotifiedAt: jellyOutage.End, Notifications: 2, AckedAt: jellyOutage.Start.Add(3 * time.Minute), ClosedAt: jellyOutage.End},
			{ID: 4, Key: deckhand.AlertKey{Host: "vps", Container: "grafana", Kind: deckhand.AlertContainerDown},
				State: deckhand.AlertClosed, FirstSeenAt: now.Add(-80 * time.Hour), ClosedAt: now.Add(-79 * time.Hour)},
		},
		Uptime: map[ContainerKey]UptimeSeries{
			{"nas", "jellyfin"}:  series(now, []deckhand.Outage{jellyOutage}, false),
			{"nas", "sonarr"}:    series(now, nil, false),
			{"nas", "nextcloud"}: series(now, nil, false),
			{"vps", "web"}:       series(now, []deckhand.Outage{webOutage}, false),
			{"vps", "updater"}:   series(now, nil, true),
		},
		Maintenance: map[ContainerKey]string{{"vps", "updater"}: "nightly updates until 12:30 UTC"},
		Announcements: []deckhand.Announcement{
			{ID: 1, Title: "Router replaced", Body: "We replaced the **router**.\n\n<script>alert(1)</script>\n\n[click](javascript:alert(2)) <img src=x onerror=alert(3)>",
				By: "alice", CreatedAt: now.Add(-2 * time.Hour)},
			{ID: 2, Title: "Old news", Body: "expired", CreatedAt: now.Add(-48 * time.Hour), Until: now.Add(-time.Hour)},
		},
	}
	v.Containers[1].StartedAt = now.Add(-72 * time.Hour) // sonarr: Docker's own "since"
	return v
}

var fixtureConfig = Config{
	Title:         "Homelab status",
	Footer:        []Link{{Label: "Source", URL: "https://example.org/deckhand"}},
	PublicURL:     "https://status.example.org",
	Announcements: []string{"**Planned:** NAS disk swap on Saturday."},
}
