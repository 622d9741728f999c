package bot

import (
	"fmt"
	"strings"
	"time"

	"github.com/deckhand/deckhand"
)

// Severities a rendered message can carry besides the alert severities: a
// recovery and the purely informative notices (ack, announcement) are shown
// less loudly than the problem they follow.
const (
	SeverityRecovered deckhand.Severity = "recovered"
	SeverityInfo      deckhand.Severity = "info"
)

// Message is a notice rendered once, in neutral terms, so that every
// platform says the same words and only maps them to its own features
// (embed fields and colour, HTML, priority, emoji tags, buttons).
type Message struct {
	Title     string            // one line: what happened to what
	Lines     []string          // the body, plain text; never repeats the title
	Fields    []Field           // the alert's facts (host, container, project, alert)
	Severity  deckhand.Severity // warning|error|critical, or SeverityRecovered / SeverityInfo
	Emoji     string            // Unicode, for platforms that show text
	EmojiCode string            // the same as an emoji shortcode (ntfy tags)
	Color     int               // 0xRRGGBB, for Discord embeds
	Tags      []string          // short labels: kind, host, container, project
	URL       string            // the status page, when configured
	// Actions are the buttons the notice offers, in order (see Actions).
	Actions []deckhand.Action
	// Quiet is good news: deliver it without a sound where possible.
	Quiet bool
}

// Field is one labelled fact of a message.
type Field struct {
	Name, Value string
}

// Body is the message's lines as one text.
func (m Message) Body() string { return strings.Join(m.Lines, "\n") }

// Plain is the message as plain text, the fallback form a platform gets
// when it refused the full one: the emoji and title, the body, the facts
// on one line, the status page. Platforms cut it to their limit.
func (m Message) Plain() string {
	title := m.Title
	if m.Emoji != "" {
		title = m.Emoji + " " + title
	}
	parts := []string{title}
	if b := m.Body(); b != "" {
		parts = append(parts, b)
	}
	var facts []string
	for _, f := range m.Fields {
		facts = append(facts, f.Name+": "+f.Value)
	}
	if len(facts) > 0 {
		parts = append(parts, strings.Join(facts, " · "))
	}
	if m.URL != "" {
		parts = append(parts, m.URL)
	}
	return strings.Join(parts, "\n")
}

// Render renders a notice without a status page link, in UTC.
func Render(n deckhand.Notice) Message { return Renderer{}.Render(n) }

// Renderer renders notices: the one place that words them.
type Renderer struct {
	// StatusURL, when set, becomes Message.URL (public_url).
	StatusURL string
	// Location is the zone of clock times ("since 14:02"); nil is UTC.
	Location *time.Location
}

type look struct {
	emoji, code string
	color       int
}

var looks = map[deckhand.Severity]look{
	deckhand.SeverityCritical: {"🚨", "rotating_light", 0xE02424},
	deckhand.SeverityError:    {"🔴", "rotating_light", 0xF05252},
	deckhand.SeverityWarning:  {"⚠️", "warning", 0xF59E0B},
	SeverityRecovered:         {"✅", "white_check_mark", 0x31C48D},
	SeverityInfo:              {"ℹ️", "information_source", 0x3F83F8},
}

// Render renders one notice.
func (r Renderer) Render(n deckhand.Notice) Message {
	m := Message{URL: r.StatusURL, Actions: Actions(n)}
	if n.Kind == deckhand.NoticeAnnouncement {
		m.Title, m.Severity = "Announcement", SeverityInfo
		if t := strings.TrimSpace(n.Text); t != "" {
			m.Lines = []string{t}
		}
		return m.withLook()
	}
	if n.Kind == deckhand.NoticeSystem {
		m.Title, m.Severity, m.Actions = "deckhand needs attention", deckhand.SeverityError, nil
		if t := strings.TrimSpace(n.Text); t != "" {
			m.Lines = []string{t}
		}
		return m.withLook()
	}
	a := n.Alert
	m.Severity = a.Severity
	if _, ok := looks[m.Severity]; !ok {
		m.Severity = deckhand.SeverityError
	}
	m.Title, m.Lines = r.words(n)
	switch n.Kind {
	case deckhand.NoticeAcked:
		m.Severity, m.Quiet = SeverityInfo, true
	case deckhand.NoticeRecovered:
		m.Severity, m.Quiet = SeverityRecovered, true
	case deckhand.NoticeAutoRestart:
		if n.Restart == nil || n.Restart.Err == "" && !n.Restart.GaveUp {
			m.Severity = deckhand.SeverityWarning
		}
	}
	if a.Suppressed {
		m.Lines = append(m.Lines, "Opened during a silence or maintenance window.")
	}
	m.Fields, m.Tags = facts(a)
	return m.withLook()
}

func (m Message) withLook() Message {
	lk := looks[m.Severity]
	m.Emoji, m.EmojiCode, m.Color = lk.emoji, lk.code, lk.color
	return m
}

// words are the title and body of an alert notice. How long the problem
// lasted is said once, from Alert.Downtime, whatever the kind.
func (r Renderer) words(n deckhand.Notice) (string, []string) {
	a := n.Alert
	subject, headline := subjectOf(a.Key), subjectOf(a.Key)+" "+problemOf(a)
	at := n.At
	if at.IsZero() {
		at = time.Now()
	}
	lasted := deckhand.HumanDuration(a.Downtime(at))
	var lines []string
	if n.Kind == deckhand.NoticeRecovered {
		return "Recovered: " + subject, []string{problemNoun(a) + " for " + lasted + "."}
	}
	// After an automatic restart the cause is stale: the report says more.
	if c := cause(a); c != "" && n.Kind != deckhand.NoticeAutoRestart {
		lines = append(lines, c)
	}
	if !a.FirstSeenAt.IsZero() {
		lines = append(lines, fmt.Sprintf("Since %s (%s).", r.clock(a.FirstSeenAt, at), lasted))
	}
	switch n.Kind {
	case deckhand.NoticeReminder:
		return "Reminder: " + headline, append(lines, "Not acked yet.")
	case deckhand.NoticeAcked:
		if a.AckedBy != "" {
			lines = append(lines, "Acked by "+a.AckedBy+".")
		}
		return "Acked: " + headline, lines
	case deckhand.NoticeAutoRestart:
		title, more := restartWords(subject, n)
		return title, append(more, lines...)
	}
	return headline, lines
}

// restartWords say what an automatic restart did. A notice stored before
// RestartReport existed carries its words in Text.
func restartWords(subject string, n deckhand.Notice) (string, []string) {
	rr := n.Restart
	switch {
	case rr == nil:
		var lines []string
		if t := strings.TrimSpace(n.Text); t != "" {
			lines = append(lines, t)
		}
		return "Automatic restart of " + subject, lines
	case rr.Err != "":
		lines := []string{fmt.Sprintf("Attempt %d/%d: %s.", rr.Attempt, rr.Max, strings.TrimSuffix(rr.Err, "."))}
		if rr.GaveUp {
			lines = append(lines, "Giving up: restart it by hand.")
		}
		return "Automatic restart of " + subject + " failed", lines
	case rr.GaveUp:
		return "Gave up restarting " + subject + " automatically",
			[]string{fmt.Sprintf("Still down after %d automatic restarts in %s: restart it by hand.", rr.Attempt, deckhand.HumanDuration(rr.Window))}
	}
	return "Restarted " + subject + " automatically", []string{fmt.Sprintf("Attempt %d/%d.", rr.Attempt, rr.Max)}
}

// clock prints when something started: the time of day, with the date
// when it was not the same day as the notice.
func (r Renderer) clock(t, now time.Time) string {
	loc := r.Location
	if loc == nil {
		loc = time.UTC
	}
	t, now = t.In(loc), now.In(loc)
	if t.YearDay() != now.YearDay() || t.Year() != now.Year() {
		return t.Format("Jan 2 15:04 MST")
	}
	return t.Format("15:04 MST")
}

// Actions decides which buttons a notice offers, for every platform: only
// a notified problem someone can still act on gets any. Restart is for
// container alerts, Ack until someone acked, Silence while it lasts; an
// ack, a recovery or an announcement offers nothing.
func Actions(n deckhand.Notice) []deckhand.Action {
	a := n.Alert
	if a.ID <= 0 || (a.State != deckhand.AlertOpen && a.State != deckhand.AlertAcked) {
		return nil
	}
	switch n.Kind {
	case deckhand.NoticeOpened, deckhand.NoticeReminder, deckhand.NoticeAutoRestart:
	default:
		return nil
	}
	var out []deckhand.Action
	if a.Key.Container != "" {
		out = append(out, deckhand.ActionRestart)
	}
	if a.State != deckhand.AlertAcked {
		out = append(out, deckhand.ActionAck)
	}
	return append(out, deckhand.ActionSilence)
}

// facts are an alert's labelled facts and its tags.
func facts(a deckhand.Alert) ([]Field, []string) {
	var fields []Field
	var tags []string
	if a.Key.Kind != "" {
		tags = append(tags, string(a.Key.Kind))
	}
	for _, f := range []Field{{"Host", a.Key.Host}, {"Container", a.Key.Container}, {"Project", a.Project}} {
		if f.Value != "" {
			fields = append(fields, f)
			tags = append(tags, f.Value)
		}
	}
	if a.ID > 0 {
		fields = append(fields, Field{"Alert", fmt.Sprintf("#%d", a.ID)})
	}
	return fields, tags
}

func subjectOf(k deckhand.AlertKey) string {
	switch {
	case k.Host == "" && k.Container == "":
		return "deckhand"
	case k.Container == "":
		return k.Host
	case k.Host == "":
		return k.Container
	}
	return k.Host + "/" + k.Container
}

// unwanted reports a container_down alert about a container that runs
// although homelab.desired=stopped: the same key, the opposite problem.
func unwanted(a deckhand.Alert) bool {
	return a.Key.Kind == deckhand.AlertContainerDown && a.Condition == deckhand.ConditionRunningUnwanted
}

func problemOf(a deckhand.Alert) string {
	if unwanted(a) {
		return "is running but should be stopped"
	}
	switch a.Key.Kind {
	case deckhand.AlertContainerDown:
		return "is down"
	case deckhand.AlertUnhealthy:
		return "is unhealthy"
	case deckhand.AlertRestartLoop:
		return "is in a restart loop"
	case deckhand.AlertHostUnreachable:
		return "is unreachable"
	case deckhand.AlertDaemonDown:
		return "has its Docker daemon down"
	}
	return "has a problem"
}

// problemNoun names the problem as a recovery reports it: "Down for 2m."
func problemNoun(a deckhand.Alert) string {
	if unwanted(a) {
		return "Running although it should be stopped"
	}
	switch a.Key.Kind {
	case deckhand.AlertUnhealthy:
		return "Unhealthy"
	case deckhand.AlertRestartLoop:
		return "In a restart loop"
	case deckhand.AlertHostUnreachable:
		return "Unreachable"
	case deckhand.AlertDaemonDown:
		return "Docker daemon down"
	}
	return "Down"
}

// problemWords are how the engine's messages name each problem after the
// subject ("nas/jellyfin is down (exited 137)", "host nas unreachable: …").
var problemWords = map[deckhand.AlertKind]string{
	deckhand.AlertContainerDown:   "down",
	deckhand.AlertUnhealthy:       "unhealthy",
	deckhand.AlertRestartLoop:     "in a restart loop",
	deckhand.AlertHostUnreachable: "unreachable",
	deckhand.AlertDaemonDown:      "docker daemon down",
}

// cause is what the alert's message adds to the title: the message
// without the subject and the problem the title already names, so that
// "nas/jellyfin is down (exited 137)" under "nas/jellyfin is down" reads
// "exited 137". A message that does not start with its subject is kept
// whole.
func cause(a deckhand.Alert) string {
	msg := strings.Join(strings.Fields(a.Message), " ")
	rest, ok := strings.CutPrefix(msg, "host "+a.Key.Host)
	if !ok || a.Key.Container != "" {
		if rest, ok = strings.CutPrefix(msg, subjectOf(a.Key)); !ok {
			return msg
		}
	}
	rest = strings.TrimPrefix(strings.TrimLeft(rest, " :"), "is ")
	words := problemWords[a.Key.Kind]
	if unwanted(a) {
		words = "running but should be stopped"
	}
	rest = strings.TrimPrefix(rest, words)
	rest = strings.Trim(rest, " :")
	if strings.HasPrefix(rest, "(") && strings.HasSuffix(rest, ")") && strings.Count(rest, "(") == 1 {
		rest = rest[1 : len(rest)-1]
	}
	return rest
}
