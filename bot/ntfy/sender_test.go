package ntfy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/bot"
	"github.com/deckhand/deckhand/bot/ntfy/ntfytest"
	"github.com/deckhand/deckhand/commands"
)

const secret = "tk_s3cr3tT0k3nValue"

func alert(sev deckhand.Severity, state deckhand.AlertState) deckhand.Alert {
	return deckhand.Alert{
		ID:          42,
		Key:         deckhand.AlertKey{Host: "nas", Container: "jellyfin", Kind: deckhand.AlertContainerDown},
		Severity:    sev,
		State:       state,
		Message:     "exited (137)",
		FirstSeenAt: time.Now().Add(-time.Minute),
	}
}

func item(id int64, kind deckhand.NoticeKind, a deckhand.Alert) deckhand.OutboxItem {
	return deckhand.OutboxItem{ID: id, Platform: deckhand.PlatformNtfy, Notice: deckhand.Notice{Kind: kind, Alert: a, At: time.Now()}}
}

type buttons struct{}

func (buttons) AlertTokens(a deckhand.Alert, _ []deckhand.Action) []commands.Button {
	return []commands.Button{
		{Label: "Restart", Payload: "r+tok/42==", Action: deckhand.ActionRestart},
		{Label: "Ack", Payload: "a-tok-42", Action: deckhand.ActionAck},
		{Label: "Silence 1h", Payload: "s-tok", Action: deckhand.ActionSilence},
		{Label: "Fourth", Payload: "never"},
	}
}

func newSender(t *testing.T, srv *ntfytest.Server, cfg Config, b ButtonMaker, logs io.Writer) *Sender {
	t.Helper()
	cfg.Server = srv.URL
	if cfg.Topic == "" {
		cfg.Topic = "deckhand-alerts"
	}
	var logger *slog.Logger
	if logs != nil {
		logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	s, err := New(cfg, b, nil, logger)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSendFields(t *testing.T) {
	srv := ntfytest.NewServer(t)
	srv.RequireToken(secret)
	s := newSender(t, srv, Config{Token: secret, ClickURL: "https://status.example/"}, nil, nil)

	a := alert(deckhand.SeverityCritical, deckhand.AlertOpen)
	a.Key.Container = "nextcloud–café" // non-ASCII must survive
	ref, err := s.Send(context.Background(), item(1, deckhand.NoticeOpened, a))
	if err != nil {
		t.Fatal(err)
	}
	m := srv.Messages()[0]
	if ref != m.ID || ref == "" {
		t.Errorf("ref %q, message id %q", ref, m.ID)
	}
	if !m.PublishedJSON || m.Topic != "deckhand-alerts" || m.Title != "nas/nextcloud–café is down" {
		t.Errorf("topic %q title %q json %v", m.Topic, m.Title, m.PublishedJSON)
	}
	if m.Priority != 5 || m.Click != "https://status.example/" || !strings.Contains(m.Message, "exited (137)") {
		t.Errorf("priority %d click %q message %q", m.Priority, m.Click, m.Message)
	}
	if len(m.Tags) == 0 || m.Tags[0] != "rotating_light" || !slices.Contains(m.Tags, "nas") {
		t.Errorf("tags %v", m.Tags)
	}
	if m.Authorization != "Bearer "+secret {
		t.Errorf("Authorization %q", m.Authorization)
	}
	if len(m.Actions) != 0 {
		t.Errorf("actions without Config.Actions: %+v", m.Actions)
	}
}

func TestPriorities(t *testing.T) {
	srv := ntfytest.NewServer(t)
	def := newSender(t, srv, Config{}, nil, nil)
	custom := newSender(t, srv, Config{Priority: map[deckhand.Severity]int{deckhand.SeverityWarning: 1, bot.SeverityRecovered: 2}}, nil, nil)
	for _, tc := range []struct {
		s    *Sender
		kind deckhand.NoticeKind
		sev  deckhand.Severity
		want int
	}{
		{def, deckhand.NoticeOpened, deckhand.SeverityWarning, 3},
		{def, deckhand.NoticeOpened, deckhand.SeverityError, 4},
		{def, deckhand.NoticeOpened, deckhand.SeverityCritical, 5},
		{def, deckhand.NoticeRecovered, deckhand.SeverityCritical, 3},
		{def, deckhand.NoticeAcked, deckhand.SeverityCritical, 2},
		{custom, deckhand.NoticeOpened, deckhand.SeverityWarning, 1},
		{custom, deckhand.NoticeRecovered, deckhand.SeverityError, 2},
		{custom, deckhand.NoticeOpened, deckhand.SeverityError, 4},
	} {
		before := len(srv.Messages())
		if _, err := tc.s.Send(context.Background(), item(1, tc.kind, alert(tc.sev, deckhand.AlertOpen))); err != nil {
			t.Fatal(err)
		}
		if got := srv.Messages()[before].Priority; got != tc.want {
			t.Errorf("%s %s: priority %d, want %d", tc.kind, tc.sev, got, tc.want)
		}
	}
}

func TestActions(t *testing.T) {
	srv := ntfytest.NewServer(t)
	b := buttons{}
	on := newSender(t, srv, Config{Actions: true, ActionBaseURL: "https://deckhand.example/base/"}, b, nil)
	off := newSender(t, srv, Config{}, b, nil)
	for _, tc := range []struct {
		name  string
		s     *Sender
		kind  deckhand.NoticeKind
		state deckhand.AlertState
		want  int
	}{
		{"open alert", on, deckhand.NoticeOpened, deckhand.AlertOpen, 3},
		{"reminder", on, deckhand.NoticeReminder, deckhand.AlertOpen, 3},
		{"actions off", off, deckhand.NoticeOpened, deckhand.AlertOpen, 0},
		{"acked", on, deckhand.NoticeAcked, deckhand.AlertAcked, 0},
		{"recovered", on, deckhand.NoticeRecovered, deckhand.AlertClosed, 0},
		{"pending", on, deckhand.NoticeOpened, deckhand.AlertPending, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(srv.Messages())
			if _, err := tc.s.Send(context.Background(), item(1, tc.kind, alert(deckhand.SeverityError, tc.state))); err != nil {
				t.Fatal(err)
			}
			m := srv.Messages()[before]
			if len(m.Actions) != tc.want {
				t.Fatalf("%d actions, want %d: %+v", len(m.Actions), tc.want, m.Actions)
			}
			if tc.want == 0 {
				return
			}
			r := m.Actions[0]
			if r.Action != "http" || r.Label != "Restart" || r.Method != "POST" || !r.Clear {
				t.Errorf("action %+v", r)
			}
			u, err := url.Parse(r.URL)
			if err != nil || u.Host != "deckhand.example" || u.Path != "/base/hooks/ntfy" || u.Query().Get("t") != "r+tok/42==" {
				t.Errorf("action URL %q", r.URL)
			}
		})
	}
}

func TestLongMessageIsCutToFit(t *testing.T) {
	srv := ntfytest.NewServer(t)
	s := newSender(t, srv, Config{}, nil, nil)
	it := item(1, deckhand.NoticeOpened, alert(deckhand.SeverityError, deckhand.AlertOpen))
	it.Notice.Alert.Message = strings.Repeat("é", 5000) // 10000 bytes
	if _, err := s.Send(context.Background(), it); err != nil {
		t.Fatalf("long message rejected: %v", err)
	}
	m := srv.Messages()[0]
	if len(m.Message) > MessageLimit || !strings.HasSuffix(m.Message, "…") {
		t.Errorf("message of %d bytes, suffix %q", len(m.Message), m.Message[len(m.Message)-6:])
	}
}

func TestBasicAuth(t *testing.T) {
	srv := ntfytest.NewServer(t)
	srv.RequireBasic("deckhand", "pw")
	s := newSender(t, srv, Config{User: "deckhand", Password: "pw"}, nil, nil)
	if _, err := s.Send(context.Background(), item(1, deckhand.NoticeOpened, alert(deckhand.SeverityError, deckhand.AlertOpen))); err != nil {
		t.Fatal(err)
	}
}

func TestSendErrors(t *testing.T) {
	it := item(1, deckhand.NoticeOpened, alert(deckhand.SeverityError, deckhand.AlertOpen))
	for _, tc := range []struct {
		name      string
		setup     func(*ntfytest.Server)
		cfg       Config
		retry     time.Duration // > 0: want RetryAfter with this pause
		permanent bool
		// unauthorized: deckhand's credentials are wrong, the notice is
		// kept (it was dead-lettered as permanent).
		unauthorized bool
	}{
		{"500 is transient", func(s *ntfytest.Server) { s.FailNext(1) }, Config{}, 0, false, false},
		{"429 with Retry-After", func(s *ntfytest.Server) { s.RateLimitNext(1, "7") }, Config{}, 7 * time.Second, false, false},
		{"429 without Retry-After", func(s *ntfytest.Server) { s.RateLimitNext(1, "") }, Config{}, 5 * time.Second, false, false}, // ntfy's default visitor-request-limit-replenish: one request back every 5 s
		{"hang is a transient timeout", func(s *ntfytest.Server) { s.HangNext(1) }, Config{Timeout: 50 * time.Millisecond}, 0, false, false},
		{"wrong token is unauthorized", func(s *ntfytest.Server) { s.RequireToken("tk_other") }, Config{Token: secret}, 0, false, true},
		{"no token is unauthorized", func(s *ntfytest.Server) { s.RequireToken("tk_other") }, Config{}, 0, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			srv := ntfytest.NewServer(t)
			tc.setup(srv)
			s := newSender(t, srv, tc.cfg, nil, &logs)
			_, err := s.Send(context.Background(), it)
			if err == nil {
				t.Fatal("no error")
			}
			var ra bot.RetryAfter
			isRA := errors.As(err, &ra)
			var perm bot.Permanent
			isPerm := errors.As(err, &perm)
			var unauth bot.Unauthorized
			isUnauth := errors.As(err, &unauth)
			if tc.retry > 0 != isRA || (isRA && ra.After != tc.retry) || isPerm != tc.permanent || isUnauth != tc.unauthorized {
				t.Errorf("err %v: RetryAfter=%v (%s) Permanent=%v Unauthorized=%v", err, isRA, ra.After, isPerm, isUnauth)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(logs.String(), secret) {
				t.Errorf("token leaked: err %q logs %q", err, logs.String())
			}
			if len(srv.Messages()) != 0 {
				t.Error("message recorded despite the fault")
			}
		})
	}
}

func TestTokenNeverLogged(t *testing.T) {
	var logs bytes.Buffer
	srv := ntfytest.NewServer(t)
	srv.RequireToken(secret)
	cfg := Config{Token: secret, Actions: true, ActionBaseURL: "https://dh.example"}
	s := newSender(t, srv, cfg, buttons{}, &logs)
	if _, err := s.Send(context.Background(), item(1, deckhand.NoticeOpened, alert(deckhand.SeverityError, deckhand.AlertOpen))); err != nil {
		t.Fatal(err)
	}
	cfg.Server = srv.URL
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "ntfy", cfg) // what wiring code might do
	logs.WriteString(cfg.String())
	if !strings.Contains(logs.String(), "ntfy message published") {
		t.Fatalf("debug log missing, the check below would prove nothing: %s", logs.String())
	}
	if strings.Contains(logs.String(), secret) {
		t.Errorf("token in logs: %s", logs.String())
	}
}

// TestValidateReportsEveryMistake: all of them at once, each named by its
// key in config.toml (it used to stop at the first).
func TestValidateReportsEveryMistake(t *testing.T) {
	c := Config{Topic: "a/b", Priority: map[deckhand.Severity]int{deckhand.SeverityError: 9}, Timeout: -time.Second}
	want := `ntfy.topic: "a/b" must be 1 to 64 letters, digits, '-' or '_'
ntfy.priority.error: 9 is out of range 1 (min) to 5 (urgent)
ntfy.timeout: must not be negative`
	if err := c.Validate(); err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
}

func TestValidate(t *testing.T) {
	ok := Config{Topic: "alerts"}
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		ok   bool
	}{
		{"minimal", func(*Config) {}, true},
		{"full", func(c *Config) {
			c.Server, c.Token, c.ClickURL, c.Actions, c.ActionBaseURL = "https://ntfy.example/", secret, "https://status/?x=1", true, "https://dh.example"
			c.Priority = map[deckhand.Severity]int{deckhand.SeverityCritical: 5, bot.SeverityInfo: 1}
		}, true},
		{"no topic", func(c *Config) { c.Topic = "" }, false},
		{"bad topic", func(c *Config) { c.Topic = "a/b" }, false},
		{"long topic", func(c *Config) { c.Topic = strings.Repeat("a", 65) }, false},
		{"server not http", func(c *Config) { c.Server = "ftp://ntfy" }, false},
		{"server with credentials", func(c *Config) { c.Server = "https://u:p@ntfy.example" }, false},
		{"server with query", func(c *Config) { c.Server = "https://ntfy.example/?a=b" }, false},
		{"token and user", func(c *Config) { c.Token, c.User, c.Password = secret, "u", "p" }, false},
		{"user without password", func(c *Config) { c.User = "u" }, false},
		{"token with newline", func(c *Config) { c.Token = "tk\nX-Evil: 1" }, false},
		{"priority out of range", func(c *Config) { c.Priority = map[deckhand.Severity]int{deckhand.SeverityError: 6} }, false},
		{"priority unknown severity", func(c *Config) { c.Priority = map[deckhand.Severity]int{"fatal": 5} }, false},
		{"actions without base URL", func(c *Config) { c.Actions = true }, false},
		{"relative click URL", func(c *Config) { c.ClickURL = "/status" }, false},
		{"negative timeout", func(c *Config) { c.Timeout = -time.Second }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.mod(&c)
			err := c.Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("Validate = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, deckhand.ErrInvalidInput) {
				t.Errorf("error %v is not ErrInvalidInput", err)
			}
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Errorf("error leaks the token: %v", err)
			}
		})
	}
}

// memOutbox is the smallest faithful Outbox: due, unsent, not dead, in order.
type memOutbox struct {
	mu    sync.Mutex
	items []deckhand.OutboxItem
	dead  map[int64]bool
}

func (o *memOutbox) DueOutbox(_ context.Context, p string, now time.Time, limit int) ([]deckhand.OutboxItem, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []deckhand.OutboxItem
	for _, it := range o.items {
		if it.Platform == p && it.SentAt.IsZero() && !o.dead[it.ID] && !it.NextAttemptAt.After(now) && len(out) < limit {
			out = append(out, it)
		}
	}
	return out, nil
}

func (o *memOutbox) MarkSent(_ context.Context, id int64, at time.Time, ref string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.items[id-1].SentAt, o.items[id-1].Ref = at, ref
	return nil
}

func (o *memOutbox) MarkSending(_ context.Context, id int64, at time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.items[id-1].SendingAt = at
	return nil
}

func (o *memOutbox) MarkFailed(_ context.Context, id int64, next time.Time, errText string, dead bool) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	it := &o.items[id-1]
	it.Attempts++
	it.NextAttemptAt, it.LastError = next, errText
	if dead {
		o.dead[id] = true
	}
	return nil
}

func (o *memOutbox) get(id int64) deckhand.OutboxItem {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.items[id-1]
}

func TestDispatcherDeliversExactlyOnceThroughFaults(t *testing.T) {
	srv := ntfytest.NewServer(t)
	srv.FailNext(3)
	srv.RateLimitNext(1, "1")
	s := newSender(t, srv, Config{}, nil, nil)
	ob := &memOutbox{dead: map[int64]bool{}}
	hosts := []string{"nas", "pi", "vps"}
	for i, h := range hosts {
		a := alert(deckhand.SeverityError, deckhand.AlertOpen)
		a.Key.Host = h
		ob.items = append(ob.items, item(int64(i+1), deckhand.NoticeOpened, a))
	}
	d := bot.NewDispatcher(ob, []bot.Sender{s}, bot.DispatcherOptions{
		Poll: 10 * time.Millisecond, Backoff: []time.Duration{5 * time.Millisecond}, ProbeBackoff: []time.Duration{5 * time.Millisecond},
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	srv.WaitFor(t, 3, 30*time.Second)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 3 {
		t.Fatalf("%d messages, want each of 3 exactly once", len(msgs))
	}
	for i, m := range msgs {
		if !strings.HasPrefix(m.Title, hosts[i]+"/") {
			t.Errorf("message %d is %q, want %s first: order kept", i, m.Title, hosts[i])
		}
	}
	// The first attempt publishes and meets a 500; the server is then
	// probed (two 500s, the 429, an answer), the next attempt first asks
	// the topic whether the earlier one arrived, then publishes.
	if got := srv.Requests(); got != 3+1+1+1+3 {
		t.Errorf("%d requests, want 9 (3×500, 1×429, a probe answered, a poll that finds nothing, 3 deliveries)", got)
	}
	if got := srv.Publishes(); got != 4 {
		t.Errorf("%d publishes, want 4: while failing the server is probed, not sent the alert again", got)
	}
	for id := int64(1); id <= 3; id++ {
		if ob.get(id).SentAt.IsZero() {
			t.Errorf("item %d delivered but not marked sent: it would go out again", id)
		}
	}
	first := ob.get(1)
	if first.Attempts != 1 || first.Ref != msgs[0].ID || first.SentAt.IsZero() {
		t.Errorf("first item: attempts %d ref %q sent %v", first.Attempts, first.Ref, first.SentAt)
	}
}

func TestCallbackHandler(t *testing.T) {
	tok := "v1r.42.kq3.SIGNATUREsig"
	for _, tc := range []struct {
		name   string
		method string
		query  string
		body   string
		err    error
		status int
	}{
		{"ok", "POST", "?t=" + url.QueryEscape(tok), "", nil, 200},
		{"GET refused", "GET", "?t=" + tok, "", nil, 405},
		{"missing token", "POST", "", "", nil, 400},
		{"two tokens", "POST", "?t=a&t=b", "", nil, 400},
		{"huge token", "POST", "?t=" + strings.Repeat("a", 300), "", nil, 400},
		{"huge body", "POST", "?t=" + tok, strings.Repeat("x", 10000), nil, 413},
		{"expired", "POST", "?t=" + tok, "", fmt.Errorf("button for %s: %w", tok, deckhand.ErrExpired), 410},
		{"bad signature", "POST", "?t=" + tok, "", deckhand.ErrBadSignature, 403},
		{"forbidden", "POST", "?t=" + tok, "", fmt.Errorf("protected: %w", deckhand.ErrForbidden), 403},
		{"not whitelisted", "POST", "?t=" + tok, "", deckhand.ErrNotWhitelisted, 403},
		{"invalid", "POST", "?t=" + tok, "", deckhand.ErrInvalidInput, 400},
		{"busy", "POST", "?t=" + tok, "", deckhand.ErrBusy, 409},
		{"other", "POST", "?t=" + tok, "", errors.New("ssh: " + tok), 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var gotActor deckhand.Actor
			var gotToken string
			var logs bytes.Buffer
			h := CallbackHandler(ActionHandlerFunc(func(ctx context.Context, a deckhand.Actor, token string) (string, error) {
				gotActor, gotToken = a, token
				if tc.err != nil {
					return "", tc.err
				}
				return "Restarting nas/jellyfin", nil
			}), slog.New(slog.NewTextHandler(&logs, nil)))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tc.method, "/hooks/ntfy"+tc.query, strings.NewReader(tc.body)))
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d (%s)", rec.Code, tc.status, rec.Body)
			}
			if strings.Contains(rec.Body.String(), tok) {
				t.Errorf("response echoes the token: %q", rec.Body)
			}
			if tc.status == 200 {
				if rec.Body.String() != "Restarting nas/jellyfin\n" || gotToken != tok {
					t.Errorf("body %q token %q", rec.Body, gotToken)
				}
				if gotActor.Platform != "ntfy" || gotActor.UserID != "ntfy" || gotActor.Role != deckhand.RoleNone {
					t.Errorf("actor %+v", gotActor)
				}
			}
			if tc.method == "GET" && rec.Header().Get("Allow") != "POST, OPTIONS" {
				t.Errorf("Allow %q", rec.Header().Get("Allow"))
			}
		})
	}
}

// TestTapEndToEnd publishes an alert with buttons, taps Restart the way the
// ntfy app does, and checks the callback got the token the button carried.
func TestTapEndToEnd(t *testing.T) {
	var mu sync.Mutex
	var tokens []string
	mux := http.NewServeMux()
	mux.Handle("/hooks/ntfy", CallbackHandler(ActionHandlerFunc(func(_ context.Context, _ deckhand.Actor, token string) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		tokens = append(tokens, token)
		return "ok", nil
	}), nil))
	dh := httptest.NewServer(mux)
	t.Cleanup(dh.Close)

	srv := ntfytest.NewServer(t)
	s := newSender(t, srv, Config{Actions: true, ActionBaseURL: dh.URL}, buttons{}, nil)
	if _, err := s.Send(context.Background(), item(1, deckhand.NoticeOpened, alert(deckhand.SeverityError, deckhand.AlertOpen))); err != nil {
		t.Fatal(err)
	}
	resp := srv.Tap(t, srv.Messages()[0], "Ack")
	if resp.StatusCode != 200 {
		t.Fatalf("tap: %d", resp.StatusCode)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(tokens, []string{"a-tok-42"}) {
		t.Errorf("callback tokens %v", tokens)
	}
}

// Delivered finds an earlier attempt in the topic's cache by title and
// text, and says why when the server will not tell.
func TestDeliveredAsksTheTopic(t *testing.T) {
	srv := ntfytest.NewServer(t)
	s := newSender(t, srv, Config{}, nil, nil)
	ctx := context.Background()
	down := item(1, deckhand.NoticeOpened, alert(deckhand.SeverityError, deckhand.AlertOpen))
	down.SendingAt = time.Now()
	if _, found, err := s.Delivered(ctx, down); err != nil || found {
		t.Fatalf("before any publish: found %v, %v", found, err)
	}
	id, err := s.Send(ctx, down)
	if err != nil {
		t.Fatal(err)
	}
	ref, found, err := s.Delivered(ctx, down)
	if err != nil || !found || ref != id {
		t.Errorf("after the publish: ref %q found %v err %v, want %q", ref, found, err, id)
	}
	other := item(2, deckhand.NoticeRecovered, alert(deckhand.SeverityError, deckhand.AlertClosed))
	other.SendingAt = time.Now()
	if _, found, err := s.Delivered(ctx, other); err != nil || found {
		t.Errorf("another notice: found %v, %v; want not found", found, err)
	}
	// Sent long before this attempt began: not this attempt.
	late := down
	late.SendingAt = time.Now().Add(time.Hour)
	if _, found, _ := s.Delivered(ctx, late); found {
		t.Error("a message from before the attempt counted as the attempt")
	}

	srv.RateLimitNext(1, "7")
	var ra bot.RetryAfter
	if _, _, err := s.Delivered(ctx, down); !errors.As(err, &ra) || ra.After != 7*time.Second {
		t.Errorf("429: %v, want RetryAfter 7s", err)
	}
	srv.FailNext(1)
	var perm bot.Permanent
	if _, _, err := s.Delivered(ctx, down); err == nil || errors.As(err, &perm) {
		t.Errorf("500: %v, want a transient error", err)
	}
	srv.RequireToken("tk_the_right_one")
	if _, _, err := s.Delivered(ctx, down); !errors.As(err, new(bot.Unauthorized)) {
		t.Errorf("no read access: %v, want Unauthorized (the item is then sent again)", err)
	}
}

// deckhand died after ntfy accepted a message and before the outbox
// recorded it: the next start finds it in the topic and does not publish
// it again.
func TestDispatcherDoesNotResendWhatArrivedBeforeACrash(t *testing.T) {
	srv := ntfytest.NewServer(t)
	s := newSender(t, srv, Config{}, nil, nil)
	ob := &memOutbox{dead: map[int64]bool{}}
	for i, h := range []string{"nas", "pi"} {
		a := alert(deckhand.SeverityError, deckhand.AlertOpen)
		a.Key.Host = h
		ob.items = append(ob.items, item(int64(i+1), deckhand.NoticeOpened, a))
	}
	// The crashed process: recorded the attempt at item 1, ntfy took it,
	// then nothing more.
	ob.items[0].SendingAt = time.Now()
	first, err := s.Send(context.Background(), ob.items[0])
	if err != nil {
		t.Fatal(err)
	}
	d := bot.NewDispatcher(ob, []bot.Sender{s}, bot.DispatcherOptions{Poll: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	srv.WaitFor(t, 2, 10*time.Second)
	time.Sleep(100 * time.Millisecond) // a wrong third publish would be out by now
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if msgs := srv.Messages(); len(msgs) != 2 || !strings.HasPrefix(msgs[1].Title, "pi/") {
		t.Fatalf("messages %d (%v), want nas once, then pi", len(msgs), msgs)
	}
	if got := ob.get(1); got.SentAt.IsZero() || got.Ref != first {
		t.Errorf("item 1: sent %v ref %q, want recorded with %q", got.SentAt, got.Ref, first)
	}
	if got := ob.get(2); got.SentAt.IsZero() || got.SendingAt.IsZero() {
		t.Errorf("item 2: sent %v sending %v: the attempt must be recorded before it", got.SentAt, got.SendingAt)
	}
}

// The topic is the secret that lets anyone read the alerts and tap their
// buttons: no log line and no error (the dispatcher logs errors) names
// it, whether the server answers, hangs or is gone.
func TestTopicNeverLogged(t *testing.T) {
	const topic = "dh-t0p1c-s3cr3t"
	var logs bytes.Buffer
	srv := ntfytest.NewServer(t)
	cfg := Config{Topic: topic, Token: secret, Timeout: 100 * time.Millisecond}
	s := newSender(t, srv, cfg, nil, &logs)
	ctx := context.Background()
	it := item(1, deckhand.NoticeOpened, alert(deckhand.SeverityError, deckhand.AlertOpen))
	it.SendingAt = time.Now()
	if _, err := s.Send(ctx, it); err != nil {
		t.Fatal(err)
	}
	var errs []error
	srv.HangNext(2)
	_, err := s.Send(ctx, it)
	errs = append(errs, err)
	_, _, err = s.Delivered(ctx, it)
	errs = append(errs, err)
	gone := cfg
	gone.Server = "http://127.0.0.1:1" // nothing listens there
	s, err = New(gone, nil, nil, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Send(ctx, it)
	errs = append(errs, err)
	_, _, err = s.Delivered(ctx, it)
	errs = append(errs, err)
	cfg.Server = srv.URL
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "ntfy", cfg)
	logs.WriteString(cfg.String())
	for i, err := range errs {
		if err == nil {
			t.Fatalf("call %d did not fail", i)
		}
		if strings.Contains(err.Error(), topic) || strings.Contains(err.Error(), secret) {
			t.Errorf("error names the topic or token: %v", err)
		}
	}
	if !strings.Contains(logs.String(), "ntfy message published") {
		t.Fatalf("debug log missing, the check below would prove nothing: %s", logs.String())
	}
	if strings.Contains(logs.String(), topic) {
		t.Errorf("topic in logs: %s", logs.String())
	}
}

// A failing server is probed with ntfy's health check, which costs it
// nothing and needs no token.
func TestProbe(t *testing.T) {
	srv := ntfytest.NewServer(t)
	srv.RequireToken("tk_other")
	s := newSender(t, srv, Config{Token: secret, Timeout: 100 * time.Millisecond}, nil, nil)
	ctx := context.Background()
	if err := s.Probe(ctx); err != nil {
		t.Errorf("healthy server: %v", err)
	}
	srv.Down(false)
	if err := s.Probe(ctx); err == nil || errors.As(err, new(bot.Permanent)) || errors.As(err, new(bot.Unauthorized)) {
		t.Errorf("502: %v, want a transient error", err)
	}
	srv.Down(true)
	if err := s.Probe(ctx); err == nil {
		t.Error("hanging server answered the probe")
	}
	if srv.Publishes() != 0 {
		t.Errorf("%d publishes: a probe must not publish", srv.Publishes())
	}
}

// The plain form carries the notice's words and nothing a server could
// refuse besides: no tags, click URL or actions.
func TestPlainForm(t *testing.T) {
	srv := ntfytest.NewServer(t)
	s := newSender(t, srv, Config{Actions: true, ActionBaseURL: "https://deckhand.example.org", ClickURL: "https://status.example.org"}, buttons{}, nil)
	it := item(1, deckhand.NoticeOpened, alert(deckhand.SeverityError, deckhand.AlertOpen))
	it.Plain = true
	if _, err := s.Send(context.Background(), it); err != nil {
		t.Fatal(err)
	}
	m := srv.Messages()[0]
	if len(m.Actions) != 0 || len(m.Tags) != 0 || m.Click != "" || m.Title != "" {
		t.Errorf("plain message has actions %v tags %v click %q title %q", m.Actions, m.Tags, m.Click, m.Title)
	}
	if !strings.Contains(m.Message, "is down") || !strings.Contains(m.Message, "Host: ") {
		t.Errorf("plain message %q lacks the words", m.Message)
	}
}

// A 429 is ntfy saying it did not take the message: the retry publishes
// again without first asking the topic, whose poll would spend a request
// of the same visitor budget.
func TestRetryAfterARefusalDoesNotPollTheTopic(t *testing.T) {
	srv := ntfytest.NewServer(t)
	s := newSender(t, srv, Config{}, nil, nil)
	ob := &memOutbox{dead: map[int64]bool{}}
	ob.items = append(ob.items, item(1, deckhand.NoticeOpened, alert(deckhand.SeverityError, deckhand.AlertOpen)))
	srv.RateLimitNext(1, "1")
	d := bot.NewDispatcher(ob, []bot.Sender{s}, bot.DispatcherOptions{Poll: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	srv.WaitFor(t, 1, 10*time.Second)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if req, pub := srv.Requests(), srv.Publishes(); req != 2 || pub != 2 {
		t.Errorf("%d requests, %d of them publishes: want the refused publish and its retry, no poll", req, pub)
	}
}

// A publish that hangs on a dead connection is abandoned once ntfy answers
// a probe again; the retry asks the topic first, so the alert arrives once
// and well before the send timeout.
func TestHungPublishIsAbandonedOnceNtfyAnswers(t *testing.T) {
	srv := ntfytest.NewServer(t)
	// The sender's own timeout is a minute too: only the probe ends the hang.
	s := newSender(t, srv, Config{Timeout: time.Minute}, nil, nil)
	ob := &memOutbox{dead: map[int64]bool{}}
	ob.items = append(ob.items, item(1, deckhand.NoticeOpened, alert(deckhand.SeverityError, deckhand.AlertOpen)))
	srv.Down(true)
	d := bot.NewDispatcher(ob, []bot.Sender{s}, bot.DispatcherOptions{Poll: 10 * time.Millisecond, SendTimeout: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for srv.Publishes() < 1 {
		if time.Now().After(deadline) {
			t.Fatal("no publish during the outage")
		}
		time.Sleep(10 * time.Millisecond)
	}
	srv.Up()
	srv.WaitFor(t, 1, 20*time.Second)
	time.Sleep(200 * time.Millisecond) // a wrong second message would be out by now
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if msgs := srv.Messages(); len(msgs) != 1 {
		t.Errorf("%d messages, want the alert once", len(msgs))
	}
}
