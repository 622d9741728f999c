package discordtest

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

const tok = "secret-token"

type client struct {
	t  *testing.T
	s  *Server
	ws *websocket.Conn
}

func call(t *testing.T, s *Server, method, path string, body any, auth bool) (int, map[string]any) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, s.URL+"/api/v9/"+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if auth {
		req.Header.Set("Authorization", "Bot "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// connect opens a gateway connection and identifies.
func connect(t *testing.T, s *Server, token string) (*client, map[string]any) {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(s.gatewayURL()+"/?v=9&encoding=json", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	c := &client{t: t, s: s, ws: ws}
	hello := c.read()
	if hello["op"].(float64) != 10 || hello["d"].(map[string]any)["heartbeat_interval"].(float64) <= 0 {
		t.Fatalf("hello = %v", hello)
	}
	if err := ws.WriteJSON(map[string]any{"op": 2, "d": map[string]any{"token": token, "intents": 0, "properties": map[string]string{"os": "linux"}}}); err != nil {
		t.Fatal(err)
	}
	return c, nil
}

func (c *client) read() map[string]any {
	c.t.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	var m map[string]any
	if err := c.ws.ReadJSON(&m); err != nil {
		c.t.Fatalf("gateway read: %v", err)
	}
	return m
}

func ready(t *testing.T, s *Server) *client {
	c, _ := connect(t, s, tok)
	r := c.read()
	if r["t"] != "READY" || r["d"].(map[string]any)["session_id"] == "" {
		t.Fatalf("ready = %v", r)
	}
	return c
}

func register(t *testing.T, s *Server) {
	t.Helper()
	status, _ := callList(t, s, http.MethodPut, "applications/"+s.AppID+"/guilds/"+s.GuildID+"/commands", []Command{{
		Name: "logs", Description: "Tail logs", Options: []CommandOption{
			{Type: OptionString, Name: "host", Description: "Host", Required: true, Autocomplete: true},
			{Type: OptionInteger, Name: "lines", Description: "Lines"},
		},
	}})
	if status != http.StatusOK {
		t.Fatalf("register: %d", status)
	}
}

func callList(t *testing.T, s *Server, method, path string, body any) (int, []byte) {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, s.URL+"/api/v9/"+path, bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bot "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.Bytes()
}

func TestGatewayIdentifyHeartbeatAndDispatch(t *testing.T) {
	s := NewServer(t, tok)
	register(t, s)
	c := ready(t, s)
	_ = c.ws.WriteJSON(map[string]any{"op": 1, "d": 1})
	if ack := c.read(); ack["op"].(float64) != 11 {
		t.Fatalf("heartbeat answered with %v", ack)
	}
	it := s.SlashCommand(s.GuildID, "42", []string{"7"}, "logs", Opt("host", "nas"), Opt("lines", 20))
	ev := c.read()
	if ev["t"] != "INTERACTION_CREATE" || ev["s"].(float64) != 2 {
		t.Fatalf("event = %v", ev)
	}
	d := ev["d"].(map[string]any)
	opts := d["data"].(map[string]any)["options"].([]any)
	if d["id"] != it.ID || d["member"].(map[string]any)["roles"].([]any)[0] != "7" ||
		opts[1].(map[string]any)["type"].(float64) != OptionInteger || opts[1].(map[string]any)["value"].(float64) != 20 {
		t.Errorf("interaction payload = %v", d)
	}
}

func TestGatewayRejectsBadToken(t *testing.T) {
	s := NewServer(t, tok)
	c, _ := connect(t, s, "Bot wrong")
	_ = c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err := c.ws.ReadMessage()
	var ce *websocket.CloseError
	if !errorsAs(err, &ce) || ce.Code != 4004 {
		t.Fatalf("err = %v, want close 4004", err)
	}
}

func errorsAs(err error, ce **websocket.CloseError) bool {
	e, ok := err.(*websocket.CloseError)
	if ok {
		*ce = e
	}
	return ok
}

func TestGatewayResume(t *testing.T) {
	s := NewServer(t, tok)
	c, _ := connect(t, s, tok)
	session := c.read()["d"].(map[string]any)["session_id"].(string)
	c.ws.Close()
	ws, _, err := websocket.DefaultDialer.Dial(s.gatewayURL()+"/?v=9&encoding=json", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	c2 := &client{t: t, s: s, ws: ws}
	c2.read() // hello
	_ = ws.WriteJSON(map[string]any{"op": 6, "d": map[string]any{"token": "Bot " + tok, "session_id": session, "seq": 1}})
	if r := c2.read(); r["t"] != "RESUMED" {
		t.Fatalf("resume answered %v", r)
	}
	_ = ws.WriteJSON(map[string]any{"op": 6, "d": map[string]any{"token": tok, "session_id": "nope", "seq": 1}})
	if r := c2.read(); r["op"].(float64) != 9 {
		t.Fatalf("unknown session answered %v, want op 9", r)
	}
}

func TestInteractionAckRules(t *testing.T) {
	s := NewServer(t, tok)
	register(t, s)
	ready(t, s)
	cb := func(it *Interaction, body any) (int, map[string]any) {
		return call(t, s, http.MethodPost, "interactions/"+it.ID+"/"+it.Token+"/callback", body, false)
	}
	it := s.SlashCommand(s.GuildID, "42", nil, "logs", Opt("host", "nas"))
	if st, _ := cb(it, map[string]any{"type": 5}); st != http.StatusNoContent {
		t.Fatalf("first ack: %d", st)
	}
	st, body := cb(it, map[string]any{"type": 4, "data": map[string]any{"content": "hi"}})
	if st != http.StatusBadRequest || body["code"].(float64) != 40060 {
		t.Errorf("second ack: %d %v", st, body)
	}

	late := s.SlashCommand(s.GuildID, "42", nil, "logs", Opt("host", "nas"))
	s.Advance(AckWindow + time.Millisecond)
	st, body = cb(late, map[string]any{"type": 5})
	if st != http.StatusNotFound || body["code"].(float64) != 10062 {
		t.Errorf("late ack: %d %v", st, body)
	}

	wrong := s.SlashCommand(s.GuildID, "42", nil, "logs", Opt("host", "nas"))
	st, body = cb(wrong, map[string]any{"type": 8, "data": map[string]any{"choices": []any{}}})
	if st != http.StatusBadRequest || body["code"].(float64) != 50035 {
		t.Errorf("autocomplete result for a command: %d %v", st, body)
	}

	// "No match" is an empty list; leaving choices out is a 400.
	bare := s.Autocomplete(s.GuildID, "42", nil, "logs", Opt("host", "n"))
	st, body = cb(bare, map[string]any{"type": 8, "data": map[string]any{}})
	if st != http.StatusBadRequest || body["code"].(float64) != 50035 {
		t.Errorf("autocomplete without choices: %d %v", st, body)
	}
	none := s.Autocomplete(s.GuildID, "42", nil, "logs", Opt("host", "n"))
	if st, body = cb(none, map[string]any{"type": 8, "data": map[string]any{"choices": []any{}}}); st != http.StatusNoContent {
		t.Errorf("autocomplete with no match: %d %v", st, body)
	}
	if got := len(s.Failures()); got != 4 {
		t.Errorf("failures = %d (%+v), want 4", got, s.Failures())
	}
}

func TestFollowupsAndTokenLifetime(t *testing.T) {
	s := NewServer(t, tok)
	register(t, s)
	ready(t, s)
	it := s.SlashCommand(s.GuildID, "42", nil, "logs", Opt("host", "nas"))
	hook := "webhooks/" + s.AppID + "/" + it.Token
	if st, body := call(t, s, http.MethodPost, hook, map[string]any{"content": "early"}, false); st != http.StatusNotFound || body["code"].(float64) != 10015 {
		t.Errorf("follow-up before ack: %d %v", st, body)
	}
	call(t, s, http.MethodPost, "interactions/"+it.ID+"/"+it.Token+"/callback", map[string]any{"type": 5, "data": map[string]any{"flags": 64}}, false)
	st, body := call(t, s, http.MethodPost, hook+"?wait=true", map[string]any{"content": "first"}, false)
	if st != http.StatusOK || body["flags"].(float64) != FlagEphemeral || body["content"] != "first" {
		t.Errorf("first follow-up must replace the ephemeral placeholder: %d %v", st, body)
	}
	if st, _ := call(t, s, http.MethodPatch, hook+"/messages/@original", map[string]any{"content": "edited"}, false); st != http.StatusOK {
		t.Errorf("edit original: %d", st)
	}
	if msgs := s.Messages(s.ChannelID); len(msgs) != 1 || msgs[0].Content != "edited" {
		t.Errorf("messages = %+v", msgs)
	}
	s.Advance(TokenTTL)
	if st, body := call(t, s, http.MethodPost, hook, map[string]any{"content": "late"}, false); st != http.StatusUnauthorized || body["code"].(float64) != 50027 {
		t.Errorf("follow-up after 15 min: %d %v", st, body)
	}
}

func TestMessageValidation(t *testing.T) {
	s := NewServer(t, tok)
	row := func(n int, id string) map[string]any {
		var bs []any
		for i := 0; i < n; i++ {
			bs = append(bs, map[string]any{"type": 2, "style": 1, "label": "b", "custom_id": id + string(rune('a'+i))})
		}
		return map[string]any{"type": 1, "components": bs}
	}
	tests := []struct {
		name string
		body map[string]any
		path []string
	}{
		{"empty", map[string]any{}, []string{"content"}},
		{"content", map[string]any{"content": strings.Repeat("x", 2001)}, []string{"content"}},
		{"six rows", map[string]any{"components": []any{row(1, "a"), row(1, "b"), row(1, "c"), row(1, "d"), row(1, "e"), row(1, "f")}}, []string{"components"}},
		{"six buttons", map[string]any{"components": []any{row(6, "a")}}, []string{"components", "0", "components"}},
		{"custom_id", map[string]any{"components": []any{row(1, strings.Repeat("c", 100))}}, []string{"components", "0", "components", "0", "custom_id"}},
		{"label", map[string]any{"components": []any{map[string]any{"type": 1, "components": []any{map[string]any{"type": 2, "style": 4, "custom_id": "x", "label": strings.Repeat("l", 81)}}}}}, []string{"components", "0", "components", "0", "label"}},
		{"embed title", map[string]any{"embeds": []any{map[string]any{"title": strings.Repeat("t", 257)}}}, []string{"embeds", "0", "title"}},
		{"embed total", map[string]any{"embeds": []any{map[string]any{"description": strings.Repeat("d", 4000)}, map[string]any{"description": strings.Repeat("d", 2001)}}}, []string{"embeds"}},
		{"nonce", map[string]any{"content": "x", "nonce": strings.Repeat("n", 26)}, []string{"nonce"}},
		// Discord refuses embed URLs other than http(s) and hosts that are
		// not fully qualified (http://nas:8080), failing the whole message.
		{"embed url scheme", map[string]any{"embeds": []any{map[string]any{"title": "t", "url": "steam://run/1"}}}, []string{"embeds", "0", "url"}},
		{"embed url host", map[string]any{"embeds": []any{map[string]any{"title": "t", "url": "http://nas:8080/"}}}, []string{"embeds", "0", "url"}},
		{"link button host", map[string]any{"components": []any{map[string]any{"type": 1, "components": []any{map[string]any{"type": 2, "style": 5, "label": "Status", "url": "http://localhost:8080"}}}}}, []string{"components", "0", "components", "0", "url"}},
		{"link button custom_id", map[string]any{"components": []any{map[string]any{"type": 1, "components": []any{map[string]any{"type": 2, "style": 5, "label": "Status", "url": "https://status.example.org", "custom_id": "x"}}}}}, []string{"components", "0", "components", "0", "custom_id"}},
	}
	for _, tt := range tests {
		st, body := call(t, s, http.MethodPost, "channels/1/messages", tt.body, true)
		if st != http.StatusBadRequest || body["code"].(float64) != 50035 || body["message"] != "Invalid Form Body" {
			t.Errorf("%s: %d %v", tt.name, st, body)
			continue
		}
		var node any = body["errors"]
		for _, p := range tt.path {
			m, _ := node.(map[string]any)
			node = m[p]
		}
		if m, _ := node.(map[string]any); m == nil || m["_errors"] == nil {
			t.Errorf("%s: no _errors at %v in %v", tt.name, tt.path, body["errors"])
		}
	}
	for _, u := range []string{"https://status.example.org/", "http://192.168.1.10:8080"} {
		if st, body := call(t, s, http.MethodPost, "channels/1/messages", map[string]any{"embeds": []any{map[string]any{"title": "t", "url": u}}}, true); st != http.StatusOK {
			t.Errorf("embed url %s refused: %d %v", u, st, body)
		}
	}
	if st, _ := call(t, s, http.MethodPost, "channels/1/messages", map[string]any{"content": "x"}, false); st != http.StatusUnauthorized {
		t.Errorf("unauthenticated post: %d", st)
	}
}

func TestNonceAndMultipartAndRateLimit(t *testing.T) {
	s := NewServer(t, tok)
	body := map[string]any{"content": "x", "nonce": "dh-1", "enforce_nonce": true}
	_, a := call(t, s, http.MethodPost, "channels/1/messages", body, true)
	_, b := call(t, s, http.MethodPost, "channels/1/messages", body, true)
	if a["id"] != b["id"] || len(s.Messages("1")) != 1 {
		t.Errorf("enforce_nonce did not deduplicate: %v %v", a["id"], b["id"])
	}

	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	pw, _ := mw.CreateFormField("payload_json")
	_, _ = pw.Write([]byte(`{"content":"see file"}`))
	fw, _ := mw.CreateFormFile("files[0]", "logs.txt")
	_, _ = fw.Write([]byte("line 1\nline 2\n"))
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/v9/channels/2/messages", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bot "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if m := s.Messages("2"); len(m) != 1 || len(m[0].Attachments) != 1 || string(m[0].Attachments[0].Data) != "line 1\nline 2\n" {
		t.Errorf("multipart message = %+v", m)
	}

	s.Inject429(1, 1500*time.Millisecond)
	req, _ = http.NewRequest(http.MethodPost, s.URL+"/api/v9/channels/3/messages", strings.NewReader(`{"content":"x"}`))
	req.Header.Set("Authorization", "Bot "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var rl map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&rl)
	resp.Body.Close()
	if resp.StatusCode != 429 || rl["retry_after"].(float64) != 1.5 || resp.Header.Get("Retry-After") != "2" || resp.Header.Get("X-RateLimit-Reset-After") != "1.500" {
		t.Errorf("429 = %d %v %v", resp.StatusCode, rl, resp.Header)
	}
	if st, _ := call(t, s, http.MethodPost, "channels/3/messages", map[string]any{"content": "x"}, true); st != 429 || len(s.Failures()) != 1 {
		t.Errorf("retry inside the window: %d, failures %+v", st, s.Failures())
	}
	s.Advance(1500 * time.Millisecond)
	if st, _ := call(t, s, http.MethodPost, "channels/3/messages", map[string]any{"content": "x"}, true); st != 200 {
		t.Errorf("retry after the window: %d", st)
	}
}

func TestCommandValidation(t *testing.T) {
	s := NewServer(t, tok)
	tests := []struct {
		name string
		cmds []Command
	}{
		{"upper case", []Command{{Name: "Status", Description: "d"}}},
		{"space", []Command{{Name: "re start", Description: "d"}}},
		{"long name", []Command{{Name: strings.Repeat("a", 33), Description: "d"}}},
		{"empty description", []Command{{Name: "status"}}},
		{"long description", []Command{{Name: "status", Description: strings.Repeat("d", 101)}}},
		{"duplicate", []Command{{Name: "a", Description: "d"}, {Name: "a", Description: "d"}}},
		{"required after optional", []Command{{Name: "logs", Description: "d", Options: []CommandOption{
			{Type: OptionString, Name: "a", Description: "d"}, {Type: OptionString, Name: "b", Description: "d", Required: true}}}}},
		{"26 options", []Command{{Name: "x", Description: "d", Options: func() []CommandOption {
			var o []CommandOption
			for i := 0; i < 26; i++ {
				o = append(o, CommandOption{Type: OptionString, Name: "o" + strings.Repeat("x", i), Description: "d"})
			}
			return o
		}()}}},
	}
	for _, tt := range tests {
		st, body := callList(t, s, http.MethodPut, "applications/"+s.AppID+"/guilds/"+s.GuildID+"/commands", tt.cmds)
		if st != http.StatusBadRequest || !strings.Contains(string(body), `"code":50035`) {
			t.Errorf("%s: %d %s", tt.name, st, body)
		}
	}
	if len(s.RegisteredCommands()) != 0 {
		t.Error("a rejected overwrite registered commands")
	}
}
