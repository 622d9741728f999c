// Package telegramtest is a faithful in-process fake of the Telegram Bot API
// for tests: an httptest server answering /bot<token>/<method> with the
// methods deckhand's adapter uses (getMe, getUpdates long polling,
// sendMessage, editMessageText, editMessageReplyMarkup, answerCallbackQuery,
// sendDocument, setMyCommands, deleteWebhook, getChatMember).
//
// It follows the documented behaviour and limits rather than deckhand's
// expectations: JSON, urlencoded and multipart bodies are all accepted;
// unknown tokens get 401; text is limited to 1–4096 characters after HTML
// entity parsing and malformed HTML is refused the way Telegram refuses it;
// callback_data must be 1–64 bytes; an edit that changes nothing is an error;
// a callback query can be answered once, within 15 seconds; command names
// and descriptions are validated. Tests drive the user side with
// SendUserMessage and Click and read what the bot did with Messages,
// WaitMessage, Commands and UnansweredCallbacks.
package telegramtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// CallbackTimeout is how long Telegram waits for answerCallbackQuery.
const CallbackTimeout = 15 * time.Second

// BotUser is the identity getMe returns.
var botUser = User{ID: 777000111, IsBot: true, FirstName: "deckhand", Username: "deckhand_bot"}

// User is a Telegram user.
type User struct {
	ID        int64  `json:"id"`
	IsBot     bool   `json:"is_bot"`
	FirstName string `json:"first_name"`
	Username  string `json:"username,omitempty"`
}

// Button is one inline keyboard button as the bot sent it.
type Button struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data,omitempty"`
	URL          string `json:"url,omitempty"`
	Style        string `json:"style,omitempty"`
}

// Document is a file the bot sent.
type Document struct {
	Name string
	Data []byte
}

// Message is one message in a chat, as the server stores it.
type Message struct {
	ID       int
	ChatID   int64
	From     User
	Date     time.Time
	Text     string // plain text after entity parsing (the caption for documents)
	Raw      string // the text as sent, before parsing
	Entities []Entity
	Keyboard [][]Button // nil when the message has no inline keyboard
	Document *Document
	Edits    int
}

// Buttons lists the keyboard's buttons row by row.
func (m Message) Buttons() []Button {
	var out []Button
	for _, row := range m.Keyboard {
		out = append(out, row...)
	}
	return out
}

// BotCommand is one entry registered with setMyCommands.
type BotCommand struct {
	Command     string `json:"command"`
	Description string `json:"description"`
}

// CallbackQuery is a button press sent to the bot.
type CallbackQuery struct {
	ID        string
	ChatID    int64
	MessageID int
	From      User
	Data      string
	At        time.Time
	Answered  bool
	Late      bool   // answered after CallbackTimeout (refused)
	Answer    string // text of the answer
	ShowAlert bool
}

// Options tune the fake.
type Options struct {
	// Now is the server's clock (callback expiry, rate limits); time.Now by default.
	Now func() time.Time
	// StrictRateLimit makes the server answer 429 when a chat receives
	// more than Telegram's documented rates: about one message per second
	// (bursts of 3 within 3 s) and 20 per minute in groups, each window
	// counted a little longer than documented (its edge: Telegram does not
	// say where a window starts, and one message at the edge is a 429).
	StrictRateLimit bool
}

type chat struct {
	id       int64
	kind     string // "private", "group", "supergroup"
	messages []*Message
	nextID   int
	members  map[int64]string // user → status
	sends    []time.Time
	kicked   bool // the bot was removed: sending to the chat is forbidden
}

type update struct {
	ID            int64          `json:"update_id"`
	Message       map[string]any `json:"message,omitempty"`
	CallbackQuery map[string]any `json:"callback_query,omitempty"`
}

// Server is the fake Bot API.
type Server struct {
	srv   *httptest.Server
	token string
	opts  Options

	mu         sync.Mutex
	changed    chan struct{} // closed and replaced on every change
	chats      map[int64]*chat
	updates    []update
	nextUpdate int64
	callbacks  map[string]*CallbackQuery
	cbOrder    []string
	nextCB     int
	commands   []BotCommand
	inject     int
	injectWait int
	calls      map[string]int
	poller     chan struct{} // closed to end the current long poll with 409
	down       bool          // SetUnreachable
	refused    int
	hung       bool          // an outage: every request hangs until Up
	closing    chan struct{} // closed when the test ends: releases hung requests
}

// New starts a fake for the given bot token and closes it when the test ends.
func New(t testing.TB, token string, opts Options) *Server {
	t.Helper()
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{
		token: token, opts: opts,
		changed:   make(chan struct{}),
		chats:     map[int64]*chat{},
		callbacks: map[string]*CallbackQuery{},
		calls:     map[string]int{},
	}
	s.closing = make(chan struct{})
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() {
		close(s.closing) // releases hanging requests, or Close would wait for them
		s.srv.Close()
	})
	return s
}

// URL is the server URL to pass to bot.WithServerURL.
func (s *Server) URL() string { return s.srv.URL }

// Client is an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Bot is the identity of the bot.
func (s *Server) Bot() User { return botUser }

// notify wakes waiters; the caller holds s.mu.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// AddChat makes a chat known to the server (kind "private", "group" or
// "supergroup"); chats are also created by SendUserMessage. Sending to an
// unknown chat fails with "chat not found" as it does on Telegram.
func (s *Server) AddChat(chatID int64, kind string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chatLocked(chatID, kind)
}

func (s *Server) chatLocked(id int64, kind string) *chat {
	c, ok := s.chats[id]
	if !ok {
		if kind == "" {
			kind = "private"
			if id < 0 {
				kind = "supergroup"
			}
		}
		c = &chat{id: id, kind: kind, members: map[int64]string{}}
		s.chats[id] = c
	}
	return c
}

// KickBot removes the bot from the chat, or in a private chat has the user
// block it (with false: adds it back): Telegram then refuses every message
// to it with 403 Forbidden.
func (s *Server) KickBot(chatID int64, kicked bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chatLocked(chatID, "").kicked = kicked
}

// SetChatAdmin makes the user an administrator of the chat.
func (s *Server) SetChatAdmin(chatID, userID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chatLocked(chatID, "").members[userID] = "administrator"
}

// SetChatOwner makes the user the creator of the chat.
func (s *Server) SetChatOwner(chatID, userID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chatLocked(chatID, "").members[userID] = "creator"
}

// Down starts an outage: every request hangs, as on a network path that
// drops packets, until Up. Requests already hanging then stay hung (until
// the client gives up), as on a dead connection.
func (s *Server) Down() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hung = true
}

// Up ends an outage.
func (s *Server) Up() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hung = false
}

// Inject429 makes the next n message-producing calls (sendMessage,
// sendDocument, editMessageText, editMessageReplyMarkup) fail with 429 and
// retry_after seconds.
func (s *Server) Inject429(n, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inject, s.injectWait = n, retryAfter
}

// Calls reports how often a method was called (successfully or not).
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[strings.ToLower(method)]
}

// WaitCalls waits until method has been called at least n times.
func (s *Server) WaitCalls(t testing.TB, method string, n int, timeout time.Duration) {
	t.Helper()
	if !s.wait(timeout, func() bool { return s.calls[strings.ToLower(method)] >= n }) {
		t.Fatalf("telegramtest: %s called %d times, want %d within %s", method, s.Calls(method), n, timeout)
	}
}

// Commands returns the last command list set with setMyCommands.
func (s *Server) Commands() []BotCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.commands)
}

func (s *Server) userLocked(c *chat, u User) {
	if _, ok := c.members[u.ID]; !ok {
		c.members[u.ID] = "member"
	}
}

func (s *Server) queueLocked(u update) {
	s.nextUpdate++
	u.ID = s.nextUpdate
	s.updates = append(s.updates, u)
	s.notify()
}

// SendUserMessage delivers a text message from a user in a chat to the bot
// and returns its message ID. A leading /command gets its bot_command entity.
func (s *Server) SendUserMessage(chatID int64, from User, text string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chatLocked(chatID, "")
	s.userLocked(c, from)
	c.nextID++
	m := &Message{ID: c.nextID, ChatID: chatID, From: from, Date: s.opts.Now(), Text: text, Raw: text}
	if strings.HasPrefix(text, "/") {
		n := strings.IndexAny(text, " \n\t")
		if n < 0 {
			n = len(text)
		}
		m.Entities = []Entity{{Type: "bot_command", Offset: 0, Length: utf16Len(text[:n])}}
	}
	c.messages = append(c.messages, m)
	s.queueLocked(update{Message: s.messageJSON(c, m)})
	return m.ID
}

// Click presses an inline button under a message, as a Telegram client
// does, and returns the callback query ID. It fails when the message does
// not exist or carries no button with that callback data: a client cannot
// press a button that is not there.
func (s *Server) Click(chatID int64, from User, messageID int, data string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.chats[chatID]
	if !ok {
		return "", fmt.Errorf("telegramtest: no chat %d", chatID)
	}
	m := c.find(messageID)
	if m == nil {
		return "", fmt.Errorf("telegramtest: no message %d in chat %d", messageID, chatID)
	}
	found := false
	for _, b := range m.Buttons() {
		if b.CallbackData != "" && b.CallbackData == data {
			found = true
		}
	}
	if !found {
		return "", fmt.Errorf("telegramtest: message %d has no button with that callback data", messageID)
	}
	s.userLocked(c, from)
	s.nextCB++
	id := fmt.Sprintf("%d%06d", from.ID%1000000, s.nextCB)
	cq := &CallbackQuery{ID: id, ChatID: chatID, MessageID: messageID, From: from, Data: data, At: s.opts.Now()}
	s.callbacks[id] = cq
	s.cbOrder = append(s.cbOrder, id)
	s.queueLocked(update{CallbackQuery: map[string]any{
		"id": id, "from": from, "message": s.messageJSON(c, m),
		"chat_instance": strconv.FormatInt(chatID, 10), "data": data,
	}})
	return id, nil
}

// CallbackAnswer returns the state of a callback query.
func (s *Server) CallbackAnswer(id string) (CallbackQuery, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cq, ok := s.callbacks[id]
	if !ok {
		return CallbackQuery{}, false
	}
	return *cq, true
}

// WaitCallbackAnswer waits until the callback query is answered.
func (s *Server) WaitCallbackAnswer(t testing.TB, id string, timeout time.Duration) CallbackQuery {
	t.Helper()
	var out CallbackQuery
	if !s.wait(timeout, func() bool {
		cq, ok := s.callbacks[id]
		if ok && cq.Answered {
			out = *cq
		}
		return ok && cq.Answered
	}) {
		t.Fatalf("telegramtest: callback query %s not answered within %s", id, timeout)
	}
	return out
}

// UnansweredCallbacks lists the callback queries that were not answered
// within CallbackTimeout: still unanswered, or answered too late. A test
// that checks it at its end asserts that no user was left with a spinner.
func (s *Server) UnansweredCallbacks() []CallbackQuery {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []CallbackQuery
	for _, id := range s.cbOrder {
		if cq := s.callbacks[id]; !cq.Answered || cq.Late {
			out = append(out, *cq)
		}
	}
	return out
}

func (c *chat) find(id int) *Message {
	for _, m := range c.messages {
		if m.ID == id {
			return m
		}
	}
	return nil
}

func cloneMessage(m *Message) Message {
	out := *m
	out.Entities = slices.Clone(m.Entities)
	out.Keyboard = nil
	for _, row := range m.Keyboard {
		out.Keyboard = append(out.Keyboard, slices.Clone(row))
	}
	if m.Document != nil {
		d := *m.Document
		out.Document = &d
	}
	return out
}

// Messages returns the chat's messages, oldest first.
func (s *Server) Messages(chatID int64) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.chats[chatID]
	if !ok {
		return nil
	}
	out := make([]Message, 0, len(c.messages))
	for _, m := range c.messages {
		out = append(out, cloneMessage(m))
	}
	return out
}

// BotMessages returns the messages the bot sent to the chat.
func (s *Server) BotMessages(chatID int64) []Message {
	var out []Message
	for _, m := range s.Messages(chatID) {
		if m.From.ID == botUser.ID {
			out = append(out, m)
		}
	}
	return out
}

// WaitMessage waits for a message of the bot in the chat that satisfies
// pred (nil: any) and returns it; the test fails after timeout.
func (s *Server) WaitMessage(t testing.TB, chatID int64, pred func(Message) bool, timeout time.Duration) Message {
	t.Helper()
	var out Message
	if !s.wait(timeout, func() bool {
		c, ok := s.chats[chatID]
		if !ok {
			return false
		}
		for _, m := range c.messages {
			if m.From.ID == botUser.ID && (pred == nil || pred(cloneMessage(m))) {
				out = cloneMessage(m)
				return true
			}
		}
		return false
	}) {
		t.Fatalf("telegramtest: no matching bot message in chat %d within %s; chat has %+v", chatID, timeout, s.Messages(chatID))
	}
	return out
}

// wait evaluates cond under the lock on every change until it holds.
func (s *Server) wait(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ok := cond()
		ch := s.changed
		s.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			return false
		}
	}
}

// apiError is a Bot API error response.
type apiError struct {
	code       int
	desc       string
	retryAfter int
}

func (e *apiError) Error() string { return e.desc }

func badRequest(format string, args ...any) *apiError {
	return &apiError{code: http.StatusBadRequest, desc: "Bad Request: " + fmt.Sprintf(format, args...)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, e *apiError) {
	body := map[string]any{"ok": false, "error_code": e.code, "description": e.desc}
	if e.retryAfter > 0 {
		body["parameters"] = map[string]any{"retry_after": e.retryAfter}
	}
	writeJSON(w, e.code, body)
}

// params holds a request's parameters whatever the encoding: query string,
// urlencoded or multipart form (values as strings, JSON-serialized objects),
// or a JSON body.
type params struct {
	values map[string]string
	files  map[string]Document
}

func (p params) has(k string) bool   { _, ok := p.values[k]; return ok }
func (p params) str(k string) string { return p.values[k] }

func (p params) int64(k string) (int64, error) {
	v, ok := p.values[k]
	if !ok || v == "" {
		return 0, badRequest("%s is empty", k)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, badRequest("invalid %s specified", k)
	}
	return n, nil
}

func (p params) decode(k string, dst any) error {
	v, ok := p.values[k]
	if !ok {
		return nil
	}
	if err := json.Unmarshal([]byte(v), dst); err != nil {
		return badRequest("can't parse %s JSON object", k)
	}
	return nil
}

const maxUpload = 50 << 20

func readParams(r *http.Request) (params, error) {
	p := params{values: map[string]string{}, files: map[string]Document{}}
	for k, v := range r.URL.Query() {
		p.values[k] = v[0]
	}
	if r.Method != http.MethodPost {
		return p, nil
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "", "application/x-www-form-urlencoded":
		body, err := io.ReadAll(io.LimitReader(r.Body, maxUpload))
		if err != nil {
			return p, err
		}
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return p, badRequest("can't parse request body")
		}
		for k, v := range vals {
			p.values[k] = v[0]
		}
	case "application/json":
		var m map[string]json.RawMessage
		if err := json.NewDecoder(io.LimitReader(r.Body, maxUpload)).Decode(&m); err != nil {
			return p, badRequest("can't parse JSON request body")
		}
		for k, raw := range m {
			var s string
			if json.Unmarshal(raw, &s) == nil {
				p.values[k] = s
			} else {
				p.values[k] = string(raw)
			}
		}
	case "multipart/form-data":
		// Clients (go-telegram/bot among them) send parameterless calls as
		// a multipart body with no parts at all; Telegram takes that as
		// "no parameters".
		if err := r.ParseMultipartForm(maxUpload); errors.Is(err, io.EOF) || (err != nil && strings.Contains(err.Error(), "EOF")) {
			return p, nil
		} else if err != nil {
			return p, &apiError{code: http.StatusRequestEntityTooLarge, desc: "Request Entity Too Large"}
		}
		for k, v := range r.MultipartForm.Value {
			p.values[k] = v[0]
		}
		for k, fhs := range r.MultipartForm.File {
			f, err := fhs[0].Open()
			if err != nil {
				return p, err
			}
			data, err := io.ReadAll(f)
			_ = f.Close()
			if err != nil {
				return p, err
			}
			p.files[k] = Document{Name: fhs[0].Filename, Data: data}
		}
	default:
		return p, badRequest("unsupported Content-Type %s", ct)
	}
	return p, nil
}

// SetUnreachable makes the server drop every connection before answering,
// as when api.telegram.org cannot be reached (DNS, firewall, outage), or
// answer again.
func (s *Server) SetUnreachable(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
	s.notify()
}

// WaitRefused waits until n requests were dropped while unreachable.
func (s *Server) WaitRefused(t testing.TB, n int, timeout time.Duration) {
	t.Helper()
	if !s.wait(timeout, func() bool { return s.refused >= n }) {
		t.Fatalf("telegramtest: %d requests dropped while unreachable, want %d within %s", s.refusedCount(), n, timeout)
	}
}

func (s *Server) refusedCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

// dropped closes the connection without an answer when the server is
// unreachable.
func (s *Server) dropped(w http.ResponseWriter) bool {
	s.mu.Lock()
	down := s.down
	if down {
		s.refused++
		s.notify()
	}
	s.mu.Unlock()
	if !down {
		return false
	}
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return true
		}
	}
	panic(http.ErrAbortHandler)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if s.dropped(w) {
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	token, method, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 {
		writeError(w, &apiError{code: http.StatusNotFound, desc: "Not Found"})
		return
	}
	if token != s.token {
		writeError(w, &apiError{code: http.StatusUnauthorized, desc: "Unauthorized"})
		return
	}
	// Method names are case-insensitive on Telegram.
	method = strings.ToLower(method)
	s.mu.Lock()
	s.calls[method]++
	s.notify()
	hung := s.hung
	s.mu.Unlock()
	if hung {
		// Read the body to its end, so that the client giving up ends
		// the request (net/http notices a closed connection only then).
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-s.closing:
		}
		return
	}
	p, err := readParams(r)
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = badRequest("%v", err)
		}
		writeError(w, ae)
		return
	}
	var result any
	switch method {
	case "getme":
		result = botUser
	case "deletewebhook", "logout", "close":
		result = true
	case "getupdates":
		result, err = s.getUpdates(r.Context(), p)
	case "sendmessage":
		result, err = s.sendMessage(p)
	case "senddocument":
		result, err = s.sendDocument(p)
	case "editmessagetext":
		result, err = s.editMessageText(p)
	case "editmessagereplymarkup":
		result, err = s.editMessageReplyMarkup(p)
	case "answercallbackquery":
		result, err = s.answerCallbackQuery(p)
	case "setmycommands":
		result, err = s.setMyCommands(p)
	case "getmycommands":
		result = s.Commands()
	case "getchatmember":
		result, err = s.getChatMember(p)
	case "getchat":
		result, err = s.getChat(p)
	default:
		err = &apiError{code: http.StatusNotFound, desc: "Not Found"}
	}
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = &apiError{code: http.StatusInternalServerError, desc: "Internal Server Error"}
		}
		writeError(w, ae)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "result": result})
}
