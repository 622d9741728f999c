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
// (embed colour, priority, emoji tags).
type Message struct {
	Title     string            // one line: what happened to what
	Body      string            // plain text, a few lines
	Severity  deckhand.Severity // warning|error|critical, or SeverityRecovered / SeverityInfo
	Emoji     string            // Unicode, for platforms that show text
	EmojiCode string            // the same as an emoji shortcode (ntfy tags)
	Color     int               // 0xRRGGBB, for Discord embeds
	Tags      []string          // short labels: kind, host, container, project
	URL       string            // the status page, when configured
}

// Render renders a notice without a status page link.
func Render(n deckhand.Notice) Message { return Renderer{}.Render(n) }

// Renderer renders notices; StatusURL, when set, becomes Message.URL.
type Renderer struct {
	StatusURL string
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
	a := n.Alert
	subject := subjectOf(a.Key)
	sev := a.Severity
	if _, ok := looks[sev]; !ok || sev == "" {
		sev = deckhand.SeverityError
	}
	var title string
	switch n.Kind {
	case deckhand.NoticeOpened:
		title = subject + " " + problemOf(a.Key.Kind)
	case deckhand.NoticeReminder:
		title = "Reminder: " + subject + " " + problemOf(a.Key.Kind)
	case deckhand.NoticeAcked:
		title = "Acked: " + subject + " " + problemOf(a.Key.Kind)
		sev = SeverityInfo
	case deckhand.NoticeRecovered:
		title = "Recovered: " + subject
		sev = SeverityRecovered
	case deckhand.NoticeAutoRestart:
		title = "Restarting " + subject + " automatically"
		sev = deckhand.SeverityWarning
	case deckhand.NoticeAnnouncement:
		title = "Announcement"
		sev = SeverityInfo
	default:
		title = subject + " " + problemOf(a.Key.Kind)
	}

	var body []string
	text := strings.TrimSpace(n.Text)
	if text == "" {
		text = strings.TrimSpace(a.Message)
	}
	if text != "" {
		body = append(body, text)
	}
	if n.Kind != deckhand.NoticeAnnouncement {
		at := n.At
		if at.IsZero() {
			at = time.Now()
		}
		switch {
		case n.Kind == deckhand.NoticeRecovered:
			body = append(body, "Down for "+deckhand.HumanDuration(a.Downtime(at))+".")
		case !a.FirstSeenAt.IsZero():
			body = append(body, fmt.Sprintf("Since %s (%s).", a.FirstSeenAt.Format("2006-01-02 15:04 MST"), deckhand.HumanDuration(at.Sub(a.FirstSeenAt))))
		}
		if n.Kind == deckhand.NoticeAcked && a.AckedBy != "" {
			body = append(body, "Acked by "+a.AckedBy+".")
		}
		if a.Suppressed {
			body = append(body, "Opened during a silence or maintenance window.")
		}
	}

	var tags []string
	if a.Key.Kind != "" {
		tags = append(tags, string(a.Key.Kind))
	}
	for _, t := range []string{a.Key.Host, a.Key.Container, a.Project} {
		if t != "" {
			tags = append(tags, t)
		}
	}
	lk := looks[sev]
	return Message{
		Title:     title,
		Body:      strings.Join(body, "\n"),
		Severity:  sev,
		Emoji:     lk.emoji,
		EmojiCode: lk.code,
		Color:     lk.color,
		Tags:      tags,
		URL:       r.StatusURL,
	}
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

func problemOf(k deckhand.AlertKind) string {
	switch k {
	case deckhand.AlertContainerDown:
		return "is down"
	case deckhand.AlertUnhealthy:
		return "is unhealthy"
	case deckhand.AlertRestartLoop:
		return "is restarting in a loop"
	case deckhand.AlertHostUnreachable:
		return "is unreachable"
	case deckhand.AlertDaemonDown:
		return "has its Docker daemon down"
	}
	return "has a problem"
}
