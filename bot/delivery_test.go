package bot

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/internal/logtest"
)

// paceSender paces itself like the Telegram adapter: one message per gap,
// waited for inside Send when the dispatcher does not wait first.
type paceSender struct {
	scriptSender
	gap time.Duration

	pmu  sync.Mutex
	next time.Time
}

func (p *paceSender) Pace() time.Duration {
	p.pmu.Lock()
	defer p.pmu.Unlock()
	return max(time.Until(p.next), 0)
}

func (p *paceSender) Send(ctx context.Context, it deckhand.OutboxItem) (string, error) {
	p.pmu.Lock()
	at := p.next
	if now := time.Now(); at.Before(now) {
		at = now
	}
	p.next = at.Add(p.gap)
	p.pmu.Unlock()
	t := time.NewTimer(time.Until(at))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case <-t.C:
	}
	return p.scriptSender.Send(ctx, it)
}

func reminderOf(id int64, container string) deckhand.Notice {
	n := notice("nas", container)
	n.Kind, n.Alert.ID = deckhand.NoticeReminder, id
	return n
}

// Waiting for Telegram's limiter inside the 30 s send timeout was logged
// as a failed delivery and retried; and a new alert waited behind the
// burst in front of it. The dispatcher now waits for the pace before it
// chooses the next item.
func TestDispatcherWaitsForPaceOutsideSendAndAlertsGoFirst(t *testing.T) {
	ob := newMemOutbox()
	var reminders []int64
	for i := range 4 {
		reminders = append(reminders, ob.add("telegram", reminderOf(int64(10+i), "r")))
	}
	s := &paceSender{scriptSender: scriptSender{platform: "telegram"}, gap: 200 * time.Millisecond}
	// The send timeout is shorter than the pace: waiting inside Send fails.
	run(t, NewDispatcher(ob, []Sender{s}, DispatcherOptions{Poll: time.Millisecond, Backoff: fast, SendTimeout: 50 * time.Millisecond}))
	waitUntil(t, 10*time.Second, "the first reminder", func() bool { return len(s.delivered()) >= 1 })
	alert := notice("nas", "db")
	alert.Alert.ID = 20
	opening := ob.add("telegram", alert)
	waitUntil(t, 20*time.Second, "every notice", func() bool { return len(s.delivered()) == 5 })

	got := s.delivered()
	if i := slices.Index(got, opening); i > 2 {
		t.Errorf("delivered %v: the new alert went out in position %d, behind the burst", got, i+1)
	}
	for _, id := range append(reminders, opening) {
		if it := ob.snapshot(id); it.Attempts != 0 || it.LastError != "" {
			t.Errorf("item %d: %d failed attempts (%q): waiting for the pace is no failure", id, it.Attempts, it.LastError)
		}
	}
}

// probeSender fails Send and Probe as scripted.
type probeSender struct {
	scriptSender
	pmu    sync.Mutex
	probes []error
	probed int
}

func (p *probeSender) Probe(ctx context.Context) error {
	p.pmu.Lock()
	defer p.pmu.Unlock()
	p.probed++
	if len(p.probes) == 0 {
		return nil
	}
	err := p.probes[0]
	p.probes = p.probes[1:]
	return err
}

func (p *probeSender) probeCount() int {
	p.pmu.Lock()
	defer p.pmu.Unlock()
	return p.probed
}

// While a platform fails it is probed, not sent the notice again; the
// notice goes out at the first probe it answers.
func TestDispatcherProbesAFailingPlatform(t *testing.T) {
	ob := newMemOutbox()
	id := ob.add("ntfy", notice("nas", "db"))
	down := errors.New("connection refused")
	s := &probeSender{scriptSender: scriptSender{platform: "ntfy", script: []error{down}}, probes: []error{down, down, down}}
	h := NewHealth()
	run(t, NewDispatcher(ob, []Sender{s}, DispatcherOptions{Poll: time.Millisecond, ProbeBackoff: fast, Health: h, DownAfter: time.Nanosecond}))
	waitUntil(t, 10*time.Second, "delivery", func() bool { return len(s.delivered()) == 1 })
	// Send has returned; the worker records it and clears the problem
	// right after.
	waitUntil(t, 10*time.Second, "ntfy up after the delivery", func() bool { return h.Up("ntfy") })
	if got := s.called(); len(got) != 2 {
		t.Errorf("Send called %d times, want 2: the failure, then the delivery after a probe answered", len(got))
	}
	if n := s.probeCount(); n != 4 {
		t.Errorf("%d probes, want 4 (three failed, one answered)", n)
	}
	if it := ob.snapshot(id); it.Attempts != 1 {
		t.Errorf("attempts %d, want 1: probes are not attempts", it.Attempts)
	}
}

// A platform failing longer than DownAfter is reported down to Health,
// and up again at the next delivery.
func TestDispatcherReportsAPlatformDown(t *testing.T) {
	ob := newMemOutbox()
	ob.add("discord", notice("nas", "db"))
	release := make(chan struct{})
	s := &gatedFail{scriptSender: scriptSender{platform: "discord"}, release: release}
	h := NewHealth()
	var mu sync.Mutex
	var changes []string
	h.OnChange(func(p Problem, set bool) {
		mu.Lock()
		defer mu.Unlock()
		changes = append(changes, p.Platform+"/"+p.Part+"/"+map[bool]string{true: "set", false: "cleared"}[set])
	})
	run(t, NewDispatcher(ob, []Sender{s}, DispatcherOptions{Poll: time.Millisecond, Backoff: fast, Health: h, DownAfter: 20 * time.Millisecond}))
	waitUntil(t, 10*time.Second, "discord reported down", func() bool { return !h.Up("discord") })
	if p := h.Problems(); len(p) != 1 || p[0].Part != PartDelivery || !strings.Contains(p[0].Text, "discord cannot be reached") {
		t.Errorf("problems = %+v", p)
	}
	close(release)
	waitUntil(t, 10*time.Second, "delivery", func() bool { return len(s.delivered()) == 1 })
	waitUntil(t, 10*time.Second, "discord up", func() bool { return h.Up("discord") })
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(changes, []string{"discord/delivery/set", "discord/delivery/cleared"}) {
		t.Errorf("health changes %v: one start, one end", changes)
	}
}

// gatedFail fails every Send until release is closed.
type gatedFail struct {
	scriptSender
	release chan struct{}
}

func (g *gatedFail) Send(ctx context.Context, it deckhand.OutboxItem) (string, error) {
	select {
	case <-g.release:
		return g.scriptSender.Send(ctx, it)
	default:
		return "", errors.New("HTTP 502")
	}
}

// A 401/403 dead-lettered the alert after one try, silently. Now the
// notice is kept, the credentials problem is reported (logged at ERROR
// once, not per attempt), and the notice goes out once they are accepted.
func TestDispatcherKeepsNoticesWhileCredentialsAreRejected(t *testing.T) {
	ob := newMemOutbox()
	id := ob.add("ntfy", notice("nas", "db"))
	next := ob.add("ntfy", notice("nas", "web"))
	rejected := Unauthorized{Err: errors.New("ntfy: HTTP 401 (40101): unauthorized")}
	s := &scriptSender{platform: "ntfy", script: []error{rejected, rejected, &Unauthorized{Err: errors.New("403")}}}
	h := NewHealth()
	var logs logtest.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	run(t, NewDispatcher(ob, []Sender{s}, DispatcherOptions{Poll: time.Millisecond, CredentialsBackoff: fast, Health: h,
		MaxAttempts: 1, Logger: log}))
	waitUntil(t, 10*time.Second, "the credentials problem", func() bool { return !h.Up("ntfy") })
	if p := h.Problems(); len(p) != 1 || p[0].Part != PartCredentials || !strings.Contains(p[0].Text, "rejects deckhand's credentials") {
		t.Errorf("problems = %+v", p)
	}
	waitUntil(t, 10*time.Second, "both deliveries", func() bool { return len(s.delivered()) == 2 })
	if got := s.delivered(); !slices.Equal(got, []int64{id, next}) {
		t.Errorf("delivered %v, want both in order", got)
	}
	if it := ob.snapshot(id); it.dead || it.Attempts != 3 {
		t.Errorf("dead=%v attempts=%d: a rejection of deckhand's credentials never dead-letters (MaxAttempts 1)", it.dead, it.Attempts)
	}
	// The worker clears the problem right after Send returns.
	waitUntil(t, 10*time.Second, "no problem after the delivery", func() bool { return h.Up("ntfy") })
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
		t.Errorf("%d ERROR lines for one credentials problem, want 1:\n%s", n, logs.String())
	}
}

// After an outage the queue must go out within 5 s of the platform
// answering: with the defaults, a probe that hangs is cut and the next one
// starts well within that.
func TestDefaultProbeScheduleMeetsFiveSeconds(t *testing.T) {
	d := NewDispatcher(newMemOutbox(), nil, DispatcherOptions{})
	worst := d.opts.ProbeTimeout + d.opts.ProbeBackoff[len(d.opts.ProbeBackoff)-1]
	if worst > 4*time.Second {
		t.Errorf("a probe may hang %s and the next wait %s: %s before the platform is asked again", d.opts.ProbeTimeout,
			d.opts.ProbeBackoff[len(d.opts.ProbeBackoff)-1], worst)
	}
	if first := d.opts.ProbeBackoff[0]; first < 500*time.Millisecond {
		t.Errorf("first probe after %s: too eager", first)
	}
	if c := d.opts.CredentialsBackoff[len(d.opts.CredentialsBackoff)-1]; c >= time.Minute {
		t.Errorf("credentials retried every %s: capped well below a minute", c)
	}
}
