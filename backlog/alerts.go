package backlog

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/store"
)

// ActiveAlerts (read) are the stored active alerts with the held ones laid
// over them, oldest first.
func (b *Backlog) ActiveAlerts(ctx context.Context) ([]deckhand.Alert, error) {
	if b.writable() {
		stored, err := b.Store.ActiveAlerts(ctx)
		if err == nil {
			b.mu.Lock()
			b.remember(stored)
			b.mu.Unlock()
		}
		return stored, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	stored, err := b.Store.ActiveAlerts(ctx)
	switch {
	case err == nil:
		b.remember(stored)
	case b.reason != "" && b.lastAct != nil:
		stored = b.lastAct
	default:
		return nil, err
	}
	out := b.overlay(stored, func(a deckhand.Alert) bool { return a.State.Active() })
	slices.SortFunc(out, func(x, y deckhand.Alert) int {
		return cmp.Or(x.FirstSeenAt.Compare(y.FirstSeenAt), cmp.Compare(x.ID, y.ID))
	})
	return out, nil
}

// remember keeps the last stored active alerts, for when reading fails.
func (b *Backlog) remember(stored []deckhand.Alert) {
	b.lastAct = stored
	for _, a := range stored {
		b.seen(a.ID, 0)
	}
}

// RecentAlerts (read) is the store's with the held alerts laid over it.
func (b *Backlog) RecentAlerts(ctx context.Context, since time.Time, limit int) ([]deckhand.Alert, error) {
	if b.writable() {
		return b.Store.RecentAlerts(ctx, since, limit)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	stored, err := b.Store.RecentAlerts(ctx, since, limit)
	if err != nil && b.reason == "" {
		return nil, err
	}
	if len(b.held.alerts) == 0 {
		return stored, err
	}
	out := b.overlay(stored, func(a deckhand.Alert) bool { return !a.FirstSeenAt.Before(since) })
	slices.SortFunc(out, func(x, y deckhand.Alert) int {
		return cmp.Or(y.FirstSeenAt.Compare(x.FirstSeenAt), cmp.Compare(y.ID, x.ID))
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// overlay replaces stored alerts by their held state and adds the held
// new ones; keep says which of the held states belong in the answer.
func (b *Backlog) overlay(stored []deckhand.Alert, keep func(deckhand.Alert) bool) []deckhand.Alert {
	out := make([]deckhand.Alert, 0, len(stored)+len(b.held.alerts))
	for _, a := range stored {
		if h, ok := b.held.alerts[a.ID]; ok {
			if keep(h.Alert) {
				out = append(out, h.Alert)
			}
			continue
		}
		out = append(out, a)
	}
	for _, h := range b.held.alerts {
		if h.New && keep(h.Alert) {
			out = append(out, h.Alert)
		}
	}
	return out
}

// Alert (read) is the held state of an alert, else the stored one.
func (b *Backlog) Alert(ctx context.Context, id int64) (deckhand.Alert, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	id = b.alertID(id)
	if h, ok := b.held.alerts[id]; ok {
		return h.Alert, nil
	}
	return b.Store.Alert(ctx, id)
}

// alertID maps an ID held once and written under another.
func (b *Backlog) alertID(id int64) int64 {
	if n, ok := b.remap.Alerts[id]; ok {
		return n
	}
	return id
}

// ApplyAlerts (write) is store.ApplyAlerts, held in memory when the
// database cannot take it (or anything is held already: order). Like the
// store's, it writes the new alerts' IDs back into alerts and notices.
func (b *Backlog) ApplyAlerts(ctx context.Context, alerts []deckhand.Alert, notices []deckhand.Notice, platforms []string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := range alerts {
		alerts[i].ID = b.alertID(alerts[i].ID)
	}
	for i := range notices {
		notices[i].Alert.ID = b.alertID(notices[i].Alert.ID)
	}
	if b.reason == "" {
		err := b.Store.ApplyAlerts(ctx, alerts, notices, platforms)
		for _, a := range alerts {
			b.seen(a.ID, 0)
		}
		if err == nil || !b.failed(ctx, err) {
			return err
		}
	}
	b.holdAlerts(alerts, notices)
	b.holdNotices(notices, platforms)
	b.report()
	return nil
}

// holdAlerts keeps the latest state of each alert, giving new ones IDs.
func (b *Backlog) holdAlerts(alerts []deckhand.Alert, notices []deckhand.Notice) {
	newIDs := map[deckhand.AlertKey]int64{}
	for i := range alerts {
		a := &alerts[i]
		if a.ID == 0 {
			b.held.next[0]++
			a.ID = b.held.next[0]
			newIDs[a.Key] = a.ID
			b.held.alerts[a.ID] = &store.HeldAlert{Alert: *a, New: true}
			continue
		}
		if h, ok := b.held.alerts[a.ID]; ok {
			h.Alert = *a
			continue
		}
		b.held.alerts[a.ID] = &store.HeldAlert{Alert: *a}
	}
	for i := range notices {
		if notices[i].Alert.ID == 0 {
			notices[i].Alert.ID = newIDs[notices[i].Alert.Key]
		}
	}
}

// holdNotices queues one held item per notice and platform, due at once.
// Their Ref is looked up when they are due, as the store does.
func (b *Backlog) holdNotices(notices []deckhand.Notice, platforms []string) {
	for _, n := range notices {
		for _, p := range platforms {
			b.held.next[1]++
			it := deckhand.OutboxItem{ID: b.held.next[1], Platform: p, Notice: n, CreatedAt: n.At, NextAttemptAt: n.At}
			b.held.items = append(b.held.items, &store.HeldItem{Item: it})
		}
	}
	b.bound()
}
