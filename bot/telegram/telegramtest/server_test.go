package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

const token = "42:fake-token-for-the-fake-server"

type reply struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

func call(t *testing.T, s *Server, tok, method string, body any) reply {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := s.Client().Post(s.URL()+"/bot"+tok+"/"+method, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r reply
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	if !r.OK && resp.StatusCode != r.ErrorCode {
		t.Errorf("HTTP %d for error_code %d", resp.StatusCode, r.ErrorCode)
	}
	return r
}

func form(t *testing.T, s *Server, method string, v url.Values) reply {
	t.Helper()
	resp, err := s.Client().PostForm(s.URL()+"/bot"+token+"/"+method, v)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r reply
	_ = json.NewDecoder(resp.Body).Decode(&r)
	return r
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func kb(data string) map[string]any {
	return map[string]any{"inline_keyboard": [][]map[string]any{{{"text": "Go", "callback_data": data}}}}
}

func TestValidation(t *testing.T) {
	s := New(t, token, Options{})
	s.AddChat(-100, "supergroup")
	ok := call(t, s, token, "sendMessage", map[string]any{"chat_id": -100, "text": "<b>hi</b>", "parse_mode": "HTML"})
	if !ok.OK {
		t.Fatalf("valid message refused: %s", ok.Description)
	}
	var sent struct {
		MessageID int `json:"message_id"`
	}
	_ = json.Unmarshal(ok.Result, &sent)

	tests := []struct {
		name   string
		tok    string
		method string
		body   map[string]any
		code   int
		desc   string
	}{
		{"unknown token", "1:nope", "getMe", nil, 401, "Unauthorized"},
		{"unknown method", token, "sendTelepathy", nil, 404, "Not Found"},
		{"unknown chat", token, "sendMessage", map[string]any{"chat_id": 5, "text": "x"}, 400, "Bad Request: chat not found"},
		{"empty text", token, "sendMessage", map[string]any{"chat_id": -100, "text": " "}, 400, "Bad Request: message text is empty"},
		{"too long", token, "sendMessage", map[string]any{"chat_id": -100, "text": strings.Repeat("é", 4097)}, 400, "Bad Request: message is too long"},
		{"long markup ok short text", token, "sendMessage", map[string]any{"chat_id": -100, "text": "<b>" + strings.Repeat("x", 4096) + "</b>", "parse_mode": "HTML"}, 0, ""},
		{"unsupported tag", token, "sendMessage", map[string]any{"chat_id": -100, "text": "a <script>", "parse_mode": "HTML"}, 400, `Bad Request: can't parse entities: Unsupported start tag "script" at byte offset 2`},
		{"unclosed", token, "sendMessage", map[string]any{"chat_id": -100, "text": "<b>bold", "parse_mode": "HTML"}, 400, "Bad Request: can't parse entities: Can't find end tag"},
		{"mismatched", token, "sendMessage", map[string]any{"chat_id": -100, "text": "<b><i>x</b></i>", "parse_mode": "HTML"}, 400, "Bad Request: can't parse entities: Unmatched end tag"},
		{"bare lt", token, "sendMessage", map[string]any{"chat_id": -100, "text": "1 < 2", "parse_mode": "HTML"}, 400, "can't parse entities"},
		{"bare amp is text", token, "sendMessage", map[string]any{"chat_id": -100, "text": "Tom & Jerry", "parse_mode": "HTML"}, 0, ""},
		{"callback data too long", token, "sendMessage", map[string]any{"chat_id": -100, "text": "x", "reply_markup": kb(strings.Repeat("d", 65))}, 400, "Bad Request: BUTTON_DATA_INVALID"},
		{"callback data 64 ok", token, "sendMessage", map[string]any{"chat_id": -100, "text": "x", "reply_markup": kb(strings.Repeat("d", 64))}, 0, ""},
		{"button without action", token, "sendMessage", map[string]any{"chat_id": -100, "text": "x", "reply_markup": map[string]any{"inline_keyboard": [][]map[string]any{{{"text": "Go"}}}}}, 400, "text buttons are unallowed"},
		// Exactly one of a button's optional fields; a URL button's URL must
		// be one Telegram can open (http(s) or tg, a dotted host).
		{"url and callback", token, "sendMessage", map[string]any{"chat_id": -100, "text": "x", "reply_markup": map[string]any{"inline_keyboard": [][]map[string]any{{{"text": "Go", "url": "https://status.example.org", "callback_data": "d"}}}}}, 400, "Bad Request"},
		{"url button localhost", token, "sendMessage", map[string]any{"chat_id": -100, "text": "x", "reply_markup": map[string]any{"inline_keyboard": [][]map[string]any{{{"text": "Go", "url": "http://localhost:8080"}}}}}, 400, "Bad Request: BUTTON_URL_INVALID"},
		{"url button scheme", token, "sendMessage", map[string]any{"chat_id": -100, "text": "x", "reply_markup": map[string]any{"inline_keyboard": [][]map[string]any{{{"text": "Go", "url": "ftp://status.example.org"}}}}}, 400, "Bad Request: BUTTON_URL_INVALID"},
		{"callback with empty copy_text", token, "sendMessage", map[string]any{"chat_id": -100, "text": "x", "reply_markup": map[string]any{"inline_keyboard": [][]map[string]any{{{"text": "Go", "callback_data": "d", "copy_text": map[string]any{"text": ""}}}}}}, 400, "exactly one of callback_data, copy_text"},
		{"copy_text empty", token, "sendMessage", map[string]any{"chat_id": -100, "text": "x", "reply_markup": map[string]any{"inline_keyboard": [][]map[string]any{{{"text": "Go", "copy_text": map[string]any{"text": ""}}}}}}, 400, "Bad Request: BUTTON_COPY_TEXT_INVALID"},
		{"copy_text too long", token, "sendMessage", map[string]any{"chat_id": -100, "text": "x", "reply_markup": map[string]any{"inline_keyboard": [][]map[string]any{{{"text": "Go", "copy_text": map[string]any{"text": strings.Repeat("é", 257)}}}}}}, 400, "Bad Request: BUTTON_COPY_TEXT_INVALID"},
		{"copy_text ok", token, "sendMessage", map[string]any{"chat_id": -100, "text": "x", "reply_markup": map[string]any{"inline_keyboard": [][]map[string]any{{{"text": "Go", "copy_text": map[string]any{"text": strings.Repeat("é", 256)}}}}}}, 0, ""},
		{"empty switch_inline_query is an action", token, "sendMessage", map[string]any{"chat_id": -100, "text": "x", "reply_markup": map[string]any{"inline_keyboard": [][]map[string]any{{{"text": "Go", "switch_inline_query": ""}}}}}, 0, ""},
		{"url button ok", token, "sendMessage", map[string]any{"chat_id": -100, "text": "x", "reply_markup": map[string]any{"inline_keyboard": [][]map[string]any{{{"text": "Go", "url": "http://192.168.1.10:8080"}}}}}, 0, ""},
		{"not modified", token, "editMessageText", map[string]any{"chat_id": -100, "message_id": sent.MessageID, "text": "<b>hi</b>", "parse_mode": "HTML"}, 400, "Bad Request: message is not modified"},
		{"format change is a change", token, "editMessageText", map[string]any{"chat_id": -100, "message_id": sent.MessageID, "text": "hi"}, 0, ""},
		{"edit missing", token, "editMessageText", map[string]any{"chat_id": -100, "message_id": 999, "text": "x"}, 400, "Bad Request: message to edit not found"},
		{"bad command", token, "setMyCommands", map[string]any{"commands": []map[string]string{{"command": "restart-project", "description": "x"}}}, 400, "BOT_COMMAND_INVALID"},
		{"empty description", token, "setMyCommands", map[string]any{"commands": []map[string]string{{"command": "ok", "description": ""}}}, 400, "description"},
		{"long description", token, "setMyCommands", map[string]any{"commands": []map[string]string{{"command": "ok", "description": strings.Repeat("d", 257)}}}, 400, "description"},
		{"unknown callback", token, "answerCallbackQuery", map[string]any{"callback_query_id": "nope"}, 400, "query is too old"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, s, tc.tok, tc.method, tc.body)
			if tc.code == 0 {
				if !r.OK {
					t.Fatalf("refused: %d %s", r.ErrorCode, r.Description)
				}
				return
			}
			if r.OK || r.ErrorCode != tc.code || !strings.HasPrefix(r.Description, tc.desc) && !strings.Contains(r.Description, tc.desc) {
				t.Fatalf("got ok=%v %d %q, want %d %q", r.OK, r.ErrorCode, r.Description, tc.code, tc.desc)
			}
		})
	}
}

func TestFormAndMultipartBodies(t *testing.T) {
	s := New(t, token, Options{})
	s.AddChat(7, "private")
	r := form(t, s, "sendMessage", url.Values{"chat_id": {"7"}, "text": {"a &amp; b"}, "parse_mode": {"HTML"},
		"reply_markup": {`{"inline_keyboard":[[{"text":"Go","callback_data":"p1","style":"danger"}]]}`}})
	if !r.OK {
		t.Fatalf("form body refused: %s", r.Description)
	}
	m := s.BotMessages(7)[0]
	if m.Text != "a & b" || m.Buttons()[0].Style != "danger" {
		t.Errorf("stored %+v", m)
	}

	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("chat_id", "7")
	_ = w.WriteField("caption", "<b>logs</b>")
	_ = w.WriteField("parse_mode", "HTML")
	fw, _ := w.CreateFormFile("document", "logs.txt")
	_, _ = fw.Write([]byte("line 1\nline 2\n"))
	_ = w.Close()
	resp, err := s.Client().Post(s.URL()+"/bot"+token+"/sendDocument", w.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	d := s.BotMessages(7)[1]
	if d.Document == nil || d.Document.Name != "logs.txt" || string(d.Document.Data) != "line 1\nline 2\n" || d.Text != "logs" {
		t.Errorf("document message %+v", d)
	}
	if r := form(t, s, "sendDocument", url.Values{"chat_id": {"7"}, "document": {"https://example.com/x"}}); r.OK {
		t.Error("a URL document was accepted by a fake that cannot fetch it")
	}
}

func TestGetUpdatesOffsetAndLongPoll(t *testing.T) {
	s := New(t, token, Options{})
	u := User{ID: 5, FirstName: "U"}
	s.SendUserMessage(5, u, "/one")
	s.SendUserMessage(5, u, "/two")
	var ups []struct {
		ID      int64 `json:"update_id"`
		Message struct {
			Text     string   `json:"text"`
			Entities []Entity `json:"entities"`
		} `json:"message"`
	}
	r := call(t, s, token, "getUpdates", map[string]any{})
	_ = json.Unmarshal(r.Result, &ups)
	if len(ups) != 2 || ups[0].Message.Text != "/one" || ups[0].Message.Entities[0].Type != "bot_command" {
		t.Fatalf("updates %+v", ups)
	}
	// Confirming the first drops it for good.
	r = call(t, s, token, "getUpdates", map[string]any{"offset": ups[1].ID})
	_ = json.Unmarshal(r.Result, &ups)
	if len(ups) != 1 || ups[0].Message.Text != "/two" {
		t.Fatalf("after offset: %+v", ups)
	}
	next := ups[0].ID + 1
	// A long poll returns as soon as an update arrives.
	done := make(chan []byte, 1)
	go func() {
		r := call(t, s, token, "getUpdates", map[string]any{"offset": next, "timeout": 30})
		done <- r.Result
	}()
	s.WaitCalls(t, "getUpdates", 3, 5*time.Second)
	s.SendUserMessage(5, u, "/three")
	select {
	case res := <-done:
		_ = json.Unmarshal(res, &ups)
		if len(ups) != 1 || ups[0].Message.Text != "/three" {
			t.Fatalf("long poll got %+v", ups)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("long poll did not return on a new update")
	}
	// With nothing queued, a short timeout returns an empty list.
	r = call(t, s, token, "getUpdates", map[string]any{"offset": ups[0].ID + 1, "timeout": 1})
	if string(r.Result) != "[]" {
		t.Errorf("empty poll returned %s", r.Result)
	}
}

func TestCallbackAnswers(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	s := New(t, token, Options{Now: c.Now})
	s.AddChat(-9, "group")
	r := call(t, s, token, "sendMessage", map[string]any{"chat_id": -9, "text": "alert", "reply_markup": kb("ack:1")})
	var m struct {
		MessageID int `json:"message_id"`
	}
	_ = json.Unmarshal(r.Result, &m)
	u := User{ID: 3, FirstName: "U"}
	if _, err := s.Click(-9, u, m.MessageID, "forged"); err == nil {
		t.Error("clicked a button that is not on the message")
	}
	q1, err := s.Click(-9, u, m.MessageID, "ack:1")
	if err != nil {
		t.Fatal(err)
	}
	if r := call(t, s, token, "answerCallbackQuery", map[string]any{"callback_query_id": q1, "text": "done"}); !r.OK {
		t.Fatalf("answer refused: %s", r.Description)
	}
	if r := call(t, s, token, "answerCallbackQuery", map[string]any{"callback_query_id": q1}); r.OK || !strings.Contains(r.Description, "query is too old") {
		t.Errorf("second answer: %+v", r)
	}
	q2, _ := s.Click(-9, u, m.MessageID, "ack:1")
	c.Add(16 * time.Second)
	if r := call(t, s, token, "answerCallbackQuery", map[string]any{"callback_query_id": q2}); r.OK {
		t.Error("answer after 15 s accepted")
	}
	q3, _ := s.Click(-9, u, m.MessageID, "ack:1")
	un := s.UnansweredCallbacks()
	if len(un) != 2 || un[0].ID != q2 || !un[0].Late || un[1].ID != q3 {
		t.Errorf("unanswered = %+v, want the late %s and the pending %s", un, q2, q3)
	}
}

func TestRateLimits(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	s := New(t, token, Options{Now: c.Now, StrictRateLimit: true})
	s.AddChat(-9, "group")
	send := func() reply { return call(t, s, token, "sendMessage", map[string]any{"chat_id": -9, "text": "x"}) }
	s.Inject429(1, 5)
	if r := send(); r.ErrorCode != 429 || r.Parameters.RetryAfter != 5 || r.Description != "Too Many Requests: retry after 5" {
		t.Fatalf("injected 429: %+v", r)
	}
	for i := 0; i < 3; i++ {
		if r := send(); !r.OK {
			t.Fatalf("burst message %d refused: %+v", i, r)
		}
	}
	if r := send(); r.ErrorCode != 429 || r.Parameters.RetryAfter < 1 {
		t.Fatalf("4th message within a second: %+v", r)
	}
	// After a burst, about one a second is fine.
	c.Add(2 * time.Second)
	for i := 3; i < 20; i++ {
		c.Add(1100 * time.Millisecond)
		if r := send(); !r.OK {
			t.Fatalf("paced message %d refused: %+v", i, r)
		}
	}
	c.Add(time.Second)
	if r := send(); r.ErrorCode != 429 {
		t.Fatalf("21st message in a minute to a group: %+v", r)
	}
}

// The 20th message of a minute hit a 429 at the window's edge: a message
// exactly a minute after the first still counts in that minute.
func TestRateLimitWindowEdge(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	s := New(t, token, Options{Now: c.Now, StrictRateLimit: true})
	s.AddChat(-9, "group")
	send := func() reply { return call(t, s, token, "sendMessage", map[string]any{"chat_id": -9, "text": "x"}) }
	start := c.Now()
	at := func(d time.Duration) { c.Add(start.Add(d).Sub(c.Now())) }
	for i := range 20 {
		at(time.Duration(i) * 3 * time.Second)
		if r := send(); !r.OK {
			t.Fatalf("message %d refused: %+v", i, r)
		}
	}
	at(time.Minute)
	if r := send(); r.ErrorCode != 429 {
		t.Fatalf("21st message exactly a minute after the first: %+v, want 429", r)
	}
	at(time.Minute + 2*time.Second)
	if r := send(); !r.OK {
		t.Fatalf("past the edge: %+v", r)
	}
}

func TestChatMember(t *testing.T) {
	s := New(t, token, Options{})
	s.AddChat(-9, "supergroup")
	s.SetChatAdmin(-9, 1)
	s.SetChatOwner(-9, 2)
	s.SendUserMessage(-9, User{ID: 3, FirstName: "M"}, "hi")
	for id, want := range map[int64]string{1: "administrator", 2: "creator", 3: "member", 4: "left"} {
		r := call(t, s, token, "getChatMember", map[string]any{"chat_id": -9, "user_id": id})
		var m struct {
			Status string `json:"status"`
		}
		_ = json.Unmarshal(r.Result, &m)
		if m.Status != want {
			t.Errorf("user %d: status %q, want %q", id, m.Status, want)
		}
	}
}

// TestLinksTelegramCannotOpenAreUnlinked: a text link to a host without a
// dot is kept as plain text, not refused.
func TestLinksTelegramCannotOpenAreUnlinked(t *testing.T) {
	s := New(t, token, Options{})
	s.AddChat(-100, "supergroup")
	for _, tc := range []struct {
		href   string
		linked bool
	}{
		{"https://status.example.org/", true},
		{"http://192.168.1.10:8080", true},
		{"http://localhost:8080", false},
		{"http://nas:8080", false},
	} {
		r := call(t, s, token, "sendMessage", map[string]any{"chat_id": -100, "text": `see <a href="` + tc.href + `">Status page</a>`, "parse_mode": "HTML"})
		if !r.OK {
			t.Fatalf("%s: refused: %s", tc.href, r.Description)
		}
		msgs := s.BotMessages(-100)
		m := msgs[len(msgs)-1]
		if m.Text != "see Status page" || (len(m.Entities) == 1) != tc.linked {
			t.Errorf("%s: text %q entities %+v, want linked %v", tc.href, m.Text, m.Entities, tc.linked)
		}
	}
}

// TestSecondPollerGets409: a getUpdates while another is in progress ends
// the one in progress with Telegram's 409, word for word, and goes on
// polling itself.
func TestSecondPollerGets409(t *testing.T) {
	s := New(t, token, Options{})
	first := make(chan reply, 1)
	go func() { first <- call(t, s, token, "getUpdates", map[string]any{"timeout": 30}) }()
	s.WaitCalls(t, "getUpdates", 1, 5*time.Second)
	// The first poll must be waiting before the second arrives.
	if !s.wait(5*time.Second, func() bool { return s.poller != nil }) {
		t.Fatal("first poll never waited")
	}
	second := make(chan reply, 1)
	go func() { second <- call(t, s, token, "getUpdates", map[string]any{"timeout": 2}) }()
	r := <-first
	want := "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
	if r.OK || r.ErrorCode != 409 || r.Description != want {
		t.Errorf("first poll = %+v, want 409 %q", r, want)
	}
	if r := <-second; !r.OK || string(r.Result) != "[]" {
		t.Errorf("second poll = %+v, want an empty result after its timeout", r)
	}
}

// TestUnreachableDropsConnections: while unreachable the server answers
// nothing at all, as a dead network does.
func TestUnreachableDropsConnections(t *testing.T) {
	s := New(t, token, Options{})
	s.SetUnreachable(true)
	if _, err := s.Client().Get(s.URL() + "/bot" + token + "/getMe"); err == nil {
		t.Fatal("getMe answered while unreachable")
	}
	s.WaitRefused(t, 1, 5*time.Second)
	s.SetUnreachable(false)
	if r := call(t, s, token, "getMe", nil); !r.OK {
		t.Fatalf("getMe after recovery = %+v", r)
	}
}

// During an outage every request hangs until the client gives up; after
// Up the server answers again.
func TestOutage(t *testing.T) {
	s := New(t, token, Options{})
	s.Down()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+"/bot"+token+"/getMe", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	if resp, err := s.Client().Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("answered during the outage: %s", resp.Status)
	}
	s.Up()
	if r := call(t, s, token, "getMe", nil); !r.OK {
		t.Errorf("after Up: %+v", r)
	}
	if n := s.Calls("getMe"); n != 2 {
		t.Errorf("Calls(getMe) = %d, want 2: a hung request counts", n)
	}
}
