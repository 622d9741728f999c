package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/deckhand/deckhand/bot/telegram/telegramtest"
)

// TestE2ETelegramSecondPollerIsVisible: another program polling with
// deckhand's Telegram token used to show as WARN lines only, while it
// stole commands. The daemon now says it at ERROR, counts it in /metrics
// and puts it in /status.
func TestE2ETelegramSecondPollerIsVisible(t *testing.T) {
	fake := telegramtest.New(t, tgToken, telegramtest.Options{})
	fake.AddChat(tgChat, "supergroup")
	box := hostBlock{Name: "box", Transport: "local", Extra: "docker_path = \"/bin/false\"\n"}
	env := newEnv(t, e2eConfig{Hosts: []hostBlock{box}, Telegram: telegramTOML(fake)})
	e := env.start()
	fake.WaitCalls(t, "getUpdates", 1, e2eWait)

	ctx, cancel := context.WithCancel(context.Background())
	other := make(chan struct{})
	go func() {
		defer close(other)
		for ctx.Err() == nil {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fake.URL()+"/bot"+tgToken+"/getUpdates?timeout=1", nil)
			if resp, err := fake.Client().Do(req); err == nil {
				resp.Body.Close()
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-other })

	eventually(t, "deckhand_telegram_conflicts_total counted", func() (bool, string) {
		n := metricSum(t, e.addr, "deckhand_telegram_conflicts_total", "")
		return n > 0, "none"
	})
	if logs := env.logs.String(); !strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, "409 Conflict") {
		t.Errorf("no ERROR line about the 409:\n%s", logs)
	}
	fake.SendUserMessage(tgChat, telegramtest.User{ID: tgViewer, FirstName: "Vic"}, "/status")
	fake.WaitMessage(t, tgChat, func(m telegramtest.Message) bool {
		return strings.Contains(m.Text, "telegram poller: another program polls getUpdates with this bot token")
	}, e2eWait)
}
