package backlog_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/backlog"
	"github.com/deckhand/deckhand/store"
	"github.com/deckhand/deckhand/store/storetest"
)

var at = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// onSmallDisk opens a store on a tmpfs of its own.
func onSmallDisk(t *testing.T) (*store.Store, *storetest.Disk) {
	t.Helper()
	disk := storetest.SmallDisk(t, 4<<20)
	st, err := store.Open(context.Background(), disk.Path("deckhand.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, disk
}

func downAlert(name string) deckhand.Alert {
	return deckhand.Alert{Key: deckhand.AlertKey{Host: "nas", Container: name, Kind: deckhand.AlertContainerDown},
		Severity: deckhand.SeverityError, State: deckhand.AlertOpen, FirstSeenAt: at, OpenedAt: at, Message: "down"}
}

// fill fills the disk and writes to the store until SQLite has no page
// left either: rows for a platform the tests do not read.
func fill(ctx context.Context, t *testing.T, st *store.Store, disk *storetest.Disk) {
	t.Helper()
	disk.Fill(t)
	for range 2000 {
		it := deckhand.OutboxItem{Platform: deckhand.PlatformCLI, Notice: deckhand.Notice{Kind: deckhand.NoticeSystem, Text: "filler", At: at}}
		if err := st.Enqueue(ctx, it); err != nil {
			return
		}
	}
	t.Fatal("2000 writes on a full disk succeeded")
}

// mustHold fails the test unless the backlog holds.
func mustHold(t *testing.T, b *backlog.Backlog) {
	t.Helper()
	if reason, _ := b.Holding(); reason != "disk full" {
		t.Fatalf("the backlog holds for %q, want disk full", reason)
	}
}

func notice(kind deckhand.NoticeKind, a deckhand.Alert) deckhand.Notice {
	return deckhand.Notice{Kind: kind, Alert: a, At: at}
}

// Past the limit the oldest reminders go first; an opening never does.
func TestBoundDropsRemindersFirstNeverAnOpening(t *testing.T) {
	ctx := context.Background()
	st, disk := onSmallDisk(t)
	b := backlog.New(st, backlog.Options{Limit: 3})
	fill(ctx, t, st, disk)
	p := []string{deckhand.PlatformNtfy}
	web := []deckhand.Alert{downAlert("web")}
	if err := b.ApplyAlerts(ctx, web, []deckhand.Notice{notice(deckhand.NoticeOpened, web[0])}, p); err != nil {
		t.Fatal(err)
	}
	mustHold(t, b)
	for range 3 {
		if err := b.ApplyAlerts(ctx, nil, []deckhand.Notice{notice(deckhand.NoticeReminder, web[0])}, p); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"db", "cache"} {
		a := []deckhand.Alert{downAlert(name)}
		if err := b.ApplyAlerts(ctx, a, []deckhand.Notice{notice(deckhand.NoticeOpened, a[0])}, p); err != nil {
			t.Fatal(err)
		}
	}
	due, err := b.DueOutbox(ctx, deckhand.PlatformNtfy, at, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range due {
		got = append(got, string(it.Notice.Kind)+" "+it.Notice.Alert.Key.Container)
	}
	want := []string{"opened web", "opened db", "opened cache"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("held after the bound: %q, want %q (reminders dropped, openings kept, in order)", got, want)
	}
	if _, n := b.Holding(); n != 3 {
		t.Errorf("%d items held, limit 3", n)
	}
}

// A stored item delivered while the disk is full is not served again, the
// recovery held after it edits its message, and its delivery is written
// once the disk has room.
func TestStoredItemDeliveredWhileFullIsNotSentAgain(t *testing.T) {
	ctx := context.Background()
	st, disk := onSmallDisk(t)
	b := backlog.New(st, backlog.Options{})
	web := []deckhand.Alert{downAlert("web")}
	if err := b.ApplyAlerts(ctx, web, []deckhand.Notice{notice(deckhand.NoticeOpened, web[0])}, []string{deckhand.PlatformNtfy}); err != nil {
		t.Fatal(err)
	}
	due, err := b.DueOutbox(ctx, deckhand.PlatformNtfy, at, 10)
	if err != nil || len(due) != 1 {
		t.Fatalf("due before: %+v, %v", due, err)
	}
	fill(ctx, t, st, disk)
	if err := b.MarkSent(ctx, due[0].ID, at, "msg-1"); err != nil {
		t.Fatalf("recording a delivery on a full disk: %v", err)
	}
	mustHold(t, b)
	closed := web[0]
	closed.State, closed.ClosedAt = deckhand.AlertClosed, at.Add(time.Minute)
	rec := notice(deckhand.NoticeRecovered, closed)
	if err := b.ApplyAlerts(ctx, []deckhand.Alert{closed}, []deckhand.Notice{rec}, []string{deckhand.PlatformNtfy}); err != nil {
		t.Fatal(err)
	}
	again, err := b.DueOutbox(ctx, deckhand.PlatformNtfy, at.Add(time.Minute), 10)
	if err != nil || len(again) != 1 || again[0].Notice.Kind != deckhand.NoticeRecovered || again[0].Ref != "msg-1" {
		t.Fatalf("due after the opening's delivery, disk still full: %+v, %v; want only the recovery, editing msg-1", again, err)
	}
	if err := b.MarkSent(ctx, again[0].ID, at.Add(time.Minute), "msg-1"); err != nil {
		t.Fatal(err)
	}
	disk.Free(t)
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if depth, err := st.OutboxDepth(ctx); err != nil || depth[deckhand.PlatformNtfy] != 0 {
		t.Errorf("stored depth after writing the backlog: %v, %v", depth, err)
	}
	if ref, err := st.MessageRef(ctx, web[0].ID, deckhand.PlatformNtfy); err != nil || ref != "msg-1" {
		t.Errorf("message ref: %q, %v", ref, err)
	}
}

// When another writer took the ID a held alert was given, the alert is
// written under a new one, and calls naming the old ID reach it.
func TestHeldIDTakenMeanwhileIsRemapped(t *testing.T) {
	ctx := context.Background()
	st, disk := onSmallDisk(t)
	b := backlog.New(st, backlog.Options{})
	fill(ctx, t, st, disk)
	web := []deckhand.Alert{downAlert("web")}
	if err := b.ApplyAlerts(ctx, web, []deckhand.Notice{notice(deckhand.NoticeOpened, web[0])}, []string{deckhand.PlatformNtfy}); err != nil {
		t.Fatal(err)
	}
	mustHold(t, b)
	heldID := web[0].ID
	disk.Free(t)
	other := []deckhand.Alert{downAlert("db")}
	if err := st.ApplyAlerts(ctx, other, nil, nil); err != nil { // another process
		t.Fatal(err)
	}
	if other[0].ID != heldID {
		t.Fatalf("the other writer got ID %d, the held alert has %d: the test does not clash", other[0].ID, heldID)
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := b.Alert(ctx, heldID)
	if err != nil || got.Key.Container != "web" || got.ID == heldID {
		t.Errorf("alert named by its held ID %d: %+v, %v; want web under a new ID", heldID, got, err)
	}
	if stored, err := st.Alert(ctx, heldID); err != nil || stored.Key.Container != "db" {
		t.Errorf("the other writer's alert: %+v, %v", stored, err)
	}
}

// A disk that keeps filling up (SQLite fits a write now and then in the
// WAL pages it holds) tells admins once that the database cannot be
// written, and once, when it has stayed writable for Settle, that it can.
func TestFlappingDiskIsAnnouncedOnce(t *testing.T) {
	ctx := context.Background()
	st, disk := onSmallDisk(t)
	now := at
	b := backlog.New(st, backlog.Options{Platforms: []string{deckhand.PlatformNtfy}, Settle: time.Minute,
		Now: func() time.Time { return now }})
	system := func() []string {
		t.Helper()
		due, err := b.DueOutbox(ctx, deckhand.PlatformNtfy, now.Add(time.Hour), 0)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, it := range due {
			if it.Notice.Kind == deckhand.NoticeSystem {
				out = append(out, it.Notice.Text[:30])
			}
		}
		return out
	}
	for i := range 3 {
		fill(ctx, t, st, disk)
		a := []deckhand.Alert{downAlert("web" + string(rune('a'+i)))}
		if err := b.ApplyAlerts(ctx, a, []deckhand.Notice{notice(deckhand.NoticeOpened, a[0])}, []string{deckhand.PlatformNtfy}); err != nil {
			t.Fatal(err)
		}
		mustHold(t, b)
		disk.Free(t)
		now = now.Add(10 * time.Second)
		if err := b.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := system(); len(got) != 1 {
		t.Errorf("system notices after 3 flaps: %q, want one saying it cannot write", got)
	}
	now = now.Add(time.Minute)
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := system(); len(got) != 2 || !strings.HasPrefix(got[1], "deckhand can write its") {
		t.Errorf("system notices once writable for a minute: %q, want a second saying it can write", got)
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := system(); len(got) != 2 {
		t.Errorf("system notices later: %q, want still 2", got)
	}
}

// deckhand's own notice to admins (a platform rejects its token) is held
// on a full disk like an alert, delivered, and written once there is room.
func TestEnqueueOnAFullDiskIsHeldAndDelivered(t *testing.T) {
	ctx := context.Background()
	st, disk := onSmallDisk(t)
	b := backlog.New(st, backlog.Options{})
	fill(ctx, t, st, disk)
	sys := deckhand.Notice{Kind: deckhand.NoticeSystem, Text: "ntfy rejects deckhand's token", At: at}
	if err := b.Enqueue(ctx, deckhand.OutboxItem{Platform: deckhand.PlatformTelegram, Notice: sys}); err != nil {
		t.Fatalf("enqueue on a full disk: %v", err)
	}
	mustHold(t, b)
	due, err := b.DueOutbox(ctx, deckhand.PlatformTelegram, at, 10)
	if err != nil || len(due) != 1 || due[0].Notice.Text != sys.Text {
		t.Fatalf("due on a full disk: %+v, %v", due, err)
	}
	disk.Free(t)
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if depth, err := st.OutboxDepth(ctx); err != nil || depth[deckhand.PlatformTelegram] != 1 {
		t.Errorf("stored after the disk has room: %v, %v; want the notice, still to deliver", depth, err)
	}
}
