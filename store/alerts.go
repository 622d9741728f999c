package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/deckhand/deckhand"
)

const alertColumns = `id, host, container_name, kind, project, severity, state, message, first_seen_at,
	opened_at, acked_at, acked_by, closed_at, last_notified_at, notifications, suppressed, cleared_at, public, condition`

func scanAlert(sc scanner) (deckhand.Alert, error) {
	var a deckhand.Alert
	var kind, severity, state, cond string
	var first, opened, acked, closed, notified, cleared sql.NullInt64
	var suppressed, public int
	if err := sc.Scan(&a.ID, &a.Key.Host, &a.Key.Container, &kind, &a.Project, &severity, &state, &a.Message,
		&first, &opened, &acked, &a.AckedBy, &closed, &notified, &a.Notifications, &suppressed,
		&cleared, &public, &cond); err != nil {
		return a, err
	}
	a.Key.Kind = deckhand.AlertKind(kind)
	a.Severity = deckhand.Severity(severity)
	a.State = deckhand.AlertState(state)
	a.FirstSeenAt = fromMS(first)
	a.OpenedAt = fromMS(opened)
	a.AckedAt = fromMS(acked)
	a.ClosedAt = fromMS(closed)
	a.LastNotifiedAt = fromMS(notified)
	a.Suppressed = suppressed != 0
	a.ClearedAt = fromMS(cleared)
	a.Public = public != 0
	a.Condition = deckhand.Condition(cond)
	return a, nil
}

func queryAlerts(ctx context.Context, db *sql.DB, q string, args ...any) ([]deckhand.Alert, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []deckhand.Alert
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// ActiveAlerts (read) lists the pending, open and acked alerts, oldest first.
func (s *Store) ActiveAlerts(ctx context.Context) ([]deckhand.Alert, error) {
	out, err := queryAlerts(ctx, s.r, `SELECT `+alertColumns+` FROM alerts
		WHERE state IN ('pending', 'open', 'acked') ORDER BY first_seen_at, id`)
	if err != nil {
		return nil, fmt.Errorf("active alerts: %w", err)
	}
	return out, nil
}

// Alert (read) returns one alert; deckhand.ErrNotFound when unknown.
func (s *Store) Alert(ctx context.Context, id int64) (deckhand.Alert, error) {
	a, err := scanAlert(s.r.QueryRowContext(ctx, `SELECT `+alertColumns+` FROM alerts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("alert %d: %w", id, deckhand.ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("alert %d: %w", id, err)
	}
	return a, nil
}

// RecentAlerts (read) lists alerts first seen at or after since, closed ones
// included, newest first, at most limit (no limit when limit <= 0).
func (s *Store) RecentAlerts(ctx context.Context, since time.Time, limit int) ([]deckhand.Alert, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	out, err := queryAlerts(ctx, s.r, `SELECT `+alertColumns+` FROM alerts
		WHERE first_seen_at >= ? ORDER BY first_seen_at DESC, id DESC LIMIT ?`, since.UnixMilli(), limit)
	if err != nil {
		return nil, fmt.Errorf("recent alerts: %w", err)
	}
	return out, nil
}

// ApplyAlerts (write) persists alert changes and enqueues their notices in
// one transaction: after a crash either both are there or neither, so a
// notification is neither lost nor, once sent, sent again on restart.
//
// Alerts with an ID are updated (deckhand.ErrNotFound if one is unknown);
// alerts with ID 0 are inserted and their new ID written back into the
// slice. Updates run before inserts so that closing an old alert and opening
// a new one for the same key in the same batch respects the one-active-alert
// rule. A second active alert for a key is refused with the unique
// constraint error and nothing of the batch is kept.
//
// Each notice becomes one outbox row per platform. A notice whose Alert.ID
// is 0 is about an alert of this batch: it gets that alert's new ID by key.
// When the alert already has a message on the platform, the row carries its
// Ref so that the platform edits that message.
func (s *Store) ApplyAlerts(ctx context.Context, alerts []deckhand.Alert, notices []deckhand.Notice, platforms []string) error {
	newIDs := make(map[deckhand.AlertKey]int64)
	err := s.write(ctx, func(tx *sql.Tx) error {
		for _, a := range alerts {
			if a.ID != 0 {
				if err := updateAlert(ctx, tx, a); err != nil {
					return err
				}
			}
		}
		for i := range alerts {
			if alerts[i].ID != 0 {
				continue
			}
			id, err := insertAlert(ctx, tx, alerts[i])
			if err != nil {
				return err
			}
			newIDs[alerts[i].Key] = id
		}
		for i := range notices {
			n := notices[i]
			if n.Alert.ID == 0 {
				n.Alert.ID = newIDs[n.Alert.Key]
			}
			for _, p := range platforms {
				item := deckhand.OutboxItem{Platform: p, Notice: n, CreatedAt: n.At, NextAttemptAt: n.At}
				if n.Alert.ID != 0 {
					ref, err := messageRef(ctx, tx, n.Alert.ID, p)
					if err != nil {
						return fmt.Errorf("apply alerts: %w", err)
					}
					item.Ref = ref
				}
				if _, err := insertOutbox(ctx, tx, item); err != nil {
					return fmt.Errorf("apply alerts: %w", err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Written back only after the commit, so a failed call leaves the
	// caller's values as they were.
	for i := range alerts {
		if alerts[i].ID == 0 {
			alerts[i].ID = newIDs[alerts[i].Key]
		}
	}
	for i := range notices {
		if notices[i].Alert.ID == 0 {
			notices[i].Alert.ID = newIDs[notices[i].Alert.Key]
		}
	}
	return nil
}

// insertAlert inserts a as a new alert, with a.ID when it is set (an alert
// held in memory keeps the ID it was given there), else with a new one.
func insertAlert(ctx context.Context, tx *sql.Tx, a deckhand.Alert) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `
		INSERT INTO alerts (id, host, container_name, kind, project, severity, state, message, first_seen_at,
			opened_at, acked_at, acked_by, closed_at, last_notified_at, notifications, suppressed,
			cleared_at, public, condition)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		nullID(a.ID), a.Key.Host, a.Key.Container, string(a.Key.Kind), a.Project, string(a.Severity), string(a.State),
		a.Message, ms(a.FirstSeenAt), ms(a.OpenedAt), ms(a.AckedAt), a.AckedBy, ms(a.ClosedAt),
		ms(a.LastNotifiedAt), a.Notifications, boolInt(a.Suppressed),
		ms(a.ClearedAt), boolInt(a.Public), string(a.Condition)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert alert %s/%s/%s: %w", a.Key.Host, a.Key.Container, a.Key.Kind, err)
	}
	return id, nil
}

func updateAlert(ctx context.Context, tx *sql.Tx, a deckhand.Alert) error {
	res, err := tx.ExecContext(ctx, `
		UPDATE alerts SET host = ?, container_name = ?, kind = ?, project = ?, severity = ?, state = ?,
			message = ?, first_seen_at = ?, opened_at = ?, acked_at = ?, acked_by = ?, closed_at = ?,
			last_notified_at = ?, notifications = ?, suppressed = ?, cleared_at = ?, public = ?, condition = ?
		WHERE id = ?`,
		a.Key.Host, a.Key.Container, string(a.Key.Kind), a.Project, string(a.Severity), string(a.State),
		a.Message, ms(a.FirstSeenAt), ms(a.OpenedAt), ms(a.AckedAt), a.AckedBy, ms(a.ClosedAt),
		ms(a.LastNotifiedAt), a.Notifications, boolInt(a.Suppressed),
		ms(a.ClearedAt), boolInt(a.Public), string(a.Condition), a.ID)
	if err != nil {
		return fmt.Errorf("update alert %d: %w", a.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("update alert %d: %w", a.ID, deckhand.ErrNotFound)
	}
	return nil
}

// AckAlert (write) marks an active alert acked by someone and returns it.
// Acking an acked or closed alert changes nothing and returns it as it is,
// so a double tap on the Ack button is harmless. deckhand.ErrNotFound when
// the alert is unknown.
func (s *Store) AckAlert(ctx context.Context, id int64, by string, at time.Time) (deckhand.Alert, error) {
	var a deckhand.Alert
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `
			UPDATE alerts SET state = 'acked', acked_at = ?, acked_by = ?
			WHERE id = ? AND state IN ('pending', 'open')`, ms(at), by, id); err != nil {
			return fmt.Errorf("ack alert %d: %w", id, err)
		}
		var err error
		a, err = scanAlert(tx.QueryRowContext(ctx, `SELECT `+alertColumns+` FROM alerts WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("alert %d: %w", id, deckhand.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("ack alert %d: %w", id, err)
		}
		return nil
	})
	return a, err
}

// noticeJSON is the stored payload; Notice has no JSON tags and its
// Alert holds time.Time values, which encoding/json round-trips exactly.
func noticeJSON(n deckhand.Notice) (string, error) {
	b, err := json.Marshal(n)
	if err != nil {
		return "", fmt.Errorf("encode notice: %w", err)
	}
	return string(b), nil
}
