package backlog

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/store"
)

// Flush writes the backlog in one transaction, in the order it was held;
// nil when nothing is held (any more). Run calls it every Options.Retry.
func (b *Backlog) Flush(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.reason == "" {
		b.allClear(ctx)
		return nil
	}
	rm, err := b.Store.WriteHeld(ctx, b.held.toStore())
	if err != nil {
		if !b.failed(ctx, err) && ctx.Err() == nil {
			// Not a full disk: a held row the database refuses. It stays
			// held; the error says which, for a bug report.
			b.log.Error("writing the backlog refused", "err", err)
		}
		return fmt.Errorf("write backlog: %w", err)
	}
	for k, v := range rm.Alerts {
		b.remap.Alerts[k] = v
	}
	for k, v := range rm.Outbox {
		b.remap.Outbox[k] = v
	}
	n, dropped, was := len(b.held.items), b.held.dropped, b.reason
	// What is stored now, should the next read fail in turn.
	b.lastAct = b.overlay(b.lastAct, func(a deckhand.Alert) bool { return a.State.Active() })
	for i := range b.lastAct {
		b.lastAct[i].ID = b.alertID(b.lastAct[i].ID)
	}
	b.held.reset()
	b.reason = ""
	b.told.writtenAt = b.opts.Now()
	b.told.written += n
	b.told.dropped += dropped
	b.report()
	b.log.Warn("deckhand can write its database again: the backlog is written",
		"was", was, "items", n, "dropped_reminders", dropped, "renumbered", len(rm.Alerts)+len(rm.Outbox))
	b.allClear(ctx)
	return nil
}

// allClear tells admins that the database takes writes again, once it has
// for Options.Settle since the backlog was last written.
func (b *Backlog) allClear(ctx context.Context) {
	if !b.told.down || b.opts.Now().Sub(b.told.writtenAt) < b.opts.Settle {
		return
	}
	t := b.told
	b.told = told{}
	text := fmt.Sprintf("deckhand can write its database again (it was %s): the %d notices held in memory are written.", t.reason, t.written)
	if t.dropped > 0 {
		text += fmt.Sprintf(" %d older ones (reminders first) were dropped to bound memory.", t.dropped)
	}
	notice := []deckhand.Notice{{Kind: deckhand.NoticeSystem, Text: text, At: b.opts.Now()}}
	if err := b.Store.ApplyAlerts(ctx, nil, notice, b.opts.Platforms); err != nil && b.failed(ctx, err) {
		b.holdNotices(notice, b.opts.Platforms)
		b.report()
	}
}

// toStore is the backlog in the shape store.WriteHeld takes.
func (h *held) toStore() store.Held {
	out := store.Held{Refs: h.refs}
	for _, a := range h.alerts {
		out.Alerts = append(out.Alerts, *a)
	}
	slices.SortFunc(out.Alerts, func(x, y store.HeldAlert) int { return cmp.Compare(x.Alert.ID, y.Alert.ID) })
	for _, it := range h.items {
		out.Outbox = append(out.Outbox, *it)
	}
	for _, m := range h.marks {
		if m.SendingAt.IsZero() && m.SentAt.IsZero() && m.Attempts == 0 && !m.Dead {
			continue // only seen, nothing happened to it
		}
		out.Marks = append(out.Marks, m.OutboxMark)
	}
	slices.SortFunc(out.Marks, func(x, y store.OutboxMark) int { return cmp.Compare(x.ID, y.ID) })
	return out
}

// bound drops held items past Options.Limit: the oldest reminder first,
// then the oldest item already delivered or given up on (only its record
// is lost; its message ref is kept apart). Openings and the other notices
// of a change are never dropped (see the package comment).
func (b *Backlog) bound() {
	for len(b.held.items) > b.opts.Limit {
		i := slices.IndexFunc(b.held.items, func(h *store.HeldItem) bool { return h.Item.Notice.Kind == deckhand.NoticeReminder })
		if i < 0 {
			i = slices.IndexFunc(b.held.items, func(h *store.HeldItem) bool {
				return h.Item.Notice.Kind != deckhand.NoticeOpened && (!h.Item.SentAt.IsZero() || h.Dead)
			})
		}
		if i < 0 {
			return
		}
		if b.held.dropped == 0 {
			b.log.Warn("the backlog is full: dropping the oldest reminders", "limit", b.opts.Limit)
		}
		b.held.items = slices.Delete(b.held.items, i, i+1)
		b.held.dropped++
	}
}
