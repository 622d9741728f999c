// Package store owns deckhand's persistence: one SQLite file (modernc.org/sqlite,
// pure Go) holding hosts and what was last collected on them, alerts and the
// notification outbox, silences, the audit trail, announcements and the
// downsampled availability history behind the status page, plus its embedded
// migrations and retention.
//
// Concurrency: SQLite allows one writer at a time. The Store keeps a single
// write connection (every write method goes through it, in its own
// transaction started with BEGIN IMMEDIATE) and a separate pool of read-only
// connections. In WAL mode readers never wait for the writer, so the status
// page and chat commands cannot see "database is locked" however busy the
// collector is.
//
// Time: every timestamp is stored as INTEGER unix milliseconds UTC, and the
// zero time.Time as NULL. Integers sort and compare as time does, take 8
// bytes instead of a 30-byte string, need no time-zone parsing on the way
// out and make retention a plain integer comparison. Times read back are in
// UTC with millisecond precision.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/deckhand/deckhand"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// readConns bounds the read pool: enough for the status page, SSE and a few
// chat commands at once, small enough to stay cheap on a Raspberry Pi.
const readConns = 4

// Store is deckhand's database. It is safe for concurrent use.
type Store struct {
	w *sql.DB // the single writer
	r *sql.DB // read-only pool
}

// Open opens (creating it when missing) the SQLite database at path and
// applies the pending migrations. ":memory:" is refused: WAL needs a file.
// A database deckhand cannot write fails here, with an *OpenError that
// names the path, the cause and the fix, and leaves no file it created
// behind.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("open store %q: want a file path: %w", path, deckhand.ErrInvalidInput)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if st, err := os.Stat(abs); err == nil && st.IsDir() {
		return nil, &OpenError{Path: abs, Cause: "is a directory, not a database file",
			Fix: "use a file path such as " + filepath.Join(abs, "deckhand.db"), Err: syscall.EISDIR}
	}
	dir := filepath.Dir(abs)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, openError(dir, err)
	}
	if err := probeWritable(dir, abs); err != nil {
		return nil, openError(abs, err)
	}
	made := created(abs)
	s, err := open(ctx, abs)
	if err != nil {
		made.remove()
		var oe *OpenError
		if !errors.As(err, &oe) {
			err = openError(abs, err)
		}
		return nil, err
	}
	return s, nil
}

// open is Open once the path is known to be writable.
func open(ctx context.Context, abs string) (*Store, error) {
	// Before SQLite opens them: it gives a -wal or -shm it creates the
	// database file's mode.
	if err := createPrivate(abs); err != nil {
		return nil, err
	}
	if err := tighten(abs, abs+"-wal", abs+"-shm"); err != nil {
		return nil, err
	}

	w, err := sql.Open("sqlite", dsn(abs, false))
	if err != nil {
		return nil, err
	}
	// One connection means writes queue in Go instead of failing in SQLite.
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, err
	}
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, err
	}
	if err := tighten(abs+"-wal", abs+"-shm"); err != nil {
		w.Close()
		return nil, err
	}

	// The read pool opens after the writer has created the file and switched
	// it to WAL, so every reader starts in WAL mode.
	r, err := sql.Open("sqlite", dsn(abs, true))
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(readConns)
	r.SetMaxIdleConns(readConns)
	if err := r.PingContext(ctx); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("read pool: %w", err)
	}
	return &Store{w: w, r: r}, nil
}

// privateMode is for the database files: they hold the alert history, the
// audit trail and the outbox, which are the owner's alone.
const privateMode fs.FileMode = 0o600

// createPrivate creates the database file before SQLite does, which would
// make it 0644 (and its -wal and -shm like it). Chmod after creation
// makes the mode independent of the umask.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, privateMode)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := f.Chmod(privateMode); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// tighten takes group and other permissions off the database files, which
// an older version created 0644 or the WAL may have copied. It never adds
// one (a file made read-only stays so). A file that is missing, or not
// this user's to change, is left as it is.
func tighten(paths ...string) error {
	for _, p := range paths {
		st, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if st.Mode().Perm()&0o077 == 0 {
			continue
		}
		if err := os.Chmod(p, st.Mode().Perm()&^0o077); err != nil && !errors.Is(err, fs.ErrPermission) {
			return err
		}
	}
	return nil
}

// dsn builds the modernc DSN. The path is URI-escaped so that '?', '#' or
// '%' in a directory name cannot be mistaken for parameters.
func dsn(abs string, readOnly bool) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	if readOnly {
		// query_only rather than mode=ro: a mode=ro connection cannot create
		// the -shm file and fails when it is the first to open a WAL database
		// after a crash; query_only refuses writes just the same.
		q.Add("_query_only", "1")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		// BEGIN IMMEDIATE takes the write lock up front, so a transaction
		// never has to upgrade a read lock and hit SQLITE_BUSY half-way.
		q.Add("_txlock", "immediate")
	}
	return u.String() + "?" + q.Encode()
}

func migrate(ctx context.Context, db *sql.DB) error {
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Close closes both pools. Every committed write is already durable; Close
// only checkpoints the WAL into the main file.
func (s *Store) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

// IntegrityCheck (read) runs SQLite's quick_check over the whole file and
// returns its findings as an error; nil when the database is sound.
func (s *Store) IntegrityCheck(ctx context.Context) error {
	rows, err := s.r.QueryContext(ctx, `PRAGMA quick_check`)
	if err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return fmt.Errorf("integrity check: %w", err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("integrity check: %s", strings.Join(problems, "; "))
	}
	return nil
}

// write runs fn in one write transaction, committed when fn returns nil.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// ms converts a time to the stored form: unix milliseconds, NULL for zero.
func ms(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// fromMS is the inverse of ms.
func fromMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64).UTC()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface {
	Scan(dest ...any) error
}
