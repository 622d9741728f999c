//go:build unix

package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/deckhand/deckhand"
)

// The database holds the alert history, the audit trail and the outbox:
// its files are the owner's alone whatever the umask, and a file an older
// version created 0644 is tightened at the next start.
func TestDatabaseFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		prep func(path string)
	}{
		{"new", func(string) {}},
		{"existing 0666", func(path string) {
			if err := os.WriteFile(path, nil, 0o666); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".db")
			tc.prep(path)
			s, err := Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.SyncHosts(context.Background(), []deckhand.Host{{Name: "nas"}}); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{path, path + "-wal", path + "-shm"} {
				st, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				if mode := st.Mode().Perm(); mode != 0o600 {
					t.Errorf("%s: mode %o, want 600", filepath.Base(p), mode)
				}
			}
		})
	}
}
