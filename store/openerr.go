package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"syscall"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// OpenError is why Open could not open the database, in words a person
// can act on: what is at fault, the cause and the fix. SQLite's numeric
// codes ("(14)", "(1544)") say nothing to whoever reads the log at start.
type OpenError struct {
	// Path is the file or directory at fault.
	Path string
	// Cause says what is wrong ("is on a read-only file system").
	Cause string
	// Fix says what to do about it.
	Fix string
	// Err is the underlying error (a *fs.PathError, a syscall.Errno or
	// SQLite's), for errors.Is.
	Err error
}

func (e *OpenError) Error() string {
	return fmt.Sprintf("database: %s %s; %s", e.Path, e.Cause, e.Fix)
}

func (e *OpenError) Unwrap() error { return e.Err }

// openError words err, met on path (the database file, or a directory on
// the way to it), as an *OpenError.
func openError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path != "" {
		path = pe.Path
	}
	writable := fmt.Sprintf("make %s writable for uid %d, or use a database file in a directory deckhand can write", path, os.Geteuid())
	oe := &OpenError{Path: path, Err: err}
	switch {
	case errors.Is(err, syscall.EROFS), sqliteCode(err, sqlite3.SQLITE_READONLY):
		oe.Cause = "is on a read-only file system"
		oe.Fix = "remount it read-write (in a container: mount the volume without :ro), or use a database file on a writable file system"
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT), sqliteCode(err, sqlite3.SQLITE_FULL):
		oe.Cause = "cannot grow: the disk is full (or the quota is used up)"
		oe.Fix = fmt.Sprintf("free space on the file system of %s, or use a database file on another disk", filepath.Dir(path))
	case errors.Is(err, syscall.ENOTDIR):
		oe.Cause, oe.Fix = "is not a directory", "use a database path whose parents are directories"
	case errors.Is(err, syscall.EPERM):
		oe.Cause, oe.Fix = "cannot be written: operation not permitted (an immutable file or a protected directory)", writable+" (lsattr shows an immutable file; chattr -i clears it)"
	case errors.Is(err, fs.ErrPermission), sqliteCode(err, sqlite3.SQLITE_PERM):
		oe.Cause, oe.Fix = "cannot be written: permission denied", writable
	case errors.Is(err, fs.ErrNotExist):
		oe.Cause, oe.Fix = "does not exist: no such directory", "create it, or use a database file in an existing directory"
	case sqliteCode(err, sqlite3.SQLITE_NOTADB), sqliteCode(err, sqlite3.SQLITE_CORRUPT):
		oe.Cause, oe.Fix = "is not a deckhand database (or is damaged)", "use another database file, or restore this one from a backup"
	default:
		oe.Cause, oe.Fix = "cannot be opened: "+describe(err), "check the path, its permissions and the disk, or use another database file"
	}
	return oe
}

// sqliteCode reports an SQLite error of the primary code c (extended
// codes included: 1544, SQLITE_READONLY_DIRECTORY, is SQLITE_READONLY).
func sqliteCode(err error, c int) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == c
}

// describe is SQLite's message without its numeric code.
func describe(err error) string {
	return trailingCode.ReplaceAllString(err.Error(), "")
}

var trailingCode = regexp.MustCompile(`\s*\(\d+\)`)

// probeWritable checks, before SQLite is given the chance to fall back to
// a read-only connection or to fail with a bare code, that deckhand can
// create files in dir (SQLite creates -wal and -shm beside the database)
// and write path when it exists.
func probeWritable(dir, path string) error {
	f, err := os.CreateTemp(dir, ".deckhand-write-test-*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			// Name the directory, not the probe.
			err = &fs.PathError{Op: "create file in", Path: dir, Err: pe.Err}
		}
		return err
	}
	name := f.Name()
	f.Close()
	if err := os.Remove(name); err != nil {
		return err
	}
	db, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return db.Close()
}

// leftovers removes the files Open created before it failed: the
// database file when Open made it, with the -wal and -shm SQLite made
// beside it. Beside a database that was there before, only an empty -wal
// or -shm goes: another process may have opened the database meanwhile,
// and its WAL may hold committed transactions.
type leftovers struct {
	db   string
	side []string
	ours bool // the database file did not exist
}

func created(db string) leftovers {
	l := leftovers{db: db, ours: !fileExists(db)}
	for _, p := range []string{db + "-wal", db + "-shm"} {
		if !fileExists(p) {
			l.side = append(l.side, p)
		}
	}
	return l
}

func fileExists(p string) bool {
	_, err := os.Lstat(p)
	return !errors.Is(err, fs.ErrNotExist)
}

func (l leftovers) remove() {
	for _, p := range l.side {
		if st, err := os.Lstat(p); err == nil && (l.ours || st.Size() == 0) {
			_ = os.Remove(p)
		}
	}
	if l.ours {
		_ = os.Remove(l.db)
	}
}
