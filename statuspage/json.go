package statuspage

import (
	"encoding/json"
	"fmt"
	"time"
)

// The /api/status.json document. Field names are a stable, snake_case
// contract (see testdata/status.golden.json for a full example):
//
//	{
//	  "overall": "operational" | "checking" | "recovering" | "degraded" | "major_outage",
//	  "generated_at": RFC 3339 time or null before the first collection,
//	  "hosts": [{
//	    "name": "nas",
//	    "status": "up" | "down" | "checking" (not collected yet) | "disabled",
//	    "last_collect_at": RFC 3339 or null,
//	    "containers": [{
//	      "name": "jellyfin", "project": "media" ("" outside compose),
//	      "status": "up" | "stopped" | "degraded" | "down" | "recovering" |
//	        "maintenance" | "unknown" (host unreachable) | "checking",
//	      "state": Docker's state ("running", "exited", …),
//	      "health": "healthy" | "unhealthy" | "starting" | "" (no healthcheck),
//	      "since": RFC 3339 (Docker's last start, or last stop) or null,
//	      "maintenance": description or "",
//	      "uptime_24h", "uptime_7d", "uptime_30d", "uptime_90d": percent
//	        (0–100, floored to 2 decimals) or null without data
//	    }]
//	  }],
//	  "incidents": [{
//	    "host", "container" ("" for host-level), "project", "kind",
//	    "severity", "title", "active": bool, "acknowledged": bool,
//	    "recovering": bool (back, inside the recovery hold),
//	    "started_at", "resolved_at" (null while active)
//	  }],  // active ones first (newest first), then past ones
//	  "announcements": [{"title", "body" (Markdown), "created_at", "until"}]
//	}
//
// Hosts are sorted by name, containers by compose project then name.
type statusDoc struct {
	Overall       string            `json:"overall"`
	GeneratedAt   *time.Time        `json:"generated_at"`
	Hosts         []hostDoc         `json:"hosts"`
	Incidents     []incidentDoc     `json:"incidents"`
	Announcements []announcementDoc `json:"announcements"`
}

type hostDoc struct {
	Name          string         `json:"name"`
	Status        string         `json:"status"`
	LastCollectAt *time.Time     `json:"last_collect_at"`
	Containers    []containerDoc `json:"containers"`
}

type containerDoc struct {
	Name        string     `json:"name"`
	Project     string     `json:"project"`
	Status      string     `json:"status"`
	State       string     `json:"state"`
	Health      string     `json:"health"`
	Since       *time.Time `json:"since"`
	Maintenance string     `json:"maintenance"`
	Uptime24h   *float64   `json:"uptime_24h"`
	Uptime7d    *float64   `json:"uptime_7d"`
	Uptime30d   *float64   `json:"uptime_30d"`
	Uptime90d   *float64   `json:"uptime_90d"`
}

type incidentDoc struct {
	Host         string     `json:"host"`
	Container    string     `json:"container"`
	Project      string     `json:"project"`
	Kind         string     `json:"kind"`
	Severity     string     `json:"severity"`
	Title        string     `json:"title"`
	Active       bool       `json:"active"`
	Acknowledged bool       `json:"acknowledged"`
	Recovering   bool       `json:"recovering"`
	StartedAt    *time.Time `json:"started_at"`
	ResolvedAt   *time.Time `json:"resolved_at"`
}

type announcementDoc struct {
	Title     string     `json:"title"`
	Body      string     `json:"body"`
	CreatedAt *time.Time `json:"created_at"`
	Until     *time.Time `json:"until"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func encodeStatus(s *snapshot) ([]byte, error) {
	d := statusDoc{
		Overall:       s.overall,
		GeneratedAt:   timePtr(s.generatedAt),
		Hosts:         make([]hostDoc, 0, len(s.hosts)),
		Incidents:     make([]incidentDoc, 0, len(s.incidents)+len(s.past)),
		Announcements: make([]announcementDoc, 0, len(s.announcements)),
	}
	for _, hv := range s.hosts {
		hd := hostDoc{Name: hv.Name, Status: hv.Level, LastCollectAt: timePtr(hv.LastCollectAt),
			Containers: make([]containerDoc, 0, hv.Count)}
		for _, pv := range hv.Projects {
			for _, cv := range pv.Containers {
				hd.Containers = append(hd.Containers, containerDoc{
					Name: cv.Name, Project: cv.Project, Status: cv.Level, State: cv.State,
					Health: cv.Health, Since: timePtr(cv.Since), Maintenance: cv.Maintenance,
					Uptime24h: cv.Bars[0].Percent, Uptime7d: cv.Bars[1].Percent,
					Uptime30d: cv.Bars[2].Percent, Uptime90d: cv.Bars[3].Percent,
				})
			}
		}
		d.Hosts = append(d.Hosts, hd)
	}
	add := func(ivs []incidentView, active bool) {
		for _, iv := range ivs {
			d.Incidents = append(d.Incidents, incidentDoc{
				Host: iv.Host, Container: iv.Container, Project: iv.Project, Kind: iv.Kind,
				Severity: iv.Severity, Title: iv.What, Active: active, Acknowledged: iv.Acknowledged, Recovering: iv.Recovering,
				StartedAt: timePtr(iv.StartedAt), ResolvedAt: timePtr(iv.ResolvedAt),
			})
		}
	}
	add(s.incidents, true)
	add(s.past, false)
	for _, a := range s.announcements {
		d.Announcements = append(d.Announcements, announcementDoc{
			Title: a.Title, Body: a.Markdown, CreatedAt: timePtr(a.CreatedAt), Until: timePtr(a.Until),
		})
	}
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode status: %w", err)
	}
	return b, nil
}
