package statuspage

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are deckhand's Prometheus series. The rest of the daemon reports
// into them; /metrics serves whatever registry they were registered on (see
// Config.Gatherer). A nil *Metrics is a valid no-op, handy in tests.
type Metrics struct {
	collectSeconds *prometheus.HistogramVec
	collects       *prometheus.CounterVec
	hostsUp        prometheus.Gauge
	containers     *prometheus.GaugeVec
	alertsOpen     prometheus.Gauge
	notifications  *prometheus.CounterVec
	outboxDepth    *prometheus.GaugeVec
	storeWritable  prometheus.Gauge
	backlogItems   prometheus.Gauge
	outboxDead     *prometheus.GaugeVec
	platformUp     *prometheus.GaugeVec
	// The chat connections' faults that need a person: rare, and a rate
	// above zero is worth an alert of its own.
	telegramConflicts        prometheus.Counter
	discordHeartbeatTimeouts prometheus.Counter
}

// NewMetrics creates the series and registers them on reg. Like promauto it
// panics when they are already registered there: that is a wiring bug.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		collectSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "deckhand_collect_duration_seconds",
			Help:    "Time taken to collect one host.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2, 5, 10, 15, 30},
		}, []string{"host"}),
		collects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "deckhand_collects_total",
			Help: "Collections of a host, by result (ok or error).",
		}, []string{"host", "result"}),
		hostsUp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "deckhand_hosts_up",
			Help: "Hosts whose last collection succeeded.",
		}),
		containers: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "deckhand_containers",
			Help: "Containers by state, across all hosts.",
		}, []string{"state"}),
		alertsOpen: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "deckhand_alerts_open",
			Help: "Alerts open or acknowledged.",
		}),
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "deckhand_notifications_total",
			Help: "Notification delivery attempts by platform and result (ok or error).",
		}, []string{"platform", "result"}),
		outboxDepth: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "deckhand_outbox_depth",
			Help: "Notifications waiting in the outbox, by platform.",
		}, []string{"platform"}),
		storeWritable: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "deckhand_store_writable",
			Help: "1 when the database takes writes, 0 while alerts and notices are held in memory (disk full, read-only, I/O error).",
		}),
		backlogItems: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "deckhand_backlog_items",
			Help: "Notifications held in memory until the database can be written.",
		}),
		outboxDead: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "deckhand_outbox_dead",
			Help: "Notifications given up on (sendable in no form), by platform; deckhand outbox retry queues them again.",
		}, []string{"platform"}),
		telegramConflicts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "deckhand_telegram_conflicts_total",
			Help: "getUpdates ended by 409 Conflict: another program polls with this bot token.",
		}),
		discordHeartbeatTimeouts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "deckhand_discord_heartbeat_timeouts_total",
			Help: "Discord gateway connections reopened after two heartbeat intervals without an ACK.",
		}),
		platformUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "deckhand_platform_up",
			Help: "1 when a chat platform accepts deckhand's notices, 0 while it rejects deckhand's credentials or cannot be reached.",
		}, []string{"platform"}),
	}
	reg.MustRegister(m.collectSeconds, m.collects, m.hostsUp, m.containers, m.alertsOpen, m.notifications, m.outboxDepth,
		m.storeWritable, m.backlogItems, m.outboxDead, m.platformUp, m.telegramConflicts, m.discordHeartbeatTimeouts)
	return m
}

func result(ok bool) string {
	if ok {
		return "ok"
	}
	return "error"
}

// ObserveCollect records one collection of a host.
func (m *Metrics) ObserveCollect(host string, d time.Duration, ok bool) {
	if m == nil {
		return
	}
	m.collectSeconds.WithLabelValues(host).Observe(d.Seconds())
	m.collects.WithLabelValues(host, result(ok)).Inc()
}

// SetHostsUp sets how many hosts were collected successfully.
func (m *Metrics) SetHostsUp(n int) {
	if m == nil {
		return
	}
	m.hostsUp.Set(float64(n))
}

// SetContainers sets how many containers are in a state ("running", …).
func (m *Metrics) SetContainers(state string, n int) {
	if m == nil {
		return
	}
	m.containers.WithLabelValues(state).Set(float64(n))
}

// SetAlertsOpen sets how many alerts are open or acknowledged.
func (m *Metrics) SetAlertsOpen(n int) {
	if m == nil {
		return
	}
	m.alertsOpen.Set(float64(n))
}

// NotificationSent records one delivery attempt.
func (m *Metrics) NotificationSent(platform string, ok bool) {
	if m == nil {
		return
	}
	m.notifications.WithLabelValues(platform, result(ok)).Inc()
}

// SetOutboxDepth sets how many notifications wait for a platform.
func (m *Metrics) SetOutboxDepth(platform string, n int) {
	if m == nil {
		return
	}
	m.outboxDepth.WithLabelValues(platform).Set(float64(n))
}

// SetStoreWritable says whether the database takes writes.
func (m *Metrics) SetStoreWritable(ok bool) {
	if m == nil {
		return
	}
	m.storeWritable.Set(map[bool]float64{true: 1}[ok])
}

// SetBacklogItems sets how many notifications are held in memory.
func (m *Metrics) SetBacklogItems(n int) {
	if m == nil {
		return
	}
	m.backlogItems.Set(float64(n))
}

// SetOutboxDead sets how many notifications for a platform were given up on.
func (m *Metrics) SetOutboxDead(platform string, n int) {
	if m == nil {
		return
	}
	m.outboxDead.WithLabelValues(platform).Set(float64(n))
}

// SetPlatformUp records whether a platform accepts deckhand's notices.
func (m *Metrics) SetPlatformUp(platform string, up bool) {
	if m == nil {
		return
	}
	v := 0.0
	if up {
		v = 1
	}
	m.platformUp.WithLabelValues(platform).Set(v)
}

// TelegramConflicts counts getUpdates ended by 409 Conflict (another
// program polls with deckhand's bot token and steals commands).
// Nil for a nil *Metrics.
func (m *Metrics) TelegramConflicts() prometheus.Counter {
	if m == nil {
		return nil
	}
	return m.telegramConflicts
}

// DiscordHeartbeatTimeouts counts gateway connections reopened because
// they stopped ACKing heartbeats.
// Nil for a nil *Metrics.
func (m *Metrics) DiscordHeartbeatTimeouts() prometheus.Counter {
	if m == nil {
		return nil
	}
	return m.discordHeartbeatTimeouts
}
