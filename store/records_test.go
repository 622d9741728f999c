package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/store/storetest"
)

func TestSilences(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	tests := []struct {
		name    string
		in      deckhand.Silence
		wantErr error
	}{
		{"host", deckhand.Silence{Host: "nas", Until: t0.Add(2 * time.Hour), By: "ann", Reason: "nightly update", CreatedAt: t0}, nil},
		{"project", deckhand.Silence{Project: "media", Until: t0.Add(time.Hour), CreatedAt: t0}, nil},
		{"expired", deckhand.Silence{Container: "web", Until: t0.Add(-time.Minute), CreatedAt: t0}, nil},
		{"matches everything", deckhand.Silence{Until: t0.Add(time.Hour)}, deckhand.ErrInvalidInput},
		{"no end", deckhand.Silence{Host: "nas"}, deckhand.ErrInvalidInput},
	}
	ids := map[string]int64{}
	for _, tt := range tests {
		id, err := s.AddSilence(ctx, tt.in)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: AddSilence = %v, want %v", tt.name, err, tt.wantErr)
		}
		ids[tt.name] = id
	}
	act, err := s.ActiveSilences(ctx, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(act) != 2 || act[0].Project != "media" || act[1].Host != "nas" || act[1].Reason != "nightly update" ||
		act[1].By != "ann" || !act[1].Until.Equal(t0.Add(2*time.Hour)) || act[1].ID != ids["host"] {
		t.Errorf("ActiveSilences = %+v", act)
	}
	if err := s.DeleteSilence(ctx, ids["host"]); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSilence(ctx, ids["host"]); !errors.Is(err, deckhand.ErrNotFound) {
		t.Errorf("second DeleteSilence = %v, want ErrNotFound", err)
	}
	if act, _ := s.ActiveSilences(ctx, t0); len(act) != 1 {
		t.Errorf("after delete: %+v", act)
	}
}

func TestAudit(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	entries := []deckhand.AuditEntry{
		{At: t0, Actor: deckhand.Actor{Platform: "discord", UserID: "42", Name: "ann", Role: deckhand.RoleOperator},
			Action: deckhand.ActionRestart, Host: "nas", Target: "web", Result: "ok", Duration: 1500 * time.Millisecond},
		{At: t0.Add(time.Minute), Actor: deckhand.Actor{Platform: "telegram", UserID: "7"},
			Action: deckhand.ActionRemove, Host: "nas", Target: "db", Result: "denied", Detail: "no role"},
	}
	for _, e := range entries {
		if err := s.AddAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddAudit(ctx, deckhand.AuditEntry{}); !errors.Is(err, deckhand.ErrInvalidInput) {
		t.Errorf("AddAudit without action = %v", err)
	}
	got, err := s.Audit(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("Audit = %d entries", len(got))
	}
	// Newest first; IDs are assigned by the store.
	for i, want := range []deckhand.AuditEntry{entries[1], entries[0]} {
		g := got[i]
		want.ID = g.ID
		if g.ID == 0 || !g.At.Equal(want.At) || g.Actor.Platform != want.Actor.Platform ||
			g.Actor.UserID != want.Actor.UserID || g.Actor.Name != want.Actor.Name || g.Actor.Role != want.Actor.Role ||
			g.Action != want.Action || g.Host != want.Host || g.Target != want.Target || g.Result != want.Result ||
			g.Detail != want.Detail || g.Duration != want.Duration {
			t.Errorf("entry %d = %+v, want %+v", i, g, want)
		}
	}
	if one, _ := s.Audit(ctx, 1); len(one) != 1 || one[0].Action != deckhand.ActionRemove {
		t.Errorf("Audit(1) = %+v", one)
	}
}

func TestAnnouncements(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	forever, err := s.AddAnnouncement(ctx, deckhand.Announcement{Title: "New NAS", Body: "**hello**", By: "ann", CreatedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddAnnouncement(ctx, deckhand.Announcement{Title: "Maintenance", CreatedAt: t0.Add(time.Minute),
		Until: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddAnnouncement(ctx, deckhand.Announcement{}); !errors.Is(err, deckhand.ErrInvalidInput) {
		t.Errorf("AddAnnouncement without title = %v", err)
	}
	got, err := s.Announcements(ctx, t0.Add(30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Title != "Maintenance" || got[1].Body != "**hello**" || !got[1].Until.IsZero() ||
		got[1].By != "ann" || got[1].ID != forever {
		t.Errorf("Announcements = %+v", got)
	}
	if got, _ := s.Announcements(ctx, t0.Add(2*time.Hour)); len(got) != 1 || got[0].ID != forever {
		t.Errorf("after expiry = %+v", got)
	}
	if err := s.DeleteAnnouncement(ctx, forever); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAnnouncement(ctx, forever); !errors.Is(err, deckhand.ErrNotFound) {
		t.Errorf("second delete = %v", err)
	}
}
