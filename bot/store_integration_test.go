package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/bot"
	"github.com/deckhand/deckhand/bot/ntfy"
	"github.com/deckhand/deckhand/bot/ntfy/ntfytest"
	"github.com/deckhand/deckhand/store"
	"github.com/deckhand/deckhand/store/storetest"
)

// The real SQLite store satisfies bot.Outbox.
var _ bot.Outbox = (*store.Store)(nil)

func enqueue(t *testing.T, st *store.Store, hosts ...string) {
	t.Helper()
	for _, h := range hosts {
		// Alert.ID stays 0: these notices are not linked to alert rows.
		n := deckhand.Notice{Kind: deckhand.NoticeOpened, At: time.Now(), Alert: deckhand.Alert{
			Key:      deckhand.AlertKey{Host: h, Container: "web", Kind: deckhand.AlertContainerDown},
			Severity: deckhand.SeverityError, State: deckhand.AlertOpen,
		}}
		if err := st.Enqueue(context.Background(), deckhand.OutboxItem{Platform: deckhand.PlatformNtfy, Notice: n}); err != nil {
			t.Fatal(err)
		}
	}
}

// runUntil runs a fresh dispatcher on st until the fake holds want messages,
// then shuts it down, like a deckhand process that starts and stops.
func runUntil(t *testing.T, st *store.Store, srv *ntfytest.Server, want int) {
	t.Helper()
	sender, err := ntfy.New(ntfy.Config{Server: srv.URL, Topic: "deckhand"}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := bot.NewDispatcher(st, []bot.Sender{sender}, bot.DispatcherOptions{
		Poll: 10 * time.Millisecond, Backoff: []time.Duration{5 * time.Millisecond}, ProbeBackoff: []time.Duration{5 * time.Millisecond},
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	d.Kick()
	srv.WaitFor(t, want, 30*time.Second)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestStoreBackedDeliveryAcrossRestarts(t *testing.T) {
	st := storetest.Open(t)
	srv := ntfytest.NewServer(t)
	srv.FailNext(2)
	srv.RateLimitNext(1, "0")
	enqueue(t, st, "nas", "pi", "vps")
	runUntil(t, st, srv, 3)

	// A restart finds nothing left to send, then delivers what is new.
	enqueue(t, st, "nuc")
	runUntil(t, st, srv, 4)

	msgs := srv.Messages()
	var got []string
	for _, m := range msgs {
		got = append(got, strings.SplitN(m.Title, "/", 2)[0])
	}
	if strings.Join(got, ",") != "nas,pi,vps,nuc" {
		t.Errorf("delivered %v, want each once in order", got)
	}
	depth, err := st.OutboxDepth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if depth[deckhand.PlatformNtfy] != 0 {
		t.Errorf("outbox still holds %d ntfy items", depth[deckhand.PlatformNtfy])
	}
}

// startDispatcher runs a dispatcher for sender on st until the test ends
// or stop is called.
func startDispatcher(t *testing.T, st *store.Store, opts bot.DispatcherOptions, senders ...bot.Sender) (d *bot.Dispatcher, stop func()) {
	t.Helper()
	d = bot.NewDispatcher(st, senders, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(stop)
	d.Kick()
	return d, stop
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A wrong ntfy token dead-lettered the alert after one try, silently:
// fixing the token and restarting delivered nothing. The notice now stays
// queued, the credentials problem is on record, and the restart with the
// right token delivers it.
func TestWrongTokenKeepsTheNoticeUntilTheFix(t *testing.T) {
	st := storetest.Open(t)
	srv := ntfytest.NewServer(t)
	srv.RequireToken("tk_right")
	enqueue(t, st, "nas")
	wrong, err := ntfy.New(ntfy.Config{Server: srv.URL, Topic: "deckhand", Token: "tk_wrong"}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := bot.NewHealth()
	_, stop := startDispatcher(t, st, bot.DispatcherOptions{Poll: 10 * time.Millisecond, Health: h}, wrong)
	waitFor(t, 10*time.Second, "the credentials problem", func() bool { return !h.Up(deckhand.PlatformNtfy) })
	stop()
	if p := h.Problems(); len(p) != 1 || p[0].Part != bot.PartCredentials || strings.Contains(p[0].Text, "tk_wrong") {
		t.Errorf("problems = %+v: want the credentials, without the token", p)
	}
	ctx := context.Background()
	dead, _ := st.OutboxDead(ctx)
	depth, _ := st.OutboxDepth(ctx)
	if dead[deckhand.PlatformNtfy] != 0 || depth[deckhand.PlatformNtfy] != 1 {
		t.Fatalf("dead %v queued %v: the notice must wait for the fix", dead, depth)
	}

	// The fix, then a restart.
	runUntilWithToken(t, st, srv, "tk_right", 1)
	if msgs := srv.Messages(); len(msgs) != 1 || !strings.HasPrefix(msgs[0].Title, "nas/") {
		t.Errorf("delivered %+v", msgs)
	}
}

func runUntilWithToken(t *testing.T, st *store.Store, srv *ntfytest.Server, token string, want int) {
	t.Helper()
	sender, err := ntfy.New(ntfy.Config{Server: srv.URL, Topic: "deckhand", Token: token}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, stop := startDispatcher(t, st, bot.DispatcherOptions{Poll: 10 * time.Millisecond}, sender)
	srv.WaitFor(t, want, 30*time.Second)
	stop()
}

// After an outage in which ntfy hung, queued notices go out within 5 s of
// it answering again (the requirement; it is the deadline below), and
// during the outage it was probed, not sent the notices again and again.
func TestOutageDeliversSoonAfterThePlatformAnswers(t *testing.T) {
	st := storetest.Open(t)
	srv := ntfytest.NewServer(t)
	srv.Down(true)
	enqueue(t, st, "nas", "pi")
	sender, err := ntfy.New(ntfy.Config{Server: srv.URL, Topic: "deckhand", Timeout: time.Second}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	startDispatcher(t, st, bot.DispatcherOptions{}, sender) // the daemon's defaults
	waitFor(t, 30*time.Second, "a few requests during the outage", func() bool { return srv.Requests() >= 3 })
	if n := srv.Publishes(); n != 1 {
		t.Errorf("%d publishes during the outage, want 1: a failing platform is probed cheaply", n)
	}
	srv.Up()
	srv.WaitFor(t, 2, 5*time.Second)
}
