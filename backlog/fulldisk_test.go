package backlog_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/alerts"
	"github.com/deckhand/deckhand/backlog"
	"github.com/deckhand/deckhand/bot"
	"github.com/deckhand/deckhand/collector"
	"github.com/deckhand/deckhand/internal/logtest"
	"github.com/deckhand/deckhand/monitor"
	"github.com/deckhand/deckhand/store"
	"github.com/deckhand/deckhand/store/storetest"
)

// box is one host with one watched container whose state the test sets.
type box struct {
	mu    sync.Mutex
	down  map[string]bool
	names []string
}

func (b *box) set(name string, down bool) { b.mu.Lock(); b.down[name] = down; b.mu.Unlock() }

func (b *box) Collect(context.Context, string, bool) deckhand.Snapshot {
	b.mu.Lock()
	defer b.mu.Unlock()
	snap := deckhand.Snapshot{Host: deckhand.Host{Name: "nas", Status: deckhand.HostOK, Enabled: true}, CollectedAt: time.Now()}
	for _, n := range b.names {
		c := deckhand.Container{Host: "nas", ID: "id-" + n, Name: n, State: deckhand.StateRunning, RestartPolicy: "no",
			Labels: map[string]string{deckhand.LabelMonitor: "true"}}
		if b.down[n] {
			c.State, c.ExitCode, c.Status = deckhand.StateExited, 137, "Exited (137)"
		}
		snap.Containers = append(snap.Containers, c)
	}
	return snap
}

func (b *box) CollectQuick(ctx context.Context, host string) (deckhand.Snapshot, int) {
	return b.Collect(ctx, host, false), 0
}

func (*box) Events(ctx context.Context, _ string, _ func(collector.Event)) error {
	<-ctx.Done()
	return nil
}

// chat is a sender that posts a message per new notice and edits the one
// named by Ref, as Discord and Telegram do.
type chat struct {
	mu   sync.Mutex
	n    int
	sent []deckhand.OutboxItem
	refs []string
}

func (*chat) Platform() string { return deckhand.PlatformTelegram }

func (c *chat) Send(_ context.Context, it deckhand.OutboxItem) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ref := it.Ref
	if ref == "" {
		c.n++
		ref = fmt.Sprintf("chat/%d", c.n)
	}
	c.sent = append(c.sent, it)
	c.refs = append(c.refs, ref)
	return ref, nil
}

func (c *chat) items() ([]deckhand.OutboxItem, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]deckhand.OutboxItem(nil), c.sent...), append([]string(nil), c.refs...)
}

// waitSent waits until the chat got an item for which ok holds.
func (c *chat) waitSent(t *testing.T, what string, ok func(deckhand.OutboxItem) bool) (deckhand.OutboxItem, string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		items, refs := c.items()
		for i, it := range items {
			if ok(it) {
				return it, refs[i]
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	items, _ := c.items()
	t.Fatalf("no %s delivered in 20s; delivered: %s", what, kinds(items))
	return deckhand.OutboxItem{}, ""
}

func kinds(items []deckhand.OutboxItem) string {
	var out []string
	for _, it := range items {
		out = append(out, fmt.Sprintf("%d:%s/%s#%d%s", it.ID, it.Notice.Kind, it.Notice.Alert.Key.Container, it.Notice.Alert.ID, cut(it.Notice.Text)))
	}
	return strings.Join(out, " ")
}

func isKind(kind deckhand.NoticeKind, container string) func(deckhand.OutboxItem) bool {
	return func(it deckhand.OutboxItem) bool {
		return it.Notice.Kind == kind && it.Notice.Alert.Key.Container == container
	}
}

func isSystem(prefix string) func(deckhand.OutboxItem) bool {
	return func(it deckhand.OutboxItem) bool {
		return it.Notice.Kind == deckhand.NoticeSystem && strings.HasPrefix(it.Notice.Text, prefix)
	}
}

// rig is deckhand's alert path on a real store: the monitor, the backlog
// and the dispatcher with one chat, on one host with web and db.
type rig struct {
	ctx    context.Context
	st     *store.Store
	bl     *backlog.Backlog
	health *bot.Health
	logs   *logtest.Buffer
	host   *box
	chat   *chat
}

func newRig(t *testing.T, dbPath string) *rig {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st, err := store.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.SyncHosts(ctx, []deckhand.Host{{Name: "nas", Enabled: true}}); err != nil {
		t.Fatal(err)
	}
	r := &rig{ctx: ctx, st: st, health: bot.NewHealth(), logs: &logtest.Buffer{},
		host: &box{down: map[string]bool{}, names: []string{"web", "db"}}, chat: &chat{}}
	platforms := []string{deckhand.PlatformTelegram}
	r.bl = backlog.New(st, backlog.Options{Platforms: platforms, Health: r.health, Retry: 50 * time.Millisecond,
		Settle: 200 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(r.logs, nil))})
	acfg := alerts.DefaultConfig()
	acfg.RecoveryHold = 300 * time.Millisecond
	eng, err := alerts.New(acfg)
	if err != nil {
		t.Fatal(err)
	}
	mon, err := monitor.New(monitor.Config{Hosts: []string{"nas"}, Platforms: platforms, Interval: 50 * time.Millisecond,
		InventoryInterval: time.Hour}, monitor.Deps{Store: r.bl, Collector: r.host, Engine: eng})
	if err != nil {
		t.Fatal(err)
	}
	disp := bot.NewDispatcher(r.bl, []bot.Sender{r.chat}, bot.DispatcherOptions{Poll: 10 * time.Millisecond})
	var wg sync.WaitGroup
	wg.Go(func() { _ = disp.Run(ctx) })
	wg.Go(func() { _ = mon.Run(ctx) })
	wg.Go(func() { r.bl.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return r
}

// outage runs the story around a broken disk: db goes down before it
// breaks, web after; both recover while it is broken. Every notice must
// reach the chat, admins must be told why, recoveries must edit their
// alert's message. It returns the opening of web and its message.
func (r *rig) outage(t *testing.T, breakDisk func(), reason string) (deckhand.OutboxItem, string) {
	t.Helper()
	r.host.set("db", true)
	_, dbRef := r.chat.waitSent(t, "opening of db", isKind(deckhand.NoticeOpened, "db"))

	breakDisk()
	r.host.set("web", true)
	want := "deckhand cannot write its database: " + reason
	r.chat.waitSent(t, "system notice", isSystem(want))
	opened, webRef := r.chat.waitSent(t, "opening of web", isKind(deckhand.NoticeOpened, "web"))
	if p := r.health.Problems(); len(p) != 1 || p[0].Text != want {
		t.Errorf("health while the disk is broken: %+v, want %q", p, want)
	}
	if !strings.Contains(r.logs.String(), "level=ERROR") || !strings.Contains(r.logs.String(), reason) {
		t.Errorf("no ERROR saying %s:\n%s", reason, r.logs.String())
	}

	// Both recover while the disk is still broken; the polls meanwhile
	// open nothing anew.
	r.host.set("web", false)
	r.host.set("db", false)
	rec, recRef := r.chat.waitSent(t, "recovery of web", isKind(deckhand.NoticeRecovered, "web"))
	if rec.Notice.Alert.ID != opened.Notice.Alert.ID || recRef != webRef {
		t.Errorf("recovery of web is about alert %d and edits %q; the opening was alert %d, message %q",
			rec.Notice.Alert.ID, recRef, opened.Notice.Alert.ID, webRef)
	}
	_, dbRecRef := r.chat.waitSent(t, "recovery of db", isKind(deckhand.NoticeRecovered, "db"))
	if dbRecRef != dbRef {
		t.Errorf("recovery of db edits %q, its opening was %q", dbRecRef, dbRef)
	}
	return opened, webRef
}

// sentOnce checks, after a few more polls, that no notice went out twice
// and that want of them went out.
func (r *rig) sentOnce(t *testing.T, want int) {
	t.Helper()
	time.Sleep(500 * time.Millisecond) // a duplicate would have gone out within a few polls
	items, _ := r.chat.items()
	seen := map[string]bool{}
	for _, it := range items {
		k := fmt.Sprintf("%s/%s#%d/%s", it.Notice.Kind, it.Notice.Alert.Key.Container, it.Notice.Alert.ID, it.Notice.Text)
		if seen[k] {
			t.Errorf("sent twice: %s (all: %s)", k, kinds(items))
		}
		seen[k] = true
	}
	if len(items) != want {
		t.Errorf("%d notices delivered, want %d: %s", len(items), want, kinds(items))
	}
}

// TestOutageWhileTheDiskIsFull is issue 11: with the database's filesystem
// full (a real tmpfs, filled), a container going down is notified, its
// recovery edits that message, admins are told, and once space is freed
// the alert, its recovery and the delivery records are in the database,
// with nothing sent twice.
func TestOutageWhileTheDiskIsFull(t *testing.T) {
	disk := storetest.SmallDisk(t, 4<<20)
	r := newRig(t, disk.Path("deckhand.db"))
	ctx, st := r.ctx, r.st
	opened, webRef := r.outage(t, func() { disk.Fill(t) }, "disk full")

	disk.Free(t)
	r.chat.waitSent(t, "all-clear", isSystem("deckhand can write its database again"))
	if p := r.health.Problems(); len(p) != 0 {
		t.Errorf("health once written: %+v", p)
	}

	// The database now holds what happened, under the IDs the chat saw.
	got, err := st.Alert(ctx, opened.Notice.Alert.ID)
	if err != nil || got.State != deckhand.AlertClosed || got.Key.Container != "web" {
		t.Errorf("alert %d of web in the database: %+v, %v", opened.Notice.Alert.ID, got, err)
	}
	if active, err := st.ActiveAlerts(ctx); err != nil || len(active) != 0 {
		t.Errorf("active alerts in the database: %+v, %v", active, err)
	}
	if ref, err := st.MessageRef(ctx, opened.Notice.Alert.ID, deckhand.PlatformTelegram); err != nil || ref != webRef {
		t.Errorf("message ref of web: %q, %v, want %q", ref, err, webRef)
	}
	// The all-clear itself is recorded just after the chat got it.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		depth, err := st.OutboxDepth(ctx)
		if err == nil && depth[deckhand.PlatformTelegram] == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("outbox depth after writing: %v, %v (items delivered from memory were not recorded as sent)", depth, err)
			break
		}
	}
	// db opened, system, web opened, 2 recoveries, all-clear.
	r.sentOnce(t, 6)
}

// TestOutageWhileTheDiskFails: an ext4 filesystem that reports an error
// turns read-only under the open database (errors=remount-ro), and stays
// so until it is unmounted and checked; SQLite says "disk I/O error". What
// deckhand computes meanwhile is still delivered, once, and stays held.
func TestOutageWhileTheDiskFails(t *testing.T) {
	disk := storetest.Ext4Disk(t, 32<<20)
	r := newRig(t, disk.Path("deckhand.db"))
	r.outage(t, func() { disk.Break(t) }, "I/O error")
	if reason, n := r.bl.Holding(); reason != "I/O error" || n != 4 {
		t.Errorf("holding %q with %d items, want I/O error with 4: the system notice, web's opening, 2 recoveries", reason, n)
	}
	// db opened, system, web opened, 2 recoveries.
	r.sentOnce(t, 5)
}

// cut is the first words of a system notice, for failure messages.
func cut(text string) string {
	if i := strings.IndexByte(text, '.'); i >= 0 {
		text = text[:i]
	}
	if text == "" {
		return ""
	}
	return " (" + text + ")"
}
