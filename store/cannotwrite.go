package store

import (
	"errors"
	"syscall"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// CannotWrite reports whether err says that the database cannot be
// written at all, as opposed to refusing this one write (a constraint, a
// bug): the filesystem is full or read-only, the disk fails, SQLite cannot
// open its files or another process holds the lock beyond busy_timeout.
// Such a write may succeed later unchanged, so it is worth keeping and
// retrying; a refused one is not. reason is the words for a person ("disk
// full"). This is the one place that tells the two apart.
func CannotWrite(err error) (reason string, ok bool) {
	if err == nil {
		return "", false
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_FULL:
			return "disk full", true
		case sqlite3.SQLITE_READONLY:
			return "read-only", true
		case sqlite3.SQLITE_IOERR:
			return "I/O error", true
		case sqlite3.SQLITE_CANTOPEN:
			return "cannot open its files", true
		case sqlite3.SQLITE_PERM:
			return "permission denied", true
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return "locked by another process", true
		}
		return "", false
	}
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return "disk full", true
	case errors.Is(err, syscall.EROFS):
		return "read-only", true
	case errors.Is(err, syscall.EIO):
		return "I/O error", true
	}
	return "", false
}
