package store_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

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
