package statuspage

import (
	"bytes"
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// markdown renders announcements. Raw HTML stays off (goldmark's default,
// html.WithUnsafe is not set): tags are omitted and javascript: links are
// emptied, so a chat-posted announcement cannot inject script.
var markdown = goldmark.New(
	goldmark.WithExtensions(extension.Strikethrough, extension.Linkify, extension.Table),
	goldmark.WithParserOptions(parser.WithASTTransformers(util.Prioritized(headingShift{}, 100))),
)

// headingShift demotes Markdown headings below the page's own h1/h2 so that
// an announcement cannot break the document outline.
type headingShift struct{}

func (headingShift) Transform(doc *ast.Document, _ text.Reader, _ parser.Context) {
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if h, ok := n.(*ast.Heading); ok && entering {
			h.Level = min(h.Level+2, 6)
		}
		return ast.WalkContinue, nil
	})
}

func renderMarkdown(src string) (template.HTML, error) {
	var buf bytes.Buffer
	if err := markdown.Convert([]byte(src), &buf); err != nil {
		return "", fmt.Errorf("render markdown: %w", err)
	}
	// Safe: goldmark escapes text and omits raw HTML in this configuration.
	return template.HTML(buf.String()), nil //nolint:gosec
}

const timeLayout = "2006-01-02 15:04 UTC"

var levelWords = map[string]string{
	levelUp:          "Up",
	levelStopped:     "Stopped",
	levelDegraded:    "Degraded",
	levelDown:        "Down",
	levelRecovering:  "Recovering",
	levelMaintenance: "Maintenance",
	levelUnknown:     "Unknown",
	levelChecking:    "Checking",
	levelDisabled:    "Disabled",
}

var overallWords = map[string]string{
	overallOperational: "All systems operational",
	overallChecking:    "Checking services",
	overallRecovering:  "Recovering",
	overallDegraded:    "Degraded service",
	overallMajor:       "Major outage",
}

// iconOf maps a level to a symbol of the inline sprite: the status is told
// by a word and an icon shape, never by colour alone.
func iconOf(level string) string {
	switch level {
	case levelUp, levelRecovering, overallOperational: // also overallRecovering
		return "ok"
	case levelDegraded: // also overallDegraded
		return "warn"
	case levelDown, overallMajor:
		return "down"
	case levelMaintenance:
		return "maint"
	case levelStopped:
		return "stop"
	}
	return "unknown"
}

type pageData struct {
	Title      string
	Heading    string
	LogoURL    string
	Canonical  string
	Footer     []Link
	AllHosts   []*hostView // for the navigation
	Hosts      []*hostView // shown in main
	Host       *hostView   // set on /host/{name}
	Incidents  []incidentView
	Past       []incidentView
	Announce   []announcementView
	Generated  time.Time
	Overall    string
	CSS, JS    string
	Favicon    string
	HasContent bool
	// Summary: the front page is too long to list every container (see
	// Config.DetailLimit).
	Summary bool
}

// hostBlock is what the "host" template renders.
type hostBlock struct {
	*hostView
	Summary bool
}

// countOrder is the order, and the words, of a host's container counts.
var countOrder = []struct{ level, word string }{
	{levelUp, "up"}, {levelRecovering, "recovering"}, {levelDegraded, "degraded"}, {levelDown, "down"},
	{levelMaintenance, "in maintenance"}, {levelStopped, "stopped"}, {levelUnknown, "unknown"}, {levelChecking, "checking"},
}

// countsText reads like "38 up · 1 down"; live.js builds the same words.
func countsText(h *hostView) string {
	var parts []string
	for _, c := range countOrder {
		if n := h.Counts[c.level]; n > 0 {
			parts = append(parts, strconv.Itoa(n)+" "+c.word)
		}
	}
	if len(parts) == 0 {
		return "no public services"
	}
	return strings.Join(parts, " · ")
}

func (p *Page) pageData(s *snapshot, host *hostView) pageData {
	d := pageData{
		Title:     p.cfg.Title,
		Heading:   p.cfg.Title,
		LogoURL:   p.cfg.LogoURL,
		Footer:    p.cfg.Footer,
		AllHosts:  s.hosts,
		Hosts:     s.hosts,
		Incidents: s.incidents,
		Past:      s.past,
		Announce:  s.announcements,
		Generated: s.generatedAt,
		Overall:   s.overall,
		CSS:       "/static/style.css?v=" + p.staticVer["style.css"],
		JS:        "/static/live.js?v=" + p.staticVer["live.js"],
		Favicon:   "/static/favicon.svg?v=" + p.staticVer["favicon.svg"],
	}
	if p.cfg.PublicURL != "" {
		d.Canonical = p.cfg.PublicURL
	}
	if host != nil {
		d.Host = host
		d.Hosts = []*hostView{host}
		d.Title = host.Name + " · " + p.cfg.Title
		var inc, past []incidentView
		for _, iv := range s.incidents {
			if iv.Host == host.Name {
				inc = append(inc, iv)
			}
		}
		for _, iv := range s.past {
			if iv.Host == host.Name {
				past = append(past, iv)
			}
		}
		d.Incidents, d.Past = inc, past
		if d.Canonical != "" {
			if u, err := url.JoinPath(d.Canonical, "host", host.Name); err == nil {
				d.Canonical = u
			}
		}
	}
	d.HasContent = len(s.hosts) > 0
	d.Summary = host == nil && len(s.containers) > p.cfg.DetailLimit
	return d
}

func (p *Page) funcs() template.FuncMap {
	return template.FuncMap{
		"time": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format(timeLayout)
		},
		"iso": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format(time.RFC3339)
		},
		"pct":       formatPercent,
		"counts":    func(b hostBlock) string { return countsText(b.hostView) },
		"hostBlock": func(h *hostView, summary bool) hostBlock { return hostBlock{h, summary} },
		"word":      func(level string) string { return levelWords[level] },
		"overall":   func(o string) string { return overallWords[o] },
		"icon":      iconOf,
		"hostURL":   func(name string) string { return "/host/" + url.PathEscape(name) },
		"healthWord": func(h string) string {
			switch h {
			case "healthy":
				return "Healthy"
			case "unhealthy":
				return "Unhealthy"
			case "starting":
				return "Starting"
			}
			return ""
		},
	}
}
