package deckhand

import "time"

// Platforms notifications are delivered to.
const (
	PlatformNtfy     = "ntfy"
	PlatformDiscord  = "discord"
	PlatformTelegram = "telegram"
	PlatformCLI      = "cli"
)

// OutboxItem is one notification for one platform, written durably before
// any attempt to deliver it.
type OutboxItem struct {
	ID            int64
	Platform      string
	Notice        Notice
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	CreatedAt     time.Time
	SentAt        time.Time // zero until delivered
	// SendingAt is when an earlier attempt started, zero when there was
	// none: the platform may have the message already (see
	// bot.Reconciler).
	SendingAt time.Time
	// Ref is the platform's reference of the message this notice should
	// edit (the first message sent for the alert), empty for a new message.
	Ref string
	// Dead is set once the item was given up on: it could not be sent in
	// any form. `deckhand outbox retry` queues it again.
	Dead bool
	// Plain asks the platform for the plain, shortened form of the notice
	// (no embed, markup or buttons): the dispatcher's fallback after the
	// full form was rejected. It is not stored.
	Plain bool `json:"-"`
}

// MessageRef links an alert to the message a platform shows for it, so that
// ack and recovery edit that message instead of posting a new one.
type MessageRef struct {
	AlertID  int64
	Platform string
	Ref      string // e.g. "channelID/messageID" or "chatID/messageID"
}

// UptimeBucket summarises one container's availability over one time slot.
// Maintenance time is excluded from both Up and Down.
type UptimeBucket struct {
	Start       time.Time
	Width       time.Duration
	Up          time.Duration
	Down        time.Duration
	Maintenance time.Duration
	Outages     []Outage // at most a few, for the tooltip
}

// Ratio is the availability over the monitored time, or -1 when there is
// no data for the bucket.
func (b UptimeBucket) Ratio() float64 {
	total := b.Up + b.Down
	if total <= 0 {
		return -1
	}
	return float64(b.Up) / float64(total)
}

// Outage is one period a container was down.
type Outage struct {
	Start time.Time
	End   time.Time // zero while ongoing
}

// Announcement is a Markdown notice shown on the status page.
type Announcement struct {
	ID        int64
	Title     string
	Body      string // Markdown
	By        string
	CreatedAt time.Time
	Until     time.Time // zero: until removed
}
