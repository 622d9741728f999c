// Package discordtest is a faithful in-process fake of the part of Discord
// that deckhand's Discord adapter talks to: the REST endpoints discordgo
// calls (gateway discovery, application commands, interaction callbacks,
// webhook follow-ups, channel messages with components and file uploads)
// and the gateway websocket (HELLO, IDENTIFY, READY, heartbeats, RESUME and
// INTERACTION_CREATE dispatches injected by the test).
//
// The fake follows Discord's documented behaviour and limits, not the
// adapter's: it rejects what Discord rejects (with Discord's error JSON), it
// enforces the 3-second acknowledgement window and the single
// acknowledgement per interaction, the 15-minute interaction token lifetime,
// and it can answer 429 with retry_after. Every protocol violation is also
// recorded as a Failure so tests can assert the adapter never commits one.
package discordtest

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Windows Discord enforces on interactions.
const (
	AckWindow = 3 * time.Second
	TokenTTL  = 15 * time.Minute
	// NonceWindow is how long enforce_nonce deduplicates a message.
	NonceWindow = 5 * time.Minute
)

// Server is the fake Discord. Create it with NewServer; it is closed by
// t.Cleanup.
type Server struct {
	// URL is the base URL to use instead of https://discord.com (the API is
	// under URL + "/api/v9/").
	URL string
	// Token is the bot token (without the "Bot " prefix).
	Token string
	// AppID is the application ID, also the bot user's ID.
	AppID string
	// GuildID is the default guild.
	GuildID string
	// ChannelID is the guild text channel slash commands are used in.
	ChannelID string
	// BotUser is the bot's own user.
	BotUser User
	// BotPermissions is the bot's permission bits in the guild (its
	// @everyone role; no channel overwrites), as deckhand doctor reads them.
	BotPermissions int64

	t        testing.TB
	srv      *httptest.Server
	upgrader websocket.Upgrader

	mu                sync.Mutex
	changed           chan struct{}
	nextID            int64
	offset            time.Duration
	heartbeatInterval time.Duration
	commands          map[string][]Command // guild ID ("" for global) → commands
	messages          map[string][]*Message
	byID              map[string]*Message
	interactions      map[string]*Interaction
	byToken           map[string]*Interaction
	responses         map[string][]Response
	failures          []Failure
	inject429         int
	retryAfter        time.Duration
	rlUntil           map[string]time.Time
	conns             map[*gwConn]bool
	sessions          map[string]bool
	identifies        int
	resumes           int
	heartbeats        int
	down              bool // SetUnreachable
	refused           int
	sendRevoked       bool
}

// NewServer starts a fake Discord that accepts the given bot token.
func NewServer(t testing.TB, token string) *Server {
	t.Helper()
	s := &Server{
		Token:             token,
		AppID:             "900000000000000001",
		GuildID:           "800000000000000001",
		ChannelID:         "700000000000000001",
		t:                 t,
		changed:           make(chan struct{}),
		nextID:            1100000000000000000,
		heartbeatInterval: 41250 * time.Millisecond,
		commands:          map[string][]Command{},
		messages:          map[string][]*Message{},
		byID:              map[string]*Message{},
		interactions:      map[string]*Interaction{},
		byToken:           map[string]*Interaction{},
		responses:         map[string][]Response{},
		rlUntil:           map[string]time.Time{},
		conns:             map[*gwConn]bool{},
		sessions:          map[string]bool{},
	}
	s.BotUser = User{ID: s.AppID, Username: "deckhand", Bot: true}
	s.BotPermissions = PermViewChannel | PermSendMessages | PermEmbedLinks | PermAttachFiles
	mux := http.NewServeMux()
	mux.HandleFunc("/gateway-ws/", s.serveGateway)
	mux.HandleFunc("/api/", s.serveAPI)
	s.srv = httptest.NewServer(s.reachable(mux))
	s.URL = s.srv.URL
	t.Cleanup(s.Close)
	return s
}

// Close stops the server and drops every gateway connection.
func (s *Server) Close() {
	s.DropConnections()
	s.srv.Close()
}

// SetUnreachable makes the server drop every connection, REST and
// gateway, before answering, as when discord.com cannot be reached (DNS,
// firewall, outage); false makes it answer again.
func (s *Server) SetUnreachable(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
	s.notify()
}

// WaitRefused waits until n requests were dropped while unreachable.
func (s *Server) WaitRefused(t testing.TB, n int, timeout time.Duration) {
	t.Helper()
	s.wait(t, timeout, fmt.Sprintf("%d requests dropped while unreachable", n), func() bool { return s.refused >= n })
}

func (s *Server) reachable(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		down := s.down
		if down {
			s.refused++
			s.notify()
		}
		s.mu.Unlock()
		if !down {
			next.ServeHTTP(w, r)
			return
		}
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	})
}

// SetHeartbeatInterval changes the interval announced in HELLO to new
// connections.
func (s *Server) SetHeartbeatInterval(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.heartbeatInterval = d
}

// Advance moves the fake's clock forward: the acknowledgement window, token
// lifetimes and rate limit windows are measured on it.
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offset += d
}

// Inject429 makes the next n rate-limited REST requests fail with 429 and
// the given retry_after. A request made to the same route before
// retry_after elapsed is answered 429 again and recorded as a failure.
func (s *Server) Inject429(n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inject429 = n
	s.retryAfter = retryAfter
}

// Failures lists the protocol violations seen so far.
func (s *Server) Failures() []Failure {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Failure(nil), s.failures...)
}

// Messages lists the messages of a channel, oldest first, including deleted
// ones (see Message.Deleted).
func (s *Server) Messages(channelID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, 0, len(s.messages[channelID]))
	for _, m := range s.messages[channelID] {
		out = append(out, m.clone())
	}
	return out
}

// Message returns one message by ID.
func (s *Server) Message(id string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.byID[id]
	if !ok {
		return Message{}, false
	}
	return m.clone(), true
}

// Responses lists what the application did about an interaction: the
// callback, follow-ups, edits and deletions, rejected ones included.
func (s *Server) Responses(interactionID string) []Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Response(nil), s.responses[interactionID]...)
}

// RegisteredCommands lists the registered commands, guild and global.
func (s *Server) RegisteredCommands() []Command {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Command
	for _, cmds := range s.commands {
		out = append(out, cmds...)
	}
	return out
}

// Connections reports how many gateway connections completed IDENTIFY and
// RESUME.
func (s *Server) Connections() (identifies, resumes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.identifies, s.resumes
}

// WaitMessage waits until a message of the channel satisfies pred and
// returns it; the test fails after timeout.
func (s *Server) WaitMessage(t testing.TB, channelID string, pred func(Message) bool, timeout time.Duration) Message {
	t.Helper()
	var found Message
	s.wait(t, timeout, "message in channel "+channelID, func() bool {
		for _, m := range s.messages[channelID] {
			if pred(*m) {
				found = m.clone()
				return true
			}
		}
		return false
	})
	return found
}

// WaitResponses waits until the responses to an interaction satisfy pred.
func (s *Server) WaitResponses(t testing.TB, interactionID string, pred func([]Response) bool, timeout time.Duration) []Response {
	t.Helper()
	var out []Response
	s.wait(t, timeout, "responses to interaction "+interactionID, func() bool {
		rs := s.responses[interactionID]
		if pred(rs) {
			out = append([]Response(nil), rs...)
			return true
		}
		return false
	})
	return out
}

// wait calls cond under the lock every time the state changes.
func (s *Server) wait(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ok := cond()
		ch := s.changed
		s.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("discordtest: timed out after %s waiting for %s", timeout, what)
			return
		}
	}
}

// notify wakes the waiters; call with s.mu held.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) now() time.Time { return time.Now().Add(s.offset) }

func (s *Server) newID() string {
	s.nextID++
	return strconv.FormatInt(s.nextID, 10)
}

func (s *Server) fail(code int, path, format string, args ...any) {
	s.failures = append(s.failures, Failure{Code: code, Path: path, Reason: fmt.Sprintf(format, args...)})
}

// ---- REST ----

type apiRequest struct {
	w    http.ResponseWriter
	r    *http.Request
	path string
	seg  []string
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

func writeError(w http.ResponseWriter, status int, e *APIError) {
	writeJSON(w, status, e)
}

var (
	errUnknownInteraction = &APIError{Code: 10062, Message: "Unknown interaction"}
	errAlreadyAcked       = &APIError{Code: 40060, Message: "Interaction has already been acknowledged."}
	errUnknownWebhook     = &APIError{Code: 10015, Message: "Unknown Webhook"}
	errInvalidToken       = &APIError{Code: 50027, Message: "Invalid Webhook Token"}
	errUnknownMessage     = &APIError{Code: 10008, Message: "Unknown Message"}
	errUnauthorized       = &APIError{Code: 0, Message: "401: Unauthorized"}
	errNotAuthor          = &APIError{Code: 50005, Message: "Cannot edit a message authored by another user"}
	errMethod             = &APIError{Code: 0, Message: "405: Method Not Allowed"}
	errNotFound           = &APIError{Code: 0, Message: "404: Not Found"}
	errMissingPerms       = &APIError{Code: 50013, Message: "Missing Permissions"}
)

// RevokeSend takes the bot's Send Messages permission away (or, with
// false, gives it back): Discord then answers 403 Missing Permissions
// (code 50013) to every message the bot creates.
func (s *Server) RevokeSend(revoked bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sendRevoked = revoked
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/api/v9/")
	if !ok {
		rest, ok = strings.CutPrefix(r.URL.Path, "/api/v10/")
	}
	if !ok {
		writeError(w, http.StatusNotFound, errNotFound)
		return
	}
	req := &apiRequest{w: w, r: r, path: r.Method + " " + r.URL.Path, seg: strings.Split(strings.Trim(rest, "/"), "/")}
	seg := req.seg
	switch {
	case seg[0] == "interactions" && len(seg) == 4 && seg[3] == "callback":
		// Interaction endpoints authenticate with the interaction token.
		s.onlyMethod(req, http.MethodPost, func() { s.handleCallback(req, seg[1], seg[2]) })
		return
	case seg[0] == "webhooks" && len(seg) >= 3:
		s.handleWebhook(req, seg[1], seg[2], seg[3:])
		return
	}
	if r.Header.Get("Authorization") != "Bot "+s.Token {
		writeError(w, http.StatusUnauthorized, errUnauthorized)
		return
	}
	switch {
	case len(seg) == 1 && seg[0] == "gateway":
		s.onlyMethod(req, http.MethodGet, func() {
			writeJSON(w, http.StatusOK, map[string]string{"url": s.gatewayURL()})
		})
	case len(seg) == 2 && seg[0] == "gateway" && seg[1] == "bot":
		s.onlyMethod(req, http.MethodGet, func() {
			writeJSON(w, http.StatusOK, map[string]any{
				"url": s.gatewayURL(), "shards": 1,
				"session_start_limit": map[string]int{"total": 1000, "remaining": 999, "reset_after": 14400000, "max_concurrency": 1},
			})
		})
	case len(seg) == 2 && seg[0] == "users" && seg[1] == "@me":
		s.onlyMethod(req, http.MethodGet, func() { writeJSON(w, http.StatusOK, s.BotUser) })
	case seg[0] == "applications" && len(seg) == 5 && seg[2] == "guilds" && seg[4] == "commands":
		s.handleCommands(req, seg[1], seg[3])
	case seg[0] == "applications" && len(seg) == 3 && seg[2] == "commands":
		s.handleCommands(req, seg[1], "")
	case seg[0] == "channels" && len(seg) == 3 && seg[2] == "messages":
		s.onlyMethod(req, http.MethodPost, func() { s.handleCreateMessage(req, seg[1]) })
	case seg[0] == "channels" && len(seg) == 4 && seg[2] == "messages":
		s.handleChannelMessage(req, seg[1], seg[3])
	case r.Method == http.MethodGet && s.handleLookup(req):
	default:
		writeError(w, http.StatusNotFound, errNotFound)
	}
}

func (s *Server) onlyMethod(req *apiRequest, method string, f func()) {
	if req.r.Method != method {
		writeError(req.w, http.StatusMethodNotAllowed, errMethod)
		return
	}
	f()
}

func (s *Server) gatewayURL() string {
	return "ws" + strings.TrimPrefix(s.URL, "http") + "/gateway-ws"
}

// rateLimited answers 429 when one is injected or the route is still inside
// a window announced earlier. Call with s.mu held.
func (s *Server) rateLimited(req *apiRequest) bool {
	bucket := req.r.Method + " " + req.r.URL.Path
	now := s.now()
	var after time.Duration
	if until, ok := s.rlUntil[bucket]; ok && now.Before(until) {
		after = until.Sub(now)
		s.fail(http.StatusTooManyRequests, req.path, "request %s before retry_after elapsed (%s left)", bucket, after)
	} else if s.inject429 > 0 {
		s.inject429--
		after = s.retryAfter
		s.rlUntil[bucket] = now.Add(after)
	} else {
		return false
	}
	secs := after.Seconds()
	h := req.w.Header()
	h.Set("Retry-After", strconv.Itoa(int(math.Ceil(secs))))
	h.Set("X-RateLimit-Limit", "5")
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Reset-After", strconv.FormatFloat(secs, 'f', 3, 64))
	h.Set("X-RateLimit-Reset", strconv.FormatFloat(float64(time.Now().Add(after).UnixMilli())/1000, 'f', 3, 64))
	h.Set("X-RateLimit-Bucket", fmt.Sprintf("%x", len(bucket)*7919))
	h.Set("X-RateLimit-Scope", "user")
	writeJSON(req.w, http.StatusTooManyRequests, map[string]any{
		"message": "You are being rate limited.", "retry_after": secs, "global": false,
	})
	return true
}

// messageBody is the JSON of a message create/edit or a callback's data.
type messageBody struct {
	Content      *string            `json:"content"`
	Embeds       *[]Embed           `json:"embeds"`
	Components   *[]Component       `json:"components"`
	Attachments  *[]json.RawMessage `json:"attachments"`
	Flags        *int               `json:"flags"`
	Nonce        any                `json:"nonce"`
	EnforceNonce bool               `json:"enforce_nonce"`
	Choices      *[]Choice          `json:"choices"`
	// AllowedMentions decides which mentions in Content notify anyone.
	AllowedMentions *allowedMentions `json:"allowed_mentions"`
}

// readBody decodes a JSON body or a multipart body with payload_json and
// files[n] parts, as Discord accepts them.
func readBody(r *http.Request, v any) ([]Attachment, *APIError) {
	ct := r.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "multipart/form-data") {
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			return nil, &APIError{Code: 50035, Message: "Invalid Form Body", Errors: map[string]any{"_errors": []any{map[string]any{"code": "MULTIPART_INVALID", "message": err.Error()}}}}
		}
		payload := r.FormValue("payload_json")
		if payload != "" {
			if err := json.Unmarshal([]byte(payload), v); err != nil {
				return nil, &APIError{Code: 50109, Message: "The request body contains invalid JSON."}
			}
		}
		var files []Attachment
		for i := 0; i < 11; i++ {
			hs := r.MultipartForm.File[fmt.Sprintf("files[%d]", i)]
			if len(hs) == 0 {
				continue
			}
			if i == 10 {
				return nil, &APIError{Code: 50035, Message: "Invalid Form Body", Errors: map[string]any{"files": map[string]any{"_errors": []any{map[string]any{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 10 or fewer in length."}}}}}
			}
			f, err := hs[0].Open()
			if err != nil {
				return nil, &APIError{Code: 50035, Message: "Invalid Form Body"}
			}
			data, _ := io.ReadAll(f)
			f.Close()
			files = append(files, Attachment{Filename: hs[0].Filename, Size: len(data), Data: data})
		}
		return files, nil
	}
	data, err := io.ReadAll(r.Body)
	if err != nil || len(data) == 0 {
		return nil, &APIError{Code: 50109, Message: "The request body contains invalid JSON."}
	}
	if err := json.Unmarshal(data, v); err != nil {
		return nil, &APIError{Code: 50109, Message: "The request body contains invalid JSON."}
	}
	return nil, nil
}

func (s *Server) attach(channelID string, files []Attachment) []Attachment {
	for i := range files {
		files[i].ID = s.newID()
		files[i].URL = s.URL + "/attachments/" + channelID + "/" + files[i].ID + "/" + files[i].Filename
	}
	return files
}

// newMessage builds a message from a body; call with s.mu held.
func (s *Server) newMessage(channelID string, b messageBody, files []Attachment) *Message {
	m := &Message{
		ID: s.newID(), ChannelID: channelID, Author: s.BotUser,
		Timestamp: s.now().UTC(), Embeds: []Embed{}, Components: []Component{}, Attachments: []Attachment{},
	}
	if ch, ok := s.guildOf(channelID); ok {
		m.GuildID = ch
	}
	if b.Content != nil {
		m.Content = *b.Content
		m.Pings = pings(m.Content, b.AllowedMentions)
	}
	if b.Embeds != nil {
		m.Embeds = append(m.Embeds, *b.Embeds...)
	}
	if b.Components != nil {
		m.Components = append(m.Components, *b.Components...)
	}
	if b.Flags != nil {
		m.Flags = *b.Flags & (FlagEphemeral | 1<<2)
	}
	m.Attachments = append(m.Attachments, s.attach(channelID, files)...)
	return m
}

func (s *Server) guildOf(channelID string) (string, bool) {
	if channelID == s.ChannelID {
		return s.GuildID, true
	}
	if strings.HasPrefix(channelID, "dm") {
		return "", false
	}
	return s.GuildID, true
}

func (s *Server) store(m *Message) {
	s.messages[m.ChannelID] = append(s.messages[m.ChannelID], m)
	s.byID[m.ID] = m
}

// applyEdit applies a PATCH body to a copy of m and validates the result.
func (s *Server) applyEdit(m *Message, b messageBody, files []Attachment) (*Message, *APIError) {
	c := m.clone()
	if b.Content != nil {
		// New content re-parses mentions from scratch.
		c.Content = *b.Content
		c.Pings = pings(c.Content, b.AllowedMentions)
	}
	if b.Embeds != nil {
		c.Embeds = append([]Embed{}, *b.Embeds...)
	}
	if b.Components != nil {
		c.Components = append([]Component{}, *b.Components...)
	}
	if b.Attachments != nil {
		// attachments lists the existing attachments to keep, by id.
		keep := map[string]bool{}
		for _, raw := range *b.Attachments {
			var a struct {
				ID json.RawMessage `json:"id"`
			}
			if json.Unmarshal(raw, &a) == nil {
				keep[strings.Trim(string(a.ID), `"`)] = true
			}
		}
		var kept []Attachment
		for _, a := range c.Attachments {
			if keep[a.ID] {
				kept = append(kept, a)
			}
		}
		c.Attachments = kept
	}
	c.Attachments = append(c.Attachments, s.attach(c.ChannelID, files)...)
	f := formErrors{}
	validateMessage(f, c.Content, c.Embeds, c.Components, len(c.Attachments))
	if e := f.err(); e != nil {
		return nil, e
	}
	now := s.now().UTC()
	c.EditedAt = &now
	c.Edits++
	return &c, nil
}

func (s *Server) replace(m *Message) {
	old := s.byID[m.ID]
	*old = *m
}

func (s *Server) handleCreateMessage(req *apiRequest, channelID string) {
	var b messageBody
	files, apiErr := readBody(req.r, &b)
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.notify()
	if s.rateLimited(req) {
		return
	}
	if apiErr != nil {
		s.fail(http.StatusBadRequest, req.path, "%s", apiErr.Message)
		writeError(req.w, http.StatusBadRequest, apiErr)
		return
	}
	if s.sendRevoked {
		writeError(req.w, http.StatusForbidden, errMissingPerms)
		return
	}
	f := formErrors{}
	nonce := ""
	switch n := b.Nonce.(type) {
	case nil:
	case string:
		nonce = n
	case float64:
		nonce = strconv.FormatFloat(n, 'f', -1, 64)
	default:
		f.add("BASE_TYPE_CHOICES", "Must be a string or an integer.", "nonce")
	}
	maxLen(f, nonce, MaxNonce, "nonce")
	content := ""
	if b.Content != nil {
		content = *b.Content
	}
	var embeds []Embed
	if b.Embeds != nil {
		embeds = *b.Embeds
	}
	var comps []Component
	if b.Components != nil {
		comps = *b.Components
	}
	validateMessage(f, content, embeds, comps, len(files))
	if e := f.err(); e != nil {
		s.fail(http.StatusBadRequest, req.path, "invalid form body: %v", e.Errors)
		writeError(req.w, http.StatusBadRequest, e)
		return
	}
	if nonce != "" && b.EnforceNonce {
		for _, m := range s.messages[channelID] {
			if m.Nonce == nonce && m.Author.ID == s.BotUser.ID && s.now().Sub(m.Timestamp) < NonceWindow {
				writeJSON(req.w, http.StatusOK, m)
				return
			}
		}
	}
	m := s.newMessage(channelID, b, files)
	m.Nonce = nonce
	m.Flags &^= FlagEphemeral // only interaction responses can be ephemeral
	s.store(m)
	writeJSON(req.w, http.StatusOK, m)
}

func (s *Server) handleChannelMessage(req *apiRequest, channelID, messageID string) {
	switch req.r.Method {
	case http.MethodGet, http.MethodPatch, http.MethodDelete:
	default:
		writeError(req.w, http.StatusMethodNotAllowed, errMethod)
		return
	}
	var b messageBody
	var files []Attachment
	var apiErr *APIError
	if req.r.Method == http.MethodPatch {
		files, apiErr = readBody(req.r, &b)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.notify()
	if req.r.Method != http.MethodGet && s.rateLimited(req) {
		return
	}
	m, ok := s.byID[messageID]
	if !ok || m.ChannelID != channelID || m.Deleted {
		writeError(req.w, http.StatusNotFound, errUnknownMessage)
		return
	}
	switch req.r.Method {
	case http.MethodGet:
		writeJSON(req.w, http.StatusOK, m)
	case http.MethodDelete:
		m.Deleted = true
		writeJSON(req.w, http.StatusNoContent, nil)
	case http.MethodPatch:
		if apiErr != nil {
			s.fail(http.StatusBadRequest, req.path, "%s", apiErr.Message)
			writeError(req.w, http.StatusBadRequest, apiErr)
			return
		}
		if m.Author.ID != s.BotUser.ID {
			writeError(req.w, http.StatusForbidden, errNotAuthor)
			return
		}
		c, e := s.applyEdit(m, b, files)
		if e != nil {
			s.fail(http.StatusBadRequest, req.path, "invalid form body: %v", e.Errors)
			writeError(req.w, http.StatusBadRequest, e)
			return
		}
		s.replace(c)
		writeJSON(req.w, http.StatusOK, c)
	}
}

func (s *Server) handleCommands(req *apiRequest, appID, guildID string) {
	if appID != s.AppID {
		writeError(req.w, http.StatusForbidden, &APIError{Code: 50001, Message: "Missing Access"})
		return
	}
	switch req.r.Method {
	case http.MethodGet:
		s.mu.Lock()
		defer s.mu.Unlock()
		out := s.commands[guildID]
		if out == nil {
			out = []Command{}
		}
		writeJSON(req.w, http.StatusOK, out)
	case http.MethodPut:
		var cmds []Command
		if _, e := readBody(req.r, &cmds); e != nil {
			writeError(req.w, http.StatusBadRequest, e)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		defer s.notify()
		if s.rateLimited(req) {
			return
		}
		f := formErrors{}
		validateCommands(f, cmds)
		if e := f.err(); e != nil {
			s.fail(http.StatusBadRequest, req.path, "invalid commands: %v", e.Errors)
			writeError(req.w, http.StatusBadRequest, e)
			return
		}
		old := map[string]string{}
		for _, c := range s.commands[guildID] {
			old[c.Name] = c.ID
		}
		for i := range cmds {
			if id, ok := old[cmds[i].Name]; ok {
				cmds[i].ID = id
			} else {
				cmds[i].ID = s.newID()
			}
			cmds[i].ApplicationID = s.AppID
			cmds[i].GuildID = guildID
			if cmds[i].Type == 0 {
				cmds[i].Type = 1
			}
			cmds[i].Version = s.newID()
		}
		s.commands[guildID] = cmds
		writeJSON(req.w, http.StatusOK, cmds)
	default:
		writeError(req.w, http.StatusMethodNotAllowed, errMethod)
	}
}
