package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/deckhand/deckhand"
)

// AddAudit (write) appends one entry to the audit trail. A zero At is now.
// The actor's host scope is not stored: it is configuration, not history.
func (s *Store) AddAudit(ctx context.Context, e deckhand.AuditEntry) error {
	if e.Action == "" {
		return fmt.Errorf("add audit: no action: %w", deckhand.ErrInvalidInput)
	}
	if e.At.IsZero() {
		e.At = time.Now()
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO audit (at, platform, user_id, user_name, role, action, host, target, result, detail,
				duration_ms)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.At.UnixMilli(), e.Actor.Platform, e.Actor.UserID, e.Actor.Name, e.Actor.Role.String(),
			string(e.Action), e.Host, e.Target, e.Result, e.Detail, e.Duration.Milliseconds())
		return err
	})
	if err != nil {
		return fmt.Errorf("add audit: %w", err)
	}
	return nil
}

// Audit (read) returns the latest entries, newest first, at most limit (no
// limit when limit <= 0).
func (s *Store) Audit(ctx context.Context, limit int) ([]deckhand.AuditEntry, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := s.r.QueryContext(ctx, `
		SELECT id, at, platform, user_id, user_name, role, action, host, target, result, detail, duration_ms
		FROM audit ORDER BY at DESC, id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return scanAudit(rows)
}

// AuditBy (read) returns what one actor (platform and user ID) did since a
// time, oldest first: the daemon recalls its own automatic restarts with it
// after a restart, so that their hourly limit holds across restarts.
func (s *Store) AuditBy(ctx context.Context, platform, userID string, since time.Time) ([]deckhand.AuditEntry, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT id, at, platform, user_id, user_name, role, action, host, target, result, detail, duration_ms
		FROM audit WHERE platform = ? AND user_id = ? AND at >= ? ORDER BY at, id`, platform, userID, since.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return scanAudit(rows)
}

func scanAudit(rows *sql.Rows) ([]deckhand.AuditEntry, error) {
	defer rows.Close()
	var out []deckhand.AuditEntry
	for rows.Next() {
		var e deckhand.AuditEntry
		var at sql.NullInt64
		var role, action string
		var durMS int64
		if err := rows.Scan(&e.ID, &at, &e.Actor.Platform, &e.Actor.UserID, &e.Actor.Name, &role, &action,
			&e.Host, &e.Target, &e.Result, &e.Detail, &durMS); err != nil {
			return nil, fmt.Errorf("audit: %w", err)
		}
		e.At = fromMS(at)
		// "none" and anything unknown read back as RoleNone.
		e.Actor.Role, _ = deckhand.ParseRole(role)
		e.Action = deckhand.Action(action)
		e.Duration = time.Duration(durMS) * time.Millisecond
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return out, nil
}
