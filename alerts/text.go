package alerts

import (
	"fmt"
	"strings"
	"time"

	"github.com/deckhand/deckhand"
)

// subject names what an alert is about: "nas/jellyfin" or "host nas".
func subject(k deckhand.AlertKey) string {
	if k.Container == "" {
		return "host " + k.Host
	}
	return k.Host + "/" + k.Container
}

func icon(s deckhand.Severity) string {
	if s == deckhand.SeverityWarning {
		return "🟠"
	}
	return "🔴"
}

func openedText(a deckhand.Alert, loc *time.Location) string {
	if a.Key.Container == "" {
		// Host messages carry the cause, and the time is in the message's own timestamp.
		return icon(a.Severity) + " " + a.Message
	}
	since := a.FirstSeenAt
	if loc != nil {
		since = since.In(loc)
	}
	return fmt.Sprintf("%s %s — since %s", icon(a.Severity), a.Message, since.Format("15:04"))
}

func reminderText(a deckhand.Alert, now time.Time) string {
	return fmt.Sprintf("⏰ reminder: %s (for %s, not acked)", a.Message, humanDuration(a.Downtime(now)))
}

func recoveredText(a deckhand.Alert) string {
	d := humanDuration(a.Downtime(a.ClosedAt))
	switch a.Key.Kind {
	case deckhand.AlertHostUnreachable:
		return fmt.Sprintf("✅ host %s reachable again after %s", a.Key.Host, d)
	case deckhand.AlertDaemonDown:
		return fmt.Sprintf("✅ host %s: docker daemon back after %s", a.Key.Host, d)
	case deckhand.AlertUnhealthy:
		return fmt.Sprintf("✅ %s healthy again after %s", subject(a.Key), d)
	case deckhand.AlertRestartLoop:
		return fmt.Sprintf("✅ %s stopped restarting after %s", subject(a.Key), d)
	}
	return fmt.Sprintf("✅ %s recovered after %s", subject(a.Key), d)
}

func ackedText(a deckhand.Alert) string {
	by := a.AckedBy
	if by == "" {
		by = "someone"
	}
	return fmt.Sprintf("👀 %s (%s) acked by %s", subject(a.Key), problemWord(a.Key.Kind), by)
}

func problemWord(k deckhand.AlertKind) string {
	switch k {
	case deckhand.AlertUnhealthy:
		return "unhealthy"
	case deckhand.AlertRestartLoop:
		return "restarting"
	case deckhand.AlertHostUnreachable:
		return "unreachable"
	case deckhand.AlertDaemonDown:
		return "daemon down"
	}
	return "down"
}

// humanDuration prints 45s, 3m12s, 2h5m, 3d4h: precise enough for a chat line.
func humanDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		m, s := int(d/time.Minute), int(d%time.Minute/time.Second)
		if s == 0 {
			return fmt.Sprintf("%dm", m)
		}
		return fmt.Sprintf("%dm%02ds", m, s)
	case d < 48*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%02dm", h, m)
	}
	days, h := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	if h == 0 {
		return fmt.Sprintf("%dd", days)
	}
	return fmt.Sprintf("%dd%dh", days, h)
}

// downReason describes a container that is not running though it should.
func downReason(c deckhand.Container) string {
	switch c.State {
	case deckhand.StateExited:
		return fmt.Sprintf("exited %d", c.ExitCode)
	case deckhand.StateCreated:
		return "created, not started"
	case "":
		return "unknown state"
	}
	return string(c.State)
}

// hostCause keeps the collector's reason short and on one line.
func hostCause(s deckhand.Snapshot, status deckhand.HostStatus) string {
	msg := s.Host.LastError
	if s.Err != nil {
		msg = s.Err.Error()
	}
	if msg == "" {
		msg = strings.ReplaceAll(string(status), "_", " ")
	}
	return clip(msg)
}

func oneLine(err error) string { return clip(err.Error()) }

// clip keeps a cause on one line and short enough for a chat message.
func clip(msg string) string {
	msg = strings.Join(strings.Fields(msg), " ")
	const maxCause = 200
	if r := []rune(msg); len(r) > maxCause {
		msg = string(r[:maxCause-1]) + "…"
	}
	return msg
}
