package deckhand

import "time"

// AlertKind is what went wrong.
type AlertKind string

const (
	AlertContainerDown   AlertKind = "container_down"
	AlertUnhealthy       AlertKind = "unhealthy"
	AlertRestartLoop     AlertKind = "restart_loop"
	AlertHostUnreachable AlertKind = "host_unreachable"
	AlertDaemonDown      AlertKind = "daemon_down"
)

// AlertState is where an alert is in its life.
type AlertState string

const (
	AlertPending AlertState = "pending" // inside the grace period, nobody told yet
	AlertOpen    AlertState = "open"    // notified
	AlertAcked   AlertState = "acked"   // someone is on it: no more reminders
	AlertClosed  AlertState = "closed"  // recovered
)

// Active reports whether the alert still describes a problem.
func (s AlertState) Active() bool { return s == AlertPending || s == AlertOpen || s == AlertAcked }

// Severity of an alert.
type Severity string

const (
	SeverityWarning  Severity = "warning"
	SeverityError    Severity = "error"
	SeverityCritical Severity = "critical"
)

// AlertKey identifies an alert: one per (host, container, kind). Host-level
// alerts have an empty Container.
type AlertKey struct {
	Host      string
	Container string
	Kind      AlertKind
}

// Alert is one problem, from first sight to recovery.
type Alert struct {
	ID             int64
	Key            AlertKey
	Project        string // compose project of the container, if any
	Severity       Severity
	State          AlertState
	Message        string
	FirstSeenAt    time.Time // when the condition was first observed
	OpenedAt       time.Time // when it left pending (zero while pending)
	AckedAt        time.Time
	AckedBy        string
	ClosedAt       time.Time
	LastNotifiedAt time.Time
	Notifications  int  // how many notifications were sent for it
	Suppressed     bool // opened while silenced or in maintenance
	// ClearedAt is when the condition of an opened alert went away: the
	// recovery hold runs from it, and the alert closes at it if the
	// condition stays away. Zero while the condition is on.
	ClearedAt time.Time
	// Public records, for a container alert, whether the container was on
	// the status page when the alert last saw it: its incident stays
	// visible after the container is removed.
	Public bool
	// Condition is the container's condition that raised the alert
	// (empty for host alerts): it titles the incident.
	Condition Condition
}

// Incident reports whether the alert is an incident: it left its grace
// period (or was notified in an earlier opening of the same story). An
// alert pending inside its grace, or closed there, is not one.
func (a Alert) Incident() bool { return !a.OpenedAt.IsZero() || a.Notifications > 0 }

// Recovering reports whether an active alert's condition went away and its
// recovery hold is running.
func (a Alert) Recovering() bool { return a.State.Active() && !a.ClearedAt.IsZero() }

// Downtime is how long the problem lasted (until now when still active).
func (a Alert) Downtime(now time.Time) time.Duration {
	end := now
	if !a.ClosedAt.IsZero() {
		end = a.ClosedAt
	}
	return end.Sub(a.FirstSeenAt)
}

// Silence suppresses notifications for matching alerts until a time. Empty
// fields match anything; a silence with every field empty is refused by
// validation.
type Silence struct {
	ID        int64
	Host      string
	Container string
	Project   string
	Until     time.Time
	By        string
	Reason    string
	CreatedAt time.Time
}

// Matches reports whether the silence covers the alert at the given time.
func (s Silence) Matches(a Alert, now time.Time) bool {
	if !now.Before(s.Until) {
		return false
	}
	if s.Host != "" && s.Host != a.Key.Host {
		return false
	}
	if s.Container != "" && s.Container != a.Key.Container {
		return false
	}
	if s.Project != "" && s.Project != a.Project {
		return false
	}
	return s.Host != "" || s.Container != "" || s.Project != ""
}

// NoticeKind is why a notification is sent.
type NoticeKind string

const (
	NoticeOpened       NoticeKind = "opened"
	NoticeReminder     NoticeKind = "reminder"
	NoticeAcked        NoticeKind = "acked"
	NoticeRecovered    NoticeKind = "recovered"
	NoticeAutoRestart  NoticeKind = "auto_restart"
	NoticeAnnouncement NoticeKind = "announcement"
	// NoticeSystem is deckhand speaking about itself to the admins (it
	// cannot write its database, a platform rejects its credentials): Text
	// says what and how to fix it; no alert, no buttons.
	NoticeSystem NoticeKind = "system"
)

// Urgent reports whether a notice of this kind is news someone must act on
// now (a problem just opened, deckhand saying it is broken): it is
// delivered before reminders, acks, recoveries, restarts and announcements
// waiting for the same platform, though never before an earlier notice of
// its own alert.
func (k NoticeKind) Urgent() bool {
	return k == NoticeOpened || k == NoticeSystem
}

// UrgentNoticeKinds lists the kinds for which Urgent holds, for queries
// that must order by it.
func UrgentNoticeKinds() []NoticeKind { return []NoticeKind{NoticeOpened, NoticeSystem} }

// Notice is a platform-neutral notification about an alert: the alerts
// engine produces it with the facts, the bot alone turns them into words.
type Notice struct {
	Kind  NoticeKind
	Alert Alert
	// Text is what the alert cannot say: an announcement's text. Alert
	// notices leave it empty (older outbox rows may hold a summary, which
	// the bot ignores).
	Text string
	At   time.Time
	// Restart is what an automatic restart did (NoticeAutoRestart only).
	Restart *RestartReport `json:",omitempty"`
}
