package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
)

// scriptSender fails its first calls with the scripted errors, then
// delivers. hang makes every call wait for its context instead.
type scriptSender struct {
	platform string
	hang     bool

	mu     sync.Mutex
	script []error
	calls  []int64
	plain  []bool // Plain of each call
	sent   []int64
}

func (s *scriptSender) Platform() string { return s.platform }

func (s *scriptSender) Send(ctx context.Context, it deckhand.OutboxItem) (string, error) {
	s.mu.Lock()
	s.calls = append(s.calls, it.ID)
	s.plain = append(s.plain, it.Plain)
	var err error
	if len(s.script) > 0 {
		err, s.script = s.script[0], s.script[1:]
	}
	s.mu.Unlock()
	if s.hang {
		<-ctx.Done()
		return "", ctx.Err()
	}
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.sent = append(s.sent, it.ID)
	s.mu.Unlock()
	return fmt.Sprintf("ref-%d", it.ID), nil
}

func (s *scriptSender) delivered() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sent)
}

func (s *scriptSender) called() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

func notice(host, container string) deckhand.Notice {
	return deckhand.Notice{
		Kind: deckhand.NoticeOpened,
		Alert: deckhand.Alert{ID: 1, Key: deckhand.AlertKey{Host: host, Container: container, Kind: deckhand.AlertContainerDown},
			Severity: deckhand.SeverityError, State: deckhand.AlertOpen},
		At: time.Now(),
	}
}

// run starts d and stops it when the test ends, failing if Run errs.
func run(t *testing.T, d *Dispatcher) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Errorf("Run did not return after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

var fast = []time.Duration{time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond}

func TestDispatcherRetriesTransientFailuresInOrder(t *testing.T) {
	ob := newMemOutbox()
	var ids []int64
	for i := range 5 {
		ids = append(ids, ob.add("ntfy", notice("nas", fmt.Sprintf("c%d", i))))
	}
	transient := errors.New("connection refused")
	s := &scriptSender{platform: "ntfy", script: []error{transient, transient, transient}}
	var mu sync.Mutex
	results := map[bool]int{}
	d := NewDispatcher(ob, []Sender{s}, DispatcherOptions{
		Poll: 5 * time.Millisecond, Backoff: fast,
		Metrics: func(p string, ok bool) {
			mu.Lock()
			defer mu.Unlock()
			if p != "ntfy" {
				t.Errorf("metrics platform %q", p)
			}
			results[ok]++
		},
	})
	run(t, d)
	waitUntil(t, 10*time.Second, "5 deliveries", func() bool { return len(s.delivered()) == 5 })

	if got := s.delivered(); !slices.Equal(got, ids) {
		t.Errorf("delivered %v, want %v in order", got, ids)
	}
	// The failed item is retried before anything newer is tried.
	if got, want := s.called(), append([]int64{1, 1, 1}, ids...); !slices.Equal(got, want) {
		t.Errorf("attempts %v, want %v", got, want)
	}
	first := ob.snapshot(ids[0])
	if first.Attempts != 3 || first.SentAt.IsZero() || first.Ref != "ref-1" || first.LastError != "connection refused" {
		t.Errorf("first item = attempts %d sent %v ref %q err %q", first.Attempts, first.SentAt, first.Ref, first.LastError)
	}
	mu.Lock()
	defer mu.Unlock()
	if results[true] != 5 || results[false] != 3 {
		t.Errorf("metrics ok=%d failed=%d, want 5 and 3", results[true], results[false])
	}
}

func TestDispatcherBackoffSchedule(t *testing.T) {
	ob := newMemOutbox()
	id := ob.add("ntfy", notice("nas", "db"))
	fail := errors.New("502")
	s := &scriptSender{platform: "ntfy", script: []error{fail, fail, fail, fail}}
	var mu sync.Mutex
	var nows []time.Time
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		n := time.Now()
		nows = append(nows, n)
		return n
	}
	backoff := []time.Duration{time.Millisecond, 3 * time.Millisecond, 7 * time.Millisecond}
	run(t, NewDispatcher(ob, []Sender{s}, DispatcherOptions{Now: now, Poll: time.Millisecond, Backoff: backoff}))
	waitUntil(t, 10*time.Second, "delivery", func() bool { return len(s.delivered()) == 1 })

	it := ob.snapshot(id)
	if it.Attempts != 4 || len(it.failed) != 4 {
		t.Fatalf("attempts %d, failures recorded %d, want 4", it.Attempts, len(it.failed))
	}
	// Each next attempt is some clock reading plus the scheduled delay; the
	// cap (last entry) repeats.
	want := []time.Duration{time.Millisecond, 3 * time.Millisecond, 7 * time.Millisecond, 7 * time.Millisecond}
	mu.Lock()
	defer mu.Unlock()
	for i, next := range it.failed {
		if !slices.ContainsFunc(nows, func(n time.Time) bool { return n.Add(want[i]).Equal(next) }) {
			t.Errorf("failure %d: next attempt is not now+%s", i+1, want[i])
		}
	}
}

// An item the platform refuses in its full form and in its plain form is
// dead-lettered after that one attempt, and the next item goes out.
func TestDispatcherPermanentDeadLetters(t *testing.T) {
	ob := newMemOutbox()
	bad := ob.add("telegram", notice("nas", "bad"))
	good := ob.add("telegram", notice("nas", "good"))
	ptrBad := ob.add("telegram", notice("nas", "bad2"))
	refused := Permanent{Err: errors.New("400 chat not found")}
	s := &scriptSender{platform: "telegram", script: []error{refused, refused}}
	// ptrBad gets the pointer form, wrapped.
	s2 := &permanentOnce{scriptSender: s, ptrFor: ptrBad}
	run(t, NewDispatcher(ob, []Sender{s2}, DispatcherOptions{Poll: time.Millisecond, Backoff: fast, MaxAttempts: 0}))
	waitUntil(t, 10*time.Second, "the good item", func() bool { return !ob.snapshot(good).SentAt.IsZero() })
	waitUntil(t, 10*time.Second, "the second bad item", func() bool { return ob.snapshot(ptrBad).dead })

	for _, id := range []int64{bad, ptrBad} {
		it := ob.snapshot(id)
		if !it.dead || it.Attempts != 1 || !it.SentAt.IsZero() {
			t.Errorf("item %d: dead=%v attempts=%d sent=%v, want dead after one attempt", id, it.dead, it.Attempts, it.SentAt)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range []int64{bad, ptrBad} {
		var forms []bool
		for i, c := range s.calls {
			if c == id {
				forms = append(forms, s.plain[i])
			}
		}
		if !slices.Equal(forms, []bool{false, true}) {
			t.Errorf("dead item %d sent as plain=%v, want the full form then the plain one", id, forms)
		}
	}
}

// A Discord embed over 6000 characters got a 400 and the alert was lost:
// a permanent rejection of the full form now sends the plain form, and
// only that failing too makes the item dead.
func TestDispatcherPermanentFallsBackToPlain(t *testing.T) {
	ob := newMemOutbox()
	id := ob.add("discord", notice("nas", "huge"))
	s := &scriptSender{platform: "discord", script: []error{Permanent{Err: errors.New("HTTP 400: Embed size exceeds maximum size of 6000")}}}
	run(t, NewDispatcher(ob, []Sender{s}, DispatcherOptions{Poll: time.Millisecond, Backoff: fast}))
	waitUntil(t, 10*time.Second, "delivery", func() bool { return !ob.snapshot(id).SentAt.IsZero() })
	it := ob.snapshot(id)
	if it.dead || it.Attempts != 0 || it.Ref != "ref-1" {
		t.Errorf("dead=%v attempts=%d ref=%q, want delivered by the plain form", it.dead, it.Attempts, it.Ref)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slices.Equal(s.plain, []bool{false, true}) {
		t.Errorf("forms sent plain=%v, want full then plain", s.plain)
	}
}

// permanentOnce returns *Permanent for one item.
type permanentOnce struct {
	*scriptSender
	ptrFor int64
}

func (p *permanentOnce) Send(ctx context.Context, it deckhand.OutboxItem) (string, error) {
	if it.ID == p.ptrFor {
		p.mu.Lock()
		p.calls = append(p.calls, it.ID)
		p.plain = append(p.plain, it.Plain)
		p.mu.Unlock()
		return "", fmt.Errorf("wrapped: %w", &Permanent{Err: errors.New("403")})
	}
	return p.scriptSender.Send(ctx, it)
}

func TestDispatcherMaxAttempts(t *testing.T) {
	ob := newMemOutbox()
	id := ob.add("discord", notice("nas", "db"))
	next := ob.add("discord", notice("nas", "web"))
	fail := errors.New("503")
	s := &scriptSender{platform: "discord", script: []error{fail, fail, fail}}
	run(t, NewDispatcher(ob, []Sender{s}, DispatcherOptions{Poll: time.Millisecond, Backoff: fast, MaxAttempts: 3}))
	waitUntil(t, 10*time.Second, "the next item", func() bool { return !ob.snapshot(next).SentAt.IsZero() })
	it := ob.snapshot(id)
	if !it.dead || it.Attempts != 3 || !it.SentAt.IsZero() {
		t.Errorf("dead=%v attempts=%d sent=%v, want dead after 3 attempts", it.dead, it.Attempts, it.SentAt)
	}
}

func TestDispatcherRetryAfterPausesPlatform(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"value", RetryAfter{After: 30 * time.Millisecond, Err: errors.New("429")}},
		{"pointer wrapped", fmt.Errorf("telegram: %w", &RetryAfter{After: 30 * time.Millisecond})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ob := newMemOutbox()
			a := ob.add("telegram", notice("nas", "a"))
			b := ob.add("telegram", notice("nas", "b"))
			s := &scriptSender{platform: "telegram", script: []error{tc.err}}
			var mu sync.Mutex
			var nows []time.Time
			now := func() time.Time {
				mu.Lock()
				defer mu.Unlock()
				n := time.Now()
				nows = append(nows, n)
				return n
			}
			d := NewDispatcher(ob, []Sender{s}, DispatcherOptions{Now: now, Poll: time.Millisecond, Backoff: fast, MaxAttempts: 1})
			run(t, d)
			waitUntil(t, 10*time.Second, "both deliveries", func() bool { return len(s.delivered()) == 2 })
			if got := s.delivered(); !slices.Equal(got, []int64{a, b}) {
				t.Errorf("delivered %v, want [a b]: a rate limit must not reorder", got)
			}
			it := ob.snapshot(a)
			// Rate limits never dead-letter, even with MaxAttempts 1.
			if it.dead || len(it.failed) != 1 {
				t.Fatalf("dead=%v failures=%d", it.dead, len(it.failed))
			}
			mu.Lock()
			defer mu.Unlock()
			if !slices.ContainsFunc(nows, func(n time.Time) bool { return n.Add(30 * time.Millisecond).Equal(it.failed[0]) }) {
				t.Errorf("next attempt is not now + retry-after")
			}
		})
	}
}

func TestDispatcherPlatformDownDoesNotBlockOthers(t *testing.T) {
	ob := newMemOutbox()
	ob.add("discord", notice("nas", "x"))
	var ids []int64
	for i := range 3 {
		ids = append(ids, ob.add("ntfy", notice("nas", fmt.Sprint(i))))
	}
	down := &scriptSender{platform: "discord", hang: true}
	up := &scriptSender{platform: "ntfy"}
	stop := run(t, NewDispatcher(ob, []Sender{down, up}, DispatcherOptions{Poll: time.Millisecond, SendTimeout: time.Hour, ShutdownGrace: time.Millisecond}))
	waitUntil(t, 10*time.Second, "ntfy deliveries while discord hangs", func() bool { return len(up.delivered()) == 3 })
	if got := up.delivered(); !slices.Equal(got, ids) {
		t.Errorf("ntfy delivered %v, want %v", got, ids)
	}
	if got := down.called(); len(got) != 1 {
		t.Errorf("discord calls %v, want exactly one hanging call", got)
	}
	stop()
	// The interrupted attempt was shutdown's doing, not a failure.
	if it := ob.snapshot(1); it.Attempts != 0 || !it.SentAt.IsZero() {
		t.Errorf("hung item after shutdown: attempts %d sent %v, want untouched", it.Attempts, it.SentAt)
	}
}

func TestDispatcherKickWakesIdleWorker(t *testing.T) {
	ob := newMemOutbox()
	ob.polled = make(chan string, 1)
	s := &scriptSender{platform: "ntfy"}
	d := NewDispatcher(ob, []Sender{s}, DispatcherOptions{Poll: time.Hour})
	run(t, d)
	select {
	case <-ob.polled: // the worker found nothing and went idle for an hour
	case <-time.After(10 * time.Second):
		t.Fatal("worker never polled")
	}
	id := ob.add("ntfy", notice("nas", "db"))
	d.Kick()
	waitUntil(t, 10*time.Second, "delivery after Kick (Poll is an hour)", func() bool { return len(s.delivered()) == 1 })
	if got := s.delivered(); got[0] != id {
		t.Errorf("delivered %v", got)
	}
}

func TestDispatcherMarkSentFailureDoesNotResend(t *testing.T) {
	ob := newMemOutbox()
	id := ob.add("ntfy", notice("nas", "db"))
	ob.failMarkSent(id, 2)
	s := &scriptSender{platform: "ntfy"}
	run(t, NewDispatcher(ob, []Sender{s}, DispatcherOptions{Poll: time.Millisecond}))
	waitUntil(t, 10*time.Second, "MarkSent to succeed", func() bool { return !ob.snapshot(id).SentAt.IsZero() })
	if got := s.called(); len(got) != 1 {
		t.Errorf("sent %d times, want once: a failed MarkSent must be retried, not the delivery", len(got))
	}
	if it := ob.snapshot(id); it.Ref != "ref-1" || it.Attempts != 0 {
		t.Errorf("ref %q attempts %d", it.Ref, it.Attempts)
	}
}

func TestDispatcherRunRejectsBadSetup(t *testing.T) {
	ob := newMemOutbox()
	for _, senders := range [][]Sender{
		nil,
		{&scriptSender{platform: "ntfy"}, &scriptSender{platform: "ntfy"}},
		{&scriptSender{platform: ""}},
	} {
		err := NewDispatcher(ob, senders, DispatcherOptions{}).Run(context.Background())
		if !errors.Is(err, deckhand.ErrInvalidInput) {
			t.Errorf("%d senders: Run = %v, want ErrInvalidInput", len(senders), err)
		}
	}
}

func TestKickNeverBlocks(t *testing.T) {
	d := NewDispatcher(newMemOutbox(), []Sender{&scriptSender{platform: "ntfy"}}, DispatcherOptions{})
	for range 100 {
		d.Kick() // nobody is running: must not block
	}
}

func TestTruncateKeepsRunes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abcdef", 3, "abc"},
		{"aé", 2, "a"},
		{"€€", 4, "€"},
	} {
		if got := truncate(tc.in, tc.n); got != tc.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

// gateSender signals when a Send starts and delivers once released.
type gateSender struct {
	started, release chan struct{}
}

func (g *gateSender) Platform() string { return "ntfy" }

func (g *gateSender) Send(ctx context.Context, it deckhand.OutboxItem) (string, error) {
	close(g.started)
	select {
	case <-g.release:
		return "ref", nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func TestDispatcherShutdownLetsAttemptInFlightFinish(t *testing.T) {
	ob := newMemOutbox()
	id := ob.add("ntfy", notice("nas", "db"))
	g := &gateSender{started: make(chan struct{}), release: make(chan struct{})}
	d := NewDispatcher(ob, []Sender{g}, DispatcherOptions{Poll: time.Millisecond, ShutdownGrace: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	<-g.started
	cancel() // shutdown begins while the platform is answering
	close(g.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The platform accepted it, so it must be recorded, or the next start
	// would send it again.
	if it := ob.snapshot(id); it.SentAt.IsZero() || it.Ref != "ref" {
		t.Errorf("delivered during shutdown but not recorded: %+v", it.OutboxItem)
	}
}

// However long a platform is down, its next attempt is never more than a
// few seconds away: the notice arrives within that of the platform
// answering again (it used to wait up to five minutes), and the first
// retries do not hammer it.
func TestDefaultBackoffRecoversWithinSeconds(t *testing.T) {
	w := &worker{d: NewDispatcher(newMemOutbox(), nil, DispatcherOptions{})}
	if first := w.backoff(1); first < 500*time.Millisecond {
		t.Errorf("first retry after %s: too eager", first)
	}
	for attempt := 1; attempt <= 1000; attempt++ {
		if d := w.backoff(attempt); d > 5*time.Second {
			t.Fatalf("attempt %d waits %s: a platform back after a long outage gets its notices that late", attempt, d)
		}
	}
}
