package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/store"
)

// `deckhand outbox list` shows what was not delivered, dead or queued;
// `deckhand outbox retry` queues dead notifications again.
func TestOutboxCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "d.db")
	cfgPath := filepath.Join(dir, "deckhand.toml")
	if err := os.WriteFile(cfgPath, []byte("data = \""+db+"\"\n"+local), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	down := deckhand.Notice{Kind: deckhand.NoticeOpened, At: created, Alert: deckhand.Alert{
		Key: deckhand.AlertKey{Host: "nas", Container: "web", Kind: deckhand.AlertContainerDown}, Severity: deckhand.SeverityError, State: deckhand.AlertOpen}}
	news := deckhand.Notice{Kind: deckhand.NoticeAnnouncement, Text: "upgrade tonight", At: created}
	if err := st.Enqueue(ctx,
		deckhand.OutboxItem{Platform: deckhand.PlatformDiscord, Notice: down, CreatedAt: created},
		deckhand.OutboxItem{Platform: deckhand.PlatformNtfy, Notice: news, CreatedAt: created},
	); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkFailed(ctx, 1, created, "discord: HTTP 400: Invalid Form Body\n(code 50035)", true); err != nil {
		t.Fatal(err)
	}
	st.Close()

	outbox := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append([]string{"outbox"}, append(args, "--config", cfgPath)...), &out, &out)
		return out.String(), err
	}
	out, err := outbox("list")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ID", "LAST ERROR", "discord", "opened", "nas/web", "dead", "2026-03-14T09:00:00Z",
		"discord: HTTP 400: Invalid Form Body (code 50035)", "ntfy", "announcement", "queued, next", "1 dead, 1 queued"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}

	// Flags may come before or after the IDs.
	if out, err := outbox("retry", "1"); err != nil || !strings.Contains(out, "queued 1 dead notification(s) again") {
		t.Errorf("retry 1: %v\n%s", err, out)
	}
	if out, _ := outbox("list"); !strings.Contains(out, "0 dead, 2 queued") {
		t.Errorf("after retry:\n%s", out)
	}
	if _, err := outbox("retry", "2"); !errors.Is(err, deckhand.ErrNotFound) || !strings.Contains(err.Error(), "not dead") {
		t.Errorf("retry of a queued row: %v", err)
	}
	if out, err := outbox("retry", "--all"); err != nil || !strings.Contains(out, "queued 0") {
		t.Errorf("retry --all with none dead: %v %s", err, out)
	}
	for _, bad := range [][]string{{}, {"purge"}, {"retry"}, {"retry", "--all", "1"}, {"retry", "x"}, {"list", "1"}} {
		var ue usageError
		if _, err := outbox(bad...); !errors.As(err, &ue) {
			t.Errorf("outbox %v: %v, want a usage error", bad, err)
		}
	}
}
