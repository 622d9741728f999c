// Package storetest opens a throw-away store for the tests of other
// packages, and reads it back in the shapes tests compare.
package storetest

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
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

// Uptime collects store.UptimeEach into one map: every container's buckets
// at once, each slice its own.
func Uptime(ctx context.Context, s *store.Store, resolution string, since, until time.Time) (map[store.ContainerKey][]deckhand.UptimeBucket, error) {
	out := map[store.ContainerKey][]deckhand.UptimeBucket{}
	err := s.UptimeEach(ctx, resolution, since, until, func(k store.ContainerKey, b []deckhand.UptimeBucket) {
		out[k] = slices.Clone(b)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
