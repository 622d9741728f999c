package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/store"
)

func TestIntents(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "deckhand.db")
	s, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	stop := deckhand.Intent{Host: "nas", Container: "web", Action: deckhand.ActionStop, By: "discord:alice", At: t0}
	gone := deckhand.Intent{Host: "nas", Container: "db", Action: deckhand.ActionRemove, By: "cli:root", At: t0.Add(time.Minute)}
	for _, i := range []deckhand.Intent{stop, gone} {
		if err := s.PutIntent(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	for _, bad := range []deckhand.Intent{
		{Host: "nas", Container: "web", Action: deckhand.ActionStart, At: t0},
		{Host: "nas", Action: deckhand.ActionStop, At: t0},
		{Host: "nas", Container: "web", Action: deckhand.ActionStop},
	} {
		if err := s.PutIntent(ctx, bad); !errors.Is(err, deckhand.ErrInvalidInput) {
			t.Errorf("PutIntent(%+v) = %v, want ErrInvalidInput", bad, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// A restart of deckhand finds yesterday's intents.
	s, err = store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := []deckhand.Intent{gone, stop} // by host, then container
	if got, err := s.Intents(ctx); err != nil || !slices.Equal(got, want) {
		t.Fatalf("Intents after reopen = %+v, %v; want %+v", got, err, want)
	}

	// One intent per container: a newer action replaces it.
	again := stop
	again.Action, again.By, again.At = deckhand.ActionRemove, "telegram:bob", t0.Add(time.Hour)
	if err := s.PutIntent(ctx, again); err != nil {
		t.Fatal(err)
	}
	// Ending the older intent leaves the newer one in place.
	if err := s.DeleteIntent(ctx, "nas", "web", stop.At); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Intents(ctx); !slices.Equal(got, []deckhand.Intent{gone, again}) {
		t.Fatalf("after deleting the older intent: %+v", got)
	}
	if err := s.DeleteIntent(ctx, "nas", "web", again.At); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteIntent(ctx, "nas", "web", again.At); err != nil {
		t.Errorf("deleting an intent that is gone = %v, want nil", err)
	}
	if got, _ := s.Intents(ctx); !slices.Equal(got, []deckhand.Intent{gone}) {
		t.Fatalf("after delete: %+v", got)
	}
}
