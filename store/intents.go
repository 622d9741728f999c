package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/deckhand/deckhand"
)

// PutIntent (write) records a deliberate action, replacing the intent its
// container had. Only stops and removals of a named container at a known
// time are intents; anything else is deckhand.ErrInvalidInput.
func (s *Store) PutIntent(ctx context.Context, i deckhand.Intent) error {
	if i.Host == "" || i.Container == "" || !i.Action.Deliberate() || i.At.IsZero() {
		return fmt.Errorf("put intent %s/%s %q: %w", i.Host, i.Container, i.Action, deckhand.ErrInvalidInput)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO intents (host, container, action, by, at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (host, container) DO UPDATE SET action = excluded.action, by = excluded.by, at = excluded.at`,
			i.Host, i.Container, string(i.Action), i.By, i.At.UnixMilli())
		return err
	})
	if err != nil {
		return fmt.Errorf("put intent %s/%s: %w", i.Host, i.Container, err)
	}
	return nil
}

// DeleteIntent (write) ends a container's intent if it was made at or
// before upTo: an intent recorded meanwhile (someone stopped the container
// again) survives the end of the one before. Nothing to delete is no error.
func (s *Store) DeleteIntent(ctx context.Context, host, container string, upTo time.Time) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM intents WHERE host = ? AND container = ? AND at <= ?`,
			host, container, upTo.UnixMilli())
		return err
	})
	if err != nil {
		return fmt.Errorf("delete intent %s/%s: %w", host, container, err)
	}
	return nil
}

// Intents (read) lists every recorded intent by host and container.
func (s *Store) Intents(ctx context.Context) ([]deckhand.Intent, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT host, container, action, by, at FROM intents ORDER BY host, container`)
	if err != nil {
		return nil, fmt.Errorf("intents: %w", err)
	}
	defer rows.Close()
	var out []deckhand.Intent
	for rows.Next() {
		var i deckhand.Intent
		var action string
		var at sql.NullInt64
		if err := rows.Scan(&i.Host, &i.Container, &action, &i.By, &at); err != nil {
			return nil, fmt.Errorf("intents: %w", err)
		}
		i.Action, i.At = deckhand.Action(action), fromMS(at)
		out = append(out, i)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("intents: %w", err)
	}
	return out, nil
}
