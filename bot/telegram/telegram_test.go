package telegram

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/bot"
	"github.com/deckhand/deckhand/bot/telegram/telegramtest"
	"github.com/deckhand/deckhand/commands"
	"github.com/deckhand/deckhand/commands/commandstest"
)

const (
	token     = "123456789:AAH-test_token_abcdefghijklmnopqrstu"
	alertChat = int64(-1002003004)
	wait      = 10 * time.Second
)

var (
	alice   = telegramtest.User{ID: 1001, FirstName: "Alice", Username: "alice"} // operator
	vic     = telegramtest.User{ID: 1002, FirstName: "Vic", Username: "vic"}     // viewer
	mallory = telegramtest.User{ID: 1003, FirstName: "Mallory"}                  // nobody
	gina    = telegramtest.User{ID: 1004, FirstName: "Gina", Username: "gina"}   // group admin only
)

// stubRouter lets a test replace the router's answer to one command.
type stubRouter struct {
	*commands.Router
	handle func(req commands.Request) (commands.Reply, bool)
}

func (s stubRouter) Handle(ctx context.Context, req commands.Request) commands.Reply {
	if s.handle != nil {
		if r, ok := s.handle(req); ok {
			return r
		}
	}
	return s.Router.Handle(ctx, req)
}

type harness struct {
	fake   *telegramtest.Server
	bot    *Bot
	env    *commandstest.Env
	router *commands.Router
	cfg    Config
}

type setup struct {
	cfg    func(*Config)
	opts   func(*Options)
	fake   telegramtest.Options
	handle func(req commands.Request) (commands.Reply, bool)
	noRun  bool
	down   bool // the Bot API is unreachable when Run starts
}

func start(t *testing.T, s setup) *harness {
	t.Helper()
	env := commandstest.NewEnv(nil)
	router, err := commands.NewRouter(env.Deps(), commands.Config{Secret: []byte(strings.Repeat("k", 32))}, commands.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fake := telegramtest.New(t, token, s.fake)
	fake.AddChat(alertChat, "supergroup")
	cfg := Config{
		Token: token, AlertChatID: alertChat,
		Users: map[int64]deckhand.Role{alice.ID: deckhand.RoleOperator, vic.ID: deckhand.RoleViewer},
	}
	if s.cfg != nil {
		s.cfg(&cfg)
	}
	opts := Options{ServerURL: fake.URL(), HTTPClient: fake.Client(), PollTimeout: 2 * time.Second}
	if s.opts != nil {
		s.opts(&opts)
	}
	b, err := New(cfg, stubRouter{Router: router, handle: s.handle}, opts)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{fake: fake, bot: b, env: env, router: router, cfg: cfg}
	if s.noRun {
		return h
	}
	fake.SetUnreachable(s.down)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		for _, q := range fake.UnansweredCallbacks() {
			t.Errorf("callback query left unanswered: %+v", q)
		}
	})
	if !s.down {
		fake.WaitCalls(t, "getUpdates", 1, wait)
	}
	return h
}

func (h *harness) alert(id int64) deckhand.Alert {
	a, ok := h.env.Alerts.Alert(id)
	if !ok {
		panic("no alert")
	}
	return a
}

func button(t *testing.T, m telegramtest.Message, label string) telegramtest.Button {
	t.Helper()
	for _, b := range m.Buttons() {
		if b.Text == label {
			return b
		}
	}
	t.Fatalf("no %q button in %+v", label, m.Keyboard)
	return telegramtest.Button{}
}

func TestCommandsRegistered(t *testing.T) {
	h := start(t, setup{})
	got := h.fake.Commands()
	if len(got) != len(h.router.Commands()) {
		t.Fatalf("registered %d commands, router has %d", len(got), len(h.router.Commands()))
	}
	name := regexp.MustCompile(`^[a-z0-9_]{1,32}$`)
	names := map[string]bool{}
	for _, c := range got {
		if !name.MatchString(c.Command) || c.Description == "" || len([]rune(c.Description)) > 256 {
			t.Errorf("invalid command %+v", c)
		}
		names[c.Command] = true
	}
	for _, want := range []string{"status", "restart", "restart_project", "logs"} {
		if !names[want] {
			t.Errorf("command %s not registered; got %v", want, names)
		}
	}
}

func TestTextCommandReplied(t *testing.T) {
	h := start(t, setup{})
	const private = int64(1001)
	tests := []struct {
		line, want string
	}{
		{"/hosts", "nas"},
		{"/containers@deckhand_bot nas", "jellyfin"},
		{"/restart_project", "Usage"}, // underscore spelling reaches restart-project
		{`/logs nas "unterminated`, "could not read"},
	}
	for _, tc := range tests {
		t.Run(tc.line, func(t *testing.T) {
			id := h.fake.SendUserMessage(private, alice, tc.line)
			h.fake.WaitMessage(t, private, func(m telegramtest.Message) bool {
				return m.ID > id && strings.Contains(m.Text, tc.want)
			}, wait)
		})
	}
	before := len(h.fake.BotMessages(private))
	h.fake.SendUserMessage(private, alice, "/hosts@some_other_bot")
	h.fake.SendUserMessage(private, mallory, "just chatting")
	last := h.fake.SendUserMessage(private, mallory, "/status")
	m := h.fake.WaitMessage(t, private, func(m telegramtest.Message) bool { return m.ID > last }, wait)
	if !strings.Contains(m.Text, "role") {
		t.Errorf("unmapped user got %q, want a refusal", m.Text)
	}
	if n := len(h.fake.BotMessages(private)); n != before+1 {
		t.Errorf("bot sent %d messages for a foreign command, chatter and a refused command; want 1", n-before)
	}
}

func TestAlertKeyboardAckAndEdits(t *testing.T) {
	h := start(t, setup{})
	a := h.alert(12)
	ref, err := h.bot.Send(context.Background(), deckhand.OutboxItem{ID: 1, Platform: deckhand.PlatformTelegram, Notice: deckhand.Notice{Kind: deckhand.NoticeOpened, Alert: a, At: time.Now()}})
	if err != nil {
		t.Fatal(err)
	}
	msgs := h.fake.BotMessages(alertChat)
	if len(msgs) != 1 || ref != chatRef(alertChat, msgs[0].ID) {
		t.Fatalf("ref %q, messages %+v", ref, msgs)
	}
	m := msgs[0]
	if !strings.Contains(m.Text, "nas/media-radarr-1 is down") || m.Entities[0].Type != "bold" {
		t.Errorf("alert text %q entities %+v", m.Text, m.Entities)
	}
	if got := len(m.Buttons()); got != 3 {
		t.Fatalf("buttons %+v, want Restart, Ack, Silence 1h", m.Keyboard)
	}
	if b := button(t, m, "Restart"); b.Style != "primary" {
		t.Errorf("Restart style %q", b.Style)
	}
	ack := button(t, m, "Ack")
	if ack.Style != "success" || len(ack.CallbackData) > 64 {
		t.Errorf("Ack button %+v", ack)
	}

	q, err := h.fake.Click(alertChat, alice, m.ID, ack.CallbackData)
	if err != nil {
		t.Fatal(err)
	}
	ans := h.fake.WaitCallbackAnswer(t, q, wait)
	if ans.ShowAlert || !strings.Contains(ans.Answer, "acked") {
		t.Errorf("answer %+v", ans)
	}
	edited := h.fake.WaitMessage(t, alertChat, func(x telegramtest.Message) bool { return x.ID == m.ID && x.Edits > 0 }, wait)
	if !strings.Contains(edited.Text, "is down") || !strings.Contains(edited.Text, "acked by telegram:alice") {
		t.Errorf("edited text %q", edited.Text)
	}
	if len(edited.Buttons()) != 2 {
		t.Errorf("after Ack the keyboard is %+v, want Restart and Silence", edited.Keyboard)
	}
	if edited.Entities[0].Type != "bold" {
		t.Errorf("edit lost the title's formatting: %+v", edited.Entities)
	}
	if st := h.alert(12).State; st != deckhand.AlertAcked {
		t.Errorf("alert state %s after Ack", st)
	}

	// The outbox's ack notice edits the same message and removes the keyboard.
	acked := deckhand.Notice{Kind: deckhand.NoticeAcked, Alert: h.alert(12), At: time.Now()}
	for i := 0; i < 2; i++ { // the second time is "not modified": still delivered
		got, err := h.bot.Send(context.Background(), deckhand.OutboxItem{ID: 2, Notice: acked, Ref: ref})
		if err != nil || got != ref {
			t.Fatalf("edit #%d: ref %q err %v", i, got, err)
		}
	}
	final := h.fake.BotMessages(alertChat)
	if len(final) != 1 || final[0].Keyboard != nil || !strings.HasPrefix(final[0].Text, "ℹ️ Acked:") {
		t.Errorf("after the ack notice: %+v", final)
	}

	// A message that is gone is replaced by a new one.
	got, err := h.bot.Send(context.Background(), deckhand.OutboxItem{ID: 3, Notice: acked, Ref: chatRef(alertChat, 999)})
	if err != nil || got == ref || got == "" {
		t.Errorf("edit of a missing message: ref %q err %v", got, err)
	}
}

func TestViewerRestartRefused(t *testing.T) {
	h := start(t, setup{})
	ref, err := h.bot.Send(context.Background(), deckhand.OutboxItem{Notice: deckhand.Notice{Kind: deckhand.NoticeOpened, Alert: h.alert(12)}})
	if err != nil {
		t.Fatal(err)
	}
	_, msgID, _ := parseRef(ref)
	m := h.fake.BotMessages(alertChat)[0]
	for _, u := range []telegramtest.User{vic, mallory} {
		q, err := h.fake.Click(alertChat, u, msgID, button(t, m, "Restart").CallbackData)
		if err != nil {
			t.Fatal(err)
		}
		ans := h.fake.WaitCallbackAnswer(t, q, wait)
		if !ans.ShowAlert || !(strings.Contains(ans.Answer, "may not") || strings.Contains(ans.Answer, "role")) {
			t.Errorf("%s's restart answered %+v, want a refusal shown as an alert", u.FirstName, ans)
		}
	}
	for _, c := range h.env.Docker.Calls() {
		if c.Op == "restart" {
			t.Errorf("a refused press restarted: %+v", c)
		}
	}
	if after := h.fake.BotMessages(alertChat); len(after) != 1 || after[0].Edits != 0 {
		t.Errorf("a refusal changed the chat: %+v", after)
	}
}

func TestSlowPressAnsweredInTime(t *testing.T) {
	h := start(t, setup{opts: func(o *Options) { o.CallbackDeadline = 100 * time.Millisecond }})
	entered, release := h.env.Docker.Block()
	defer release()
	if _, err := h.bot.Send(context.Background(), deckhand.OutboxItem{Notice: deckhand.Notice{Kind: deckhand.NoticeOpened, Alert: h.alert(12)}}); err != nil {
		t.Fatal(err)
	}
	m := h.fake.BotMessages(alertChat)[0]
	q, err := h.fake.Click(alertChat, alice, m.ID, button(t, m, "Restart").CallbackData)
	if err != nil {
		t.Fatal(err)
	}
	<-entered
	ans := h.fake.WaitCallbackAnswer(t, q, wait)
	if !strings.Contains(ans.Answer, "Working") {
		t.Errorf("slow press answered %+v", ans)
	}
	release()
	h.fake.WaitMessage(t, alertChat, func(x telegramtest.Message) bool { return strings.Contains(x.Text, "Restarted") }, wait)
}

func TestLongOutputAsDocument(t *testing.T) {
	long := strings.Repeat("a line of output <with> & symbols\n", 200) // > 4096 characters
	h := start(t, setup{handle: func(req commands.Request) (commands.Reply, bool) {
		return commands.Reply{Text: long}, req.Command == "stats"
	}})
	var logs strings.Builder
	for i := 0; i < 800; i++ {
		logs.WriteString("2025-01-01T00:00:00Z jellyfin[1]: request served\n")
	}
	h.env.Docker.LogsText = logs.String()
	const private = int64(1001)

	h.fake.SendUserMessage(private, alice, "/logs nas jellyfin 800")
	d := h.fake.WaitMessage(t, private, func(m telegramtest.Message) bool { return m.Document != nil }, wait)
	if d.Document.Name != "nas-jellyfin.log" || !strings.Contains(string(d.Document.Data), "request served") {
		t.Errorf("logs document %q (%d bytes)", d.Document.Name, len(d.Document.Data))
	}

	h.fake.SendUserMessage(private, alice, "/stats nas")
	d = h.fake.WaitMessage(t, private, func(m telegramtest.Message) bool { return m.Document != nil && m.Document.Name == logsFile }, wait)
	if string(d.Document.Data) != long {
		t.Errorf("logs.txt holds %d bytes, want the %d of the reply, unescaped", len(d.Document.Data), len(long))
	}
	if !strings.Contains(d.Text, "attached as logs.txt") {
		t.Errorf("caption %q", d.Text)
	}
}

func TestHostileNamesEscaped(t *testing.T) {
	hostile := `x</b><a href="https://evil">&amp;<script>`
	h := start(t, setup{handle: func(req commands.Request) (commands.Reply, bool) {
		return commands.Reply{Title: hostile, Text: "**" + hostile + "** and `" + hostile + "`\n```\n" + hostile + "\n```"}, req.Command == "hosts"
	}})
	a := deckhand.Alert{ID: 99, Key: deckhand.AlertKey{Host: hostile, Container: "<i>ctr&", Kind: deckhand.AlertContainerDown},
		Project: "p<>", Severity: deckhand.SeverityCritical, State: deckhand.AlertOpen, Message: "exit <1> & more"}
	if _, err := h.bot.Send(context.Background(), deckhand.OutboxItem{Notice: deckhand.Notice{Kind: deckhand.NoticeOpened, Alert: a}}); err != nil {
		t.Fatalf("Send with hostile names: %v", err)
	}
	m := h.fake.BotMessages(alertChat)[0]
	for _, want := range []string{hostile + "/<i>ctr& is down", "exit <1> & more", "project p<>"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("alert text %q lacks %q", m.Text, want)
		}
	}
	for _, e := range m.Entities {
		if e.Type != "bold" && e.Type != "italic" {
			t.Errorf("hostile name produced a %s entity", e.Type)
		}
	}

	h.fake.SendUserMessage(1001, alice, "/hosts")
	r := h.fake.WaitMessage(t, 1001, nil, wait)
	if strings.Count(r.Text, hostile) != 4 {
		t.Errorf("reply %q should show the hostile text literally 4 times", r.Text)
	}
	types := map[string]int{}
	for _, e := range r.Entities {
		types[e.Type]++
	}
	if types["bold"] != 2 || types["code"] != 1 || types["pre"] != 1 || types["text_link"] != 0 {
		t.Errorf("reply entities %v", types)
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	h := start(t, setup{})
	h.fake.Inject429(1, 7)
	_, err := h.bot.Send(context.Background(), deckhand.OutboxItem{Notice: deckhand.Notice{Kind: deckhand.NoticeOpened, Alert: h.alert(13)}})
	var ra bot.RetryAfter
	if !errors.As(err, &ra) || ra.After != 7*time.Second {
		t.Fatalf("Send under 429 = %v, want bot.RetryAfter of 7s", err)
	}

	// A command reply waits out a short retry_after and goes through.
	h.fake.Inject429(1, 1)
	h.fake.SendUserMessage(1002, vic, "/hosts")
	h.fake.WaitMessage(t, 1002, func(m telegramtest.Message) bool { return strings.Contains(m.Text, "nas") }, wait)
	if n := h.fake.Calls("sendMessage"); n != 3 {
		t.Errorf("sendMessage called %d times, want 3 (refused notice, refused reply, reply)", n)
	}
}

func TestPermanentRejection(t *testing.T) {
	h := start(t, setup{noRun: true, cfg: func(c *Config) { c.AlertChatID = -42 }}) // a chat the bot is not in
	_, err := h.bot.Send(context.Background(), deckhand.OutboxItem{Notice: deckhand.Notice{Kind: deckhand.NoticeOpened, Alert: h.alert(13)}})
	var p bot.Permanent
	if !errors.As(err, &p) || !strings.Contains(err.Error(), "chat not found") {
		t.Fatalf("Send to an unknown chat = %v, want bot.Permanent", err)
	}
	if strings.Contains(err.Error(), token) {
		t.Error("error leaks the token")
	}
	if _, err := h.bot.Send(context.Background(), deckhand.OutboxItem{Ref: "nope", Notice: deckhand.Notice{Kind: deckhand.NoticeAcked, Alert: h.alert(13)}}); !errors.As(err, &p) {
		t.Errorf("bad ref = %v, want bot.Permanent", err)
	}
}

func TestChatAdminsRole(t *testing.T) {
	h := start(t, setup{cfg: func(c *Config) {
		c.ChatAdminsRole = deckhand.RoleOperator
		c.Users[vic.ID] = deckhand.RoleViewer
		c.UserHosts = map[int64][]string{vic.ID: {"pi"}}
	}})
	h.fake.SetChatAdmin(alertChat, gina.ID)
	h.fake.SetChatOwner(alertChat, vic.ID)

	cases := []struct {
		user telegramtest.User
		line string
		want string
	}{
		{gina, "/restart nas jellyfin", "Restarted"},
		{gina, "/stop nas jellyfin", "Stopped"},       // cached: no second getChatMember
		{mallory, "/restart nas jellyfin", "role"},    // a plain member has no role
		{vic, "/restart nas jellyseerr", "Restarted"}, // owner of the chat: operator, unscoped
	}
	for _, tc := range cases {
		id := h.fake.SendUserMessage(alertChat, tc.user, tc.line)
		m := h.fake.WaitMessage(t, alertChat, func(m telegramtest.Message) bool { return m.ID > id }, wait)
		if !strings.Contains(m.Text, tc.want) {
			t.Errorf("%s %q: reply %q, want %q", tc.user.FirstName, tc.line, m.Text, tc.want)
		}
	}
	if n := h.fake.Calls("getChatMember"); n != 3 {
		t.Errorf("getChatMember called %d times, want 3 (one per user, cached)", n)
	}
}

func TestPacingAvoids429(t *testing.T) {
	if testing.Short() {
		t.Skip("paces messages for a few seconds")
	}
	h := start(t, setup{fake: telegramtest.Options{StrictRateLimit: true}, noRun: true})
	for i := 0; i < 5; i++ {
		if _, err := h.bot.Send(context.Background(), deckhand.OutboxItem{Notice: deckhand.Notice{Kind: deckhand.NoticeReminder, Alert: h.alert(13)}}); err != nil {
			t.Fatalf("notice %d: %v", i, err)
		}
	}
	if n := len(h.fake.BotMessages(alertChat)); n != 5 {
		t.Errorf("%d messages delivered", n)
	}
}

func TestConfigValidate(t *testing.T) {
	good := Config{Token: token, AlertChatID: alertChat, Users: map[int64]deckhand.Role{1: deckhand.RoleAdmin}}
	tests := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"ok", func(*Config) {}, ""},
		{"no token", func(c *Config) { c.Token = "" }, "telegram.token: required"},
		{"bad token", func(c *Config) { c.Token = "secret-value-without-colon" }, "does not look like"},
		{"no chat", func(c *Config) { c.AlertChatID = 0 }, "alert_chat_id"},
		{"bad user", func(c *Config) { c.Users[-5] = deckhand.RoleViewer }, "not a user ID"},
		{"no role", func(c *Config) { c.Users[2] = deckhand.RoleNone }, "no deckhand role"},
		{"admins in private chat", func(c *Config) { c.AlertChatID = 5; c.ChatAdminsRole = deckhand.RoleViewer }, "needs a group"},
		{"hosts of unmapped", func(c *Config) { c.UserHosts = map[int64][]string{9: {"nas"}} }, "not a mapped user"},
		{"empty hosts", func(c *Config) { c.UserHosts = map[int64][]string{1: {}} }, "lists no hosts"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			c.Users = map[int64]deckhand.Role{1: deckhand.RoleAdmin}
			tc.mod(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want %q", err, tc.want)
			case err != nil && !errors.Is(err, deckhand.ErrInvalidInput):
				t.Errorf("error %v is not ErrInvalidInput", err)
			}
			if err != nil && strings.Contains(err.Error(), "secret-value") {
				t.Error("error echoes the token")
			}
		})
	}
	if s := good.String(); strings.Contains(s, "AAH") {
		t.Errorf("String leaks the token: %s", s)
	}
}

// The adapter is what the outbox dispatcher delivers through.
var _ bot.Sender = (*Bot)(nil)
