package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/store/storetest"
)

func downAlert(container string, at time.Time) deckhand.Alert {
	return deckhand.Alert{
		Key:     deckhand.AlertKey{Host: "nas", Container: container, Kind: deckhand.AlertContainerDown},
		Project: "app", Severity: deckhand.SeverityError, State: deckhand.AlertOpen,
		Message: container + " is down", FirstSeenAt: at, OpenedAt: at, LastNotifiedAt: at, Notifications: 1,
		ClearedAt: at.Add(time.Minute), Public: true, Condition: deckhand.ConditionRunningUnwanted,
	}
}

func opened(a deckhand.Alert) deckhand.Notice {
	return deckhand.Notice{Kind: deckhand.NoticeOpened, Alert: a, Text: a.Message, At: a.OpenedAt}
}

var platforms = []string{deckhand.PlatformDiscord, deckhand.PlatformTelegram}

func TestApplyAlertsAssignsIDsAndEnqueues(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	alerts := []deckhand.Alert{downAlert("web", t0), downAlert("db", t0)}
	notices := []deckhand.Notice{opened(alerts[0]), opened(alerts[1])}
	if err := s.ApplyAlerts(ctx, alerts, notices, platforms); err != nil {
		t.Fatal(err)
	}
	for i := range alerts {
		if alerts[i].ID == 0 || notices[i].Alert.ID != alerts[i].ID {
			t.Fatalf("ids not written back: alert %d, notice %d", alerts[i].ID, notices[i].Alert.ID)
		}
	}
	got, err := s.Alert(ctx, alerts[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if got != alerts[0] {
		t.Errorf("Alert round trip:\n got %+v\nwant %+v", got, alerts[0])
	}
	for _, p := range platforms {
		due, err := s.DueOutbox(ctx, p, t0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(due) != 2 {
			t.Fatalf("%s: %d due rows, want 2", p, len(due))
		}
		if due[0].Notice.Alert.ID != alerts[0].ID || due[0].Notice.Kind != deckhand.NoticeOpened ||
			due[0].Notice.Text != "web is down" || !due[0].Notice.At.Equal(t0) || due[0].Ref != "" ||
			due[0].Platform != p {
			t.Errorf("%s: first due row = %+v", p, due[0])
		}
	}
	depth, _ := s.OutboxDepth(ctx)
	if depth[deckhand.PlatformDiscord] != 2 || depth[deckhand.PlatformTelegram] != 2 || len(depth) != 2 {
		t.Errorf("OutboxDepth = %v", depth)
	}
	active, _ := s.ActiveAlerts(ctx)
	if len(active) != 2 {
		t.Errorf("ActiveAlerts = %d, want 2", len(active))
	}
}

func TestApplyAlertsIsAtomic(t *testing.T) {
	tests := []struct {
		name    string
		alerts  func(existing deckhand.Alert) []deckhand.Alert
		wantErr error
	}{
		{
			name: "second active alert for a key",
			alerts: func(deckhand.Alert) []deckhand.Alert {
				return []deckhand.Alert{downAlert("db", t0), downAlert("web", t0)}
			},
		},
		{
			name: "update of an unknown alert",
			alerts: func(deckhand.Alert) []deckhand.Alert {
				a := downAlert("db", t0)
				b := downAlert("x", t0)
				b.ID = 999
				return []deckhand.Alert{a, b}
			},
			wantErr: deckhand.ErrNotFound,
		},
		{
			name: "closing the existing alert while inserting a bad one",
			alerts: func(ex deckhand.Alert) []deckhand.Alert {
				ex.State, ex.ClosedAt = deckhand.AlertClosed, t0.Add(time.Minute)
				bad := downAlert("db", t0)
				bad.State = "bogus"
				return []deckhand.Alert{ex, bad}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := storetest.Open(t)
			ctx := context.Background()
			existing := []deckhand.Alert{downAlert("web", t0)}
			if err := s.ApplyAlerts(ctx, existing, []deckhand.Notice{opened(existing[0])}, platforms); err != nil {
				t.Fatal(err)
			}
			batch := tt.alerts(existing[0])
			var notices []deckhand.Notice
			for _, a := range batch {
				notices = append(notices, opened(a))
			}
			err := s.ApplyAlerts(ctx, batch, notices, platforms)
			if err == nil {
				t.Fatal("ApplyAlerts succeeded, want an error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			for _, a := range batch {
				if a.ID == 0 {
					continue
				}
				if a.ID != existing[0].ID && a.ID != 999 {
					t.Errorf("an ID was written back after a failed apply: %d", a.ID)
				}
			}
			active, _ := s.ActiveAlerts(ctx)
			if len(active) != 1 || active[0] != existing[0] {
				t.Errorf("alerts changed by a failed apply: %+v", active)
			}
			depth, _ := s.OutboxDepth(ctx)
			if depth[deckhand.PlatformDiscord] != 1 || depth[deckhand.PlatformTelegram] != 1 {
				t.Errorf("outbox changed by a failed apply: %v", depth)
			}
		})
	}
}

func TestApplyAlertsCloseAndReopenSameKey(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	first := []deckhand.Alert{downAlert("web", t0)}
	if err := s.ApplyAlerts(ctx, first, nil, nil); err != nil {
		t.Fatal(err)
	}
	closed := first[0]
	closed.State, closed.ClosedAt = deckhand.AlertClosed, t0.Add(time.Minute)
	// The new alert comes first in the slice: updates must still run first.
	batch := []deckhand.Alert{downAlert("web", t0.Add(2*time.Minute)), closed}
	if err := s.ApplyAlerts(ctx, batch, nil, nil); err != nil {
		t.Fatalf("close + reopen in one batch: %v", err)
	}
	if batch[0].ID == 0 || batch[0].ID == closed.ID {
		t.Errorf("new alert id = %d (old %d)", batch[0].ID, closed.ID)
	}
	recent, err := s.RecentAlerts(ctx, t0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(recent) != 2 || recent[0].ID != batch[0].ID || recent[1].State != deckhand.AlertClosed ||
		!recent[1].ClosedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("RecentAlerts = %+v", recent)
	}
	if r, _ := s.RecentAlerts(ctx, t0, 1); len(r) != 1 || r[0].ID != batch[0].ID {
		t.Errorf("RecentAlerts limit 1 = %+v", r)
	}
	if r, _ := s.RecentAlerts(ctx, t0.Add(time.Minute), 0); len(r) != 1 {
		t.Errorf("RecentAlerts since = %d alerts, want 1", len(r))
	}
}

func TestAckAlert(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	alerts := []deckhand.Alert{downAlert("web", t0)}
	if err := s.ApplyAlerts(ctx, alerts, nil, nil); err != nil {
		t.Fatal(err)
	}
	id := alerts[0].ID
	a, err := s.AckAlert(ctx, id, "discord:ann", t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if a.State != deckhand.AlertAcked || a.AckedBy != "discord:ann" || !a.AckedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("acked alert = %+v", a)
	}
	again, err := s.AckAlert(ctx, id, "telegram:bob", t0.Add(2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if again != a {
		t.Errorf("second ack changed the alert:\n got %+v\nwant %+v", again, a)
	}
	if _, err := s.AckAlert(ctx, 12345, "x", t0); !errors.Is(err, deckhand.ErrNotFound) {
		t.Errorf("AckAlert(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := s.Alert(ctx, 12345); !errors.Is(err, deckhand.ErrNotFound) {
		t.Errorf("Alert(unknown) = %v, want ErrNotFound", err)
	}
	closed := a
	closed.State, closed.ClosedAt = deckhand.AlertClosed, t0.Add(3*time.Minute)
	if err := s.ApplyAlerts(ctx, []deckhand.Alert{closed}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.AckAlert(ctx, id, "x", t0.Add(4*time.Minute)); got.State != deckhand.AlertClosed {
		t.Errorf("ack reopened a closed alert: %+v", got)
	}
	if act, _ := s.ActiveAlerts(ctx); len(act) != 0 {
		t.Errorf("closed alert still active: %+v", act)
	}
}

func TestOutboxCycle(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	alerts := []deckhand.Alert{downAlert("web", t0)}
	if err := s.ApplyAlerts(ctx, alerts, []deckhand.Notice{opened(alerts[0])}, platforms); err != nil {
		t.Fatal(err)
	}
	id := alerts[0].ID

	if due, _ := s.DueOutbox(ctx, deckhand.PlatformDiscord, t0.Add(-time.Second), 10); len(due) != 0 {
		t.Errorf("row due before its time: %+v", due)
	}
	due, err := s.DueOutbox(ctx, deckhand.PlatformDiscord, t0, 10)
	if err != nil || len(due) != 1 {
		t.Fatalf("DueOutbox = %v, %v", due, err)
	}
	row := due[0]
	if !row.SendingAt.IsZero() {
		t.Errorf("new row has SendingAt %v", row.SendingAt)
	}
	// An attempt is recorded before it starts, and read back after a crash.
	if err := s.MarkSending(ctx, row.ID, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.DueOutbox(ctx, deckhand.PlatformDiscord, t0, 10); len(due) != 1 || !due[0].SendingAt.Equal(t0.Add(time.Second)) {
		t.Errorf("after MarkSending: %+v", due)
	}
	if err := s.MarkSending(ctx, 9999, t0); !errors.Is(err, deckhand.ErrNotFound) {
		t.Errorf("MarkSending(unknown) = %v, want ErrNotFound", err)
	}

	// A failure postpones the row.
	if err := s.MarkFailed(ctx, row.ID, t0.Add(time.Minute), "429 retry_after 60", false); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.DueOutbox(ctx, deckhand.PlatformDiscord, t0.Add(30*time.Second), 10); len(due) != 0 {
		t.Errorf("failed row due before its retry time")
	}
	due, _ = s.DueOutbox(ctx, deckhand.PlatformDiscord, t0.Add(time.Minute), 10)
	if len(due) != 1 || due[0].Attempts != 1 || due[0].LastError != "429 retry_after 60" ||
		!due[0].NextAttemptAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("row after failure = %+v", due)
	}

	// The ack notice is enqueued before the first message is delivered.
	acked := alerts[0]
	acked.State, acked.AckedAt, acked.AckedBy = deckhand.AlertAcked, t0.Add(2*time.Minute), "ann"
	ackNotice := deckhand.Notice{Kind: deckhand.NoticeAcked, Alert: acked, At: acked.AckedAt}
	if err := s.ApplyAlerts(ctx, []deckhand.Alert{acked}, []deckhand.Notice{ackNotice}, platforms); err != nil {
		t.Fatal(err)
	}

	if err := s.MarkSent(ctx, row.ID, t0.Add(3*time.Minute), "chan/111"); err != nil {
		t.Fatal(err)
	}
	if ref, err := s.MessageRef(ctx, id, deckhand.PlatformDiscord); err != nil || ref != "chan/111" {
		t.Errorf("MessageRef = %q, %v", ref, err)
	}
	if _, err := s.MessageRef(ctx, id, deckhand.PlatformTelegram); !errors.Is(err, deckhand.ErrNotFound) {
		t.Errorf("MessageRef(telegram) = %v, want ErrNotFound", err)
	}
	due, _ = s.DueOutbox(ctx, deckhand.PlatformDiscord, t0.Add(3*time.Minute), 10)
	if len(due) != 1 || due[0].Notice.Kind != deckhand.NoticeAcked || due[0].Ref != "chan/111" {
		t.Fatalf("ack row = %+v, want kind acked with ref chan/111", due)
	}
	// A later delivery does not replace the first message's ref.
	if err := s.MarkSent(ctx, due[0].ID, t0.Add(4*time.Minute), "chan/222"); err != nil {
		t.Fatal(err)
	}
	if ref, _ := s.MessageRef(ctx, id, deckhand.PlatformDiscord); ref != "chan/111" {
		t.Errorf("MessageRef replaced: %q", ref)
	}

	// A notice enqueued once the ref exists carries it in the row itself.
	recovered := acked
	recovered.State, recovered.ClosedAt = deckhand.AlertClosed, t0.Add(5*time.Minute)
	rn := deckhand.Notice{Kind: deckhand.NoticeRecovered, Alert: recovered, At: recovered.ClosedAt}
	if err := s.ApplyAlerts(ctx, []deckhand.Alert{recovered}, []deckhand.Notice{rn}, platforms); err != nil {
		t.Fatal(err)
	}
	due, _ = s.DueOutbox(ctx, deckhand.PlatformDiscord, t0.Add(5*time.Minute), 10)
	if len(due) != 1 || due[0].Ref != "chan/111" || due[0].Notice.Kind != deckhand.NoticeRecovered {
		t.Fatalf("recovered row = %+v", due)
	}

	// Telegram: opened, acked, recovered still queued; give up on one.
	tg, _ := s.DueOutbox(ctx, deckhand.PlatformTelegram, t0.Add(time.Hour), 0)
	if len(tg) != 3 || tg[0].Ref != "" {
		t.Fatalf("telegram rows = %+v", tg)
	}
	if err := s.MarkFailed(ctx, tg[0].ID, t0.Add(time.Hour), "403 bot was kicked", true); err != nil {
		t.Fatal(err)
	}
	depth, _ := s.OutboxDepth(ctx)
	dead, _ := s.OutboxDead(ctx)
	if depth[deckhand.PlatformDiscord] != 1 || depth[deckhand.PlatformTelegram] != 2 ||
		dead[deckhand.PlatformTelegram] != 1 || len(dead) != 1 {
		t.Errorf("depth = %v, dead = %v", depth, dead)
	}
	if tg, _ := s.DueOutbox(ctx, deckhand.PlatformTelegram, t0.Add(2*time.Hour), 1); len(tg) != 1 ||
		tg[0].Notice.Kind != deckhand.NoticeAcked {
		t.Errorf("limit 1 after dead = %+v", tg)
	}

	if err := s.MarkSent(ctx, 9999, t0, ""); !errors.Is(err, deckhand.ErrNotFound) {
		t.Errorf("MarkSent(unknown) = %v", err)
	}
	if err := s.MarkFailed(ctx, 9999, t0, "", false); !errors.Is(err, deckhand.ErrNotFound) {
		t.Errorf("MarkFailed(unknown) = %v", err)
	}
}

func TestEnqueueWithoutAlert(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	n := deckhand.Notice{Kind: deckhand.NoticeAnnouncement, Text: "maintenance tonight", At: t0}
	if err := s.Enqueue(ctx,
		deckhand.OutboxItem{Platform: deckhand.PlatformNtfy, Notice: n, CreatedAt: t0},
		deckhand.OutboxItem{Platform: deckhand.PlatformDiscord, Notice: n, CreatedAt: t0, NextAttemptAt: t0.Add(time.Hour)},
	); err != nil {
		t.Fatal(err)
	}
	due, _ := s.DueOutbox(ctx, deckhand.PlatformNtfy, t0, 10)
	if len(due) != 1 || due[0].Notice.Text != "maintenance tonight" || !due[0].CreatedAt.Equal(t0) {
		t.Errorf("ntfy due = %+v", due)
	}
	if due, _ := s.DueOutbox(ctx, deckhand.PlatformDiscord, t0, 10); len(due) != 0 {
		t.Errorf("discord row due early: %+v", due)
	}
	if err := s.MarkSent(ctx, 1, t0, "ntfy-msg-id"); err != nil {
		t.Fatal(err)
	}
	// Alert-less rows and an unknown platform are harmless / refused.
	if err := s.Enqueue(ctx, deckhand.OutboxItem{Notice: n}); !errors.Is(err, deckhand.ErrInvalidInput) {
		t.Errorf("Enqueue without platform = %v", err)
	}
}
