package statuspage

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/deckhand/deckhand"
)

// Public levels. They are the only status vocabulary the site uses, in the
// HTML (text, icon and CSS class), the JSON and the badges. A container's
// level is deckhand.ContainerVerdict; disabled is for hosts only.
const (
	levelUp          = string(deckhand.VerdictUp)
	levelStopped     = string(deckhand.VerdictStopped) // stopped on purpose (homelab.desired=stopped)
	levelDegraded    = string(deckhand.VerdictDegraded)
	levelDown        = string(deckhand.VerdictDown)
	levelRecovering  = string(deckhand.VerdictRecovering)
	levelMaintenance = string(deckhand.VerdictMaintenance)
	levelUnknown     = string(deckhand.VerdictUnknown)
	levelChecking    = string(deckhand.VerdictChecking)
	levelDisabled    = "disabled"
)

// Overall states of the banner.
const (
	overallOperational = "operational"
	overallChecking    = "checking" // some host not collected yet, nothing known to be wrong
	overallRecovering  = "recovering"
	overallDegraded    = "degraded"
	overallMajor       = "major_outage"
)

// recentLimit bounds the past incidents shown.
const recentLimit = 20

type snapshot struct {
	generatedAt   time.Time
	overall       string
	hosts         []*hostView
	byHost        map[string]*hostView
	containers    map[ContainerKey]*containerView
	present       map[ContainerKey]bool // every container of the view, public or not
	incidents     []incidentView
	past          []incidentView
	announcements []announcementView

	index *doc
	json  *doc

	hostMu    sync.Mutex
	hostPages map[string]*doc
}

type hostView struct {
	Name          string
	Level         string
	LastCollectAt time.Time
	Projects      []*projectView
	Count         int
	Counts        map[string]int   // public containers by level
	Problems      []*containerView // down or degraded, in display order
}

type projectView struct {
	Name       string // empty for containers outside compose
	Containers []*containerView
}

type containerView struct {
	Host, Name, Project string
	Level               string
	State               string // Docker's state word, e.g. "running"
	Health              string // empty when there is no healthcheck
	Since               time.Time
	Maintenance         string
	Bars                [4]barView
}

type barView struct {
	Key     string // "24h", "7d", "30d", "90d"
	Label   string // "24 hours"
	Percent *float64
	buckets packedBuckets
	width   time.Duration // default bucket width
}

type incidentView struct {
	Host, Container, Project string
	Kind                     string
	What                     string
	Severity                 string
	Acknowledged             bool
	Recovering               bool // back, inside the recovery hold
	StartedAt, ResolvedAt    time.Time
	Duration                 string
}

type announcementView struct {
	Title     string
	HTML      template.HTML
	Markdown  string
	CreatedAt time.Time
	Until     time.Time
}

func publicHostLevel(s deckhand.HostStatus) string {
	switch s {
	case deckhand.HostOK:
		return levelUp
	case deckhand.HostUnknown, "":
		return levelChecking
	case deckhand.HostDisabled:
		return levelDisabled
	}
	// Every failure reads "down": the reason (auth, host key, …) is for
	// the operators' chat, not for the public.
	return levelDown
}

func (p *Page) build(v View) (*snapshot, error) {
	s := &snapshot{
		generatedAt: v.GeneratedAt.UTC(),
		byHost:      map[string]*hostView{},
		containers:  map[ContainerKey]*containerView{},
		present:     map[ContainerKey]bool{},
		hostPages:   map[string]*doc{},
	}
	status := map[string]deckhand.HostStatus{} // as the verdicts see it
	for _, h := range v.Hosts {
		if _, dup := s.byHost[h.Name]; dup || h.Name == "" {
			continue
		}
		status[h.Name] = h.Status
		if slices.Contains(v.Checking, h.Name) {
			status[h.Name] = deckhand.HostUnknown
		}
		hv := &hostView{Name: h.Name, Level: publicHostLevel(status[h.Name]), LastCollectAt: h.LastCollectAt.UTC()}
		s.hosts = append(s.hosts, hv)
		s.byHost[h.Name] = hv
	}
	slices.SortFunc(s.hosts, func(a, b *hostView) int { return strings.Compare(a.Name, b.Name) })

	activeByKey := map[ContainerKey][]deckhand.Alert{}
	for _, a := range v.Active {
		if a.Key.Container != "" && a.State.Active() {
			k := ContainerKey{a.Key.Host, a.Key.Container}
			activeByKey[k] = append(activeByKey[k], a)
		}
	}

	projects := map[string]map[string]*projectView{}
	for _, c := range v.Containers {
		s.present[ContainerKey{c.Host, c.Name}] = true
		if !v.Watch.Public(c) {
			continue
		}
		hv := s.byHost[c.Host]
		if hv == nil {
			continue // a container of a host the view does not list: nothing to attach it to
		}
		k := ContainerKey{c.Host, c.Name}
		if _, dup := s.containers[k]; dup {
			continue
		}
		m, inMaint := v.Maintenance[k]
		cv := &containerView{
			Host: c.Host, Name: c.Name, Project: c.ComposeProject, State: string(c.State),
			Level: string(deckhand.ContainerVerdict(status[c.Host], deckhand.ConditionWith(c, v.Intents), activeByKey[k], inMaint)),
		}
		// Docker keeps the last probe result of a stopped container; it says
		// nothing about a container that is not running.
		if c.Health != deckhand.HealthNone && c.Health != "" && (c.State == deckhand.StateRunning || c.State == deckhand.StateRestarting) {
			cv.Health = string(c.Health)
		}
		if inMaint {
			cv.Maintenance = m
			if cv.Maintenance == "" {
				cv.Maintenance = "scheduled maintenance"
			}
		}
		series := v.Uptime[k]
		cv.Since = c.Since()
		if cv.Since.IsZero() {
			cv.Since = deriveSince(cv.Level, activeByKey[k], series)
		}
		cv.Since = cv.Since.UTC()
		cv.Bars = [4]barView{
			makeBar("24h", "24 hours", series.day, time.Hour),
			makeBar("7d", "7 days", series.quarter.tail(7), 24*time.Hour),
			makeBar("30d", "30 days", series.quarter.tail(30), 24*time.Hour),
			makeBar("90d", "90 days", series.quarter, 24*time.Hour),
		}
		s.containers[k] = cv
		byProject := projects[c.Host]
		if byProject == nil {
			byProject = map[string]*projectView{}
			projects[c.Host] = byProject
		}
		pv := byProject[c.ComposeProject]
		if pv == nil {
			pv = &projectView{Name: c.ComposeProject}
			byProject[c.ComposeProject] = pv
			hv.Projects = append(hv.Projects, pv)
		}
		pv.Containers = append(pv.Containers, cv)
		hv.Count++
	}
	for _, hv := range s.hosts {
		// Compose projects first by name, loose containers last.
		slices.SortFunc(hv.Projects, func(a, b *projectView) int {
			if (a.Name == "") != (b.Name == "") {
				if a.Name == "" {
					return 1
				}
				return -1
			}
			return strings.Compare(a.Name, b.Name)
		})
		hv.Counts = map[string]int{}
		for _, pv := range hv.Projects {
			slices.SortFunc(pv.Containers, func(a, b *containerView) int { return strings.Compare(a.Name, b.Name) })
			for _, cv := range pv.Containers {
				hv.Counts[cv.Level]++
				if cv.Level == levelDown || cv.Level == levelDegraded {
					hv.Problems = append(hv.Problems, cv)
				}
			}
		}
	}

	for _, a := range v.Active {
		if !a.State.Active() || !a.Incident() {
			continue // pending ones are still inside their grace period
		}
		if iv, ok := s.incident(a, v.GeneratedAt, true); ok {
			if cv := s.containers[ContainerKey{a.Key.Host, a.Key.Container}]; cv != nil && cv.Level == levelMaintenance {
				continue
			}
			s.incidents = append(s.incidents, iv)
		}
	}
	slices.SortStableFunc(s.incidents, func(a, b incidentView) int { return b.StartedAt.Compare(a.StartedAt) })
	for _, a := range v.Recent {
		if a.State != deckhand.AlertClosed || !a.Incident() {
			continue // closed inside its grace: nobody was told, no incident
		}
		if iv, ok := s.incident(a, v.GeneratedAt, false); ok {
			s.past = append(s.past, iv)
		}
	}
	slices.SortStableFunc(s.past, func(a, b incidentView) int { return b.ResolvedAt.Compare(a.ResolvedAt) })
	if len(s.past) > recentLimit {
		s.past = s.past[:recentLimit]
	}

	for _, h := range p.config {
		s.announcements = append(s.announcements, announcementView{HTML: h})
	}
	for i, a := range p.cfg.Announcements {
		s.announcements[i].Markdown = a
	}
	for _, a := range v.Announcements {
		if !a.Until.IsZero() && !v.GeneratedAt.IsZero() && !a.Until.After(v.GeneratedAt) {
			continue
		}
		h, err := renderMarkdown(a.Body)
		if err != nil {
			return nil, fmt.Errorf("announcement %d: %w", a.ID, err)
		}
		s.announcements = append(s.announcements, announcementView{
			Title: a.Title, HTML: h, Markdown: a.Body, CreatedAt: a.CreatedAt.UTC(), Until: a.Until.UTC(),
		})
	}

	s.overall = overallOf(s)

	js, err := encodeStatus(s)
	if err != nil {
		return nil, err
	}
	s.json = newDoc(js, "application/json")
	// Above Config.DetailLimit public containers the index summarises each host,
	// so its size does not follow the container count.
	var buf bytes.Buffer
	buf.Grow(64 << 10)
	if err := p.tmpl.ExecuteTemplate(&buf, "index.html", p.pageData(s, nil)); err != nil {
		return nil, fmt.Errorf("render index: %w", err)
	}
	s.index = newDoc(buf.Bytes(), "text/html; charset=utf-8")
	return s, nil
}

// hostPage renders /host/{name} on first request for this snapshot.
func (p *Page) hostPage(s *snapshot, name string) (*doc, error) {
	hv := s.byHost[name]
	if hv == nil {
		return nil, errNoHost
	}
	s.hostMu.Lock()
	defer s.hostMu.Unlock()
	if d := s.hostPages[name]; d != nil {
		return d, nil
	}
	var buf bytes.Buffer
	if err := p.tmpl.ExecuteTemplate(&buf, "host.html", p.pageData(s, hv)); err != nil {
		return nil, fmt.Errorf("render host %s: %w", name, err)
	}
	d := newDoc(buf.Bytes(), "text/html; charset=utf-8")
	s.hostPages[name] = d
	return d, nil
}

// incident turns an alert into what the public may see of it: host-level
// alerts show the host name only, container alerts only for public
// containers (or, once a container is gone, if it was public when the alert
// last saw it), and never the alert's message (it may quote an error).
func (s *snapshot) incident(a deckhand.Alert, now time.Time, active bool) (incidentView, bool) {
	if s.byHost[a.Key.Host] == nil {
		return incidentView{}, false
	}
	iv := incidentView{
		Host:         a.Key.Host,
		Kind:         string(a.Key.Kind),
		Severity:     string(a.Severity),
		Acknowledged: a.State == deckhand.AlertAcked || !a.AckedAt.IsZero(),
		Recovering:   active && a.Recovering(),
		StartedAt:    a.FirstSeenAt.UTC(),
	}
	if !a.OpenedAt.IsZero() && a.FirstSeenAt.IsZero() {
		iv.StartedAt = a.OpenedAt.UTC()
	}
	if !active {
		iv.ResolvedAt = a.ClosedAt.UTC()
	}
	if a.Key.Container != "" {
		k := ContainerKey{a.Key.Host, a.Key.Container}
		switch cv := s.containers[k]; {
		case cv != nil:
			iv.Container, iv.Project = cv.Name, cv.Project
		case s.present[k] || !a.Public:
			return incidentView{}, false
		default:
			iv.Container, iv.Project = a.Key.Container, a.Project
		}
	}
	iv.What = describe(a, iv.Host, iv.Container)
	end := now
	if !active {
		end = a.ClosedAt
	}
	if !end.IsZero() && !a.FirstSeenAt.IsZero() && end.After(a.FirstSeenAt) {
		iv.Duration = deckhand.HumanDuration(end.Sub(a.FirstSeenAt))
	}
	return iv, true
}

func describe(a deckhand.Alert, host, container string) string {
	switch a.Key.Kind {
	case deckhand.AlertContainerDown:
		switch a.Condition {
		case deckhand.ConditionRunningUnwanted:
			return container + " on " + host + " running but should be stopped"
		case deckhand.ConditionPaused:
			return container + " on " + host + " paused"
		}
		return container + " on " + host + " down"
	case deckhand.AlertUnhealthy:
		return container + " on " + host + " unhealthy"
	case deckhand.AlertRestartLoop:
		return container + " on " + host + " restarting repeatedly"
	case deckhand.AlertHostUnreachable:
		return host + " unreachable"
	case deckhand.AlertDaemonDown:
		return "Docker on " + host + " not responding"
	}
	if container != "" {
		return container + " on " + host + ": problem"
	}
	return host + ": problem"
}

// deriveSince stands in when Docker did not say when the state began.
func deriveSince(level string, active []deckhand.Alert, series UptimeSeries) time.Time {
	if level == levelDown || level == levelDegraded {
		var first time.Time
		for _, a := range active {
			if first.IsZero() || a.FirstSeenAt.Before(first) {
				first = a.FirstSeenAt
			}
		}
		if !first.IsZero() {
			return first
		}
	}
	if level != levelUp {
		return time.Time{}
	}
	var last time.Time
	latest := func(o deckhand.Outage) {
		if o.End.After(last) {
			last = o.End
		}
	}
	series.day.eachOutage(latest)
	series.quarter.eachOutage(latest)
	return last
}

// overallOf is the banner: never operational while a host has not been
// collected, a problem is on, or an incident is still in its recovery hold.
func overallOf(s *snapshot) string {
	total, down, bad, recovering, checking := 0, 0, 0, 0, 0
	for _, hv := range s.hosts {
		switch hv.Level {
		case levelDown:
			return overallMajor
		case levelChecking:
			checking++
		}
	}
	for _, cv := range s.containers {
		switch cv.Level {
		case levelMaintenance, levelStopped, levelUnknown, levelChecking:
			continue
		case levelDown:
			down++
		case levelDegraded:
			bad++
		case levelRecovering:
			recovering++
		}
		total++
	}
	for _, iv := range s.incidents {
		if iv.Recovering {
			recovering++
		} else {
			bad++
		}
	}
	switch {
	case down > 0 && down*2 >= total:
		return overallMajor
	case down > 0 || bad > 0:
		return overallDegraded
	case recovering > 0:
		return overallRecovering
	case checking > 0:
		return overallChecking
	}
	return overallOperational
}

// percentOf floors to two decimals so that 99.999 % never reads 100 %.
func percentOf(up, down time.Duration) *float64 {
	if up+down <= 0 {
		return nil
	}
	v := math.Floor(float64(up)/float64(up+down)*10000) / 100
	return &v
}

func formatPercent(p *float64) string {
	if p == nil {
		return "no data"
	}
	return strconv.FormatFloat(*p, 'f', -1, 64) + "%"
}

const maxOutagesInLabel = 5

func makeBar(key, label string, buckets packedBuckets, width time.Duration) barView {
	bv := barView{Key: key, Label: label, buckets: buckets, width: width}
	bv.Percent = percentOf(buckets.upDown())
	return bv
}

// Buckets renders the <i> of every bucket. It runs only for containers a
// page actually shows, and by hand rather than through the template engine
// because it is the hot loop of rendering.
func (bv barView) Buckets() template.HTML {
	var html strings.Builder
	html.Grow(bv.buckets.len() * 56)
	bv.buckets.each(func(_ int, b deckhand.UptimeBucket) {
		w := b.Width
		if w <= 0 {
			w = bv.width
		}
		html.WriteString(`<i class="`)
		html.WriteString(bucketClass(b))
		html.WriteString(`" title="`)
		html.WriteString(htmlEscaper.Replace(bucketTitle(b, w)))
		html.WriteString(`"></i>`)
	})
	return template.HTML(html.String()) //nolint:gosec // every dynamic part is escaped above
}

// Aria is the accessible summary of the bar: the ratio and the outages.
func (bv barView) Aria() string {
	var outages []deckhand.Outage
	bv.buckets.eachOutage(func(o deckhand.Outage) { outages = append(outages, o) })
	var sb strings.Builder
	sb.WriteString("Uptime over the last " + bv.Label + ": " + formatPercent(bv.Percent))
	outages = mergeOutages(outages)
	switch n := len(outages); {
	case n == 0 && bv.Percent != nil:
		sb.WriteString(", no outages")
	case n > 0:
		fmt.Fprintf(&sb, ", %d outage%s: ", n, plural(n))
		for i, o := range outages {
			if i == maxOutagesInLabel {
				fmt.Fprintf(&sb, "; and %d more", n-i)
				break
			}
			if i > 0 {
				sb.WriteString("; ")
			}
			sb.WriteString(outageText(o))
		}
	}
	return sb.String()
}

// mergeOutages joins the pieces of one outage that span several buckets.
func mergeOutages(in []deckhand.Outage) []deckhand.Outage {
	if len(in) < 2 {
		return in
	}
	out := slices.Clone(in)
	slices.SortFunc(out, func(a, b deckhand.Outage) int { return a.Start.Compare(b.Start) })
	merged := out[:1]
	for _, o := range out[1:] {
		last := &merged[len(merged)-1]
		if !last.End.IsZero() && o.Start.After(last.End) {
			merged = append(merged, o)
			continue
		}
		if last.End.IsZero() || o.End.IsZero() {
			last.End = time.Time{}
		} else if o.End.After(last.End) {
			last.End = o.End
		}
	}
	return merged
}

// htmlEscaper escapes text for a double-quoted attribute.
var htmlEscaper = strings.NewReplacer(`&`, "&amp;", `<`, "&lt;", `>`, "&gt;", `"`, "&#34;", `'`, "&#39;", "\n", "&#10;")

func bucketClass(b deckhand.UptimeBucket) string {
	r := b.Ratio()
	if r < 0 {
		if b.Maintenance > 0 {
			return "m"
		}
		return "n"
	}
	// Round the downtime up so that one lost minute is still visible.
	d := int(math.Ceil((1 - r) * 10))
	return "d" + strconv.Itoa(min(max(d, 0), 10))
}

func bucketTitle(b deckhand.UptimeBucket, width time.Duration) string {
	start := b.Start.UTC()
	var when string
	if width >= 24*time.Hour {
		when = start.Format("2 Jan 2006")
	} else {
		when = start.Format("2 Jan 15:04") + "–" + start.Add(width).Format("15:04") + " UTC"
	}
	r := b.Ratio()
	var sb strings.Builder
	sb.WriteString(when + ": ")
	if r < 0 {
		if b.Maintenance > 0 {
			sb.WriteString("maintenance")
		} else {
			sb.WriteString("no data")
		}
		return sb.String()
	}
	sb.WriteString(formatPercent(percentOf(b.Up, b.Down)) + " up")
	if b.Down > 0 {
		sb.WriteString(", down " + deckhand.HumanDuration(b.Down))
	}
	if b.Maintenance > 0 {
		sb.WriteString(", maintenance " + deckhand.HumanDuration(b.Maintenance))
	}
	for _, o := range b.Outages {
		sb.WriteString("\n" + outageText(o))
	}
	return sb.String()
}

func outageText(o deckhand.Outage) string {
	s := o.Start.UTC().Format("2 Jan 15:04")
	if o.End.IsZero() {
		return "down since " + s + " UTC"
	}
	e := o.End.UTC()
	if e.YearDay() == o.Start.UTC().YearDay() && e.Year() == o.Start.UTC().Year() {
		return "down " + s + "–" + e.Format("15:04") + " UTC (" + deckhand.HumanDuration(e.Sub(o.Start)) + ")"
	}
	return "down " + s + " – " + e.Format("2 Jan 15:04") + " UTC (" + deckhand.HumanDuration(e.Sub(o.Start)) + ")"
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
