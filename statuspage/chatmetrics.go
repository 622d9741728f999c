package statuspage

import "github.com/prometheus/client_golang/prometheus"

// ChatMetrics count the faults of the chat connections that need a
// person: they are rare, and a rate above zero is worth an alert of its
// own.
type ChatMetrics struct {
	// TelegramConflicts counts getUpdates ended by 409 Conflict: another
	// program polls with deckhand's bot token and steals commands.
	TelegramConflicts prometheus.Counter
	// DiscordHeartbeatTimeouts counts gateway connections reopened because
	// they stopped ACKing heartbeats.
	DiscordHeartbeatTimeouts prometheus.Counter
}

// NewChatMetrics registers the chat connections' counters with reg.
func NewChatMetrics(reg prometheus.Registerer) *ChatMetrics {
	m := &ChatMetrics{
		TelegramConflicts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "deckhand_telegram_conflicts_total",
			Help: "getUpdates ended by 409 Conflict: another program polls with this bot token.",
		}),
		DiscordHeartbeatTimeouts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "deckhand_discord_heartbeat_timeouts_total",
			Help: "Discord gateway connections reopened after two heartbeat intervals without an ACK.",
		}),
	}
	reg.MustRegister(m.TelegramConflicts, m.DiscordHeartbeatTimeouts)
	return m
}
