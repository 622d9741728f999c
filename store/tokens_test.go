package store_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/store"
)

// TestUsedTokens: a spent token is refused again, also after deckhand
// restarts, and Prune forgets it only well after it expired.
func TestUsedTokens(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "deckhand.db")
	s, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	exp := t0.Add(24 * time.Hour)
	use := func(s *store.Store, id string, exp time.Time, want bool) {
		t.Helper()
		first, err := s.UseToken(ctx, id, exp)
		if err != nil || first != want {
			t.Fatalf("UseToken(%q) = %v, %v; want %v", id, first, err, want)
		}
	}
	use(s, "1ktN-DnZ1RQYnp00", exp, true)
	use(s, "1ktN-DnZ1RQYnp00", exp, false)
	use(s, "zzzz-DnZ1RQYnp00", t0.Add(-time.Hour), true)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	use(s, "1ktN-DnZ1RQYnp00", exp, false)

	// Expired, but not by the margin that covers a clock set back: kept.
	if st, err := s.Prune(ctx, exp.Add(time.Hour)); err != nil || st.Tokens != 1 {
		t.Fatalf("Prune an hour after expiry = %+v, %v; want only the hour token gone", st, err)
	}
	use(s, "1ktN-DnZ1RQYnp00", exp, false)
	if st, err := s.Prune(ctx, exp.Add(store.KeepUsedTokens+time.Second)); err != nil || st.Tokens != 1 {
		t.Fatalf("Prune past the margin = %+v, %v; want the token gone", st, err)
	}
}

// Prune leaves the WAL truncated: the files stay small between SQLite's
// own checkpoints.
func TestPruneTruncatesTheWAL(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "d.db")
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i := range 50 {
		if err := st.AddAudit(ctx, deckhand.AuditEntry{At: time.Now(), Action: deckhand.ActionRestart, Host: "nas", Target: strconv.Itoa(i), Result: "ok"}); err != nil {
			t.Fatal(err)
		}
	}
	if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() == 0 {
		t.Fatalf("no WAL to checkpoint: %v", err)
	}
	if _, err := st.Prune(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() != 0 {
		t.Errorf("WAL is %d bytes after Prune, want 0", fi.Size())
	}
}
