package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/deckhand/deckhand/bot/discord/discordtest"
	"github.com/deckhand/deckhand/bot/telegram/telegramtest"
)

// TestE2EChatPlatformsUnreachableAtStart: Telegram and Discord out of
// reach when the daemon starts used to end both bots for good ("chat bot
// stopped"). They now retry, /status says what is wrong meanwhile, and
// both answer once the platforms are back.
func TestE2EChatPlatformsUnreachableAtStart(t *testing.T) {
	tg := telegramtest.New(t, tgToken, telegramtest.Options{})
	tg.AddChat(tgChat, "supergroup")
	dc := discordtest.NewServer(t, dcToken)
	tg.SetUnreachable(true)
	dc.SetUnreachable(true)
	box := hostBlock{Name: "box", Transport: "local", Extra: "docker_path = \"/bin/false\"\n"}
	env := newEnv(t, e2eConfig{Hosts: []hostBlock{box}, Telegram: telegramTOML(tg), Discord: discordTOML(dc)})
	e := env.start()
	tg.WaitRefused(t, 2, e2eWait)
	dc.WaitRefused(t, 2, e2eWait)
	eventually(t, "both platforms' problems in bot.Health", func() (bool, string) {
		lines := strings.Join(healthLines{e.d.health}.ProblemLines(), "\n")
		return strings.Contains(lines, "telegram poller: cannot reach") && strings.Contains(lines, "discord gateway: cannot reach"), lines
	})
	tg.SetUnreachable(false)
	dc.SetUnreachable(false)

	dc.WaitReady(t, e2eWait)
	it := dc.SlashCommand(dc.GuildID, dcViewer, []string{dcRoleViewer}, "status")
	dc.WaitResponses(t, it.ID, func(rs []discordtest.Response) bool {
		for _, r := range rs {
			if r.Kind == discordtest.KindEditOriginal {
				return true
			}
		}
		return false
	}, e2eWait)
	tg.SendUserMessage(tgChat, telegramtest.User{ID: tgViewer, FirstName: "Vic"}, "/status")
	tg.WaitMessage(t, tgChat, func(m telegramtest.Message) bool { return strings.Contains(m.Text, "box") }, e2eWait)
	eventually(t, "the problems to clear", func() (bool, string) {
		lines := healthLines{e.d.health}.ProblemLines()
		return len(lines) == 0, strings.Join(lines, "\n")
	})
	if logs := env.logs.String(); strings.Contains(logs, "chat bot stopped") {
		t.Errorf("a chat bot stopped:\n%s", logs)
	}
}

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
