package main

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/bot/discord/discordtest"
	"github.com/deckhand/deckhand/bot/telegram/telegramtest"
	"github.com/deckhand/deckhand/internal/dockertest"
	"github.com/deckhand/deckhand/internal/sshdtest"
	"github.com/deckhand/deckhand/store"
)

// Chat identities of the end-to-end stories.
const (
	dcToken      = "e2e-discord-token"
	dcRoleViewer = "300000000000000001"
	dcRoleOps    = "300000000000000002"
	dcOperator   = "400000000000000001"
	dcViewer     = "400000000000000002"
	dcAdmin      = "400000000000000003"
)

func discordTOML(fake *discordtest.Server) string {
	return fmt.Sprintf(`
[discord]
token = %q
application_id = %q
guild_id = %q
alert_channel_id = %q
api_base = %q

[discord.roles]
%q = "viewer"
%q = "operator"

[discord.users]
%q = "admin"
`, dcToken, fake.AppID, fake.GuildID, fake.ChannelID, fake.URL, dcRoleViewer, dcRoleOps, dcAdmin)
}

func embedTitle(m discordtest.Message) string {
	if len(m.Embeds) == 0 {
		return ""
	}
	return m.Embeds[0].Title
}

// TestE2EDiscordRestartFromAlert is issue 4 on Discord, against the real
// engine through a real sshd: the alert of a killed container carries
// Restart and Ack; a viewer's Restart is refused and audited; an operator's
// Restart brings the container back and the message turns into a recovery;
// an admin's /remove does nothing until Confirm is pressed.
func TestE2EDiscordRestartFromAlert(t *testing.T) {
	requireDocker(t)
	sshd := sshdtest.Start(t, sshdtest.Options{})
	fake := discordtest.NewServer(t, dcToken)
	host := sshHost("nas", sshd)
	env := newEnv(t, e2eConfig{Hosts: []hostBlock{host}, Discord: discordTOML(fake)})
	c := monitored(t, "discord", nil)
	victim := dockertest.Run(t, "discord-remove", dockertest.RunOptions{})
	foreignDown(t, 25)
	env.start()
	fake.WaitReady(t, e2eWait)
	st := env.openStore()
	t.Cleanup(func() {
		for _, f := range fake.Failures() {
			t.Errorf("discord protocol violation: %+v", f)
		}
	})

	dockertest.Kill(t, c.Name)
	subject := host.Name + "/" + c.Name
	alert := fake.WaitMessage(t, fake.ChannelID, func(m discordtest.Message) bool {
		return strings.HasSuffix(embedTitle(m), " "+subject+" is down")
	}, e2eWait)
	restart, ok := alert.Button("Restart")
	if _, ack := alert.Button("Ack"); !ok || !ack {
		t.Fatalf("alert buttons = %+v, want Restart and Ack", alert.Buttons())
	}

	// A viewer may not restart: refused privately, audited, nothing done.
	it := fake.Click(dcViewer, []string{dcRoleViewer}, alert, restart.CustomID)
	rs := fake.WaitResponses(t, it.ID, func(rs []discordtest.Response) bool {
		for _, r := range rs {
			if r.Kind == discordtest.KindFollowup || (r.Kind == discordtest.KindCallback && r.Type == discordtest.CallbackMessage) {
				return true
			}
		}
		return false
	}, e2eWait)
	if last := rs[len(rs)-1].Message; !last.Ephemeral() {
		t.Errorf("viewer's refusal is public: %+v", last)
	}
	eventually(t, "viewer's restart audited as denied", func() (bool, string) {
		return findAudit(t, st, dcViewer, deckhand.ActionRestart, "denied")
	})
	if got := dockertest.Inspect(t, c.Name); got.State == deckhand.StateRunning {
		t.Fatalf("container running after a viewer's Restart")
	}

	// An operator may.
	fake.Click(dcOperator, []string{dcRoleOps}, alert, restart.CustomID)
	dockertest.WaitState(t, c.Name, deckhand.StateRunning)
	eventually(t, "alert message edited to recovered", func() (bool, string) {
		m, _ := fake.Message(alert.ID)
		return strings.Contains(embedTitle(m), "Recovered: "+subject) && len(m.Buttons()) == 0, embedTitle(m)
	})
	eventually(t, "operator's restart audited as ok", func() (bool, string) {
		return findAudit(t, st, dcOperator, deckhand.ActionRestart, "ok")
	})

	// An admin's /remove asks first.
	it = fake.SlashCommand(fake.GuildID, dcAdmin, nil, "remove", discordtest.Opt("host", host.Name), discordtest.Opt("container", victim.Name))
	var confirm discordtest.Message
	var confirmID string
	fake.WaitResponses(t, it.ID, func(rs []discordtest.Response) bool {
		for _, r := range rs {
			for _, b := range r.Message.Buttons() {
				if strings.HasPrefix(b.Label, "Confirm") {
					confirm, confirmID = r.Message, b.CustomID
					return true
				}
			}
		}
		return false
	}, e2eWait)
	if !confirm.Ephemeral() {
		t.Errorf("confirmation is public: %+v", confirm)
	}
	if !containerExists(victim.Name) {
		t.Fatalf("%s removed before Confirm", victim.Name)
	}
	if m, ok := fake.Message(confirm.ID); ok {
		confirm = m
	}
	fake.Click(dcAdmin, nil, confirm, confirmID)
	eventually(t, "container removed after Confirm", func() (bool, string) {
		return !containerExists(victim.Name), "still there"
	})
	eventually(t, "remove audited as ok", func() (bool, string) {
		return findAudit(t, st, dcAdmin, deckhand.ActionRemove, "ok")
	})
}

// findAudit reports whether the audit table holds an entry of this user,
// action and result; the second value lists what it holds.
func findAudit(t *testing.T, st *store.Store, user string, action deckhand.Action, result string) (bool, string) {
	t.Helper()
	entries, err := st.Audit(context.Background(), 100)
	if err != nil {
		return false, err.Error()
	}
	var seen []string
	for _, e := range entries {
		if e.Actor.UserID == user && e.Action == action && e.Result == result {
			return true, ""
		}
		seen = append(seen, fmt.Sprintf("%s %s %s %s", e.Actor.UserID, e.Action, e.Target, e.Result))
	}
	return false, strings.Join(seen, "; ")
}

func containerExists(name string) bool {
	return exec.Command("docker", "inspect", "--type", "container", name).Run() == nil
}

const (
	tgToken    = "123456:e2e-telegram-token-ABCDEFGHIJ"
	tgChat     = int64(-1001234567890)
	tgOperator = int64(1001)
	tgViewer   = int64(1002)
	tgAdmin    = int64(1003)
)

func telegramTOML(fake *telegramtest.Server) string {
	return fmt.Sprintf(`
[telegram]
token = %q
alert_chat_id = %d
api_url = %q

[telegram.users]
"%d" = "operator"
"%d" = "viewer"
"%d" = "admin"
`, tgToken, tgChat, fake.URL(), tgOperator, tgViewer, tgAdmin)
}

func tgButton(m telegramtest.Message, prefix string) (telegramtest.Button, bool) {
	for _, b := range m.Buttons() {
		if strings.HasPrefix(b.Text, prefix) {
			return b, true
		}
	}
	return telegramtest.Button{}, false
}

// TestE2ETelegramRestartFromAlert is issue 4 on Telegram: the same story
// as on Discord, through the real engine behind a real sshd.
func TestE2ETelegramRestartFromAlert(t *testing.T) {
	requireDocker(t)
	sshd := sshdtest.Start(t, sshdtest.Options{})
	fake := telegramtest.New(t, tgToken, telegramtest.Options{})
	fake.AddChat(tgChat, "supergroup")
	host := sshHost("nas", sshd)
	env := newEnv(t, e2eConfig{Hosts: []hostBlock{host}, Telegram: telegramTOML(fake)})
	c := monitored(t, "telegram", nil)
	victim := dockertest.Run(t, "telegram-remove", dockertest.RunOptions{})
	foreignDown(t, 25)
	env.start()
	st := env.openStore()
	operator := telegramtest.User{ID: tgOperator, FirstName: "Olga"}
	viewer := telegramtest.User{ID: tgViewer, FirstName: "Vic"}
	admin := telegramtest.User{ID: tgAdmin, FirstName: "Ada"}
	t.Cleanup(func() {
		if un := fake.UnansweredCallbacks(); len(un) > 0 {
			t.Errorf("callback queries never answered: %+v", un)
		}
	})

	dockertest.Kill(t, c.Name)
	subject := host.Name + "/" + c.Name
	alert := fake.WaitMessage(t, tgChat, func(m telegramtest.Message) bool {
		return strings.Contains(m.Text, subject+" is down")
	}, e2eWait)
	restart, ok := tgButton(alert, "Restart")
	if _, ack := tgButton(alert, "Ack"); !ok || !ack {
		t.Fatalf("alert buttons = %+v, want Restart and Ack", alert.Buttons())
	}

	// A viewer may not restart: the press is answered, refused, audited.
	id, err := fake.Click(tgChat, viewer, alert.ID, restart.CallbackData)
	if err != nil {
		t.Fatal(err)
	}
	if ans := fake.WaitCallbackAnswer(t, id, e2eWait); ans.Late {
		t.Errorf("viewer's press answered late: %+v", ans)
	}
	eventually(t, "viewer's restart audited as denied", func() (bool, string) {
		return findAudit(t, st, strconv.FormatInt(tgViewer, 10), deckhand.ActionRestart, "denied")
	})
	if got := dockertest.Inspect(t, c.Name); got.State == deckhand.StateRunning {
		t.Fatalf("container running after a viewer's Restart")
	}

	// An operator may.
	id, err = fake.Click(tgChat, operator, alert.ID, restart.CallbackData)
	if err != nil {
		t.Fatal(err)
	}
	fake.WaitCallbackAnswer(t, id, e2eWait)
	dockertest.WaitState(t, c.Name, deckhand.StateRunning)
	eventually(t, "alert message edited to recovered", func() (bool, string) {
		for _, m := range fake.BotMessages(tgChat) {
			if m.ID == alert.ID {
				return strings.Contains(m.Text, "Recovered: "+subject) && len(m.Buttons()) == 0, m.Text
			}
		}
		return false, "message gone"
	})
	eventually(t, "operator's restart audited as ok", func() (bool, string) {
		return findAudit(t, st, strconv.FormatInt(tgOperator, 10), deckhand.ActionRestart, "ok")
	})

	// An admin's /remove asks first.
	fake.SendUserMessage(tgChat, admin, "/remove "+host.Name+" "+victim.Name)
	confirm := fake.WaitMessage(t, tgChat, func(m telegramtest.Message) bool {
		_, ok := tgButton(m, "Confirm")
		return ok
	}, e2eWait)
	if !containerExists(victim.Name) {
		t.Fatalf("%s removed before Confirm", victim.Name)
	}
	yes, _ := tgButton(confirm, "Confirm")
	// Only the one who asked may confirm.
	if id, err = fake.Click(tgChat, operator, confirm.ID, yes.CallbackData); err != nil {
		t.Fatal(err)
	}
	fake.WaitCallbackAnswer(t, id, e2eWait)
	if !containerExists(victim.Name) {
		t.Fatalf("%s removed on someone else's Confirm", victim.Name)
	}
	if id, err = fake.Click(tgChat, admin, confirm.ID, yes.CallbackData); err != nil {
		t.Fatal(err)
	}
	fake.WaitCallbackAnswer(t, id, e2eWait)
	eventually(t, "container removed after Confirm", func() (bool, string) {
		return !containerExists(victim.Name), "still there"
	})
	eventually(t, "remove audited as ok", func() (bool, string) {
		return findAudit(t, st, strconv.FormatInt(tgAdmin, 10), deckhand.ActionRemove, "ok")
	})
}
