package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/deckhand/deckhand"
)

// Enqueue (write) adds notifications to the outbox in one transaction. A
// zero CreatedAt is now; a zero NextAttemptAt is CreatedAt (due at once).
// The row is linked to Notice.Alert.ID when that is set.
func (s *Store) Enqueue(ctx context.Context, items ...deckhand.OutboxItem) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		for _, it := range items {
			if _, err := insertOutbox(ctx, tx, it); err != nil {
				return fmt.Errorf("enqueue: %w", err)
			}
		}
		return nil
	})
}

func insertOutbox(ctx context.Context, tx *sql.Tx, it deckhand.OutboxItem) (int64, error) {
	return insertOutboxRow(ctx, tx, it, nil, false)
}

// insertOutboxRow inserts it with id (nil: a new one) and its delivery
// state as it stands.
func insertOutboxRow(ctx context.Context, tx *sql.Tx, it deckhand.OutboxItem, id any, dead bool) (int64, error) {
	if it.Platform == "" {
		return 0, fmt.Errorf("outbox item without a platform: %w", deckhand.ErrInvalidInput)
	}
	if it.CreatedAt.IsZero() {
		it.CreatedAt = time.Now()
	}
	if it.NextAttemptAt.IsZero() {
		it.NextAttemptAt = it.CreatedAt
	}
	payload, err := noticeJSON(it.Notice)
	if err != nil {
		return 0, err
	}
	var alertID any
	if it.Notice.Alert.ID != 0 {
		alertID = it.Notice.Alert.ID
	}
	var newID int64
	err = tx.QueryRowContext(ctx, `
		INSERT INTO outbox (id, platform, alert_id, kind, payload, ref, attempts, next_attempt_at, last_error,
			created_at, sent_at, sending_at, dead)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		id, it.Platform, alertID, string(it.Notice.Kind), payload, it.Ref, it.Attempts,
		it.NextAttemptAt.UnixMilli(), it.LastError, it.CreatedAt.UnixMilli(), ms(it.SentAt), ms(it.SendingAt),
		boolInt(dead)).Scan(&newID)
	if err != nil {
		return 0, fmt.Errorf("insert outbox row for %s: %w", it.Platform, err)
	}
	return newID, nil
}

// DueOutbox (read) returns up to limit undelivered, not dead rows of a
// platform whose next attempt is due at now, in delivery order: urgent
// notices (deckhand.NoticeKind.Urgent) first, then the rest, oldest first
// within each. An urgent notice takes the earlier rows of its own alert
// along, and a row waits while an earlier row of its alert is not due (a
// backoff): a recovery never overtakes the alert it recovers, while a new
// alert overtakes a burst of reminders about other alerts.
//
// A row without a Ref gets the alert's current message ref, if any: a
// notice enqueued before the first message of its alert was delivered
// (an ack right after the alert opened) still edits that message.
func (s *Store) DueOutbox(ctx context.Context, platform string, now time.Time, limit int) ([]deckhand.OutboxItem, error) {
	if limit <= 0 {
		limit = -1
	}
	urgent := urgentKinds()
	// One pass over the keys of the platform's pending rows: per alert
	// (each unlinked row on its own), the last urgent row pulls the
	// earlier ones ahead, and the first row not due holds back the later
	// ones. Payloads are read for the chosen rows only.
	rows, err := s.r.QueryContext(ctx, `
		SELECT o.id, o.platform, o.payload, CASE WHEN o.ref != '' THEN o.ref ELSE coalesce(m.ref, '') END,
			o.attempts, o.next_attempt_at, o.last_error, o.created_at, o.sent_at, o.sending_at
		FROM (
			SELECT k.id, k.pulled FROM (
				SELECT p.id, p.next_attempt_at,
					p.id <= coalesce(max(CASE WHEN p.kind IN (`+urgent+`) THEN p.id END) OVER alert, 0) AS pulled,
					min(CASE WHEN p.next_attempt_at > ?2 THEN p.id END) OVER alert AS first_waiting
				FROM outbox p
				WHERE p.platform = ?1 AND p.sent_at IS NULL AND p.dead = 0
				WINDOW alert AS (PARTITION BY coalesce(p.alert_id, -p.id))
			) k
			WHERE k.next_attempt_at <= ?2 AND (k.first_waiting IS NULL OR k.id < k.first_waiting)
			ORDER BY k.pulled DESC, k.id LIMIT ?3
		) d JOIN outbox o ON o.id = d.id
		LEFT JOIN message_refs m ON m.alert_id = o.alert_id AND m.platform = o.platform
		ORDER BY d.pulled DESC, d.id`, platform, now.UnixMilli(), limit)
	if err != nil {
		return nil, fmt.Errorf("due outbox: %w", err)
	}
	defer rows.Close()
	var out []deckhand.OutboxItem
	for rows.Next() {
		var it deckhand.OutboxItem
		var payload string
		var next, created, sent, sending sql.NullInt64
		if err := rows.Scan(&it.ID, &it.Platform, &payload, &it.Ref, &it.Attempts, &next, &it.LastError,
			&created, &sent, &sending); err != nil {
			return nil, fmt.Errorf("due outbox: %w", err)
		}
		if err := json.Unmarshal([]byte(payload), &it.Notice); err != nil {
			return nil, fmt.Errorf("outbox row %d payload: %w", it.ID, err)
		}
		it.NextAttemptAt = fromMS(next)
		it.CreatedAt = fromMS(created)
		it.SentAt = fromMS(sent)
		it.SendingAt = fromMS(sending)
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("due outbox: %w", err)
	}
	return out, nil
}

// urgentKinds is deckhand.UrgentNoticeKinds as an SQL list of literals
// (fixed identifiers from the domain, never user input).
func urgentKinds() string {
	var b strings.Builder
	for i, k := range deckhand.UrgentNoticeKinds() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("'" + strings.ReplaceAll(string(k), "'", "''") + "'")
	}
	return b.String()
}

// MarkSent (write) records the delivery of an outbox row. A non-empty ref
// (the platform's id of the message) becomes the alert's message ref on that
// platform unless it has one already, so later notices edit the first
// message. deckhand.ErrNotFound when the row is unknown.
func (s *Store) MarkSent(ctx context.Context, id int64, at time.Time, ref string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		var alertID sql.NullInt64
		var platform string
		err := tx.QueryRowContext(ctx, `
			UPDATE outbox SET sent_at = ?, ref = CASE WHEN ? != '' THEN ? ELSE ref END
			WHERE id = ? RETURNING alert_id, platform`, at.UnixMilli(), ref, ref, id).Scan(&alertID, &platform)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("outbox row %d: %w", id, deckhand.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("mark sent %d: %w", id, err)
		}
		if ref == "" || !alertID.Valid {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO message_refs (alert_id, platform, ref) VALUES (?, ?, ?)
			ON CONFLICT (alert_id, platform) DO NOTHING`, alertID.Int64, platform, ref); err != nil {
			return fmt.Errorf("mark sent %d: message ref: %w", id, err)
		}
		return nil
	})
}

// MarkSending (write) records that a delivery attempt starts now, before
// the platform is asked: after a crash, DueOutbox says which rows the
// platform may already have. deckhand.ErrNotFound when the row is unknown.
func (s *Store) MarkSending(ctx context.Context, id int64, at time.Time) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET sending_at = ? WHERE id = ?`, at.UnixMilli(), id)
		if err != nil {
			return fmt.Errorf("mark sending %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("outbox row %d: %w", id, deckhand.ErrNotFound)
		}
		return nil
	})
}

// MarkFailed (write) records a failed delivery attempt: attempts+1, the
// error, and either the time of the next attempt or, when dead, that there
// will be none. deckhand.ErrNotFound when the row is unknown.
func (s *Store) MarkFailed(ctx context.Context, id int64, next time.Time, errText string, dead bool) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `
			UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?, dead = ?
			WHERE id = ?`, next.UnixMilli(), errText, boolInt(dead), id)
		if err != nil {
			return fmt.Errorf("mark failed %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("outbox row %d: %w", id, deckhand.ErrNotFound)
		}
		return nil
	})
}

// OutboxDepth (read) counts the rows still to deliver per platform (dead
// rows excluded: see OutboxDead).
func (s *Store) OutboxDepth(ctx context.Context) (map[string]int, error) {
	return s.countOutbox(ctx, `dead = 0`)
}

// OutboxDead (read) counts the rows given up on per platform.
func (s *Store) OutboxDead(ctx context.Context) (map[string]int, error) {
	return s.countOutbox(ctx, `dead = 1`)
}

func (s *Store) countOutbox(ctx context.Context, cond string) (map[string]int, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT platform, count(*) FROM outbox
		WHERE sent_at IS NULL AND `+cond+` GROUP BY platform`)
	if err != nil {
		return nil, fmt.Errorf("outbox depth: %w", err)
	}
	defer rows.Close()
	out := make(map[string]int)
	for rows.Next() {
		var p string
		var n int
		if err := rows.Scan(&p, &n); err != nil {
			return nil, fmt.Errorf("outbox depth: %w", err)
		}
		out[p] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("outbox depth: %w", err)
	}
	return out, nil
}

// MessageRef (read) returns the platform's reference of the message shown
// for an alert; deckhand.ErrNotFound when none was delivered yet.
func (s *Store) MessageRef(ctx context.Context, alertID int64, platform string) (string, error) {
	var ref string
	err := s.r.QueryRowContext(ctx, `SELECT ref FROM message_refs WHERE alert_id = ? AND platform = ?`,
		alertID, platform).Scan(&ref)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("message ref of alert %d on %s: %w", alertID, platform, deckhand.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("message ref of alert %d on %s: %w", alertID, platform, err)
	}
	return ref, nil
}

// messageRef is MessageRef inside a write transaction; "" when none.
func messageRef(ctx context.Context, tx *sql.Tx, alertID int64, platform string) (string, error) {
	var ref string
	err := tx.QueryRowContext(ctx, `SELECT ref FROM message_refs WHERE alert_id = ? AND platform = ?`,
		alertID, platform).Scan(&ref)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("message ref of alert %d on %s: %w", alertID, platform, err)
	}
	return ref, nil
}

// PendingOutbox (read) lists every undelivered row, dead or queued, oldest
// first: what `deckhand outbox list` shows.
func (s *Store) PendingOutbox(ctx context.Context) ([]deckhand.OutboxItem, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT id, platform, payload, attempts, next_attempt_at, last_error, created_at, dead
		FROM outbox WHERE sent_at IS NULL ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("pending outbox: %w", err)
	}
	defer rows.Close()
	var out []deckhand.OutboxItem
	for rows.Next() {
		var it deckhand.OutboxItem
		var payload string
		var next, created sql.NullInt64
		if err := rows.Scan(&it.ID, &it.Platform, &payload, &it.Attempts, &next, &it.LastError, &created, &it.Dead); err != nil {
			return nil, fmt.Errorf("pending outbox: %w", err)
		}
		if err := json.Unmarshal([]byte(payload), &it.Notice); err != nil {
			return nil, fmt.Errorf("outbox row %d payload: %w", it.ID, err)
		}
		it.NextAttemptAt, it.CreatedAt = fromMS(next), fromMS(created)
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pending outbox: %w", err)
	}
	return out, nil
}

// RetryDead (write) queues dead rows again, due at now with their attempt
// count reset: all of them when ids is empty, else those of ids that are
// dead. It returns the IDs it queued, in order.
func (s *Store) RetryDead(ctx context.Context, now time.Time, ids ...int64) ([]int64, error) {
	var out []int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		q := `UPDATE outbox SET dead = 0, attempts = 0, next_attempt_at = ? WHERE sent_at IS NULL AND dead = 1`
		args := []any{now.UnixMilli()}
		if len(ids) > 0 {
			q += ` AND id IN (SELECT value FROM json_each(?))`
			list, _ := json.Marshal(ids)
			args = append(args, string(list))
		}
		rows, err := tx.QueryContext(ctx, q+` RETURNING id`, args...)
		if err != nil {
			return fmt.Errorf("retry dead outbox rows: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return fmt.Errorf("retry dead outbox rows: %w", err)
			}
			out = append(out, id)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(out)
	return out, nil
}
