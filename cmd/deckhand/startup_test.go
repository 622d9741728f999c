package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/deckhand/deckhand/store/storetest"
)

// TestStartupFileErrorsSayWhatAndHow: a config file or database that
// cannot be used stops deckhand with one error naming the file, the cause
// in words and the fix, and none of SQLite's numeric codes.
func TestStartupFileErrorsSayWhatAndHow(t *testing.T) {
	tests := []struct {
		name string
		prep func(t *testing.T, dir string) (config, names string)
		want []string
	}{
		{"missing config", func(t *testing.T, dir string) (string, string) {
			p := filepath.Join(dir, "nope.toml")
			return p, p
		}, []string{"does not exist", "-config"}},
		{"config is a directory", func(t *testing.T, dir string) (string, string) {
			return dir, dir
		}, []string{"is a directory", "-config"}},
		{"database in a read-only directory", func(t *testing.T, dir string) (string, string) {
			data := filepath.Join(dir, "data")
			if err := os.Mkdir(data, 0o755); err != nil {
				t.Fatal(err)
			}
			cfg := filepath.Join(dir, "deckhand.toml")
			body := "data = \"" + filepath.Join(data, "deckhand.db") + "\"\n[[hosts]]\nname = \"a\"\ntransport = \"local\"\n"
			if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			storetest.ReadOnlyDir(t, data)
			return cfg, data
		}, []string{"read-only", "data ="}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, names := tt.prep(t, t.TempDir())
			err := run(context.Background(), []string{"run", "-config", cfg}, io.Discard, io.Discard)
			if err == nil {
				t.Fatal("run succeeded")
			}
			msg := err.Error()
			t.Log(msg)
			for _, w := range append(tt.want, names) {
				if !strings.Contains(msg, w) {
					t.Errorf("error does not say %q: %s", w, msg)
				}
			}
			if regexp.MustCompile(`\(\d+\)`).MatchString(msg) {
				t.Errorf("error carries a numeric code: %s", msg)
			}
		})
	}
}
