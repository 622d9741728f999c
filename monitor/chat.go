package monitor

import (
	"context"

	"github.com/deckhand/deckhand"
)

// The methods below are what the commands router needs of alerts and
// announcements (commands.Alerts, commands.Announcer): the engine decides
// the notice, the store persists both in one transaction, the page shows
// it at once.

// ActiveAlerts lists the pending, open and acked alerts.
func (m *Monitor) ActiveAlerts(ctx context.Context) ([]deckhand.Alert, error) {
	return m.st.ActiveAlerts(ctx)
}

// AddSilence stores a silence; the next evaluation honours it.
func (m *Monitor) AddSilence(ctx context.Context, s deckhand.Silence) (int64, error) {
	return m.st.AddSilence(ctx, s)
}

// Ack marks an alert as being handled and queues the notice that says so.
func (m *Monitor) Ack(ctx context.Context, id int64, by string) (deckhand.Alert, error) {
	m.evalMu.Lock()
	defer m.evalMu.Unlock()
	cur, err := m.st.Alert(ctx, id)
	if err != nil {
		return deckhand.Alert{}, err
	}
	acked, notice, err := m.eng.Ack(cur, by, m.now())
	if err != nil {
		return deckhand.Alert{}, err
	}
	var notices []deckhand.Notice
	if notice != nil {
		notices = append(notices, *notice)
	}
	if err := m.st.ApplyAlerts(ctx, []deckhand.Alert{acked}, notices, m.cfg.Platforms); err != nil {
		return deckhand.Alert{}, err
	}
	m.kickOutbox()
	m.pageChanged()
	return acked, nil
}

// AddAnnouncement stores an announcement and shows it on the page at once.
func (m *Monitor) AddAnnouncement(ctx context.Context, a deckhand.Announcement) (int64, error) {
	id, err := m.st.AddAnnouncement(ctx, a)
	if err == nil {
		m.pageChanged()
	}
	return id, err
}
