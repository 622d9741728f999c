// Package storetest opens a throw-away store for the tests of other
// packages.
package storetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/deckhand/deckhand/store"
)

// Open returns a migrated store in a file under t.TempDir(), closed when the
// test ends.
func Open(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "deckhand.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return s
}
