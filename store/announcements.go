package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/deckhand/deckhand"
)

// AddAnnouncement (write) stores an announcement and returns its id. A zero
// CreatedAt is now; a zero Until keeps it until deleted.
func (s *Store) AddAnnouncement(ctx context.Context, a deckhand.Announcement) (int64, error) {
	if a.Title == "" {
		return 0, fmt.Errorf("add announcement: no title: %w", deckhand.ErrInvalidInput)
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = time.Now()
	}
	var id int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `
			INSERT INTO announcements (title, body, by, created_at, until) VALUES (?, ?, ?, ?, ?)
			RETURNING id`, a.Title, a.Body, a.By, a.CreatedAt.UnixMilli(), ms(a.Until)).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("add announcement: %w", err)
	}
	return id, nil
}

// Announcements (read) lists the announcements current at now, newest first.
func (s *Store) Announcements(ctx context.Context, now time.Time) ([]deckhand.Announcement, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT id, title, body, by, created_at, until FROM announcements
		WHERE until IS NULL OR until > ?
		ORDER BY created_at DESC, id DESC`, now.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("announcements: %w", err)
	}
	defer rows.Close()
	var out []deckhand.Announcement
	for rows.Next() {
		var a deckhand.Announcement
		var created, until sql.NullInt64
		if err := rows.Scan(&a.ID, &a.Title, &a.Body, &a.By, &created, &until); err != nil {
			return nil, fmt.Errorf("announcements: %w", err)
		}
		a.CreatedAt = fromMS(created)
		a.Until = fromMS(until)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("announcements: %w", err)
	}
	return out, nil
}

// DeleteAnnouncement (write) removes an announcement; deckhand.ErrNotFound
// when unknown.
func (s *Store) DeleteAnnouncement(ctx context.Context, id int64) error {
	return s.deleteByID(ctx, "announcements", id)
}
