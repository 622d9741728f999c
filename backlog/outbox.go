package backlog

import (
	"context"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/store"
)

// DueOutbox (read) is the store's due items with what was recorded of them
// meanwhile, then the held ones due, oldest first. Stored items are older
// than every held one: nothing is stored while something is held. When the
// stored ones cannot be read the held ones still go out.
func (b *Backlog) DueOutbox(ctx context.Context, platform string, now time.Time, limit int) ([]deckhand.OutboxItem, error) {
	if b.writable() {
		// Read without the lock: a platform's worker does not record a
		// delivery while it reads its queue, so nothing it is served can
		// have been recorded only here meanwhile.
		items, err := b.Store.DueOutbox(ctx, platform, now, limit)
		b.mu.Lock()
		for _, it := range items {
			b.seen(0, it.ID)
			b.served[it.ID] = about{platform: it.Platform, alertID: it.Notice.Alert.ID}
		}
		b.mu.Unlock()
		return items, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	ask := limit
	if limit > 0 {
		// Rows delivered meanwhile come back from the store and are left
		// out here: ask for more so that a full batch stays full.
		ask += len(b.held.marks)
	}
	stored, err := b.Store.DueOutbox(ctx, platform, now, ask)
	if err != nil && b.reason == "" {
		return nil, err
	}
	if err != nil {
		b.log.Debug("reading the stored outbox failed; delivering the held items", "platform", platform, "err", err)
	}
	out := make([]deckhand.OutboxItem, 0, len(stored))
	for _, it := range stored {
		b.seen(0, it.ID)
		if it, ok := b.overlayItem(ctx, it, now); ok {
			out = append(out, it)
		}
	}
	for _, h := range b.held.items {
		it := h.Item
		if it.Platform != platform || h.Dead || !it.SentAt.IsZero() || it.NextAttemptAt.After(now) {
			continue
		}
		if it.Ref == "" && it.Notice.Alert.ID != 0 {
			it.Ref = b.ref(ctx, it.Notice.Alert.ID, platform)
		}
		out = append(out, it)
	}
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// overlayItem applies a stored row's delivery record; false when the row
// is no longer due (delivered, given up, or waiting for its next attempt).
func (b *Backlog) overlayItem(ctx context.Context, it deckhand.OutboxItem, now time.Time) (deckhand.OutboxItem, bool) {
	if b.reason == "" {
		return it, true
	}
	m, ok := b.held.marks[it.ID]
	if !ok {
		b.held.marks[it.ID] = &mark{OutboxMark: store.OutboxMark{ID: it.ID}, about: about{platform: it.Platform, alertID: it.Notice.Alert.ID}}
		m = b.held.marks[it.ID]
	}
	if !m.SentAt.IsZero() || m.Dead || (!m.NextAttemptAt.IsZero() && m.NextAttemptAt.After(now)) {
		return it, false
	}
	it.Attempts += m.Attempts
	if !m.SendingAt.IsZero() {
		it.SendingAt = m.SendingAt
	}
	if m.LastError != "" {
		it.LastError = m.LastError
	}
	if it.Ref == "" && it.Notice.Alert.ID != 0 {
		it.Ref = b.ref(ctx, it.Notice.Alert.ID, it.Platform)
	}
	return it, true
}

// ref is the message an alert's notice edits: the stored one, else the one
// delivered meanwhile.
func (b *Backlog) ref(ctx context.Context, alertID int64, platform string) string {
	if r, err := b.Store.MessageRef(ctx, alertID, platform); err == nil {
		return r
	}
	for _, r := range b.held.refs {
		if r.AlertID == alertID && r.Platform == platform {
			return r.Ref
		}
	}
	return ""
}

// learnRef records the first message of an alert on a platform.
func (b *Backlog) learnRef(alertID int64, platform, ref string) {
	if alertID == 0 || ref == "" {
		return
	}
	for _, r := range b.held.refs {
		if r.AlertID == alertID && r.Platform == platform {
			return
		}
	}
	b.held.refs = append(b.held.refs, deckhand.MessageRef{AlertID: alertID, Platform: platform, Ref: ref})
}

// record applies a delivery record: to the store while nothing is held,
// else (or when the store cannot take it) to the held item or the stored
// row's mark.
// done says that the record ends the item's life (delivered, given up).
func (b *Backlog) record(ctx context.Context, id int64, done bool, write func(int64) error, onItem func(*store.HeldItem), onMark func(*mark)) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n, ok := b.remap.Outbox[id]; ok {
		id = n
	}
	if b.reason == "" {
		err := write(id)
		if err == nil && done {
			delete(b.served, id)
		}
		if err == nil || !b.failed(ctx, err) {
			return err
		}
	}
	for _, h := range b.held.items {
		if h.Item.ID == id {
			onItem(h)
			b.report()
			return nil
		}
	}
	m, ok := b.held.marks[id]
	if !ok {
		// Served before anything was held.
		m = &mark{OutboxMark: store.OutboxMark{ID: id}, about: b.served[id]}
		b.held.marks[id] = m
	}
	onMark(m)
	if done {
		delete(b.served, id)
	}
	return nil
}

// MarkSending (write) records that an attempt at id starts now.
func (b *Backlog) MarkSending(ctx context.Context, id int64, at time.Time) error {
	return b.record(ctx, id, false,
		func(id int64) error { return b.Store.MarkSending(ctx, id, at) },
		func(h *store.HeldItem) { h.Item.SendingAt = at },
		func(m *mark) { m.SendingAt = at })
}

// MarkSent (write) records a delivery and the platform's message ref.
func (b *Backlog) MarkSent(ctx context.Context, id int64, at time.Time, ref string) error {
	return b.record(ctx, id, true,
		func(id int64) error { return b.Store.MarkSent(ctx, id, at, ref) },
		func(h *store.HeldItem) {
			h.Item.SentAt = at
			if ref != "" {
				h.Item.Ref = ref
			}
			b.learnRef(h.Item.Notice.Alert.ID, h.Item.Platform, ref)
		},
		func(m *mark) {
			m.SentAt, m.Ref = at, ref
			b.learnRef(m.alertID, m.platform, ref)
		})
}

// MarkFailed (write) records a failed attempt.
func (b *Backlog) MarkFailed(ctx context.Context, id int64, next time.Time, errText string, dead bool) error {
	return b.record(ctx, id, dead,
		func(id int64) error { return b.Store.MarkFailed(ctx, id, next, errText, dead) },
		func(h *store.HeldItem) {
			h.Item.Attempts++
			h.Item.NextAttemptAt, h.Item.LastError, h.Dead = next, errText, dead
		},
		func(m *mark) {
			m.Attempts++
			m.NextAttemptAt, m.LastError, m.Dead = next, errText, dead || m.Dead
		})
}

// OutboxDepth (read) counts the stored and held items still to deliver.
func (b *Backlog) OutboxDepth(ctx context.Context) (map[string]int, error) {
	if b.writable() {
		return b.Store.OutboxDepth(ctx)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	depth, err := b.Store.OutboxDepth(ctx)
	if err != nil && b.reason == "" {
		return nil, err
	}
	if depth == nil {
		depth = map[string]int{}
	}
	for _, h := range b.held.items {
		if h.Item.SentAt.IsZero() && !h.Dead {
			depth[h.Item.Platform]++
		}
	}
	for _, m := range b.held.marks {
		if (!m.SentAt.IsZero() || m.Dead) && m.platform != "" && depth[m.platform] > 0 {
			depth[m.platform]--
		}
	}
	return depth, nil
}

// Enqueue (write) is store.Enqueue, held in memory when the database
// cannot take it (or anything is held already: order). deckhand's own
// notices to admins come this way, so a wrong token is told even on a
// full disk.
func (b *Backlog) Enqueue(ctx context.Context, items ...deckhand.OutboxItem) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.reason == "" {
		err := b.Store.Enqueue(ctx, items...)
		if err == nil || !b.failed(ctx, err) {
			return err
		}
	}
	for _, it := range items {
		b.holdNotices([]deckhand.Notice{it.Notice}, []string{it.Platform})
	}
	b.report()
	return nil
}
