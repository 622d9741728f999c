package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/deckhand/deckhand"
)

// Held is what deckhand computed and delivered while the database could
// not be written (package backlog keeps it), to be written in one
// transaction once it can: the alerts as they stand now, the outbox items
// queued meanwhile with their delivery state, the delivery records of
// items that were stored already, and the message refs learned.
type Held struct {
	// Alerts are the latest state of every alert changed meanwhile. New
	// ones were given IDs above NextIDs' and are inserted with them.
	Alerts []HeldAlert
	// Outbox are the new items, oldest first, with the IDs they were given.
	Outbox []HeldItem
	// Marks record what happened to stored items meanwhile.
	Marks []OutboxMark
	// Refs are the first message of an alert on a platform, as delivered.
	Refs []deckhand.MessageRef
}

// HeldAlert is one alert's latest state; New when it was never stored.
type HeldAlert struct {
	Alert deckhand.Alert
	New   bool
}

// HeldItem is one new outbox item; Dead when it was given up on.
type HeldItem struct {
	Item deckhand.OutboxItem
	Dead bool
}

// OutboxMark is what MarkSending, MarkSent and MarkFailed would have
// written to a stored row: zero times and an empty text change nothing,
// Attempts are added.
type OutboxMark struct {
	ID            int64
	SendingAt     time.Time
	SentAt        time.Time
	Ref           string
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	Dead          bool
}

// Remap holds the IDs that another writer took meanwhile (a `deckhand
// exec` on the same file): the held row was written under a new one.
type Remap struct {
	Alerts map[int64]int64
	Outbox map[int64]int64
}

// NextIDs (read) returns the highest alert and outbox IDs: the IDs given
// to held rows start above them, which keeps the ID a message's buttons and
// a Discord nonce carry the one the row gets once written.
func (s *Store) NextIDs(ctx context.Context) (alert, outbox int64, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT (SELECT coalesce(max(id), 0) FROM alerts),
		(SELECT coalesce(max(id), 0) FROM outbox)`).Scan(&alert, &outbox)
	if err != nil {
		return 0, 0, fmt.Errorf("next ids: %w", err)
	}
	return alert, outbox, nil
}

// WriteHeld (write) writes h in one transaction: updated alerts first (the
// one-active-alert rule, as in ApplyAlerts), then new alerts in ID order,
// then the new outbox items in order, the marks and the refs (the first
// message of an alert stays the one to edit).
func (s *Store) WriteHeld(ctx context.Context, h Held) (Remap, error) {
	var rm Remap
	err := s.write(ctx, func(tx *sql.Tx) error {
		rm = Remap{Alerts: map[int64]int64{}, Outbox: map[int64]int64{}}
		if err := writeHeldAlerts(ctx, tx, h.Alerts, rm); err != nil {
			return err
		}
		for _, hi := range h.Outbox {
			if err := writeHeldItem(ctx, tx, hi, rm); err != nil {
				return err
			}
		}
		for _, m := range h.Marks {
			if err := writeMark(ctx, tx, m); err != nil {
				return err
			}
		}
		for _, r := range h.Refs {
			if id, ok := rm.Alerts[r.AlertID]; ok {
				r.AlertID = id
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO message_refs (alert_id, platform, ref) VALUES (?, ?, ?)
				ON CONFLICT (alert_id, platform) DO NOTHING`, r.AlertID, r.Platform, r.Ref); err != nil {
				return fmt.Errorf("write held: message ref of alert %d: %w", r.AlertID, err)
			}
		}
		return nil
	})
	return rm, err
}

func writeHeldAlerts(ctx context.Context, tx *sql.Tx, alerts []HeldAlert, rm Remap) error {
	for _, ha := range alerts {
		if !ha.New {
			if err := updateAlert(ctx, tx, ha.Alert); err != nil {
				return fmt.Errorf("write held: %w", err)
			}
		}
	}
	for _, ha := range alerts {
		if !ha.New {
			continue
		}
		a := ha.Alert
		taken, err := exists(ctx, tx, `SELECT EXISTS (SELECT 1 FROM alerts WHERE id = ?)`, a.ID)
		if err != nil {
			return fmt.Errorf("write held: %w", err)
		}
		if taken {
			a.ID = 0
		}
		id, err := insertAlert(ctx, tx, a)
		if err != nil {
			return fmt.Errorf("write held: %w", err)
		}
		if id != ha.Alert.ID {
			rm.Alerts[ha.Alert.ID] = id
		}
	}
	return nil
}

func writeHeldItem(ctx context.Context, tx *sql.Tx, hi HeldItem, rm Remap) error {
	it := hi.Item
	if id, ok := rm.Alerts[it.Notice.Alert.ID]; ok {
		it.Notice.Alert.ID = id
	}
	taken, err := exists(ctx, tx, `SELECT EXISTS (SELECT 1 FROM outbox WHERE id = ?)`, it.ID)
	if err != nil {
		return fmt.Errorf("write held: %w", err)
	}
	var want any = it.ID
	if taken {
		want = nil
	}
	id, err := insertOutboxRow(ctx, tx, it, want, hi.Dead)
	if err != nil {
		return fmt.Errorf("write held: %w", err)
	}
	if id != it.ID {
		rm.Outbox[it.ID] = id
	}
	return nil
}

// writeMark records what happened to a stored row, and its message ref as
// MarkSent does. A row pruned meanwhile has nothing left to record.
func writeMark(ctx context.Context, tx *sql.Tx, m OutboxMark) error {
	var alertID sql.NullInt64
	var platform string
	err := tx.QueryRowContext(ctx, `
		UPDATE outbox SET sending_at = coalesce(?, sending_at), sent_at = coalesce(?, sent_at),
			ref = CASE WHEN ? != '' THEN ? ELSE ref END, attempts = attempts + ?,
			next_attempt_at = coalesce(?, next_attempt_at),
			last_error = CASE WHEN ? != '' THEN ? ELSE last_error END, dead = max(dead, ?)
		WHERE id = ? RETURNING alert_id, platform`,
		ms(m.SendingAt), ms(m.SentAt), m.Ref, m.Ref, m.Attempts, ms(m.NextAttemptAt),
		m.LastError, m.LastError, boolInt(m.Dead), m.ID).Scan(&alertID, &platform)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("write held: outbox row %d: %w", m.ID, err)
	}
	if m.Ref == "" || !alertID.Valid {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO message_refs (alert_id, platform, ref) VALUES (?, ?, ?)
		ON CONFLICT (alert_id, platform) DO NOTHING`, alertID.Int64, platform, m.Ref); err != nil {
		return fmt.Errorf("write held: outbox row %d: message ref: %w", m.ID, err)
	}
	return nil
}

func exists(ctx context.Context, tx *sql.Tx, q string, id int64) (bool, error) {
	var ok bool
	err := tx.QueryRowContext(ctx, q, id).Scan(&ok)
	return ok, err
}

// nullID is an ID for an INSERT: NULL (a new one) when zero.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
