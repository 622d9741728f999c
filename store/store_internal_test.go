package store

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deckhand/deckhand"
)

func openInternal(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sub dir?#%", "deckhand.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func TestOpenRefusesMemory(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file::memory:?cache=shared"} {
		if _, err := Open(context.Background(), p); !errors.Is(err, deckhand.ErrInvalidInput) {
			t.Errorf("Open(%q) = %v, want ErrInvalidInput", p, err)
		}
	}
}

func TestPragmas(t *testing.T) {
	s, _ := openInternal(t)
	ctx := context.Background()
	want := map[string]string{
		"journal_mode": "wal",
		"foreign_keys": "1",
		"busy_timeout": "5000",
		"synchronous":  "1", // NORMAL
		"query_only":   "0",
	}
	for p, v := range want {
		var got string
		if err := s.w.QueryRowContext(ctx, "PRAGMA "+p).Scan(&got); err != nil {
			t.Fatalf("writer PRAGMA %s: %v", p, err)
		}
		if !strings.EqualFold(got, v) {
			t.Errorf("writer %s = %q, want %q", p, got, v)
		}
	}
	want["query_only"] = "1"
	for p, v := range want {
		var got string
		if err := s.r.QueryRowContext(ctx, "PRAGMA "+p).Scan(&got); err != nil {
			t.Fatalf("reader PRAGMA %s: %v", p, err)
		}
		if !strings.EqualFold(got, v) {
			t.Errorf("reader %s = %q, want %q", p, got, v)
		}
	}
	if _, err := s.r.ExecContext(ctx, `INSERT INTO hosts (name) VALUES ('x')`); err == nil {
		t.Error("the read pool accepted a write")
	}
	if got := s.w.Stats().MaxOpenConnections; got != 1 {
		t.Errorf("writer max open conns = %d, want 1", got)
	}
}

func TestMigrationsReopenIsNoop(t *testing.T) {
	s, path := openInternal(t)
	ctx := context.Background()
	versions := func(s *Store) (n int, max int64) {
		t.Helper()
		if err := s.r.QueryRowContext(ctx,
			`SELECT count(*), coalesce(max(version_id), 0) FROM goose_db_version`).Scan(&n, &max); err != nil {
			t.Fatalf("goose_db_version: %v", err)
		}
		return n, max
	}
	n1, v1 := versions(s)
	if v1 < 1 {
		t.Fatalf("schema version = %d, want >= 1", v1)
	}
	if err := s.SyncHosts(ctx, []deckhand.Host{{Name: "nas", Enabled: true}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s2.Close()
	n2, v2 := versions(s2)
	if n1 != n2 || v1 != v2 {
		t.Errorf("reopen changed goose_db_version: (%d rows, v%d) -> (%d rows, v%d)", n1, v1, n2, v2)
	}
	if _, err := s2.Host(ctx, "nas"); err != nil {
		t.Errorf("data lost on reopen: %v", err)
	}
}

// TestUniqueKeys checks the constraints the rest of deckhand relies on, by
// writing around the API.
func TestUniqueKeys(t *testing.T) {
	s, _ := openInternal(t)
	ctx := context.Background()
	setup := []string{
		`INSERT INTO hosts (id, name) VALUES (1, 'nas')`,
		`INSERT INTO containers (host_id, container_id, name, first_seen_at, last_update_at) VALUES (1, 'c1', 'web', 0, 0)`,
		`INSERT INTO images (host_id, image_id, last_update_at) VALUES (1, 'sha256:a', 0)`,
		`INSERT INTO volumes (host_id, name, last_update_at) VALUES (1, 'data', 0)`,
		`INSERT INTO alerts (id, host, container_name, kind, state) VALUES (1, 'nas', 'web', 'container_down', 'open')`,
		`INSERT INTO alerts (id, host, container_name, kind, state) VALUES (2, 'nas', 'web', 'container_down', 'closed')`,
		`INSERT INTO message_refs (alert_id, platform, ref) VALUES (1, 'discord', 'c/1')`,
		`INSERT INTO uptime_buckets (host, container, resolution, bucket_start) VALUES ('nas', 'web', '5m', 0)`,
		`INSERT INTO outages (host, container, "start") VALUES ('nas', 'web', 0)`,
	}
	for _, q := range setup {
		if _, err := s.w.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	tests := []struct {
		name string
		q    string
		ok   bool
	}{
		{"host name", `INSERT INTO hosts (name) VALUES ('nas')`, false},
		{"container per host", `INSERT INTO containers (host_id, container_id, name, first_seen_at, last_update_at) VALUES (1, 'c1', 'other', 0, 0)`, false},
		{"container needs host", `INSERT INTO containers (host_id, container_id, name, first_seen_at, last_update_at) VALUES (9, 'c9', 'x', 0, 0)`, false},
		{"image per host", `INSERT INTO images (host_id, image_id, last_update_at) VALUES (1, 'sha256:a', 0)`, false},
		{"volume per host", `INSERT INTO volumes (host_id, name, last_update_at) VALUES (1, 'data', 0)`, false},
		{"second active alert", `INSERT INTO alerts (host, container_name, kind, state) VALUES ('nas', 'web', 'container_down', 'pending')`, false},
		{"second closed alert", `INSERT INTO alerts (host, container_name, kind, state) VALUES ('nas', 'web', 'container_down', 'closed')`, true},
		{"other kind", `INSERT INTO alerts (host, container_name, kind, state) VALUES ('nas', 'web', 'unhealthy', 'open')`, true},
		{"bad alert state", `INSERT INTO alerts (host, container_name, kind, state) VALUES ('nas', 'db', 'unhealthy', 'weird')`, false},
		{"message ref per platform", `INSERT INTO message_refs (alert_id, platform, ref) VALUES (1, 'discord', 'c/2')`, false},
		{"message ref other platform", `INSERT INTO message_refs (alert_id, platform, ref) VALUES (1, 'telegram', 't/2')`, true},
		{"bucket", `INSERT INTO uptime_buckets (host, container, resolution, bucket_start) VALUES ('nas', 'web', '5m', 0)`, false},
		{"bad resolution", `INSERT INTO uptime_buckets (host, container, resolution, bucket_start) VALUES ('nas', 'web', '2m', 0)`, false},
		{"second open outage", `INSERT INTO outages (host, container, "start") VALUES ('nas', 'web', 5)`, false},
		{"closed outage", `INSERT INTO outages (host, container, "start", "end") VALUES ('nas', 'web', 5, 6)`, true},
		{"outbox payload json", `INSERT INTO outbox (platform, kind, payload, next_attempt_at, created_at) VALUES ('ntfy', 'opened', 'not json', 0, 0)`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.w.ExecContext(ctx, tt.q)
			if tt.ok && err != nil {
				t.Errorf("refused: %v", err)
			}
			if !tt.ok && err == nil {
				t.Error("accepted")
			}
		})
	}
}
