package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/store"
	"github.com/deckhand/deckhand/store/storetest"
)

// dueIDs lists the IDs DueOutbox returns for ntfy at now, in its order.
func dueIDs(t *testing.T, s *store.Store, now time.Time) []int64 {
	t.Helper()
	due, err := s.DueOutbox(context.Background(), deckhand.PlatformNtfy, now, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, it := range due {
		ids = append(ids, it.ID)
	}
	return ids
}

// enqueueOne adds one ntfy row and returns its ID (the newest row).
func enqueueOne(t *testing.T, s *store.Store, n deckhand.Notice) int64 {
	t.Helper()
	ctx := context.Background()
	if err := s.Enqueue(ctx, deckhand.OutboxItem{Platform: deckhand.PlatformNtfy, Notice: n, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	due, err := s.DueOutbox(ctx, deckhand.PlatformNtfy, t0.Add(time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	for _, it := range due {
		id = max(id, it.ID)
	}
	return id
}

// A new alert used to wait behind a burst of reminders (first in, first
// out at Telegram's 20 a minute). Urgent notices go first; a recovery
// still never overtakes the alert it recovers, and a row waits while an
// earlier row of its alert is in a backoff.
func TestDueOutboxUrgentFirstPerAlertOrder(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	ntfy := []string{deckhand.PlatformNtfy}
	a, b := downAlert("a", t0), downAlert("b", t0)
	alerts := []deckhand.Alert{a, b}
	if err := s.ApplyAlerts(ctx, alerts, []deckhand.Notice{opened(alerts[0]), opened(alerts[1])}, ntfy); err != nil {
		t.Fatal(err)
	}
	for _, id := range dueIDs(t, s, t0) {
		if err := s.MarkSent(ctx, id, t0, "ref"); err != nil {
			t.Fatal(err)
		}
	}
	a, b = alerts[0], alerts[1]
	reminder := func(al deckhand.Alert) deckhand.Notice {
		return deckhand.Notice{Kind: deckhand.NoticeReminder, Alert: al, At: t0}
	}
	r1 := enqueueOne(t, s, reminder(a))
	r2 := enqueueOne(t, s, reminder(b))
	an := enqueueOne(t, s, deckhand.Notice{Kind: deckhand.NoticeAnnouncement, Text: "upgrade tonight", At: t0})
	cs := []deckhand.Alert{downAlert("c", t0)}
	if err := s.ApplyAlerts(ctx, cs, []deckhand.Notice{opened(cs[0])}, ntfy); err != nil {
		t.Fatal(err)
	}
	c1 := dueIDs(t, s, t0)[0]
	rec := cs[0]
	rec.State, rec.ClosedAt = deckhand.AlertClosed, t0.Add(time.Minute)
	c2 := enqueueOne(t, s, deckhand.Notice{Kind: deckhand.NoticeRecovered, Alert: rec, At: rec.ClosedAt})

	if got, want := dueIDs(t, s, t0), []int64{c1, r1, r2, an, c2}; !slices.Equal(got, want) {
		t.Errorf("due %v, want %v: the opening first, the rest in order", got, want)
	}

	// An urgent notice takes the earlier rows of its alert along.
	o2 := enqueueOne(t, s, opened(a))
	if got, want := dueIDs(t, s, t0), []int64{r1, c1, o2, r2, an, c2}; !slices.Equal(got, want) {
		t.Errorf("due %v, want %v", got, want)
	}

	// c1 fails and waits an hour: its recovery waits with it.
	if err := s.MarkFailed(ctx, c1, t0.Add(time.Hour), "502", false); err != nil {
		t.Fatal(err)
	}
	if got := dueIDs(t, s, t0); slices.Contains(got, c2) || slices.Contains(got, c1) {
		t.Errorf("due %v: the recovery must wait for its alert's opening", got)
	}
	// Limit applies after ordering.
	if due, _ := s.DueOutbox(ctx, deckhand.PlatformNtfy, t0, 1); len(due) != 1 || due[0].ID != r1 {
		t.Errorf("limit 1 = %+v, want r1", due)
	}
}

// Dead rows are listed with the queued ones and can be queued again, all
// or by ID; a queued or delivered row is left alone.
func TestPendingOutboxAndRetryDead(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	n := deckhand.Notice{Kind: deckhand.NoticeAnnouncement, Text: "x", At: t0}
	a := enqueueOne(t, s, n)
	b := enqueueOne(t, s, n)
	c := enqueueOne(t, s, n)
	sent := enqueueOne(t, s, n)
	for _, id := range []int64{a, b} {
		if err := s.MarkFailed(ctx, id, t0, "HTTP 400: bad", true); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.MarkSent(ctx, sent, t0, ""); err != nil {
		t.Fatal(err)
	}
	rows, err := s.PendingOutbox(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || !rows[0].Dead || !rows[1].Dead || rows[2].Dead || rows[0].LastError != "HTTP 400: bad" ||
		rows[0].Attempts != 1 || rows[0].Notice.Text != "x" || !rows[0].CreatedAt.Equal(t0) {
		t.Fatalf("pending = %+v", rows)
	}
	if got, err := s.RetryDead(ctx, t0, b, c, sent, 999); err != nil || !slices.Equal(got, []int64{b}) {
		t.Errorf("RetryDead(b, c, sent, 999) = %v, %v; want only b", got, err)
	}
	if got := dueIDs(t, s, t0); !slices.Equal(got, []int64{b, c}) {
		t.Errorf("due after retry = %v", got)
	}
	if got, err := s.RetryDead(ctx, t0); err != nil || !slices.Equal(got, []int64{a}) {
		t.Errorf("RetryDead(all) = %v, %v; want a", got, err)
	}
	if dead, _ := s.OutboxDead(ctx); len(dead) != 0 {
		t.Errorf("dead after retry: %v", dead)
	}
}

// BenchmarkDueOutbox reads the head of a backlog of 1000 rows over 50
// alerts, as a platform's worker does after an outage.
func BenchmarkDueOutbox(b *testing.B) {
	s := storetest.Open(b)
	ctx := context.Background()
	var alerts []deckhand.Alert
	var notices []deckhand.Notice
	for i := range 50 {
		a := downAlert(fmt.Sprintf("c%d", i), t0)
		alerts = append(alerts, a)
	}
	for i := range alerts {
		notices = append(notices, opened(alerts[i]))
	}
	if err := s.ApplyAlerts(ctx, alerts, notices, []string{deckhand.PlatformNtfy}); err != nil {
		b.Fatal(err)
	}
	var items []deckhand.OutboxItem
	for i := range 950 {
		n := deckhand.Notice{Kind: deckhand.NoticeReminder, Alert: alerts[i%50], At: t0}
		items = append(items, deckhand.OutboxItem{Platform: deckhand.PlatformNtfy, Notice: n, CreatedAt: t0})
	}
	if err := s.Enqueue(ctx, items...); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if due, err := s.DueOutbox(ctx, deckhand.PlatformNtfy, t0, 50); err != nil || len(due) != 50 {
			b.Fatal(len(due), err)
		}
	}
}
