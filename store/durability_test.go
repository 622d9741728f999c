package store_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/store"
	"github.com/deckhand/deckhand/store/storetest"
)

// writeFixture commits one of everything and returns the new alert's id.
func writeFixture(ctx context.Context, s *store.Store) (int64, error) {
	if err := s.SyncHosts(ctx, []deckhand.Host{{Name: "nas", Transport: "ssh", Enabled: true}}); err != nil {
		return 0, err
	}
	if err := s.SaveSnapshot(ctx, deckhand.Snapshot{Host: deckhand.Host{Name: "nas"}, CollectedAt: t0,
		Containers: []deckhand.Container{ctr("nas", "web", "app", deckhand.StateExited)}}); err != nil {
		return 0, err
	}
	alerts := []deckhand.Alert{downAlert("web", t0)}
	if err := s.ApplyAlerts(ctx, alerts, []deckhand.Notice{opened(alerts[0])}, platforms); err != nil {
		return 0, err
	}
	if err := s.AddAudit(ctx, deckhand.AuditEntry{At: t0, Action: deckhand.ActionRestart, Host: "nas",
		Target: "web", Result: "ok"}); err != nil {
		return 0, err
	}
	err := s.RecordAvailability(ctx, t0, time.Minute, []store.Availability{{Host: "nas", Container: "web"}})
	return alerts[0].ID, err
}

func checkFixture(t *testing.T, s *store.Store, alertID int64) {
	t.Helper()
	ctx := context.Background()
	if cs, err := s.Containers(ctx, "nas"); err != nil || len(cs) != 1 || cs[0].Name != "web" {
		t.Errorf("containers = %v, %v", cs, err)
	}
	if a, err := s.Alert(ctx, alertID); err != nil || a.State != deckhand.AlertOpen {
		t.Errorf("alert = %+v, %v", a, err)
	}
	if d, err := s.OutboxDepth(ctx); err != nil || d[deckhand.PlatformDiscord] != 1 || d[deckhand.PlatformTelegram] != 1 {
		t.Errorf("outbox depth = %v, %v", d, err)
	}
	if a, err := s.Audit(ctx, 10); err != nil || len(a) != 1 {
		t.Errorf("audit = %v, %v", a, err)
	}
	up, err := storetest.Uptime(ctx, s, store.Res5m, t0, t0.Add(5*time.Minute))
	if b := up[store.ContainerKey{Host: "nas", Container: "web"}]; err != nil || len(b) != 1 || b[0].Down != time.Minute {
		t.Errorf("uptime = %v, %v", b, err)
	}
}

// TestReopenWithoutClose opens a second Store on the file of one that was
// never closed: everything committed must be visible to it.
func TestReopenWithoutClose(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "deckhand.db")
	s1, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	id, err := writeFixture(ctx, s1)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := store.Open(ctx, path)
	if err != nil {
		t.Fatalf("second Open on a live file: %v", err)
	}
	checkFixture(t, s2, id)
	// Both can go on writing: the second writer waits on busy_timeout.
	if _, err := s2.AddSilence(ctx, deckhand.Silence{Host: "nas", Until: t0.Add(time.Hour)}); err != nil {
		t.Errorf("write from the second store: %v", err)
	}
	if sl, err := s1.ActiveSilences(ctx, t0); err != nil || len(sl) != 1 {
		t.Errorf("first store does not see the second's write: %v, %v", sl, err)
	}
	if err := errors.Join(s2.Close(), s1.Close()); err != nil {
		t.Fatal(err)
	}
}

const crashChildEnv = "DECKHAND_STORE_CRASH_CHILD"

// TestCrashSafety runs a child process that commits a fixture, then keeps
// saving snapshots, printing each committed generation, and kills itself
// with SIGKILL in the middle of that. The parent reopens the file: the
// fixture and every generation the child saw committed must be there, and
// the database must pass an integrity check.
func TestCrashSafety(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	path := filepath.Join(t.TempDir(), "deckhand.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashSafety$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Exited() {
		t.Fatalf("child did not die of a signal: %v\nstdout: %s\nstderr: %s", err, out, stderr.String())
	}

	var alertID, lastGen int64 = 0, -1
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue
		}
		n, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "alert":
			alertID = n
		case "gen":
			lastGen = n
		}
	}
	if alertID == 0 || lastGen < 0 {
		t.Fatalf("child output incomplete:\n%s\nstderr: %s", out, stderr.String())
	}
	t.Logf("child printed generation %d before SIGKILL", lastGen)

	ctx := context.Background()
	re, err := store.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen after crash: %v", err)
	}
	t.Cleanup(func() { re.Close() })
	if err := re.IntegrityCheck(ctx); err != nil {
		t.Fatalf("after crash: %v", err)
	}
	checkFixture(t, re, alertID)
	h, err := re.Host(ctx, "crash")
	if err != nil {
		t.Fatal(err)
	}
	gen := h.LastCollectAt.Sub(t0).Milliseconds()
	// The child may have committed one more generation than it printed.
	if gen < lastGen || gen > lastGen+1 {
		t.Errorf("host collected at generation %d, child printed %d", gen, lastGen)
	}
	cs, err := re.Containers(ctx, "crash")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Status != fmt.Sprint(gen) {
			t.Errorf("container %s from generation %s in a generation %d snapshot", c.Name, c.Status, gen)
		}
	}
	if len(cs) != 5 {
		t.Errorf("%d containers, want 5", len(cs))
	}
}

func crashChild(path string) {
	ctx := context.Background()
	s, err := store.Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	id, err := writeFixture(ctx, s)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Printf("alert %d\n", id)
	self, _ := os.FindProcess(os.Getpid())
	for gen := int64(0); ; gen++ {
		snap := deckhand.Snapshot{Host: deckhand.Host{Name: "crash"}, CollectedAt: t0.Add(time.Duration(gen) * time.Millisecond)}
		for i := range 5 {
			c := ctr("crash", fmt.Sprintf("c%d", i), "", deckhand.StateRunning)
			c.Status = fmt.Sprint(gen)
			snap.Containers = append(snap.Containers, c)
		}
		if gen == 40 {
			// Die while the next transaction is being written.
			go func() { time.Sleep(time.Millisecond); self.Kill() }()
		}
		if err := s.SaveSnapshot(ctx, snap); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Printf("gen %d\n", gen)
	}
}

// TestReadersNeverLocked hammers the single writer (500 snapshots plus
// concurrent audit writers) while 8 readers query without pause: no reader
// or writer may fail, and no reader may see half a snapshot.
func TestReadersNeverLocked(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	const snapshots, perSnap, readers = 500, 10, 8

	var done atomic.Bool
	var reads atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, readers+4)
	for r := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !done.Load() {
				var err error
				switch r % 4 {
				case 0:
					var cs []deckhand.Container
					cs, err = s.Containers(ctx, "busy")
					for _, c := range cs {
						if c.Status != cs[0].Status {
							err = fmt.Errorf("torn snapshot: %s and %s", c.Status, cs[0].Status)
							break
						}
					}
					if err == nil && len(cs) != 0 && len(cs) != perSnap {
						err = fmt.Errorf("torn snapshot: %d containers", len(cs))
					}
				case 1:
					_, err = s.Hosts(ctx)
				case 2:
					_, err = s.ActiveAlerts(ctx)
				case 3:
					_, err = storetest.Uptime(ctx, s, store.Res5m, t0, t0.Add(time.Hour))
				}
				if err != nil {
					errc <- fmt.Errorf("reader %d: %w", r, err)
					return
				}
				reads.Add(1)
			}
		}()
	}
	// Other writers compete for the single write connection.
	var wwg sync.WaitGroup
	for w := range 2 {
		wwg.Add(1)
		go func() {
			defer wwg.Done()
			for i := 0; !done.Load(); i++ {
				var err error
				if w == 0 {
					err = s.RecordAvailability(ctx, t0.Add(time.Duration(i)*time.Second), time.Second,
						[]store.Availability{{Host: "busy", Container: "c0", Up: i%2 == 0}})
				} else {
					err = s.AddAudit(ctx, deckhand.AuditEntry{At: t0, Action: deckhand.ActionStatus})
				}
				if err != nil {
					errc <- fmt.Errorf("writer %d: %w", w, err)
					return
				}
			}
		}()
	}

	for gen := range snapshots {
		snap := deckhand.Snapshot{Host: deckhand.Host{Name: "busy"}, CollectedAt: t0.Add(time.Duration(gen) * time.Second)}
		for i := range perSnap {
			// Containers come and go so that deletes happen too.
			c := ctr("busy", fmt.Sprintf("c%d", (i+gen)%(perSnap+3)), "", deckhand.StateRunning)
			c.Status = strconv.Itoa(gen)
			snap.Containers = append(snap.Containers, c)
		}
		if err := s.SaveSnapshot(ctx, snap); err != nil {
			t.Errorf("snapshot %d: %v", gen, err)
			break
		}
	}
	done.Store(true)
	wg.Wait()
	wwg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if reads.Load() == 0 {
		t.Error("readers never ran")
	}
	t.Logf("%d reads during %d snapshots", reads.Load(), snapshots)
}
