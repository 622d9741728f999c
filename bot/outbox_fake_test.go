package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
)

// memOutbox is an in-memory Outbox with the store's semantics: DueOutbox
// returns unsent, not dead, due items of one platform, oldest first;
// MarkFailed counts the attempt.
type memOutbox struct {
	mu      sync.Mutex
	items   []*memItem
	nextID  int64
	polled  chan string // receives the platform on every DueOutbox, when set
	failIDs map[int64]int
}

type memItem struct {
	deckhand.OutboxItem
	dead   bool
	failed []time.Time // the next times MarkFailed was given
}

func newMemOutbox() *memOutbox { return &memOutbox{failIDs: map[int64]int{}} }

func (o *memOutbox) add(platform string, n deckhand.Notice) int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.nextID++
	o.items = append(o.items, &memItem{OutboxItem: deckhand.OutboxItem{
		ID: o.nextID, Platform: platform, Notice: n, CreatedAt: time.Now(),
	}})
	return o.nextID
}

// failMarkSent makes the next n MarkSent calls for id fail.
func (o *memOutbox) failMarkSent(id int64, n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.failIDs[id] = n
}

func (o *memOutbox) DueOutbox(ctx context.Context, platform string, now time.Time, limit int) ([]deckhand.OutboxItem, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o.mu.Lock()
	var urgent, rest []deckhand.OutboxItem
	for i, it := range o.items {
		if !o.pending(it, platform) || it.NextAttemptAt.After(now) || o.blocked(i, now) {
			continue
		}
		if o.pullsAhead(i) {
			urgent = append(urgent, it.OutboxItem)
		} else {
			rest = append(rest, it.OutboxItem)
		}
	}
	out := append(urgent, rest...)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	polled := o.polled
	o.mu.Unlock()
	if polled != nil {
		select {
		case polled <- platform:
		default:
		}
	}
	return out, nil
}

// The store's delivery order: urgent items, with the earlier items of
// their alert, first; an item waits while an earlier one of its alert is
// not due. Items of alert ID 0 belong to no alert.
func (o *memOutbox) pending(it *memItem, platform string) bool {
	return it.Platform == platform && it.SentAt.IsZero() && !it.dead
}

func sameAlert(a, b *memItem) bool {
	return a.Notice.Alert.ID != 0 && a.Notice.Alert.ID == b.Notice.Alert.ID && a.Platform == b.Platform
}

func (o *memOutbox) blocked(i int, now time.Time) bool {
	for _, e := range o.items[:i] {
		if sameAlert(e, o.items[i]) && o.pending(e, e.Platform) && e.NextAttemptAt.After(now) {
			return true
		}
	}
	return false
}

func (o *memOutbox) pullsAhead(i int) bool {
	it := o.items[i]
	if it.Notice.Kind.Urgent() {
		return true
	}
	for _, u := range o.items[i+1:] {
		if sameAlert(u, it) && o.pending(u, u.Platform) && u.Notice.Kind.Urgent() {
			return true
		}
	}
	return false
}

func (o *memOutbox) get(id int64) (*memItem, error) {
	for _, it := range o.items {
		if it.ID == id {
			return it, nil
		}
	}
	return nil, fmt.Errorf("outbox item %d: %w", id, deckhand.ErrNotFound)
}

func (o *memOutbox) MarkSent(ctx context.Context, id int64, at time.Time, ref string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if n := o.failIDs[id]; n > 0 {
		o.failIDs[id] = n - 1
		return errors.New("database is locked")
	}
	it, err := o.get(id)
	if err != nil {
		return err
	}
	if !it.SentAt.IsZero() {
		return fmt.Errorf("outbox item %d marked sent twice", id)
	}
	it.SentAt, it.Ref = at, ref
	return nil
}

func (o *memOutbox) MarkSending(ctx context.Context, id int64, at time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	it, err := o.get(id)
	if err != nil {
		return err
	}
	it.SendingAt = at
	return nil
}

func (o *memOutbox) MarkFailed(ctx context.Context, id int64, next time.Time, errText string, dead bool) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	it, err := o.get(id)
	if err != nil {
		return err
	}
	it.Attempts++
	it.NextAttemptAt, it.LastError, it.dead = next, errText, dead
	it.failed = append(it.failed, next)
	return nil
}

func (o *memOutbox) snapshot(id int64) memItem {
	o.mu.Lock()
	defer o.mu.Unlock()
	it, err := o.get(id)
	if err != nil {
		panic(err)
	}
	c := *it
	c.failed = slices.Clone(it.failed)
	return c
}

// waitUntil polls cond until it holds or fails the test after timeout. It is
// a deadline for a hang, not a timing assertion.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
