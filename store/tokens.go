package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// UseToken (write) records a single-use token as used until expires and
// reports whether this call was the first to record it. The insert and the
// check are one statement, so two presses racing each other cannot both be
// first.
func (s *Store) UseToken(ctx context.Context, id string, expires time.Time) (first bool, err error) {
	err = s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`INSERT INTO used_tokens (id, expires_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`,
			id, expires.UnixMilli())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		first = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("use token: %w", err)
	}
	return first, nil
}
