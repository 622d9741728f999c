//go:build linux

package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/deckhand/deckhand/store"
	"github.com/deckhand/deckhand/store/storetest"
)

// existing creates a sound database at path and closes it, leaving only
// the file itself.
func existing(t *testing.T, path string) {
	t.Helper()
	s, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path + "-wal", path + "-shm"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}
}

var numericCode = regexp.MustCompile(`\(\d+\)`)

// TestOpenFailuresSayWhatAndHow: a database that cannot be written fails
// at Open, not at the first write, with one error that names the path,
// says the cause in words and the fix, carries none of SQLite's numeric
// codes, and leaves no -wal or -shm file behind.
func TestOpenFailuresSayWhatAndHow(t *testing.T) {
	tests := []struct {
		name  string
		prep  func(t *testing.T, dir string) (path, names string)
		cause string
		fix   string
	}{
		{"read-only directory, existing database", func(t *testing.T, dir string) (string, string) {
			path := filepath.Join(dir, "deckhand.db")
			existing(t, path)
			storetest.ReadOnlyDir(t, dir)
			return path, dir
		}, "read-only", "writable"},
		{"read-only directory, new database", func(t *testing.T, dir string) (string, string) {
			storetest.ReadOnlyDir(t, dir)
			return filepath.Join(dir, "deckhand.db"), dir
		}, "read-only", "writable"},
		{"read-only file", func(t *testing.T, dir string) (string, string) {
			path := filepath.Join(dir, "deckhand.db")
			existing(t, path)
			storetest.ReadOnlyFile(t, path)
			return path, path
		}, "not permitted|permission denied", "writable"},
		{"missing directory under a file", func(t *testing.T, dir string) (string, string) {
			if err := os.WriteFile(filepath.Join(dir, "notadir"), nil, 0o600); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(dir, "notadir", "db", "deckhand.db"), filepath.Join(dir, "notadir")
		}, "not a directory", "database path"},
		{"path is a directory", func(t *testing.T, dir string) (string, string) {
			return dir, dir
		}, "is a directory", "file"},
		{"disk full", func(t *testing.T, dir string) (string, string) {
			storetest.FullDisk(t, dir)
			return filepath.Join(dir, "deckhand.db"), dir
		}, "disk is full", "free"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path, names := tt.prep(t, dir)
			before := listDir(t, filepath.Dir(path))
			s, err := store.Open(context.Background(), path)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			msg := err.Error()
			t.Log(msg)
			if !strings.Contains(msg, names) {
				t.Errorf("error does not name %s: %s", names, msg)
			}
			if !regexp.MustCompile(tt.cause).MatchString(msg) {
				t.Errorf("error does not say %q: %s", tt.cause, msg)
			}
			if !strings.Contains(msg, tt.fix) {
				t.Errorf("error gives no fix (%q): %s", tt.fix, msg)
			}
			if numericCode.MatchString(msg) {
				t.Errorf("error carries SQLite's numeric code: %s", msg)
			}
			var oe *store.OpenError
			if !errors.As(err, &oe) {
				t.Errorf("error is %T, want *store.OpenError", err)
			}
			if after := listDir(t, filepath.Dir(path)); strings.Join(after, " ") != strings.Join(before, " ") {
				t.Errorf("Open left files behind: before %v, after %v", before, after)
			}
		})
	}
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}
