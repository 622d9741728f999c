package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/deckhand/deckhand"
)

// Availability is one observation of one container (or of a host itself,
// with an empty Container) for the uptime history.
type Availability struct {
	Host        string
	Container   string
	Up          bool
	Maintenance bool // inside a maintenance window: counted apart, never an outage
}

// ContainerKey names a container across hosts.
type ContainerKey struct {
	Host      string
	Container string
}

// Resolutions of the uptime history and the width of their buckets.
const (
	Res5m = "5m"
	Res1h = "1h"
	Res1d = "1d"
)

var resolutions = []struct {
	name  string
	width time.Duration
}{
	{Res5m, 5 * time.Minute},
	{Res1h, time.Hour},
	{Res1d, 24 * time.Hour},
}

// ResolutionWidth is the bucket width of a resolution, 0 for an unknown one.
func ResolutionWidth(res string) time.Duration {
	for _, r := range resolutions {
		if r.name == res {
			return r.width
		}
	}
	return 0
}

// bucketStart is the start of the bucket of width w holding t, in unix ms.
// Buckets are aligned on the unix epoch, so 1d buckets start at midnight
// UTC and every container's bars line up by time.
func bucketStart(tMS int64, w time.Duration) int64 {
	wMS := w.Milliseconds()
	b := tMS - tMS%wMS
	if tMS < 0 && tMS%wMS != 0 {
		b -= wMS
	}
	return b
}

// resolutionValues is the resolutions table as an SQL VALUES clause of
// (name, width in ms); built from constants, never from input.
func resolutionValues() string {
	var b strings.Builder
	b.WriteString("VALUES ")
	for i, r := range resolutions {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "('%s', %d)", r.name, r.width.Milliseconds())
	}
	return b.String()
}

// bucketRows encodes sums as [host, container, up_ms, down_ms, maint_ms].
func bucketRows(sums []AvailabilitySum) [][5]any {
	out := make([][5]any, len(sums))
	for i, sm := range sums {
		out[i] = [5]any{sm.Host, sm.Container, sm.Up.Milliseconds(), sm.Down.Milliseconds(), sm.Maintenance.Milliseconds()}
	}
	return out
}

// maxOutagesPerBucket bounds the outages attached to a bucket: they are for
// a tooltip, not a report.
const maxOutagesPerBucket = 3

// RecordAvailability (write) adds span to the up, down or maintenance time
// of every sample's 5m, 1h and 1d buckets holding at, and opens an outage
// when a container goes down (outside maintenance) and closes it, at at,
// when it is up again or enters maintenance. One transaction per call.
func (s *Store) RecordAvailability(ctx context.Context, at time.Time, span time.Duration, samples []Availability) error {
	if span < 0 {
		return fmt.Errorf("record availability: negative span: %w", deckhand.ErrInvalidInput)
	}
	return s.RecordAvailabilitySums(ctx, at, sumsOf(samples, span))
}

// AvailabilitySum is what one container's samples added up to: the time
// up, down and in maintenance to add to the buckets, and its state at the
// end, for outages.
type AvailabilitySum struct {
	Availability          // the state at the end
	Up, Down, Maintenance time.Duration
}

func sumsOf(samples []Availability, span time.Duration) []AvailabilitySum {
	out := make([]AvailabilitySum, len(samples))
	for i, sm := range samples {
		out[i].Availability = sm
		switch {
		case sm.Maintenance:
			out[i].Maintenance = span
		case sm.Up:
			out[i].Up = span
		default:
			out[i].Down = span
		}
	}
	return out
}

// RecordAvailabilitySums (write) adds each sum to its container's 5m, 1h
// and 1d buckets holding at, and opens or closes outages, at at, as
// RecordAvailability does, from each sum's state. One transaction per call:
// a caller that adds up its samples in memory writes once per bucket.
func (s *Store) RecordAvailabilitySums(ctx context.Context, at time.Time, sums []AvailabilitySum) error {
	return s.RecordAvailabilitySlots(ctx, []SlotSums{{At: at, Sums: sums, Outages: true}})
}

// SlotSums are the sums to record at one time (RecordAvailabilitySums).
type SlotSums struct {
	At   time.Time
	Sums []AvailabilitySum
	// Outages opens and closes outages at At from the sums' states. A
	// caller that writes changes of state apart from the time added up
	// leaves it off for the time, whose states may be newer than At.
	Outages bool
}

// RecordAvailabilitySlots (write) records every slot's sums, in order, in
// one transaction: a caller that holds several slots in memory writes them
// with the pages they share written once.
func (s *Store) RecordAvailabilitySlots(ctx context.Context, slots []SlotSums) error {
	for _, sl := range slots {
		for _, sm := range sl.Sums {
			if sm.Up < 0 || sm.Down < 0 || sm.Maintenance < 0 {
				return fmt.Errorf("record availability: negative time: %w", deckhand.ErrInvalidInput)
			}
		}
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		// Loading the open outages once turns a per-sample lookup into a map
		// access: only transitions touch the outages table.
		open, err := openOutages(ctx, tx)
		if err != nil {
			return err
		}
		for _, sl := range slots {
			if len(sl.Sums) == 0 {
				continue
			}
			if err := addBuckets(ctx, tx, sl.At.UnixMilli(), sl.Sums); err != nil {
				return err
			}
			if !sl.Outages {
				continue
			}
			if err := moveOutages(ctx, tx, open, sl.At.UnixMilli(), sl.Sums); err != nil {
				return err
			}
		}
		return nil
	})
}

func openOutages(ctx context.Context, tx *sql.Tx) (map[ContainerKey]int64, error) {
	open := make(map[ContainerKey]int64)
	rows, err := tx.QueryContext(ctx, `SELECT id, host, container FROM outages WHERE "end" IS NULL`)
	if err != nil {
		return nil, fmt.Errorf("record availability: open outages: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var k ContainerKey
		if err := rows.Scan(&id, &k.Host, &k.Container); err != nil {
			return nil, fmt.Errorf("record availability: open outages: %w", err)
		}
		open[k] = id
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("record availability: open outages: %w", err)
	}
	return open, nil
}

// addBuckets adds sums to the buckets holding atMS in one statement: the
// rows travel as one JSON array and SQLite fans them out to the three
// resolutions, instead of three round trips through the driver per sample.
func addBuckets(ctx context.Context, tx *sql.Tx, atMS int64, sums []AvailabilitySum) error {
	rowsJSON, err := json.Marshal(bucketRows(sums))
	if err != nil {
		return fmt.Errorf("record availability: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO uptime_buckets (host, container, resolution, bucket_start, up_ms, down_ms, maint_ms)
		SELECT s.value ->> 0, s.value ->> 1, r.column1, ?1 - (?1 % r.column2),
			s.value ->> 2, s.value ->> 3, s.value ->> 4
		FROM json_each(?2) s CROSS JOIN (`+resolutionValues()+`) r
		WHERE true
		ON CONFLICT (resolution, bucket_start, host, container) DO UPDATE SET
			up_ms = up_ms + excluded.up_ms, down_ms = down_ms + excluded.down_ms,
			maint_ms = maint_ms + excluded.maint_ms`, atMS, string(rowsJSON)); err != nil {
		return fmt.Errorf("record availability: buckets: %w", err)
	}
	return nil
}

// moveOutages opens and closes outages at atMS from each sum's state.
func moveOutages(ctx context.Context, tx *sql.Tx, open map[ContainerKey]int64, atMS int64, sums []AvailabilitySum) error {
	for _, sum := range sums {
		sm := sum.Availability
		k := ContainerKey{sm.Host, sm.Container}
		id, isOpen := open[k]
		isDown := !sm.Up && !sm.Maintenance
		switch {
		case isDown && !isOpen:
			if err := tx.QueryRowContext(ctx, `INSERT INTO outages (host, container, "start") VALUES (?, ?, ?)
				RETURNING id`, sm.Host, sm.Container, atMS).Scan(&id); err != nil {
				return fmt.Errorf("record availability %s/%s: open outage: %w", sm.Host, sm.Container, err)
			}
			open[k] = id
		case !isDown && isOpen:
			if _, err := tx.ExecContext(ctx, `UPDATE outages SET "end" = max(?, "start") WHERE id = ?`,
				atMS, id); err != nil {
				return fmt.Errorf("record availability %s/%s: close outage: %w", sm.Host, sm.Container, err)
			}
			delete(open, k)
		}
	}
	return nil
}

// UptimeEach (read) hands fn the availability history of every container
// with data between since and until at a resolution ("5m", "1h" or "1d"),
// one container at a time in host and container order, so that a caller
// that packs or summarises the buckets never holds every container's at
// once. The slice passed to fn is reused by the next call: fn must copy
// what it keeps.
//
// Each container gets one bucket per slot from the slot holding since up to
// until, in time order, gaps included (a gap has no time and Ratio -1), so
// that the bars of all containers line up by time. Each bucket carries up to
// three outages overlapping it.
func (s *Store) UptimeEach(ctx context.Context, resolution string, since, until time.Time, fn func(ContainerKey, []deckhand.UptimeBucket)) error {
	width := ResolutionWidth(resolution)
	if width == 0 {
		return fmt.Errorf("uptime: resolution %q: %w", resolution, deckhand.ErrInvalidInput)
	}
	if !since.Before(until) {
		return nil
	}
	from := bucketStart(since.UnixMilli(), width)
	to := until.UnixMilli()
	wMS := width.Milliseconds()
	n := int((to - from + wMS - 1) / wMS)

	outages, err := s.outagesBetween(ctx, from, to)
	if err != nil {
		return err
	}
	rows, err := s.r.QueryContext(ctx, `
		SELECT host, container, bucket_start, up_ms, down_ms, maint_ms FROM uptime_buckets
		WHERE resolution = ? AND bucket_start >= ? AND bucket_start < ?
		ORDER BY host, container`, resolution, from, to)
	if err != nil {
		return fmt.Errorf("uptime: %w", err)
	}
	defer rows.Close()
	bs := make([]deckhand.UptimeBucket, n)
	var cur ContainerKey
	have := false
	flush := func() {
		if !have {
			return
		}
		for _, o := range outages[cur] {
			attachOutage(bs, o, from, to, wMS)
		}
		fn(cur, bs)
	}
	for rows.Next() {
		var k ContainerKey
		var start, up, down, maint int64
		if err := rows.Scan(&k.Host, &k.Container, &start, &up, &down, &maint); err != nil {
			return fmt.Errorf("uptime: %w", err)
		}
		if !have || k != cur {
			flush()
			cur, have = k, true
			for i := range bs {
				bs[i] = deckhand.UptimeBucket{Start: time.UnixMilli(from + int64(i)*wMS).UTC(), Width: width}
			}
		}
		b := &bs[(start-from)/wMS]
		b.Up = time.Duration(up) * time.Millisecond
		b.Down = time.Duration(down) * time.Millisecond
		b.Maintenance = time.Duration(maint) * time.Millisecond
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("uptime: %w", err)
	}
	flush()
	return nil
}

// outagesBetween reads the outages overlapping [from, to), by container,
// oldest first.
func (s *Store) outagesBetween(ctx context.Context, from, to int64) (map[ContainerKey][]deckhand.Outage, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT host, container, "start", "end" FROM outages
		WHERE "start" < ? AND ("end" IS NULL OR "end" >= ?)
		ORDER BY "start", id`, to, from)
	if err != nil {
		return nil, fmt.Errorf("uptime outages: %w", err)
	}
	defer rows.Close()
	out := map[ContainerKey][]deckhand.Outage{}
	for rows.Next() {
		var k ContainerKey
		var start int64
		var end sql.NullInt64
		if err := rows.Scan(&k.Host, &k.Container, &start, &end); err != nil {
			return nil, fmt.Errorf("uptime outages: %w", err)
		}
		out[k] = append(out[k], deckhand.Outage{Start: time.UnixMilli(start).UTC(), End: fromMS(end)})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("uptime outages: %w", err)
	}
	return out, nil
}

// attachOutage adds o to every bucket of bs it overlaps, up to
// maxOutagesPerBucket each.
func attachOutage(bs []deckhand.UptimeBucket, o deckhand.Outage, from, to, wMS int64) {
	start := o.Start.UnixMilli()
	// An outage covers [start, end); one closed at its own start still
	// shows in the bucket it happened in.
	last := to
	if !o.End.IsZero() {
		last = max(o.End.UnixMilli(), start+1)
	}
	for i := (max(start, from) - from) / wMS; i < int64(len(bs)) && from+i*wMS < last; i++ {
		if len(bs[i].Outages) < maxOutagesPerBucket {
			bs[i].Outages = append(bs[i].Outages, o)
		}
	}
}

// PruneStats counts the rows Prune deleted, per kind.
type PruneStats struct {
	Buckets5m  int64
	Buckets1h  int64
	Outages    int64
	Outbox     int64
	Alerts     int64
	Audit      int64
	Containers int64
	Silences   int64
	Tokens     int64
}

// Retention periods applied by Prune. 1d buckets are kept forever: one row
// per container per day is small, and the status page shows 90 days.
// The fine resolutions dominate the file's size (one row per container per
// bucket: 8000 containers make 96k 5m rows an hour), so they are kept only as
// long as something reads them: the page's 24 h bar uses 1h buckets, and a
// week of them leaves room for incident review; 5m buckets cover the last
// hours at a glance.
const (
	Keep5m            = 6 * time.Hour
	Keep1h            = 8 * 24 * time.Hour
	KeepSentOutbox    = 7 * 24 * time.Hour
	KeepClosedAlerts  = 180 * 24 * time.Hour
	KeepAudit         = 365 * 24 * time.Hour
	KeepGoneContainer = 7 * 24 * time.Hour
	KeepOutages       = 180 * 24 * time.Hour
	KeepSilences      = 30 * 24 * time.Hour
	// KeepUsedTokens is how long a used token is remembered after it
	// expired. Past its expiry the signer refuses it anyway; the margin
	// covers a clock set back, which would make it verify again.
	KeepUsedTokens = 24 * time.Hour
)

// Prune (write) enforces retention, in one transaction: 5m buckets older
// than 48 h, 1h buckets older than 35 days, delivered or dead outbox rows
// older than 7 days, alerts closed more than 180 days ago (with their
// message refs), audit entries older than a year, containers not seen for 7
// days (those of hosts no longer collected), outages ended more than 180
// days ago, silences expired for 30 days and used tokens expired for a day.
func (s *Store) Prune(ctx context.Context, now time.Time) (PruneStats, error) {
	var st PruneStats
	n := now.UnixMilli()
	before := func(d time.Duration) int64 { return n - d.Milliseconds() }
	steps := []struct {
		q    string
		arg  int64
		into *int64
	}{
		{`DELETE FROM uptime_buckets WHERE resolution = '5m' AND bucket_start < ?`, before(Keep5m), &st.Buckets5m},
		{`DELETE FROM uptime_buckets WHERE resolution = '1h' AND bucket_start < ?`, before(Keep1h), &st.Buckets1h},
		{`DELETE FROM outages WHERE "end" IS NOT NULL AND "end" < ?`, before(KeepOutages), &st.Outages},
		{`DELETE FROM outbox WHERE (sent_at IS NOT NULL AND sent_at < ?1) OR (dead = 1 AND created_at < ?1)`,
			before(KeepSentOutbox), &st.Outbox},
		{`DELETE FROM alerts WHERE state = 'closed' AND closed_at < ?`, before(KeepClosedAlerts), &st.Alerts},
		{`DELETE FROM audit WHERE at < ?`, before(KeepAudit), &st.Audit},
		{`DELETE FROM containers WHERE last_update_at < ?`, before(KeepGoneContainer), &st.Containers},
		{`DELETE FROM silences WHERE until < ?`, before(KeepSilences), &st.Silences},
		{`DELETE FROM used_tokens WHERE expires_at < ?`, before(KeepUsedTokens), &st.Tokens},
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		for _, step := range steps {
			res, err := tx.ExecContext(ctx, step.q, step.arg)
			if err != nil {
				return fmt.Errorf("prune: %w", err)
			}
			*step.into, _ = res.RowsAffected()
		}
		return nil
	})
	if err != nil {
		return PruneStats{}, err
	}
	// Copy the WAL back and truncate it, so the files stay small between
	// SQLite's own checkpoints (every 4 MB of WAL); a reader in the way
	// only postpones it to the next prune.
	if _, err := s.w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return st, fmt.Errorf("prune: checkpoint: %w", err)
	}
	return st, nil
}
