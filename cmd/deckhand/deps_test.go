package main

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestShippedBinaryHoldsNoTestCode: the binary users run links no test
// package, no test server and no simulated fleet; those belong to the
// tests and to cmd/deckhand-bench.
func TestShippedBinaryHoldsNoTestCode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "list", "-deps", "-f", "{{.ImportPath}} {{.Standard}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	var bad []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, std, _ := strings.Cut(line, " ")
		if testCode(path, std == "true") {
			bad = append(bad, path)
		}
	}
	if len(bad) > 0 {
		t.Errorf("cmd/deckhand links test code: %s", strings.Join(bad, ", "))
	}
}

// testCode reports whether a package is test code. The standard library's
// own internal tree is exempt: every Go binary links internal/testlog and
// internal/synctest (os and sync import them), whatever it does.
func testCode(path string, std bool) bool {
	switch {
	case path == "testing", strings.HasPrefix(path, "testing/"), path == "net/http/httptest":
		return true
	case strings.HasSuffix(path, "/internal/fleet"):
		return true
	case std && (strings.HasPrefix(path, "internal/") || strings.Contains(path, "/internal/")):
		return false
	}
	return strings.HasSuffix(path, "test")
}

func TestTestCodeRule(t *testing.T) {
	for _, c := range []struct {
		path string
		std  bool
		want bool
	}{
		{"testing", true, true},
		{"testing/fstest", true, true},
		{"net/http/httptest", true, true},
		{"internal/testlog", true, false},
		{"internal/synctest", true, false},
		{"github.com/deckhand/deckhand/collector/collectortest", false, true},
		{"github.com/deckhand/deckhand/internal/sshdtest", false, true},
		{"github.com/deckhand/deckhand/internal/fleet", false, true},
		{"github.com/deckhand/deckhand/collector", false, false},
		{"net/http", true, false},
	} {
		if got := testCode(c.path, c.std); got != c.want {
			t.Errorf("testCode(%q, std=%v) = %v, want %v", c.path, c.std, got, c.want)
		}
	}
}
