package monitor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/deckhand/deckhand/internal/ratelog"
)

// A database that cannot be written fails every poll: it is logged once a
// minute per kind of write, a refused write every time.
func TestWriteFailuresAreLoggedOnceAMinute(t *testing.T) {
	var buf bytes.Buffer
	m := &Monitor{log: slog.New(slog.NewTextHandler(&buf, nil)), writeErrs: ratelog.Keyed{Period: time.Minute}}
	ctx := context.Background()
	full := fmt.Errorf("save snapshot: %w", syscall.ENOSPC)
	for range 10 {
		m.logErr(ctx, "save snapshot", full, "host", "nas")
	}
	m.logErr(ctx, "record availability", full)
	refused := errors.New("constraint failed")
	for range 3 {
		m.logErr(ctx, "save alerts", refused)
	}
	if n := strings.Count(buf.String(), `msg="save snapshot"`); n != 1 {
		t.Errorf("disk full logged %d times in a minute, want 1:\n%s", n, buf.String())
	}
	if n := strings.Count(buf.String(), `msg="record availability"`); n != 1 {
		t.Errorf("another write's failure is its own line: %d", n)
	}
	if n := strings.Count(buf.String(), `msg="save alerts"`); n != 3 {
		t.Errorf("a refused write is logged every time: %d", n)
	}
}
