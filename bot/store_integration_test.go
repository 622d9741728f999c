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
		Poll: 10 * time.Millisecond, Backoff: []time.Duration{5 * time.Millisecond},
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
