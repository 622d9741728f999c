package main

import (
	"context"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/collector"
	"github.com/deckhand/deckhand/commands"
)

// dockerActions gives the router the collector's actions with the router's
// Stat type.
type dockerActions struct{ *collector.Collector }

func (a dockerActions) Stats(ctx context.Context, host string) ([]commands.Stat, error) {
	st, err := a.Collector.Stats(ctx, host)
	if err != nil {
		return nil, err
	}
	out := make([]commands.Stat, len(st))
	for i, s := range st {
		out[i] = commands.Stat{Name: s.Name, CPUPercent: s.CPUPercent, MemUsage: s.MemUsage, MemLimit: s.MemLimit,
			MemPercent: s.MemPercent, PIDs: s.PIDs}
	}
	return out, nil
}

// alertActions acks through the engine (which decides the notice) and the
// store (which persists both in one transaction).
type alertActions struct{ d *daemon }

func (a alertActions) ActiveAlerts(ctx context.Context) ([]deckhand.Alert, error) {
	return a.d.store.ActiveAlerts(ctx)
}

func (a alertActions) AddSilence(ctx context.Context, s deckhand.Silence) (int64, error) {
	return a.d.store.AddSilence(ctx, s)
}

func (a alertActions) Ack(ctx context.Context, id int64, by string) (deckhand.Alert, error) {
	d := a.d
	d.evalMu.Lock()
	defer d.evalMu.Unlock()
	cur, err := d.store.Alert(ctx, id)
	if err != nil {
		return deckhand.Alert{}, err
	}
	acked, notice, err := d.engine.Ack(cur, by, d.now())
	if err != nil {
		return deckhand.Alert{}, err
	}
	var notices []deckhand.Notice
	if notice != nil {
		notices = append(notices, *notice)
	}
	if err := d.store.ApplyAlerts(ctx, []deckhand.Alert{acked}, notices, d.platforms); err != nil {
		return deckhand.Alert{}, err
	}
	d.kick()
	d.pageChanged()
	return acked, nil
}

// announcer stores an announcement and shows it on the page at once.
type announcer struct{ d *daemon }

func (a announcer) AddAnnouncement(ctx context.Context, an deckhand.Announcement) (int64, error) {
	id, err := a.d.store.AddAnnouncement(ctx, an)
	if err == nil {
		a.d.pageChanged()
	}
	return id, err
}
