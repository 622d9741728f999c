package bot_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/bot/discord"
	"github.com/deckhand/deckhand/bot/discord/discordtest"
	"github.com/deckhand/deckhand/bot/ntfy"
	"github.com/deckhand/deckhand/bot/ntfy/ntfytest"
	"github.com/deckhand/deckhand/bot/telegram"
	"github.com/deckhand/deckhand/bot/telegram/telegramtest"
	"github.com/deckhand/deckhand/commands"
	"github.com/deckhand/deckhand/commands/commandstest"
)

// Tests here must not call t.Parallel: the Discord adapter rewrites
// discordgo's package-level endpoints.

const statusURL = "https://status.example.org"

// seen is a delivered notice as a reader sees it on one platform.
type seen struct {
	title, body string
	links       []string // where the message links to
	buttons     []string // action buttons, by label
}

func (s seen) text() string { return s.title + "\n" + s.body }

// platform delivers one notice through a real adapter to its fake and
// reads back what the fake received.
type platform struct {
	name string
	send func(t *testing.T, r *commands.Router, n deckhand.Notice, url string) seen
}

var platforms = []platform{
	{deckhand.PlatformDiscord, sendDiscord},
	{deckhand.PlatformTelegram, sendTelegram},
	{deckhand.PlatformNtfy, sendNtfy},
}

func sendDiscord(t *testing.T, r *commands.Router, n deckhand.Notice, url string) seen {
	const channel = "700000000000000009"
	fake := discordtest.NewServer(t, "test-token")
	cfg := discord.Config{Token: "test-token", ApplicationID: fake.AppID, GuildID: fake.GuildID, AlertChannelID: channel, StatusURL: url}
	b, err := discord.New(cfg, r, discord.Options{APIBase: fake.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Send(context.Background(), deckhand.OutboxItem{ID: 1, Notice: n}); err != nil {
		t.Fatalf("discord: %v", err)
	}
	msgs := fake.Messages(channel)
	if len(msgs) != 1 || len(msgs[0].Embeds) != 1 {
		t.Fatalf("discord: messages %+v", msgs)
	}
	e := msgs[0].Embeds[0]
	s := seen{title: e.Title, body: e.Description}
	for _, f := range e.Fields {
		s.body += "\n" + f.Name + ": " + f.Value
	}
	if e.URL != "" {
		s.links = append(s.links, e.URL)
	}
	for _, c := range msgs[0].Buttons() {
		if c.URL != "" {
			s.links = append(s.links, c.URL)
		} else {
			s.buttons = append(s.buttons, c.Label)
		}
	}
	return s
}

func sendTelegram(t *testing.T, r *commands.Router, n deckhand.Notice, url string) seen {
	const (
		token = "123456789:AAH-test_token_abcdefghijklmnopqrstu"
		chat  = int64(-1002003004)
	)
	fake := telegramtest.New(t, token, telegramtest.Options{})
	fake.AddChat(chat, "supergroup")
	b, err := telegram.New(telegram.Config{Token: token, AlertChatID: chat, StatusURL: url}, r, telegram.Options{ServerURL: fake.URL()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Send(context.Background(), deckhand.OutboxItem{ID: 1, Notice: n}); err != nil {
		t.Fatalf("telegram: %v", err)
	}
	msgs := fake.BotMessages(chat)
	if len(msgs) != 1 {
		t.Fatalf("telegram: messages %+v", msgs)
	}
	m := msgs[0]
	var s seen
	s.title, s.body, _ = strings.Cut(m.Text, "\n")
	for _, e := range m.Entities {
		if e.URL != "" {
			s.links = append(s.links, e.URL)
		}
	}
	for _, b := range m.Buttons() {
		if b.URL != "" {
			s.links = append(s.links, b.URL)
		} else {
			s.buttons = append(s.buttons, b.Text)
		}
	}
	return s
}

func sendNtfy(t *testing.T, r *commands.Router, n deckhand.Notice, url string) seen {
	fake := ntfytest.NewServer(t)
	cfg := ntfy.Config{Server: fake.URL, Topic: "deckhand-alerts", ClickURL: url, Actions: true, ActionBaseURL: "https://deckhand.example.org"}
	s, err := ntfy.New(cfg, r, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(context.Background(), deckhand.OutboxItem{ID: 1, Notice: n}); err != nil {
		t.Fatalf("ntfy: %v", err)
	}
	msgs := fake.Messages()
	if len(msgs) != 1 {
		t.Fatalf("ntfy: messages %+v", msgs)
	}
	m := msgs[0]
	out := seen{title: m.Title, body: m.Message}
	if m.Click != "" {
		out.links = append(out.links, m.Click)
	}
	for _, a := range m.Actions {
		if a.Action == "view" {
			out.links = append(out.links, a.URL)
		} else {
			out.buttons = append(out.buttons, a.Label)
		}
	}
	return out
}

func newRouter(t *testing.T) *commands.Router {
	t.Helper()
	env := commandstest.NewEnv(nil)
	r, err := commands.NewRouter(env.Deps(), commands.Config{Secret: []byte("0123456789abcdef0123456789abcdef")}, commands.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// durationRe finds the durations a text quotes (3m, 2h5m, 1d2h, 45s).
var durationRe = regexp.MustCompile(`\b\d+[smhd](?:\d+[smhd])?\b`)

// TestNoticesReadTheSameOnEveryPlatform delivers every kind of notice
// through every adapter to its fake and reads it as a person would: the
// title is not said again in the body, "since" at most once, the
// durations quoted are the alert's downtime, the status page is linked
// exactly when public_url is set, and buttons only where they can help.
func TestNoticesReadTheSameOnEveryPlatform(t *testing.T) {
	first := time.Date(2026, 3, 1, 14, 2, 0, 0, time.UTC)
	at := first.Add(3*time.Minute + 20*time.Second)
	down := deckhand.Alert{
		ID: 7, Key: deckhand.AlertKey{Host: "nas", Container: "jellyfin", Kind: deckhand.AlertContainerDown},
		Project: "media", Severity: deckhand.SeverityError, State: deckhand.AlertOpen,
		Message: "nas/jellyfin is down (exited 137)", FirstSeenAt: first, OpenedAt: first.Add(30 * time.Second),
	}
	acked := down
	acked.State, acked.AckedBy, acked.AckedAt = deckhand.AlertAcked, "discord:alice", at
	closed := down
	closed.State, closed.ClosedAt = deckhand.AlertClosed, first.Add(2*time.Hour+5*time.Minute+40*time.Second)
	unreachable := deckhand.Alert{
		ID: 8, Key: deckhand.AlertKey{Host: "pi", Kind: deckhand.AlertHostUnreachable}, Severity: deckhand.SeverityCritical,
		State: deckhand.AlertOpen, Message: "host pi unreachable: dial tcp 10.0.0.2:22: connect: no route to host", FirstSeenAt: first,
	}
	hostBack := unreachable
	hostBack.State, hostBack.ClosedAt = deckhand.AlertClosed, first.Add(59*time.Second)
	restart := deckhand.RestartReport{Attempt: 2, Max: 3, Window: time.Hour, Err: "Error response from daemon: no such container"}

	all := []string{"Restart", "Ack", "Silence 1h"}
	for _, tc := range []struct {
		name     string
		n        deckhand.Notice
		title    string   // what the title says (after any emoji)
		body     []string // what the body says, among other things
		duration string   // the one duration the text may quote; "" for none
		buttons  []string
	}{
		{"opened", deckhand.Notice{Kind: deckhand.NoticeOpened, Alert: down, At: at},
			"nas/jellyfin is down", []string{"exited 137"}, "3m", all},
		{"reminder", deckhand.Notice{Kind: deckhand.NoticeReminder, Alert: down, At: first.Add(time.Hour + 2*time.Minute)},
			"Reminder: nas/jellyfin is down", []string{"exited 137"}, "1h2m", all},
		{"acked", deckhand.Notice{Kind: deckhand.NoticeAcked, Alert: acked, At: at},
			"Acked: nas/jellyfin is down", []string{"discord:alice"}, "3m", nil},
		{"recovered", deckhand.Notice{Kind: deckhand.NoticeRecovered, Alert: closed, At: closed.ClosedAt.Add(20 * time.Second)},
			"Recovered: nas/jellyfin", []string{"2h5m"}, "2h5m", nil},
		{"auto restart failed", deckhand.Notice{Kind: deckhand.NoticeAutoRestart, Alert: down, At: at, Restart: &restart},
			"nas/jellyfin", []string{"2/3", "no such container"}, "3m", all},
		{"host unreachable", deckhand.Notice{Kind: deckhand.NoticeOpened, Alert: unreachable, At: at},
			"pi is unreachable", []string{"no route to host"}, "3m", []string{"Ack", "Silence 1h"}},
		{"host back", deckhand.Notice{Kind: deckhand.NoticeRecovered, Alert: hostBack, At: hostBack.ClosedAt.Add(time.Minute)},
			"Recovered: pi", []string{"59s"}, "59s", nil},
		{"announcement", deckhand.Notice{Kind: deckhand.NoticeAnnouncement, Text: "Maintenance tonight from 22:00", At: at},
			"Announcement", []string{"Maintenance tonight"}, "", nil},
	} {
		for _, p := range platforms {
			for _, url := range []string{"", statusURL} {
				name := fmt.Sprintf("%s/%s/link=%v", tc.name, p.name, url != "")
				t.Run(name, func(t *testing.T) {
					s := p.send(t, newRouter(t), tc.n, url)
					if !strings.Contains(s.title, tc.title) {
						t.Errorf("title %q, want it to say %q", s.title, tc.title)
					}
					if strings.Contains(s.body, tc.title) {
						t.Errorf("body repeats the title %q:\n%s", tc.title, s.body)
					}
					for _, w := range tc.body {
						if !strings.Contains(s.body, w) {
							t.Errorf("body lacks %q:\n%s", w, s.body)
						}
					}
					if n := strings.Count(strings.ToLower(s.text()), "since"); n > 1 {
						t.Errorf("%q said %d times:\n%s", "since", n, s.text())
					}
					for _, d := range durationRe.FindAllString(s.text(), -1) {
						if d != tc.duration && !(tc.n.Restart != nil && d == deckhand.HumanDuration(tc.n.Restart.Window)) {
							t.Errorf("duration %q quoted, want only %q:\n%s", d, tc.duration, s.text())
						}
					}
					if linked := slices.Contains(s.links, statusURL); linked != (url != "") {
						t.Errorf("status page linked %v (links %v), want %v", linked, s.links, url != "")
					}
					if !slices.Equal(s.buttons, tc.buttons) {
						t.Errorf("buttons %v, want %v", s.buttons, tc.buttons)
					}
				})
			}
		}
	}
}
