package bot

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
)

type memEnqueuer struct {
	mu    sync.Mutex
	items []deckhand.OutboxItem
}

func (m *memEnqueuer) Enqueue(_ context.Context, items ...deckhand.OutboxItem) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.items = append(m.items, items...)
	return nil
}

// A credentials problem on one platform is told to the admins on the
// others, once per problem start however many attempts fail.
func TestTellAdminsOnTheOtherPlatforms(t *testing.T) {
	h := NewHealth()
	ob := &memEnqueuer{}
	kicks := 0
	h.OnChange(TellAdmins(ob, []string{"ntfy", "discord", "telegram"}, func() { kicks++ }, nil))
	now := time.Now()
	for range 3 {
		h.Set("ntfy", PartCredentials, "ntfy rejects deckhand's credentials (HTTP 401)", now)
	}
	var got []string
	for _, it := range ob.items {
		if it.Notice.Kind != deckhand.NoticeSystem || it.Notice.Text != "ntfy rejects deckhand's credentials (HTTP 401)" {
			t.Errorf("item %+v", it)
		}
		got = append(got, it.Platform)
	}
	if !slices.Equal(got, []string{"discord", "telegram"}) || kicks != 1 {
		t.Errorf("told %v (kicks %d), want discord and telegram once", got, kicks)
	}
	// The end of the problem, and deckhand's own problems, are not told.
	h.Set("ntfy", PartCredentials, "", now)
	h.Set("", "database", "disk full", now)
	if len(ob.items) != 2 {
		t.Errorf("%d items after the end of the problem", len(ob.items))
	}
	// With a dispatcher: the notice goes out on the other platform.
	ob2 := newMemOutbox()
	ob2.add("ntfy", notice("nas", "db"))
	bad := &scriptSender{platform: "ntfy", script: []error{Unauthorized{Err: errors.New("HTTP 401")}, Unauthorized{Err: errors.New("HTTP 401")}}}
	good := &scriptSender{platform: "discord"}
	h2 := NewHealth()
	var d *Dispatcher
	h2.OnChange(TellAdmins(enqueuerFunc(func(items ...deckhand.OutboxItem) {
		for _, it := range items {
			ob2.add(it.Platform, it.Notice)
		}
	}), []string{"ntfy", "discord"}, func() { d.Kick() }, nil))
	d = NewDispatcher(ob2, []Sender{bad, good}, DispatcherOptions{Poll: time.Hour, CredentialsBackoff: []time.Duration{time.Hour}, Health: h2})
	run(t, d)
	waitUntil(t, 10*time.Second, "the system notice on discord", func() bool { return len(good.delivered()) == 1 })
	if it := ob2.snapshot(good.delivered()[0]); it.Notice.Kind != deckhand.NoticeSystem {
		t.Errorf("discord got %+v", it.Notice)
	}
}

type enqueuerFunc func(items ...deckhand.OutboxItem)

func (f enqueuerFunc) Enqueue(_ context.Context, items ...deckhand.OutboxItem) error {
	f(items...)
	return nil
}
