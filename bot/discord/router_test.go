package discord

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/bot/discord/discordtest"
	"github.com/deckhand/deckhand/commands"
	"github.com/deckhand/deckhand/commands/commandstest"
)

// TestWithTheRealRouter runs the adapter against commands.Router: its
// command specs must pass Discord's registration rules, its signed payloads
// must fit custom_id, and its role checks must come back as private replies.
func TestWithTheRealRouter(t *testing.T) {
	env := commandstest.NewEnv(nil)
	alert := deckhand.Alert{ID: 7, Key: deckhand.AlertKey{Host: "nas", Container: "jellyfin", Kind: deckhand.AlertContainerDown},
		Severity: deckhand.SeverityError, State: deckhand.AlertOpen, FirstSeenAt: time.Now().Add(-time.Minute)}
	env.Alerts = commandstest.NewAlerts(time.Now, alert)
	router, err := commands.NewRouter(env.Deps(), commands.Config{Secret: []byte(strings.Repeat("s", 32))}, commands.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fake := discordtest.NewServer(t, token)
	cfg := testConfig(fake)
	b, err := New(cfg, router, Options{APIBase: fake.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		for _, f := range fake.Failures() {
			t.Errorf("discord protocol violation: %+v", f)
		}
	})
	fake.WaitReady(t, wait)
	if got, want := len(fake.RegisteredCommands()), len(router.Commands()); got != want {
		t.Fatalf("registered %d of %d commands", got, want)
	}

	it := fake.SlashCommand(fake.GuildID, userAlice, []string{roleOps}, "restart", discordtest.Opt("host", "nas"), discordtest.Opt("container", "jellyfin"))
	rs := fake.WaitResponses(t, it.ID, hasKind(discordtest.KindEditOriginal), wait)
	if rs[0].Type != discordtest.CallbackDeferredMessage {
		t.Errorf("restart acknowledged with %d", rs[0].Type)
	}
	restarted := false
	for _, c := range env.Docker.Calls() {
		restarted = restarted || (c.Op == "restart" && c.Host == "nas")
	}
	if !restarted {
		t.Errorf("docker calls = %+v, want a restart on nas", env.Docker.Calls())
	}

	if _, err := b.Send(context.Background(), deckhand.OutboxItem{ID: 1, Notice: deckhand.Notice{Kind: deckhand.NoticeOpened, Alert: alert, At: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	msg := fake.Messages(cfg.AlertChannelID)[0]
	restart, ok := msg.Button("Restart")
	if !ok || len(msg.Buttons()) != 3 {
		t.Fatalf("alert buttons = %+v", msg.Buttons())
	}
	it = fake.Click(userVic, []string{roleViewer}, msg, restart.CustomID)
	rs = fake.WaitResponses(t, it.ID, hasKind(discordtest.KindFollowup), wait)
	if f := rs[len(rs)-1].Message; !f.Ephemeral() {
		t.Errorf("viewer's restart answered publicly: %+v", f)
	}

	ack, _ := msg.Button("Ack")
	it = fake.Click(userAlice, []string{roleOps}, msg, ack.CustomID)
	fake.WaitResponses(t, it.ID, func(rs []discordtest.Response) bool { return len(rs) > 1 }, wait)
	if a, _ := env.Alerts.Alert(7); a.State != deckhand.AlertAcked {
		t.Errorf("alert state after Ack = %s", a.State)
	}
}
