package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/store"
	"github.com/deckhand/deckhand/store/storetest"
)

// TestCannotWriteOnARealDisk: a full filesystem under a real SQLite file
// is told apart from a refused write, reading still works on it, and
// writing works again once space is freed. (A read-only remount is refused
// while SQLite holds its files open for writing, so it is not tested here.)
func TestCannotWriteOnARealDisk(t *testing.T) {
	ctx := context.Background()
	disk := storetest.SmallDisk(t, 4<<20)
	st, err := store.Open(ctx, disk.Path("deckhand.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	alert := func(name string) deckhand.Alert {
		return deckhand.Alert{Key: deckhand.AlertKey{Host: "nas", Container: name, Kind: deckhand.AlertContainerDown},
			Severity: deckhand.SeverityError, State: deckhand.AlertOpen, FirstSeenAt: at, OpenedAt: at, Message: "down"}
	}
	if err := st.ApplyAlerts(ctx, []deckhand.Alert{alert("a")}, nil, nil); err != nil {
		t.Fatal(err)
	}
	dup := st.ApplyAlerts(ctx, []deckhand.Alert{alert("a")}, nil, nil)
	if _, ok := store.CannotWrite(dup); dup == nil || ok {
		t.Errorf("a second active alert for a key: %v, classified cannot-write %v", dup, ok)
	}

	disk.Fill(t)
	full := writeUntilFailure(ctx, t, st, alert)
	if reason, ok := store.CannotWrite(full); !ok || reason != "disk full" {
		t.Errorf("full disk: %v classified %q %v, want disk full", full, reason, ok)
	}
	if _, err := st.ActiveAlerts(ctx); err != nil {
		t.Errorf("reading on a full disk: %v", err)
	}
	disk.Free(t)
	if err := st.ApplyAlerts(ctx, []deckhand.Alert{alert("after-free")}, nil, nil); err != nil {
		t.Errorf("writing once space is freed: %v", err)
	}

	t.Logf("full: %v", full)
}

// writeUntilFailure writes new alerts until one fails: SQLite may still
// fit a small write in pages it holds already.
func writeUntilFailure(ctx context.Context, t *testing.T, st *store.Store, alert func(string) deckhand.Alert) error {
	t.Helper()
	for i := range 2000 {
		if err := st.ApplyAlerts(ctx, []deckhand.Alert{alert("c" + time.Duration(i).String())}, nil, nil); err != nil {
			return err
		}
	}
	t.Fatal("2000 writes succeeded")
	return nil
}
