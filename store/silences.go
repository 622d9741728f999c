package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/deckhand/deckhand"
)

// AddSilence (write) stores a silence and returns its id. A silence that
// matches everything (no host, container nor project) or has no end is
// refused with deckhand.ErrInvalidInput. A zero CreatedAt is now.
func (s *Store) AddSilence(ctx context.Context, sl deckhand.Silence) (int64, error) {
	if sl.Host == "" && sl.Container == "" && sl.Project == "" {
		return 0, fmt.Errorf("add silence: matches everything: %w", deckhand.ErrInvalidInput)
	}
	if sl.Until.IsZero() {
		return 0, fmt.Errorf("add silence: no end time: %w", deckhand.ErrInvalidInput)
	}
	if sl.CreatedAt.IsZero() {
		sl.CreatedAt = time.Now()
	}
	var id int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `
			INSERT INTO silences (host, container, project, until, by, reason, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			sl.Host, sl.Container, sl.Project, sl.Until.UnixMilli(), sl.By, sl.Reason,
			sl.CreatedAt.UnixMilli()).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("add silence: %w", err)
	}
	return id, nil
}

// ActiveSilences (read) lists the silences still running at now, ending
// soonest first.
func (s *Store) ActiveSilences(ctx context.Context, now time.Time) ([]deckhand.Silence, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT id, host, container, project, until, by, reason, created_at
		FROM silences WHERE until > ? ORDER BY until, id`, now.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("active silences: %w", err)
	}
	defer rows.Close()
	var out []deckhand.Silence
	for rows.Next() {
		var sl deckhand.Silence
		var until, created sql.NullInt64
		if err := rows.Scan(&sl.ID, &sl.Host, &sl.Container, &sl.Project, &until, &sl.By, &sl.Reason,
			&created); err != nil {
			return nil, fmt.Errorf("active silences: %w", err)
		}
		sl.Until = fromMS(until)
		sl.CreatedAt = fromMS(created)
		out = append(out, sl)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("active silences: %w", err)
	}
	return out, nil
}

// DeleteSilence (write) removes a silence; deckhand.ErrNotFound when unknown.
func (s *Store) DeleteSilence(ctx context.Context, id int64) error {
	return s.deleteByID(ctx, "silences", id)
}

// deleteByID deletes one row by id. table is a constant of this package.
func (s *Store) deleteByID(ctx context.Context, table string, id int64) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("delete from %s %d: %w", table, id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%s %d: %w", table, id, deckhand.ErrNotFound)
		}
		return nil
	})
}
