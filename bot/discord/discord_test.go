package discord

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/bot"
	"github.com/deckhand/deckhand/bot/discord/discordtest"
	"github.com/deckhand/deckhand/commands"
)

const (
	token      = "test-token-abc"
	roleViewer = "300000000000000001"
	roleOps    = "300000000000000002"
	userAdmin  = "400000000000000009"
	userAlice  = "400000000000000001" // operator through roleOps
	userVic    = "400000000000000002" // viewer through roleViewer
	userNobody = "400000000000000003"
)

// fakeRouter is an in-test commands router: it records requests and
// answers with canned replies, checking roles the way the real one does.
type fakeRouter struct {
	mu       sync.Mutex
	requests []commands.Request
	clicks   []string
	reply    func(commands.Request) commands.Reply
	complete []string
	gate     chan struct{} // when set, Handle waits on it
}

func (r *fakeRouter) Commands() []commands.Spec {
	return []commands.Spec{
		{Name: "status", Description: "Overview of every host", MinRole: deckhand.RoleViewer},
		{Name: "logs", Description: "Tail a container's logs", MinRole: deckhand.RoleViewer, Args: []commands.ArgSpec{
			{Name: "host", Description: "Host", Required: true, Kind: commands.ArgHost},
			{Name: "container", Description: "Container", Required: true, Kind: commands.ArgContainer},
			{Name: "lines", Description: "How many lines", Kind: commands.ArgInt},
			{Name: "since", Description: "How far back", Kind: commands.ArgDuration},
		}},
		{Name: "restart", Description: "Restart a container", MinRole: deckhand.RoleOperator, Args: []commands.ArgSpec{
			{Name: "host", Description: "Host", Required: true, Kind: commands.ArgHost},
			{Name: "container", Description: "Container", Required: true, Kind: commands.ArgContainer},
		}},
		{Name: "restart-project", Description: "", MinRole: deckhand.RoleOperator, Args: []commands.ArgSpec{
			{Name: "host", Required: true, Kind: commands.ArgHost},
			{Name: "project", Required: true, Kind: commands.ArgProject},
		}},
	}
}

func (r *fakeRouter) Handle(ctx context.Context, req commands.Request) commands.Reply {
	r.mu.Lock()
	r.requests = append(r.requests, req)
	gate, reply := r.gate, r.reply
	r.mu.Unlock()
	if gate != nil {
		<-gate
	}
	for _, s := range r.Commands() {
		if s.Name == req.Command && req.Actor.Role < s.MinRole {
			return commands.Reply{Text: "You need the " + s.MinRole.String() + " role for /" + s.Name + ".", Error: true, Ephemeral: true}
		}
	}
	if reply != nil {
		return reply(req)
	}
	return commands.Reply{Text: "ok: " + req.Command + " " + strings.Join(req.Args, ",")}
}

func (r *fakeRouter) HandleButton(ctx context.Context, actor deckhand.Actor, payload string) commands.Reply {
	r.mu.Lock()
	r.clicks = append(r.clicks, payload)
	r.mu.Unlock()
	if actor.Role < deckhand.RoleOperator {
		return commands.Reply{Text: "You need the operator role.", Error: true, Ephemeral: true}
	}
	switch {
	case strings.HasPrefix(payload, "ack:"):
		return commands.Reply{Text: "Acked by " + actor.Name, Edit: true}
	case strings.HasPrefix(payload, "rst:"):
		return commands.Reply{Text: "Restarted nas/jellyfin."}
	}
	return commands.Reply{Text: "Unknown button.", Error: true, Ephemeral: true}
}

func (r *fakeRouter) AlertButtons(a deckhand.Alert, actions []deckhand.Action) []commands.Button {
	id := fmt.Sprint(a.ID)
	all := map[deckhand.Action]commands.Button{
		deckhand.ActionRestart: {Label: "Restart", Payload: "rst:" + id + ":sig", Style: commands.Danger},
		deckhand.ActionAck:     {Label: "Ack", Payload: "ack:" + id + ":sig", Style: commands.Primary},
		deckhand.ActionSilence: {Label: "Silence 1h", Payload: "sil:" + id + ":sig", Style: commands.Secondary},
	}
	var out []commands.Button
	for _, act := range actions {
		out = append(out, all[act])
	}
	return out
}

func (r *fakeRouter) Complete(ctx context.Context, kind commands.ArgKind, host, prefix string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, v := range r.complete {
		if strings.HasPrefix(v, prefix) {
			out = append(out, string(kind)+":"+host+":"+v)
		}
	}
	return out
}

func (r *fakeRouter) lastRequest(t *testing.T) commands.Request {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.requests) == 0 {
		t.Fatal("router got no request")
	}
	return r.requests[len(r.requests)-1]
}

func testConfig(fake *discordtest.Server) Config {
	return Config{
		Token: token, ApplicationID: fake.AppID, GuildID: fake.GuildID, AlertChannelID: "700000000000000009",
		Roles: map[string]deckhand.Role{roleViewer: deckhand.RoleViewer, roleOps: deckhand.RoleOperator},
		Users: map[string]deckhand.Role{userAdmin: deckhand.RoleAdmin},
	}
}

type harness struct {
	fake   *discordtest.Server
	router *fakeRouter
	bot    *Bot
	cfg    Config
}

// start runs a Bot against a fresh fake until the test ends, and checks at
// the end that the bot committed no protocol violation.
func start(t *testing.T, run bool) *harness {
	t.Helper()
	fake := discordtest.NewServer(t, token)
	router := &fakeRouter{}
	cfg := testConfig(fake)
	b, err := New(cfg, router, Options{APIBase: fake.URL})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{fake: fake, router: router, bot: b, cfg: cfg}
	if run {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- b.Run(ctx) }()
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
		fake.WaitReady(t, 5*time.Second)
	}
	t.Cleanup(func() {
		for _, f := range fake.Failures() {
			t.Errorf("discord protocol violation: %+v", f)
		}
	})
	return h
}

const wait = 5 * time.Second

func hasKind(kind string) func([]discordtest.Response) bool {
	return func(rs []discordtest.Response) bool {
		for _, r := range rs {
			if r.Kind == kind {
				return true
			}
		}
		return false
	}
}

func TestRunRegistersCommands(t *testing.T) {
	h := start(t, true)
	cmds := h.fake.RegisteredCommands()
	got := map[string]discordtest.Command{}
	for _, c := range cmds {
		if c.GuildID != h.fake.GuildID {
			t.Errorf("command %s registered in guild %q, want %q", c.Name, c.GuildID, h.fake.GuildID)
		}
		got[c.Name] = c
	}
	if len(got) != 4 {
		t.Fatalf("registered %d commands, want 4: %+v", len(got), cmds)
	}
	logs := got["logs"]
	want := []discordtest.CommandOption{
		{Type: discordtest.OptionString, Name: "host", Description: "Host", Required: true, Autocomplete: true},
		{Type: discordtest.OptionString, Name: "container", Description: "Container", Required: true, Autocomplete: true},
		{Type: discordtest.OptionInteger, Name: "lines", Description: "How many lines"},
		{Type: discordtest.OptionString, Name: "since", Description: "How far back"},
	}
	if fmt.Sprint(logs.Options) != fmt.Sprint(want) {
		t.Errorf("logs options:\n got %+v\nwant %+v", logs.Options, want)
	}
	rp := got["restart-project"]
	if rp.Description != "restart-project" || rp.Options[1].Description != "project" || !rp.Options[1].Autocomplete {
		t.Errorf("restart-project: empty descriptions must fall back to names, project autocompletes: %+v", rp)
	}
}

func TestSlashCommandDeferredThenAnswered(t *testing.T) {
	h := start(t, true)
	it := h.fake.SlashCommand(h.fake.GuildID, userVic, []string{roleViewer}, "status")
	rs := h.fake.WaitResponses(t, it.ID, hasKind(discordtest.KindEditOriginal), wait)
	if len(rs) != 2 {
		t.Fatalf("responses = %+v, want callback then edit", rs)
	}
	if rs[0].Kind != discordtest.KindCallback || rs[0].Type != discordtest.CallbackDeferredMessage || rs[0].Message.Ephemeral() {
		t.Errorf("first response = %+v, want a public deferred message (type 5)", rs[0])
	}
	if rs[1].Message.Content != "ok: status " || rs[1].Message.Ephemeral() {
		t.Errorf("answer = %q (ephemeral %v)", rs[1].Message.Content, rs[1].Message.Ephemeral())
	}
	req := h.router.lastRequest(t)
	want := deckhand.Actor{Platform: "discord", UserID: userVic, Name: "user" + userVic, Role: deckhand.RoleViewer}
	if fmt.Sprint(req.Actor) != fmt.Sprint(want) || req.Command != "status" || len(req.Args) != 0 {
		t.Errorf("request = %+v, want actor %+v", req, want)
	}
}

func TestSlashCommandOptionsBecomePositionalArgs(t *testing.T) {
	h := start(t, true)
	tests := []struct {
		opts []discordtest.Option
		want string
	}{
		{[]discordtest.Option{discordtest.Opt("host", "nas"), discordtest.Opt("container", "jellyfin")}, "nas,jellyfin"},
		{[]discordtest.Option{discordtest.Opt("container", "jellyfin"), discordtest.Opt("host", "nas"), discordtest.Opt("lines", 50)}, "nas,jellyfin,50"},
		{[]discordtest.Option{discordtest.Opt("host", "nas"), discordtest.Opt("container", "db"), discordtest.Opt("since", "1h")}, "nas,db,,1h"},
	}
	for _, tt := range tests {
		it := h.fake.SlashCommand(h.fake.GuildID, userVic, []string{roleViewer}, "logs", tt.opts...)
		h.fake.WaitResponses(t, it.ID, hasKind(discordtest.KindEditOriginal), wait)
		if got := strings.Join(h.router.lastRequest(t).Args, ","); got != tt.want {
			t.Errorf("args = %q, want %q", got, tt.want)
		}
	}
}

// Replies echo what users typed (a /silence reason, a container name):
// the edit of the deferred answer must say that nothing pings, or Discord
// parses mentions in the new content with its default of everything.
func TestEchoedMentionsDoNotPing(t *testing.T) {
	h := start(t, true)
	it := h.fake.SlashCommand(h.fake.GuildID, userVic, []string{roleViewer}, "logs",
		discordtest.Opt("host", "@everyone"), discordtest.Opt("container", "<@"+userAlice+"> <@&"+roleOps+">"))
	rs := h.fake.WaitResponses(t, it.ID, hasKind(discordtest.KindEditOriginal), wait)
	m := rs[len(rs)-1].Message
	if !strings.Contains(m.Content, "@everyone") {
		t.Fatalf("answer = %q, want the echoed text", m.Content)
	}
	if len(m.Pings) != 0 {
		t.Errorf("answer %q pings %v", m.Content, m.Pings)
	}
}

func TestRefusedCommandIsPrivateFromTheStart(t *testing.T) {
	h := start(t, true)
	for _, who := range []struct {
		user  string
		roles []string
	}{{userVic, []string{roleViewer}}, {userNobody, nil}} {
		it := h.fake.SlashCommand(h.fake.GuildID, who.user, who.roles, "restart",
			discordtest.Opt("host", "nas"), discordtest.Opt("container", "jellyfin"))
		rs := h.fake.WaitResponses(t, it.ID, hasKind(discordtest.KindEditOriginal), wait)
		if !rs[0].Message.Ephemeral() || rs[0].Type != discordtest.CallbackDeferredMessage {
			t.Errorf("%s: deferral %+v must be ephemeral", who.user, rs[0])
		}
		last := rs[len(rs)-1]
		if !last.Message.Ephemeral() || !strings.Contains(last.Message.Content, "operator") {
			t.Errorf("%s: refusal %+v must be ephemeral and say why", who.user, last.Message)
		}
	}
	for _, m := range h.fake.Messages(h.fake.ChannelID) {
		if !m.Ephemeral() && !m.Deleted {
			t.Errorf("a refusal was visible to the channel: %+v", m)
		}
	}
}

func TestErrorAfterPublicDeferIsMovedToPrivate(t *testing.T) {
	h := start(t, true)
	h.router.reply = func(commands.Request) commands.Reply {
		return commands.Reply{Text: "No host named nsa. Did you mean nas?", Error: true}
	}
	it := h.fake.SlashCommand(h.fake.GuildID, userVic, []string{roleViewer}, "logs",
		discordtest.Opt("host", "nsa"), discordtest.Opt("container", "x"))
	rs := h.fake.WaitResponses(t, it.ID, hasKind(discordtest.KindFollowup), wait)
	kinds := []string{}
	for _, r := range rs {
		kinds = append(kinds, r.Kind)
	}
	if strings.Join(kinds, ",") != "callback,delete_original,followup" {
		t.Fatalf("responses = %v", kinds)
	}
	if f := rs[2].Message; !f.Ephemeral() || !strings.Contains(f.Content, "Did you mean") {
		t.Errorf("follow-up = %+v, want the ephemeral error", f)
	}
}

func TestLongOutputBecomesAttachment(t *testing.T) {
	h := start(t, true)
	long := strings.Repeat("2024-05-01T10:00:00Z jellyfin: transcoding segment 42\n", 100)
	h.router.reply = func(commands.Request) commands.Reply { return commands.Reply{Text: long} }
	it := h.fake.SlashCommand(h.fake.GuildID, userVic, []string{roleViewer}, "logs",
		discordtest.Opt("host", "nas"), discordtest.Opt("container", "jellyfin"))
	rs := h.fake.WaitResponses(t, it.ID, hasKind(discordtest.KindEditOriginal), wait)
	m := rs[len(rs)-1].Message
	if len(m.Attachments) != 1 || m.Attachments[0].Filename != "logs.txt" || string(m.Attachments[0].Data) != long {
		t.Fatalf("attachments = %+v, want logs.txt with the full output", m.Attachments)
	}
	if len(m.Content) > 2000 || !strings.Contains(m.Content, "logs.txt") {
		t.Errorf("content = %q", m.Content)
	}

	h.router.reply = func(commands.Request) commands.Reply {
		return commands.Reply{Text: "Last 5000 lines:", File: &commands.File{Name: "jellyfin.log", Data: []byte("line\n")}}
	}
	it = h.fake.SlashCommand(h.fake.GuildID, userVic, []string{roleViewer}, "logs",
		discordtest.Opt("host", "nas"), discordtest.Opt("container", "jellyfin"))
	rs = h.fake.WaitResponses(t, it.ID, hasKind(discordtest.KindEditOriginal), wait)
	if a := rs[len(rs)-1].Message.Attachments; len(a) != 1 || a[0].Filename != "jellyfin.log" {
		t.Errorf("reply file not attached: %+v", a)
	}
}

func TestSlowCommandIsAcknowledgedBeforeTheRouterRuns(t *testing.T) {
	h := start(t, true)
	h.router.gate = make(chan struct{})
	it := h.fake.SlashCommand(h.fake.GuildID, userAlice, []string{roleOps}, "restart",
		discordtest.Opt("host", "nas"), discordtest.Opt("container", "jellyfin"))
	h.fake.WaitResponses(t, it.ID, hasKind(discordtest.KindCallback), wait)
	// The restart takes a minute on the fake's clock: far past the 3 s
	// window, well inside the 15 min follow-up window.
	h.fake.Advance(time.Minute)
	close(h.router.gate)
	rs := h.fake.WaitResponses(t, it.ID, hasKind(discordtest.KindEditOriginal), wait)
	if rs[len(rs)-1].Status != 200 {
		t.Errorf("late answer rejected: %+v", rs[len(rs)-1])
	}
}

func alertItem(id int64, kind deckhand.NoticeKind, ref string) deckhand.OutboxItem {
	first := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	return deckhand.OutboxItem{
		ID: id, Platform: deckhand.PlatformDiscord, Ref: ref,
		Notice: deckhand.Notice{Kind: kind, At: first.Add(5 * time.Minute), Text: "jellyfin exited with code 137",
			Alert: deckhand.Alert{ID: 7, Key: deckhand.AlertKey{Host: "nas", Container: "jellyfin", Kind: deckhand.AlertContainerDown},
				Severity: deckhand.SeverityCritical, State: deckhand.AlertOpen, FirstSeenAt: first, Project: "media"}},
	}
}

func TestSendAlertWithButtons(t *testing.T) {
	h := start(t, false)
	ref, err := h.bot.Send(context.Background(), alertItem(41, deckhand.NoticeOpened, ""))
	if err != nil {
		t.Fatal(err)
	}
	msgs := h.fake.Messages(h.cfg.AlertChannelID)
	if len(msgs) != 1 {
		t.Fatalf("messages = %d", len(msgs))
	}
	m := msgs[0]
	if ref != h.cfg.AlertChannelID+"/"+m.ID {
		t.Errorf("ref = %q", ref)
	}
	if m.Nonce != "dh-41" {
		t.Errorf("nonce = %q", m.Nonce)
	}
	e := m.Embeds[0]
	if !strings.Contains(e.Title, "nas/jellyfin is down") || e.Color != bot.Render(alertItem(41, deckhand.NoticeOpened, "").Notice).Color {
		t.Errorf("embed = %+v", e)
	}
	fields := map[string]string{}
	for _, f := range e.Fields {
		fields[f.Name] = f.Value
	}
	// Since is said once, in the description, not again as a field.
	wantFields := map[string]string{"Host": "nas", "Container": "jellyfin", "Project": "media", "Alert": "#7"}
	if fmt.Sprint(fields) != fmt.Sprint(wantFields) {
		t.Errorf("fields = %v, want %v", fields, wantFields)
	}
	var got []string
	for _, b := range m.Buttons() {
		got = append(got, fmt.Sprintf("%s/%d/%s", b.Label, b.Style, b.CustomID))
	}
	want := "Restart/4/rst:7:sig Ack/1/ack:7:sig Silence 1h/2/sil:7:sig"
	if strings.Join(got, " ") != want {
		t.Errorf("buttons = %v, want %s", got, want)
	}
}

func TestSendResendAfterCrashIsDeduplicated(t *testing.T) {
	h := start(t, false)
	item := alertItem(42, deckhand.NoticeOpened, "")
	ref1, err := h.bot.Send(context.Background(), item)
	if err != nil {
		t.Fatal(err)
	}
	ref2, err := h.bot.Send(context.Background(), item)
	if err != nil {
		t.Fatal(err)
	}
	if ref1 != ref2 || len(h.fake.Messages(h.cfg.AlertChannelID)) != 1 {
		t.Errorf("resend posted a duplicate: %s vs %s", ref1, ref2)
	}
}

func TestSendEditsOnAckAndRecovery(t *testing.T) {
	h := start(t, false)
	ref, err := h.bot.Send(context.Background(), alertItem(43, deckhand.NoticeOpened, ""))
	if err != nil {
		t.Fatal(err)
	}
	for i, kind := range []deckhand.NoticeKind{deckhand.NoticeAcked, deckhand.NoticeRecovered} {
		got, err := h.bot.Send(context.Background(), alertItem(44+int64(i), kind, ref))
		if err != nil {
			t.Fatal(err)
		}
		if got != ref {
			t.Errorf("%s: ref = %q, want %q", kind, got, ref)
		}
	}
	msgs := h.fake.Messages(h.cfg.AlertChannelID)
	if len(msgs) != 1 {
		t.Fatalf("messages = %d, want the original edited", len(msgs))
	}
	if m := msgs[0]; m.Edits != 2 || len(m.Buttons()) != 0 || !strings.Contains(m.Embeds[0].Title, "Recovered") {
		t.Errorf("after recovery: edits %d, buttons %d, title %q", m.Edits, len(m.Buttons()), m.Embeds[0].Title)
	}
}

func TestSendRepostsWhenTheMessageIsGone(t *testing.T) {
	h := start(t, false)
	ref, err := h.bot.Send(context.Background(), alertItem(50, deckhand.NoticeRecovered, h.cfg.AlertChannelID+"/123456"))
	if err != nil {
		t.Fatal(err)
	}
	if ref == h.cfg.AlertChannelID+"/123456" || len(h.fake.Messages(h.cfg.AlertChannelID)) != 1 {
		t.Errorf("ref = %s, want a new message", ref)
	}
	if _, err := h.bot.Send(context.Background(), alertItem(51, deckhand.NoticeAcked, "garbage")); !errors.As(err, new(bot.Permanent)) {
		t.Errorf("bad ref: err = %v, want bot.Permanent", err)
	}
}

func TestSendHonoursRateLimits(t *testing.T) {
	h := start(t, false)
	h.fake.Inject429(1, 300*time.Millisecond)
	_, err := h.bot.Send(context.Background(), alertItem(60, deckhand.NoticeOpened, ""))
	var ra bot.RetryAfter
	if !errors.As(err, &ra) || ra.After != 300*time.Millisecond {
		t.Fatalf("err = %v, want bot.RetryAfter 300ms", err)
	}
	// discordgo keeps the bucket closed until reset-after: the retry waits
	// instead of hitting the window again (the fake records that as a failure).
	if _, err := h.bot.Send(context.Background(), alertItem(60, deckhand.NoticeOpened, "")); err != nil {
		t.Fatal(err)
	}
}

func TestSendTruncatesOverlongValues(t *testing.T) {
	h := start(t, false)
	item := alertItem(61, deckhand.NoticeOpened, "")
	item.Notice.Alert.Key.Host = strings.Repeat("h", 2000) // > 256 in the title, > 1024 in a field
	if _, err := h.bot.Send(context.Background(), item); err != nil {
		t.Fatalf("over-long values must be truncated, not rejected: %v", err)
	}
}

// A revoked token (401) and a bot without access to the alert channel
// (403) are deckhand's setup, not the notice's: bot.Unauthorized, so the
// notice waits for the fix instead of being dead-lettered (it was
// bot.Permanent).
func TestSendCredentialRejectionsAreUnauthorized(t *testing.T) {
	fake := discordtest.NewServer(t, token)
	cfg := testConfig(fake)
	cfg.Token = "revoked"
	b, err := New(cfg, &fakeRouter{}, Options{APIBase: fake.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Send(context.Background(), alertItem(62, deckhand.NoticeOpened, ""))
	if !errors.As(err, new(bot.Unauthorized)) || errors.As(err, new(bot.Permanent)) || !strings.Contains(err.Error(), "401") {
		t.Errorf("err = %v, want bot.Unauthorized with the 401", err)
	}
	if strings.Contains(err.Error(), "revoked") {
		t.Errorf("error text leaks the token: %v", err)
	}
	if err := b.Probe(context.Background()); !errors.As(err, new(bot.Unauthorized)) {
		t.Errorf("probe with a revoked token: %v, want bot.Unauthorized", err)
	}

	h := start(t, false)
	h.fake.RevokeSend(true)
	_, err = h.bot.Send(context.Background(), alertItem(63, deckhand.NoticeOpened, ""))
	if !errors.As(err, new(bot.Unauthorized)) || !strings.Contains(err.Error(), "Missing Permissions") {
		t.Errorf("no Send Messages permission: %v, want bot.Unauthorized", err)
	}
	if err := h.bot.Probe(context.Background()); err != nil {
		t.Errorf("probe: %v", err)
	}
}

// An embed over 6000 characters in total got a 400 and the alert was
// lost: the description gives way so that the whole embed fits.
func TestSendKeepsTheEmbedWithinItsTotal(t *testing.T) {
	h := start(t, false)
	item := alertItem(64, deckhand.NoticeOpened, "")
	a := &item.Notice.Alert
	a.Message = strings.Repeat("m", 5000)
	a.Key.Container, a.Project = strings.Repeat("c", 1000), strings.Repeat("p", 1000)
	if _, err := h.bot.Send(context.Background(), item); err != nil {
		t.Fatalf("embed over 6000 in total: %v", err)
	}
	msgs := h.fake.Messages(h.cfg.AlertChannelID)
	if len(msgs) != 1 || len(msgs[0].Embeds) != 1 || !strings.Contains(msgs[0].Embeds[0].Description, "mmm") {
		t.Fatalf("messages %+v", msgs)
	}
}

// The plain form, sent when Discord refused the embed, is content alone
// within 2000 characters: no embed, no buttons.
func TestSendPlainForm(t *testing.T) {
	h := start(t, false)
	item := alertItem(65, deckhand.NoticeOpened, "")
	item.Notice.Alert.Message = strings.Repeat("m", 5000)
	item.Plain = true
	ref, err := h.bot.Send(context.Background(), item)
	if err != nil {
		t.Fatal(err)
	}
	msgs := h.fake.Messages(h.cfg.AlertChannelID)
	if len(msgs) != 1 || len(msgs[0].Embeds) != 0 || len(msgs[0].Components) != 0 ||
		utf8.RuneCountInString(msgs[0].Content) > 2000 || !strings.Contains(msgs[0].Content, "nas/jellyfin") {
		t.Fatalf("plain message %+v", msgs)
	}
	// An edit in plain form replaces the embed with the text.
	edit := alertItem(65, deckhand.NoticeRecovered, ref)
	edit.Plain = true
	if _, err := h.bot.Send(context.Background(), edit); err != nil {
		t.Fatal(err)
	}
	if m := h.fake.Messages(h.cfg.AlertChannelID)[0]; len(m.Embeds) != 0 || !strings.Contains(m.Content, "Recovered") {
		t.Errorf("plain edit: %+v", m)
	}
}

func sentAlert(t *testing.T, h *harness) discordtest.Message {
	t.Helper()
	if _, err := h.bot.Send(context.Background(), alertItem(70, deckhand.NoticeOpened, "")); err != nil {
		t.Fatal(err)
	}
	return h.fake.Messages(h.cfg.AlertChannelID)[0]
}

func TestClickAckEditsTheAlert(t *testing.T) {
	h := start(t, true)
	m := sentAlert(t, h)
	it := h.fake.Click(userAlice, []string{roleOps}, m, "ack:7:sig")
	rs := h.fake.WaitResponses(t, it.ID, hasKind(discordtest.KindEditOriginal), wait)
	if rs[0].Type != discordtest.CallbackDeferredUpdate {
		t.Errorf("click acknowledged with type %d, want 6", rs[0].Type)
	}
	got, _ := h.fake.Message(m.ID)
	if len(got.Buttons()) != 0 || got.Embeds[0].Footer == nil || got.Embeds[0].Footer.Text != "Acked by user"+userAlice {
		t.Errorf("edited alert = %+v", got)
	}
	if got.Embeds[0].Title != m.Embeds[0].Title {
		t.Errorf("title changed to %q", got.Embeds[0].Title)
	}
}

func TestViewerRestartIsRefusedPrivately(t *testing.T) {
	h := start(t, true)
	m := sentAlert(t, h)
	it := h.fake.Click(userVic, []string{roleViewer}, m, "rst:7:sig")
	rs := h.fake.WaitResponses(t, it.ID, hasKind(discordtest.KindFollowup), wait)
	f := rs[len(rs)-1].Message
	if !f.Ephemeral() || !strings.Contains(f.Content, "operator") {
		t.Errorf("refusal = %+v, want ephemeral", f)
	}
	if got, _ := h.fake.Message(m.ID); got.Edits != 0 || len(got.Buttons()) != 3 {
		t.Errorf("alert changed by a refused click: %+v", got)
	}

	it = h.fake.Click(userAlice, []string{roleOps}, m, "rst:7:sig")
	rs = h.fake.WaitResponses(t, it.ID, hasKind(discordtest.KindFollowup), wait)
	if f := rs[len(rs)-1].Message; f.Ephemeral() || f.Content != "Restarted nas/jellyfin." {
		t.Errorf("operator restart answer = %+v, want public", f)
	}
}

func TestFollowupRateLimitIsHonoured(t *testing.T) {
	h := start(t, true)
	h.fake.Inject429(1, 200*time.Millisecond)
	it := h.fake.SlashCommand(h.fake.GuildID, userVic, []string{roleViewer}, "status")
	rs := h.fake.WaitResponses(t, it.ID, func(rs []discordtest.Response) bool {
		return len(rs) > 0 && rs[len(rs)-1].Kind == discordtest.KindEditOriginal && rs[len(rs)-1].Status == 200
	}, wait)
	if rs[0].Kind != discordtest.KindCallback {
		t.Errorf("first response %+v", rs[0])
	}
}

func TestAutocomplete(t *testing.T) {
	h := start(t, true)
	for i := 0; i < 30; i++ {
		h.router.complete = append(h.router.complete, fmt.Sprintf("jelly%02d", i))
	}
	it := h.fake.Autocomplete(h.fake.GuildID, userVic, []string{roleViewer}, "logs",
		discordtest.Opt("container", "jel"), discordtest.Opt("host", "nas"))
	rs := h.fake.WaitResponses(t, it.ID, hasKind(discordtest.KindCallback), wait)
	if rs[0].Type != discordtest.CallbackAutocompleteResult || len(rs[0].Choices) != 25 {
		t.Fatalf("autocomplete = type %d with %d choices", rs[0].Type, len(rs[0].Choices))
	}
	if rs[0].Choices[0].Name != "container:nas:jelly00" {
		t.Errorf("first choice = %+v (kind and host must reach the router)", rs[0].Choices[0])
	}

	it = h.fake.Autocomplete(h.fake.GuildID, userNobody, nil, "logs", discordtest.Opt("host", "n"))
	rs = h.fake.WaitResponses(t, it.ID, hasKind(discordtest.KindCallback), wait)
	if len(rs[0].Choices) != 0 {
		t.Errorf("an unmapped user got choices: %+v", rs[0].Choices)
	}
}

// TestAPIBaseIsPerBot: two bots with their own base in one process each
// reach their own server, and discordgo's endpoints keep pointing at
// discord.com (they used to be rewritten by every New, for every bot).
func TestAPIBaseIsPerBot(t *testing.T) {
	before := discordgo.EndpointChannels
	fakes := []*discordtest.Server{discordtest.NewServer(t, token), discordtest.NewServer(t, token)}
	var bots []*Bot
	for _, f := range fakes {
		b, err := New(testConfig(f), &fakeRouter{}, Options{APIBase: f.URL})
		if err != nil {
			t.Fatal(err)
		}
		bots = append(bots, b)
	}
	for i, b := range bots {
		if _, err := b.Send(context.Background(), alertItem(int64(80+i), deckhand.NoticeOpened, "")); err != nil {
			t.Fatalf("bot %d: %v", i, err)
		}
		if n := len(fakes[i].Messages(testConfig(fakes[i]).AlertChannelID)); n != 1 {
			t.Errorf("fake %d got %d messages, want 1", i, n)
		}
	}
	if discordgo.EndpointChannels != before {
		t.Errorf("discordgo.EndpointChannels rewritten to %q", discordgo.EndpointChannels)
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, base := range []string{"discord.com", "ftp://x", "https://u:p@proxy", "https://proxy/?a=b"} {
		err := Options{APIBase: base}.Validate()
		if err == nil || !strings.Contains(err.Error(), "discord.api_base: ") || !errors.Is(err, deckhand.ErrInvalidInput) {
			t.Errorf("api_base %q: err = %v", base, err)
		}
	}
	if err := (Options{APIBase: "https://proxy.example/discord/"}).Validate(); err != nil {
		t.Error(err)
	}
}

// TestSendLinksTheStatusPage: the alert title links the status page, but
// only with a link Discord accepts; one it would refuse (a host that is
// not fully qualified) is left out rather than cost the alert.
func TestSendLinksTheStatusPage(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"https://status.example.org", "https://status.example.org"},
		{"http://192.168.1.10:8080", "http://192.168.1.10:8080"},
		{"http://nas:8080", ""},
		{"http://localhost:8080", ""},
		{"", ""},
	} {
		fake := discordtest.NewServer(t, token)
		cfg := testConfig(fake)
		cfg.StatusURL = tc.url
		b, err := New(cfg, &fakeRouter{}, Options{APIBase: fake.URL})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Send(context.Background(), alertItem(41, deckhand.NoticeOpened, "")); err != nil {
			t.Errorf("%q: %v", tc.url, err)
			continue
		}
		if got := fake.Messages(cfg.AlertChannelID)[0].Embeds[0].URL; got != tc.want {
			t.Errorf("%q: embed url %q, want %q", tc.url, got, tc.want)
		}
	}
}
