// Package ntfytest is an in-process fake of an ntfy server's publishing API
// (https://docs.ntfy.sh/publish/), faithful enough that what it accepts the
// real server accepts and what it rejects the real one rejects, with the same
// error JSON: topic names, JSON publish field types, priorities, the Actions
// header syntax and its limits, the 4096-byte message limit (bigger bodies
// turn into attachments, which this server, like a default self-hosted one,
// does not allow), and access tokens. It records accepted messages, injects
// faults (500, 429 with or without Retry-After, hanging requests), and can
// tap an http action button the way the ntfy app does.
package ntfytest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// MessageLimit is ntfy's default message-size-limit: a body above it is
// treated as an attachment.
const MessageLimit = 4096

// jsonBodyLimit guards the fake against runaway test input; anything between
// MessageLimit and it is rejected like ntfy does (attachment not allowed).
const jsonBodyLimit = 1 << 20

// Message is a published message in the shape ntfy returns it.
type Message struct {
	ID          string   `json:"id"`
	Time        int64    `json:"time"`
	Expires     int64    `json:"expires,omitempty"`
	Event       string   `json:"event"`
	Topic       string   `json:"topic"`
	Title       string   `json:"title,omitempty"`
	Message     string   `json:"message,omitempty"`
	Priority    int      `json:"priority,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	Click       string   `json:"click,omitempty"`
	Icon        string   `json:"icon,omitempty"`
	Actions     []Action `json:"actions,omitempty"`
	ContentType string   `json:"content_type,omitempty"` // "text/markdown" when published as Markdown

	// Not part of ntfy's JSON: how the request arrived, for assertions.
	Authorization string `json:"-"`
	PublishedJSON bool   `json:"-"` // JSON to the server root rather than POST /<topic>
}

// Error is ntfy's error body.
type Error struct {
	Code     int    `json:"code,omitempty"`
	HTTPCode int    `json:"http"`
	Message  string `json:"error"`
	Link     string `json:"link,omitempty"`
}

var (
	errEmailDisabled     = Error{40001, 400, "e-mail notifications are not enabled", "https://ntfy.sh/docs/config/#e-mail-notifications"}
	errFakeUnsupported   = Error{0, 400, "ntfytest: attach, filename and delay are not supported by the fake", ""}
	errTopicInvalid      = Error{40009, 400, "invalid request: topic invalid", ""}
	errTopicDisallowed   = Error{40010, 400, "invalid request: topic name is disallowed", ""}
	errPriorityInvalid   = Error{40007, 400, "invalid priority parameter", "https://ntfy.sh/docs/publish/#message-priority"}
	errAttachmentsOff    = Error{40014, 400, "invalid request: attachments not allowed", "https://ntfy.sh/docs/config/#attachments"}
	errActionsInvalid    = Error{40018, 400, "invalid request: actions invalid", "https://ntfy.sh/docs/publish/#action-buttons"}
	errIconInvalid       = Error{40021, 400, "invalid request: icon URL is invalid", "https://ntfy.sh/docs/publish/#icons"}
	errJSONInvalid       = Error{40024, 400, "invalid request: request body must be valid JSON", ""}
	errUnauthorized      = Error{40101, 401, "unauthorized", "https://ntfy.sh/docs/publish/#authentication"}
	errForbidden         = Error{40301, 403, "forbidden", "https://ntfy.sh/docs/publish/#authentication"}
	errNotFound          = Error{40401, 404, "page not found", ""}
	errJSONTooLarge      = Error{41303, 413, "JSON body too large", ""}
	errTooManyRequests   = Error{42901, 429, "limit reached: too many requests, please be nice", "https://ntfy.sh/docs/publish/#limitations"}
	errInternal          = Error{50001, 500, "internal server error", ""}
	errBadGateway        = Error{0, 502, "Bad Gateway", ""}
	topicPattern         = regexp.MustCompile(`^[-_A-Za-z0-9]{1,64}$`)
	urlPattern           = regexp.MustCompile(`^https?://`)
	disallowedTopicNames = []string{"docs", "static", "file", "app", "metrics", "account", "settings", "signup", "login", "v1"}
)

type fault struct {
	err        Error
	retryAfter string
	hang       bool
}

// Server is a fake ntfy server. Its zero value is not usable: use NewServer.
type Server struct {
	URL string

	srv     *httptest.Server
	closing chan struct{}

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced whenever a message is accepted
	msgs     []Message
	requests int
	posts    int
	faults   []fault
	token    string
	user     string
	password string
	down     *fault // every request gets it until Up
}

// NewServer starts a fake ntfy server, closed when the test ends.
func NewServer(t testing.TB) *Server {
	t.Helper()
	s := &Server{closing: make(chan struct{}), changed: make(chan struct{})}
	s.srv = httptest.NewServer(s)
	s.URL = s.srv.URL
	t.Cleanup(func() {
		close(s.closing) // releases hanging requests, or Close would wait for them
		s.srv.Close()
	})
	return s
}

// RequireToken makes publishing need this access token, sent as
// "Authorization: Bearer <token>" or as the password of Basic auth with an
// empty user, as ntfy accepts both.
func (s *Server) RequireToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = token
}

// RequireBasic makes publishing need this user and password.
func (s *Server) RequireBasic(user, password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.user, s.password = user, password
}

// FailNext makes the next n requests fail with 500.
func (s *Server) FailNext(n int) { s.addFaults(n, fault{err: errInternal}) }

// RateLimitNext makes the next n requests fail with 429. retryAfter, when
// not empty, is sent as the Retry-After header (the real server sends none;
// proxies in front of it may).
func (s *Server) RateLimitNext(n int, retryAfter string) {
	s.addFaults(n, fault{err: errTooManyRequests, retryAfter: retryAfter})
}

// HangNext makes the next n requests never answer (until the client gives up
// or the test ends).
func (s *Server) HangNext(n int) { s.addFaults(n, fault{hang: true}) }

// Down starts an outage: every request fails with 502 Bad Gateway (what a
// reverse proxy answers for a stopped ntfy), or with hang never answers,
// until Up.
func (s *Server) Down(hang bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = &fault{err: errBadGateway, hang: hang}
}

// Up ends an outage. Requests already hanging stay hung, as on a dead
// connection.
func (s *Server) Up() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = nil
}

func (s *Server) addFaults(n int, f fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, f)
	}
}

// Messages returns the accepted messages, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

// Requests counts every request received, faulted or not.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Publishes counts the publish requests (POST or PUT) received, faulted or
// not: without the health checks and polls.
func (s *Server) Publishes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.posts
}

// WaitFor waits until at least n messages were accepted and returns them; it
// fails the test after timeout.
func (s *Server) WaitFor(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		if len(s.msgs) >= n {
			out := slices.Clone(s.msgs)
			s.mu.Unlock()
			return out
		}
		ch, got := s.changed, len(s.msgs)
		s.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("ntfytest: %d message(s) after %s, want %d", got, timeout, n)
			return nil
		}
	}
}

// Tap performs the http action labelled label of msg the way the ntfy app
// does when the button is tapped: its method (POST when empty), headers and
// body, to its URL. The caller reads the response; its body is closed when
// the test ends.
func (s *Server) Tap(t testing.TB, msg Message, label string) *http.Response {
	t.Helper()
	i := slices.IndexFunc(msg.Actions, func(a Action) bool { return a.Label == label })
	if i < 0 {
		t.Fatalf("ntfytest: message %s has no action labelled %q", msg.ID, label)
	}
	a := msg.Actions[i]
	if a.Action != "http" {
		t.Fatalf("ntfytest: action %q is %q, not an http action", label, a.Action)
	}
	method := a.Method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequest(method, a.URL, strings.NewReader(a.Body))
	if err != nil {
		t.Fatalf("ntfytest: tapping %q: %v", label, err)
	}
	for k, v := range a.Headers {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("ntfytest: tapping %q: %v", label, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// WebTap taps an http action button the way ntfy's web app does: with
// fetch(url, {method, headers, body}) from the page's origin, the ntfy
// server's own. It applies the browser's CORS rules (Fetch standard): a
// request that is not simple is preceded by an OPTIONS preflight that must
// answer 2xx and allow the origin, the method and the headers, and every
// response must allow the origin (fetch sends no credentials, so "*"
// does). Where the browser would block, WebTap returns the error the web
// app shows ("TypeError: Failed to fetch") instead of the response.
func (s *Server) WebTap(t testing.TB, msg Message, label string) (*http.Response, error) {
	t.Helper()
	a := s.httpAction(t, msg, label)
	method := a.Method
	if method == "" {
		method = http.MethodPost
	}
	client := &http.Client{Timeout: 10 * time.Second}
	if needsPreflight(method, a.Headers) {
		if err := s.preflight(client, a, method); err != nil {
			return nil, err
		}
	}
	var body io.Reader
	if a.Body != "" {
		body = strings.NewReader(a.Body)
	}
	req, err := http.NewRequest(method, a.URL, body)
	if err != nil {
		t.Fatalf("ntfytest: tapping %q: %v", label, err)
	}
	for k, v := range a.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Origin", s.URL)
	resp, err := client.Do(req)
	if err != nil {
		return nil, errFailedToFetch
	}
	t.Cleanup(func() { resp.Body.Close() })
	if !allowsOrigin(resp.Header, s.URL) {
		return nil, errFailedToFetch
	}
	return resp, nil
}

var errFailedToFetch = errors.New("TypeError: Failed to fetch")

func (s *Server) httpAction(t testing.TB, msg Message, label string) Action {
	t.Helper()
	i := slices.IndexFunc(msg.Actions, func(a Action) bool { return a.Label == label })
	if i < 0 {
		t.Fatalf("ntfytest: message %s has no action labelled %q", msg.ID, label)
	}
	if msg.Actions[i].Action != "http" {
		t.Fatalf("ntfytest: action %q is %q, not an http action", label, msg.Actions[i].Action)
	}
	return msg.Actions[i]
}

// needsPreflight is the Fetch standard's test for a simple request: a
// simple method and only CORS-safelisted headers.
func needsPreflight(method string, headers map[string]string) bool {
	if method != http.MethodGet && method != http.MethodHead && method != http.MethodPost {
		return true
	}
	for k, v := range headers {
		switch strings.ToLower(k) {
		case "accept", "accept-language", "content-language":
		case "content-type":
			mt, _, _ := mime.ParseMediaType(v)
			if mt != "text/plain" && mt != "multipart/form-data" && mt != "application/x-www-form-urlencoded" {
				return true
			}
		default:
			return true
		}
	}
	return false
}

func (s *Server) preflight(client *http.Client, a Action, method string) error {
	req, err := http.NewRequest(http.MethodOptions, a.URL, nil)
	if err != nil {
		return err
	}
	var names []string
	for k := range a.Headers {
		names = append(names, strings.ToLower(k))
	}
	slices.Sort(names)
	req.Header.Set("Origin", s.URL)
	req.Header.Set("Access-Control-Request-Method", method)
	if len(names) > 0 {
		req.Header.Set("Access-Control-Request-Headers", strings.Join(names, ","))
	}
	resp, err := client.Do(req)
	if err != nil {
		return errFailedToFetch
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 || !allowsOrigin(resp.Header, s.URL) {
		return errFailedToFetch
	}
	allowed := func(header, v string) bool {
		for _, f := range strings.Split(resp.Header.Get(header), ",") {
			if f = strings.TrimSpace(f); f == "*" || strings.EqualFold(f, v) {
				return true
			}
		}
		return false
	}
	if method != http.MethodGet && method != http.MethodHead && method != http.MethodPost && !allowed("Access-Control-Allow-Methods", method) {
		return errFailedToFetch
	}
	for _, n := range names {
		if !allowed("Access-Control-Allow-Headers", n) {
			return errFailedToFetch
		}
	}
	return nil
}

func allowsOrigin(h http.Header, origin string) bool {
	v := h.Values("Access-Control-Allow-Origin")
	return len(v) == 1 && (v[0] == "*" || v[0] == origin)
}

// ServeHTTP implements the publishing endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		s.posts++
	}
	var f *fault
	if s.down != nil {
		f = s.down
	} else if len(s.faults) > 0 {
		f = &s.faults[0]
		s.faults = s.faults[1:]
	}
	s.mu.Unlock()
	if f != nil {
		if f.hang {
			select {
			case <-r.Context().Done():
			case <-s.closing:
			}
			return
		}
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		writeError(w, f.err)
		return
	}

	publishing := r.Method == http.MethodPost || r.Method == http.MethodPut
	path := strings.TrimPrefix(r.URL.Path, "/")
	if path == "v1/health" && r.Method == http.MethodGet {
		// ntfy's health check: no credentials needed.
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"healthy":true}` + "\n"))
		return
	}
	if topic, ok := strings.CutSuffix(path, "/json"); ok && r.Method == http.MethodGet && !strings.Contains(topic, "/") {
		s.poll(w, r, topic)
		return
	}
	var p params
	var e *Error
	switch {
	case publishing && path == "":
		p, e = s.fromJSON(r)
	case publishing && !strings.Contains(path, "/"):
		p, e = s.fromRequest(r, path)
	default:
		e = &errNotFound
	}
	if e == nil {
		e = s.authorize(r)
	}
	var m Message
	if e == nil {
		m, e = p.build()
	}
	if e != nil {
		writeError(w, *e)
		return
	}
	m.Authorization = r.Header.Get("Authorization")
	s.mu.Lock()
	s.msgs = append(s.msgs, m)
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	_ = json.NewEncoder(w).Encode(m)
}

// poll answers GET /<topic>/json?poll=1: the topic's cached messages at
// or after since as newline-delimited JSON, then the end of the response.
// since follows the server: absent (all, when polling), "all", "none", a
// Unix time in seconds or a duration back from now; a message ID is not
// simulated (it is a bad request here). Subscribing without poll is not
// simulated either.
func (s *Server) poll(w http.ResponseWriter, r *http.Request, topic string) {
	if e := s.authorize(r); e != nil {
		writeError(w, *e)
		return
	}
	switch strings.ToLower(r.URL.Query().Get("poll")) {
	case "1", "yes", "true":
	default:
		writeError(w, errNotFound)
		return
	}
	var since int64
	switch v := r.URL.Query().Get("since"); v {
	case "", "all":
	case "none":
		since = math.MaxInt64
	default:
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			since = n
		} else if d, err := time.ParseDuration(v); err == nil {
			since = time.Now().Add(-d).Unix()
		} else {
			writeError(w, Error{Code: 40008, HTTPCode: http.StatusBadRequest, Message: "invalid since parameter"})
			return
		}
	}
	s.mu.Lock()
	var out []Message
	for _, m := range s.msgs {
		if m.Topic == topic && m.Time >= since {
			out = append(out, m)
		}
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-ndjson; charset=utf-8")
	enc := json.NewEncoder(w)
	for _, m := range out {
		_ = enc.Encode(m)
	}
}

// params is what a publish request asks for, whichever way it was sent.
type params struct {
	topic, title, message, priority, click, icon, actions string
	tags                                                  []string
	markdown                                              bool
	body                                                  []byte
	tooBig                                                bool
	json                                                  bool
}

// jsonPublish is the body of a JSON publish; the Go types are the types
// ntfy decodes into, so a string priority is rejected like the real server
// rejects it.
type jsonPublish struct {
	Topic    string          `json:"topic"`
	Title    string          `json:"title"`
	Message  string          `json:"message"`
	Priority int             `json:"priority"`
	Tags     []string        `json:"tags"`
	Click    string          `json:"click"`
	Icon     string          `json:"icon"`
	Actions  json.RawMessage `json:"actions"`
	Markdown bool            `json:"markdown"`
	Attach   string          `json:"attach"`
	Filename string          `json:"filename"`
	Email    string          `json:"email"`
	Delay    string          `json:"delay"`
}

func (s *Server) fromJSON(r *http.Request) (params, *Error) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, jsonBodyLimit+1))
	if err != nil {
		return params{}, &errJSONInvalid
	}
	if len(raw) > jsonBodyLimit {
		return params{}, &errJSONTooLarge
	}
	var j jsonPublish
	if err := json.Unmarshal(raw, &j); err != nil {
		return params{}, &errJSONInvalid
	}
	if j.Email != "" {
		return params{}, &errEmailDisabled
	}
	if j.Attach != "" || j.Filename != "" || j.Delay != "" {
		// Valid for ntfy, but not modelled here: failing loudly beats
		// pretending to have delivered something the fake cannot show.
		return params{}, &errFakeUnsupported
	}
	if !topicPattern.MatchString(j.Topic) {
		return params{}, &errTopicInvalid
	}
	p := params{
		topic: j.Topic, title: j.Title, click: j.Click, icon: j.Icon,
		tags: j.Tags, markdown: j.Markdown, body: []byte(j.Message), json: true,
	}
	if j.Priority != 0 {
		p.priority = itoa(j.Priority)
	}
	if a := strings.TrimSpace(string(j.Actions)); a != "" && a != "null" {
		if !strings.HasPrefix(a, "[") {
			return params{}, &errJSONInvalid
		}
		p.actions = a
	}
	p.tooBig = len(p.body) > MessageLimit
	return p, nil
}

func (s *Server) fromRequest(r *http.Request, topic string) (params, *Error) {
	if !topicPattern.MatchString(topic) {
		return params{}, &errTopicInvalid
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MessageLimit+1))
	if err != nil {
		return params{}, &errInternal
	}
	p := params{
		topic:    topic,
		title:    decodeHeader(param(r, "x-title", "title", "t")),
		priority: param(r, "x-priority", "priority", "prio", "p"),
		click:    param(r, "x-click", "click"),
		icon:     param(r, "x-icon", "icon"),
		actions:  param(r, "x-actions", "actions", "action"),
		markdown: isTrue(param(r, "x-markdown", "markdown", "md")),
		body:     body,
		tooBig:   len(body) > MessageLimit,
	}
	if strings.Contains(strings.ToLower(r.Header.Get("Content-Type")), "text/markdown") {
		p.markdown = true
	}
	if m := param(r, "x-message", "message", "m"); m != "" {
		p.message = decodeHeader(strings.ReplaceAll(m, `\n`, "\n"))
	}
	for _, t := range strings.Split(param(r, "x-tags", "tags", "tag", "ta"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			p.tags = append(p.tags, decodeHeader(t))
		}
	}
	return p, nil
}

func (p params) build() (Message, *Error) {
	if slices.Contains(disallowedTopicNames, p.topic) {
		return Message{}, &errTopicDisallowed
	}
	prio, ok := parsePriority(p.priority)
	if !ok {
		return Message{}, &errPriorityInvalid
	}
	if p.icon != "" && !urlPattern.MatchString(p.icon) {
		return Message{}, &errIconInvalid
	}
	var actions []Action
	if p.actions != "" {
		var err error
		if actions, err = parseActions(p.actions); err != nil {
			e := errActionsInvalid
			e.Message += ", " + err.Error()
			return Message{}, &e
		}
	}
	// A body that is too big or not UTF-8 becomes an attachment in ntfy,
	// and attachments are off unless a cache dir and base URL are set.
	if p.tooBig || !utf8.Valid(p.body) {
		return Message{}, &errAttachmentsOff
	}
	text := strings.TrimSpace(string(p.body))
	if text == "" {
		text = p.message
	}
	if text == "" {
		text = "triggered"
	}
	now := time.Now()
	m := Message{
		ID:            randomID(12),
		Time:          now.Unix(),
		Expires:       now.Add(12 * time.Hour).Unix(),
		Event:         "message",
		Topic:         p.topic,
		Title:         p.title,
		Message:       text,
		Priority:      prio,
		Tags:          p.tags,
		Click:         p.click,
		Icon:          p.icon,
		Actions:       actions,
		PublishedJSON: p.json,
	}
	if p.markdown {
		m.ContentType = "text/markdown"
	}
	return m, nil
}

func (s *Server) authorize(r *http.Request) *Error {
	s.mu.Lock()
	token, user, password := s.token, s.user, s.password
	s.mu.Unlock()
	if token == "" && user == "" {
		return nil
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		return &errForbidden // anonymous write to a protected topic
	}
	scheme, cred, _ := strings.Cut(h, " ")
	switch strings.ToLower(scheme) {
	case "bearer":
		if token != "" && cred == token {
			return nil
		}
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
		if err != nil {
			return &errUnauthorized
		}
		u, pw, _ := strings.Cut(string(raw), ":")
		if user != "" && u == user && pw == password {
			return nil
		}
		if token != "" && u == "" && pw == token {
			return nil
		}
	}
	return &errUnauthorized
}

// param reads the first non-empty header, then the first non-empty query
// parameter, among names, as ntfy does.
func param(r *http.Request, names ...string) string {
	for _, n := range names {
		if v := strings.TrimSpace(r.Header.Get(n)); v != "" {
			return v
		}
	}
	q := r.URL.Query()
	for _, n := range names {
		if v := strings.TrimSpace(q.Get(n)); v != "" {
			return v
		}
	}
	return ""
}

// decodeHeader undoes RFC 2047 encoding, which is how non-ASCII text travels
// in headers.
func decodeHeader(s string) string {
	d, err := new(mime.WordDecoder).DecodeHeader(s)
	if err != nil {
		return s
	}
	return d
}

func parsePriority(s string) (int, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return 0, true
	case "1", "min":
		return 1, true
	case "2", "low":
		return 2, true
	case "3", "default":
		return 3, true
	case "4", "high":
		return 4, true
	case "5", "max", "urgent":
		return 5, true
	}
	return 0, false
}

func isTrue(s string) bool {
	switch strings.ToLower(s) {
	case "1", "yes", "true":
		return true
	}
	return false
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func writeError(w http.ResponseWriter, e Error) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.WriteHeader(e.HTTPCode)
	_ = json.NewEncoder(w).Encode(e)
}

const idAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func randomID(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = idAlphabet[rand.IntN(len(idAlphabet))]
	}
	return string(b)
}

// ParseError decodes an ntfy error body; it is exported for tests that
// assert on a rejection.
func ParseError(body []byte) (Error, error) {
	var e Error
	if err := json.Unmarshal(body, &e); err != nil {
		return Error{}, err
	}
	if e.HTTPCode == 0 {
		return Error{}, errors.New("ntfytest: not an ntfy error body")
	}
	return e, nil
}
