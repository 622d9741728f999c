package telegram

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/bot"
	"github.com/deckhand/deckhand/bot/telegram/telegramtest"
	"github.com/deckhand/deckhand/store/storetest"
)

func downItem(message string) deckhand.OutboxItem {
	return deckhand.OutboxItem{ID: 1, Notice: deckhand.Notice{Kind: deckhand.NoticeOpened, Alert: deckhand.Alert{
		Key:      deckhand.AlertKey{Host: "nas", Container: "web", Kind: deckhand.AlertContainerDown},
		Severity: deckhand.SeverityError, State: deckhand.AlertOpen, Message: message,
	}}}
}

// A wrong token (401) and a bot removed from the alert chat (403) are
// deckhand's setup, not the notice's: bot.Unauthorized, so the notice
// waits for the fix instead of being dead-lettered.
func TestCredentialRejectionsAreUnauthorized(t *testing.T) {
	ctx := context.Background()
	wrong := "123456789:AAH-wrong_token_abcdefghijklmnopq"
	h := start(t, setup{noRun: true, cfg: func(c *Config) { c.Token = wrong }})
	_, err := h.bot.Send(ctx, downItem("web is down"))
	if !errors.As(err, new(bot.Unauthorized)) || errors.As(err, new(bot.Permanent)) {
		t.Errorf("wrong token: %v (%T), want bot.Unauthorized", err, err)
	}
	if err := h.bot.Probe(ctx); !errors.As(err, new(bot.Unauthorized)) {
		t.Errorf("probe with a wrong token: %v, want bot.Unauthorized", err)
	}
	if err != nil && strings.Contains(err.Error(), "wrong_token") {
		t.Errorf("error leaks the token: %v", err)
	}

	h = start(t, setup{noRun: true})
	h.fake.KickBot(alertChat, true)
	if _, err := h.bot.Send(ctx, downItem("web is down")); !errors.As(err, new(bot.Unauthorized)) || !strings.Contains(err.Error(), "kicked") {
		t.Errorf("bot kicked: %v, want bot.Unauthorized saying so", err)
	}
	if err := h.bot.Probe(ctx); err != nil {
		t.Errorf("probe while kicked: %v (getMe still answers; the next attempt tells)", err)
	}
	h.fake.KickBot(alertChat, false)
	if _, err := h.bot.Send(ctx, downItem("web is down")); err != nil {
		t.Errorf("after adding the bot back: %v", err)
	}
}

// The plain form, sent when Telegram refused the HTML one, is plain text
// within 4096 characters, without parse_mode or buttons.
func TestPlainForm(t *testing.T) {
	h := start(t, setup{noRun: true})
	ctx := context.Background()
	it := downItem("nas/web is down: " + strings.Repeat("<oom> ", 1000))
	it.Plain = true
	if _, err := h.bot.Send(ctx, it); err != nil {
		t.Fatalf("plain form refused: %v", err)
	}
	msgs := h.fake.BotMessages(alertChat)
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	m := msgs[0]
	if utf16Len(m.Text) > maxText || len(m.Entities) != 0 || m.Keyboard != nil || !strings.HasPrefix(m.Text, "🔴 nas/web is down") ||
		!strings.Contains(m.Text, "<oom>") {
		t.Errorf("plain message: %d chars, entities %v, keyboard %v, text %.60q", utf16Len(m.Text), m.Entities, m.Keyboard, m.Text)
	}
}

// Pace says how long until the alert chat may get the next message.
func TestPaceFollowsTheLimiter(t *testing.T) {
	h := start(t, setup{noRun: true})
	if d := h.bot.Pace(); d != 0 {
		t.Errorf("idle chat: pace %s", d)
	}
	for range 3 {
		if _, err := h.bot.Send(context.Background(), downItem("web is down")); err != nil {
			t.Fatal(err)
		}
	}
	if d := h.bot.Pace(); d <= 0 {
		t.Errorf("after a burst of three: pace %s, want a wait", d)
	}
}

var (
	_ bot.Prober = (*Bot)(nil)
	_ bot.Pacer  = (*Bot)(nil)
)

// A new alert waited behind a burst of reminders at Telegram's pace (first
// in, first out), and waiting for the limiter inside the send timeout was
// a failed delivery. Through the dispatcher and the real store, against a
// fake that enforces Telegram's limits, the alert goes out at the next
// slot and no attempt fails.
func TestNewAlertOvertakesABurstOfReminders(t *testing.T) {
	if testing.Short() {
		t.Skip("paces messages for a few seconds")
	}
	h := start(t, setup{noRun: true, fake: telegramtest.Options{StrictRateLimit: true}})
	st := storetest.Open(t)
	ctx := context.Background()
	for i := range 5 {
		n := downItem("web is down").Notice
		n.Kind, n.Alert.Key.Container = deckhand.NoticeReminder, fmt.Sprintf("r%d", i)
		if err := st.Enqueue(ctx, deckhand.OutboxItem{Platform: deckhand.PlatformTelegram, Notice: n}); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	failed := 0
	d := bot.NewDispatcher(st, []bot.Sender{h.bot}, bot.DispatcherOptions{Poll: 10 * time.Millisecond,
		Metrics: func(_ string, ok bool) {
			mu.Lock()
			defer mu.Unlock()
			if !ok {
				failed++
			}
		}})
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(rctx) }()
	t.Cleanup(func() { cancel(); <-done })
	d.Kick()
	h.fake.WaitMessage(t, alertChat, func(m telegramtest.Message) bool { return strings.Contains(m.Text, "r2") }, wait)
	opened := downItem("db is down").Notice
	opened.Alert.Key.Container = "db"
	if err := st.Enqueue(ctx, deckhand.OutboxItem{Platform: deckhand.PlatformTelegram, Notice: opened}); err != nil {
		t.Fatal(err)
	}
	d.Kick()
	h.fake.WaitMessage(t, alertChat, func(m telegramtest.Message) bool { return strings.Contains(m.Text, "r4") }, 3*wait)
	var order []string
	for _, m := range h.fake.BotMessages(alertChat) {
		order = append(order, strings.SplitN(strings.TrimPrefix(m.Text, "🔴 "), " ", 2)[0])
	}
	if len(order) != 6 || order[3] != "Reminder:" && order[3] != "nas/db" {
		t.Fatalf("messages %v", order)
	}
	if order[3] != "nas/db" {
		t.Errorf("messages %v: the new alert waited behind the burst", order)
	}
	mu.Lock()
	defer mu.Unlock()
	if failed != 0 || h.fake.Calls("sendMessage") != 6 {
		t.Errorf("%d failed attempts, %d sendMessage calls: pacing must cost no failure and no 429", failed, h.fake.Calls("sendMessage"))
	}
}

// While the Bot API hangs, it is probed with getMe (cut at 2 s) instead of
// being sent the notice again and again, each send hanging until its
// timeout; the queue goes out within 5 s of it answering again (the
// requirement, and the deadline below).
func TestOutageIsProbedAndDeliversSoonAfter(t *testing.T) {
	h := start(t, setup{noRun: true})
	h.fake.Down()
	st := storetest.Open(t)
	ctx := context.Background()
	for _, c := range []string{"web", "db"} {
		n := downItem(c + " is down").Notice
		n.Alert.Key.Container = c
		if err := st.Enqueue(ctx, deckhand.OutboxItem{Platform: deckhand.PlatformTelegram, Notice: n}); err != nil {
			t.Fatal(err)
		}
	}
	// A short send timeout only spares the test the default 30 s of the
	// first hung send.
	d := bot.NewDispatcher(st, []bot.Sender{h.bot}, bot.DispatcherOptions{Poll: 10 * time.Millisecond, SendTimeout: 2 * time.Second})
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(rctx) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(30 * time.Second)
	for h.fake.Calls("sendMessage")+h.fake.Calls("getMe") < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d sendMessage, %d getMe during the outage", h.fake.Calls("sendMessage"), h.fake.Calls("getMe"))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := h.fake.Calls("sendMessage"); n != 1 {
		t.Errorf("%d sendMessage calls during the outage, want 1: a failing platform is probed, not resent", n)
	}
	h.fake.Up()
	h.fake.WaitMessage(t, alertChat, func(m telegramtest.Message) bool { return strings.Contains(m.Text, "nas/db") }, 5*time.Second)
}

// A send that hangs on a dead connection is not waited out: while it is
// in flight the platform is probed on a new connection, and once it
// answers the hung send is abandoned and the notice sent again, seconds
// after the platform is back rather than at the end of the send timeout.
func TestHungSendIsAbandonedOnceThePlatformAnswers(t *testing.T) {
	h := start(t, setup{noRun: true})
	h.fake.Down()
	st := storetest.Open(t)
	ctx := context.Background()
	n := downItem("web is down").Notice
	if err := st.Enqueue(ctx, deckhand.OutboxItem{Platform: deckhand.PlatformTelegram, Notice: n}); err != nil {
		t.Fatal(err)
	}
	d := bot.NewDispatcher(st, []bot.Sender{h.bot}, bot.DispatcherOptions{Poll: 10 * time.Millisecond, SendTimeout: time.Minute})
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(rctx) }()
	t.Cleanup(func() { cancel(); <-done })
	h.fake.WaitCalls(t, "sendMessage", 1, 10*time.Second)
	h.fake.Up()
	// Well inside the minute the hung send would otherwise take.
	h.fake.WaitMessage(t, alertChat, func(m telegramtest.Message) bool { return strings.Contains(m.Text, "web") }, 20*time.Second)
}
