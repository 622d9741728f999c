package ntfytest

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

type reply struct {
	status int
	msg    Message
	err    Error
	header http.Header
}

func do(t *testing.T, s *Server, method, path, body string, header map[string]string) reply {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, header: resp.Header}
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(raw, &r.msg); err != nil {
			t.Fatalf("200 body %q: %v", raw, err)
		}
	} else if r.err, err = ParseError(raw); err != nil {
		t.Fatalf("error body %q: %v", raw, err)
	}
	return r
}

func TestPublishValidation(t *testing.T) {
	long := strings.Repeat("x", MessageLimit+1)
	for _, tc := range []struct {
		name     string
		method   string
		path     string
		body     string
		header   map[string]string
		wantCode int // ntfy error code, 0 for success
	}{
		{"json minimal", "POST", "/", `{"topic":"alerts","message":"hi"}`, nil, 0},
		{"json put", "PUT", "/", `{"topic":"alerts"}`, nil, 0},
		{"json bad topic", "POST", "/", `{"topic":"no spaces","message":"hi"}`, nil, 40009},
		{"json empty topic", "POST", "/", `{"message":"hi"}`, nil, 40009},
		{"json topic too long", "POST", "/", `{"topic":"` + strings.Repeat("a", 65) + `"}`, nil, 40009},
		{"json disallowed topic", "POST", "/", `{"topic":"docs"}`, nil, 40010},
		{"json not json", "POST", "/", `topic=alerts`, nil, 40024},
		{"json string priority", "POST", "/", `{"topic":"alerts","priority":"high"}`, nil, 40024},
		{"json priority 6", "POST", "/", `{"topic":"alerts","priority":6}`, nil, 40007},
		{"json priority -1", "POST", "/", `{"topic":"alerts","priority":-1}`, nil, 40007},
		{"json tags not a list", "POST", "/", `{"topic":"alerts","tags":"a,b"}`, nil, 40024},
		{"json 4 actions", "POST", "/", `{"topic":"alerts","actions":[` + strings.Repeat(`{"action":"view","label":"a","url":"https://x"},`, 3) + `{"action":"view","label":"a","url":"https://x"}]}`, nil, 40018},
		{"json action without label", "POST", "/", `{"topic":"alerts","actions":[{"action":"http","url":"https://x"}]}`, nil, 40018},
		{"json http action without url", "POST", "/", `{"topic":"alerts","actions":[{"action":"http","label":"Go"}]}`, nil, 40018},
		{"json unknown action", "POST", "/", `{"topic":"alerts","actions":[{"action":"open","label":"Go","url":"https://x"}]}`, nil, 40018},
		{"json GET with body", "POST", "/", `{"topic":"alerts","actions":[{"action":"http","label":"Go","url":"https://x","method":"GET","body":"x"}]}`, nil, 40018},
		{"json copy without value", "POST", "/", `{"topic":"alerts","actions":[{"action":"copy","label":"Copy"}]}`, nil, 40018},
		{"json 3 actions", "POST", "/", `{"topic":"alerts","actions":[{"action":"view","label":"a","url":"https://x"},{"action":"broadcast","label":"b"},{"action":"copy","label":"c","value":"v"}]}`, nil, 0},
		{"json message too long", "POST", "/", `{"topic":"alerts","message":"` + long + `"}`, nil, 40014},
		{"json message at limit", "POST", "/", `{"topic":"alerts","message":"` + long[1:] + `"}`, nil, 0},
		{"json email disabled", "POST", "/", `{"topic":"alerts","email":"a@b.c"}`, nil, 40001},
		{"json bad icon", "POST", "/", `{"topic":"alerts","icon":"ftp://x"}`, nil, 40021},
		{"header minimal", "POST", "/alerts", "hello", nil, 0},
		{"header bad topic", "POST", "/al.erts", "hello", nil, 40009},
		{"header priority name", "POST", "/alerts", "hi", map[string]string{"Priority": "urgent"}, 0},
		{"header priority bad", "POST", "/alerts", "hi", map[string]string{"X-Priority": "9"}, 40007},
		{"header body too long", "POST", "/alerts", long, nil, 40014},
		{"header binary body", "POST", "/alerts", "\xff\xfe", nil, 40014},
		{"header actions ok", "POST", "/alerts", "hi", map[string]string{"Actions": "http, Restart, https://x/y, method=POST, clear=true; view, Open, https://z"}, 0},
		{"header actions bad clear", "POST", "/alerts", "hi", map[string]string{"Actions": "http, Restart, https://x, clear=maybe"}, 40018},
		{"header actions unknown key", "POST", "/alerts", "hi", map[string]string{"Actions": "http, Restart, https://x, colour=red"}, 40018},
		{"header actions unterminated quote", "POST", "/alerts", "hi", map[string]string{"Actions": `view, "Open, https://x`}, 40018},
		{"nested path", "POST", "/alerts/extra", "hi", nil, 40401},
		{"GET is not publishing", "GET", "/alerts", "", nil, 40401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewServer(t)
			r := do(t, s, tc.method, tc.path, tc.body, tc.header)
			if tc.wantCode == 0 {
				if r.status != http.StatusOK {
					t.Fatalf("status %d (%+v), want 200", r.status, r.err)
				}
				if len(s.Messages()) != 1 {
					t.Fatalf("recorded %d messages", len(s.Messages()))
				}
				return
			}
			if r.err.Code != tc.wantCode || r.err.HTTPCode != r.status {
				t.Fatalf("got %d %+v, want code %d", r.status, r.err, tc.wantCode)
			}
			if len(s.Messages()) != 0 {
				t.Fatalf("rejected message was recorded")
			}
		})
	}
}

func TestPublishResponseShape(t *testing.T) {
	s := NewServer(t)
	r := do(t, s, "POST", "/", `{"topic":"alerts","title":"Café – down","message":" body \n","priority":4,"tags":["warning","nas"],"click":"https://status","markdown":true,
		"actions":[{"action":"http","label":"Restart","url":"https://dh/hooks/ntfy?t=abc","method":"post","clear":true}]}`, nil)
	if r.status != 200 {
		t.Fatalf("status %d %+v", r.status, r.err)
	}
	m := r.msg
	if len(m.ID) != 12 || m.Event != "message" || m.Time == 0 || m.Expires <= m.Time || m.Topic != "alerts" {
		t.Errorf("envelope %+v", m)
	}
	if m.Title != "Café – down" || m.Message != "body" || m.Priority != 4 || m.Click != "https://status" || m.ContentType != "text/markdown" {
		t.Errorf("fields %+v", m)
	}
	if len(m.Actions) != 1 || m.Actions[0].Method != "POST" || m.Actions[0].ID == "" || !m.Actions[0].Clear {
		t.Errorf("actions %+v", m.Actions)
	}
	if got := s.Messages()[0]; got.ID != m.ID || !got.PublishedJSON {
		t.Errorf("recorded %+v", got)
	}
}

func TestHeaderPublishParsing(t *testing.T) {
	s := NewServer(t)
	r := do(t, s, "PUT", "/alerts?tags=a", "", map[string]string{
		"Title":   "=?UTF-8?B?" + base64.StdEncoding.EncodeToString([]byte("Café")) + "?=",
		"Tags":    "warning, nas ,,",
		"Message": `line1\nline2`,
		"Actions": `http, "Say \"hi\", ok", https://x/y, headers.X-Token=1, body=ping; view, Open, https://z, clear=yes`,
		"Click":   "https://status",
	})
	if r.status != 200 {
		t.Fatalf("status %d %+v", r.status, r.err)
	}
	m := r.msg
	if m.Title != "Café" || strings.Join(m.Tags, "|") != "warning|nas" || m.Message != "line1\nline2" {
		t.Errorf("parsed %+v", m)
	}
	if len(m.Actions) != 2 {
		t.Fatalf("actions %+v", m.Actions)
	}
	a, v := m.Actions[0], m.Actions[1]
	if a.Action != "http" || a.Label != `Say "hi", ok` || a.URL != "https://x/y" || a.Headers["X-Token"] != "1" || a.Body != "ping" || a.Method != "" {
		t.Errorf("http action %+v", a)
	}
	if v.Action != "view" || v.URL != "https://z" || !v.Clear {
		t.Errorf("view action %+v", v)
	}
	if m.PublishedJSON {
		t.Error("header publish recorded as JSON")
	}
}

func TestAuth(t *testing.T) {
	basic := func(u, p string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p)) }
	for _, tc := range []struct {
		name   string
		setup  func(*Server)
		auth   string
		status int
		code   int
	}{
		{"open server needs no auth", func(*Server) {}, "", 200, 0},
		{"token missing", func(s *Server) { s.RequireToken("tk_secret") }, "", 403, 40301},
		{"token wrong", func(s *Server) { s.RequireToken("tk_secret") }, "Bearer tk_other", 401, 40101},
		{"token right", func(s *Server) { s.RequireToken("tk_secret") }, "Bearer tk_secret", 200, 0},
		{"token as basic password", func(s *Server) { s.RequireToken("tk_secret") }, basic("", "tk_secret"), 200, 0},
		{"basic right", func(s *Server) { s.RequireBasic("phil", "pw") }, basic("phil", "pw"), 200, 0},
		{"basic wrong", func(s *Server) { s.RequireBasic("phil", "pw") }, basic("phil", "nope"), 401, 40101},
		{"basic garbage", func(s *Server) { s.RequireBasic("phil", "pw") }, "Basic !!!", 401, 40101},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewServer(t)
			tc.setup(s)
			h := map[string]string{}
			if tc.auth != "" {
				h["Authorization"] = tc.auth
			}
			r := do(t, s, "POST", "/alerts", "hi", h)
			if r.status != tc.status || r.err.Code != tc.code {
				t.Fatalf("got %d %+v, want %d code %d", r.status, r.err, tc.status, tc.code)
			}
			if tc.status == 200 && s.Messages()[0].Authorization != tc.auth {
				t.Errorf("recorded Authorization %q", s.Messages()[0].Authorization)
			}
		})
	}
}

func TestFaults(t *testing.T) {
	s := NewServer(t)
	s.FailNext(2)
	s.RateLimitNext(1, "7")
	s.RateLimitNext(1, "")
	want := []struct {
		status     int
		retryAfter string
	}{{500, ""}, {500, ""}, {429, "7"}, {429, ""}, {200, ""}}
	for i, w := range want {
		r := do(t, s, "POST", "/alerts", "hi", nil)
		if r.status != w.status || r.header.Get("Retry-After") != w.retryAfter {
			t.Errorf("request %d: %d retry-after %q, want %d %q", i, r.status, r.header.Get("Retry-After"), w.status, w.retryAfter)
		}
	}
	if s.Requests() != 5 || len(s.Messages()) != 1 {
		t.Errorf("requests %d messages %d", s.Requests(), len(s.Messages()))
	}

	s.HangNext(1)
	c := &http.Client{Timeout: 50 * time.Millisecond}
	if _, err := c.Post(s.URL+"/alerts", "text/plain", strings.NewReader("x")); err == nil {
		t.Error("hanging request answered")
	}
}

func TestWaitForAndTap(t *testing.T) {
	var got *http.Request
	var gotBody string
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got, gotBody = r, string(b)
		io.WriteString(w, "done")
	}))
	t.Cleanup(target.Close)

	s := NewServer(t)
	go func() {
		body := `{"topic":"alerts","actions":[{"action":"view","label":"Open","url":"https://x"},
			{"action":"http","label":"Restart","url":"` + target.URL + `/hooks/ntfy?t=a%2Bb","headers":{"X-A":"1"},"body":"go"}]}`
		resp, err := http.Post(s.URL+"/", "application/json", strings.NewReader(body))
		if err == nil {
			resp.Body.Close()
		}
	}()
	msgs := s.WaitFor(t, 1, 10*time.Second)
	resp := s.Tap(t, msgs[0], "Restart")
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(b) != "done" {
		t.Fatalf("tap answered %d %q", resp.StatusCode, b)
	}
	if got.Method != "POST" || got.URL.Query().Get("t") != "a+b" || got.Header.Get("X-A") != "1" || gotBody != "go" {
		t.Errorf("tap sent %s %s %v %q", got.Method, got.URL, got.Header, gotBody)
	}
}

// Polling follows the server's since rules: all by default when polling,
// none, a Unix time, a duration back from now; anything else is a 400.
func TestPollSince(t *testing.T) {
	s := NewServer(t)
	for _, topic := range []string{"alerts", "alerts", "other"} {
		if r := do(t, s, http.MethodPost, "/"+topic, "hello", nil); r.status != http.StatusOK {
			t.Fatalf("publish: %d", r.status)
		}
	}
	poll := func(query string) (int, int) {
		t.Helper()
		resp, err := http.Get(s.URL + "/alerts/json?" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.Count(string(raw), `"event":"message"`)
	}
	now := time.Now().Unix()
	for _, tc := range []struct {
		query        string
		status, msgs int
	}{
		{"poll=1", 200, 2},
		{"poll=1&since=all", 200, 2},
		{"poll=1&since=none", 200, 0},
		{"poll=1&since=" + strconv.FormatInt(now-60, 10), 200, 2},
		{"poll=1&since=" + strconv.FormatInt(now+60, 10), 200, 0},
		{"poll=1&since=1h", 200, 2},
		{"poll=1&since=yesterday", 400, 0},
		{"since=all", 404, 0}, // subscribing is not simulated
	} {
		if status, n := poll(tc.query); status != tc.status || n != tc.msgs {
			t.Errorf("%s: %d with %d messages, want %d with %d", tc.query, status, n, tc.status, tc.msgs)
		}
	}
}
