// Package ntfy delivers deckhand's notifications to an ntfy topic
// (https://docs.ntfy.sh/publish/) and serves the callback that ntfy's http
// action buttons (Restart, Ack) call from the phone.
package ntfy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/bot"
	"github.com/deckhand/deckhand/commands"
)

// MessageLimit is ntfy's default message size: a longer body would become an
// attachment, which most servers refuse, so messages are cut to fit.
const MessageLimit = 4096

// MaxActions is how many action buttons ntfy accepts on one message.
const MaxActions = 3

// DefaultRetryAfter is the pause after a 429 that carries no Retry-After:
// ntfy's own rate limiter does not send one, and its request bucket gets
// one request back every visitor-request-limit-replenish (5 s by default).
// Pausing a minute made twelve alerts under a burst of five take two.
const DefaultRetryAfter = 5 * time.Second

// ButtonMaker mints the buttons of an alert for the actions a notice
// offers (bot.Actions): labels and signed, expiring tokens that the
// callback hands back to the ActionHandler. *commands.Router satisfies it
// (its AlertButtons under the name AlertTokens).
type ButtonMaker interface {
	AlertTokens(a deckhand.Alert, actions []deckhand.Action) []commands.Button
}

// ButtonMakerFunc adapts a function to ButtonMaker.
type ButtonMakerFunc func(a deckhand.Alert, actions []deckhand.Action) []commands.Button

// AlertTokens calls f.
func (f ButtonMakerFunc) AlertTokens(a deckhand.Alert, actions []deckhand.Action) []commands.Button {
	return f(a, actions)
}

// Sender publishes outbox items to one ntfy topic. It satisfies bot.Sender.
type Sender struct {
	cfg      Config
	buttons  ButtonMaker
	client   *http.Client
	log      *slog.Logger
	renderer bot.Renderer
}

// New checks cfg and builds a Sender. buttons may be nil (no action
// buttons); client nil means a client with cfg.Timeout; logger nil discards.
func New(cfg Config, buttons ButtonMaker, client *http.Client, logger *slog.Logger) (*Sender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if client == nil {
		client = &http.Client{Timeout: cfg.timeout()}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Sender{
		cfg:     cfg,
		buttons: buttons,
		client:  client,
		// Never the topic: whoever knows it reads the alerts and taps
		// their buttons.
		log:      logger.With("platform", deckhand.PlatformNtfy),
		renderer: bot.Renderer{StatusURL: cfg.ClickURL},
	}, nil
}

// Platform is "ntfy".
func (s *Sender) Platform() string { return deckhand.PlatformNtfy }

// publishRequest is ntfy's JSON publish body. JSON to the server root is used
// rather than POST /<topic> with headers because header values are bytes,
// not text: a title like "Nextcloud – café" would need RFC 2047 encoding to
// survive proxies, while JSON carries UTF-8 as is, and the whole message is
// checked by one encoder instead of hand-built header syntax (no escaping
// bugs in the Actions header's commas and semicolons).
type publishRequest struct {
	Topic    string   `json:"topic"`
	Title    string   `json:"title,omitempty"`
	Message  string   `json:"message"`
	Tags     []string `json:"tags,omitempty"`
	Priority int      `json:"priority,omitempty"`
	Click    string   `json:"click,omitempty"`
	Actions  []action `json:"actions,omitempty"`
}

type action struct {
	Action string `json:"action"`
	Label  string `json:"label"`
	URL    string `json:"url"`
	Method string `json:"method,omitempty"`
	Clear  bool   `json:"clear,omitempty"`
}

// APIError is a rejection by the ntfy server, with ntfy's error code.
type APIError struct {
	Status  int    // HTTP status
	Code    int    // ntfy's code, e.g. 40009; 0 when the body was not ntfy's
	Message string // ntfy's text, or the HTTP status text
}

func (e *APIError) Error() string {
	if e.Code != 0 {
		return fmt.Sprintf("ntfy: HTTP %d (%d): %s", e.Status, e.Code, e.Message)
	}
	return fmt.Sprintf("ntfy: HTTP %d: %s", e.Status, e.Message)
}

// Send publishes the item and returns ntfy's message ID. ntfy cannot edit a
// message, so an item with a Ref is published as a new message too.
//
// Errors: 429 → bot.RetryAfter (Retry-After when present, else
// DefaultRetryAfter); 5xx, 408, network errors and timeouts → transient;
// 401/403 → bot.Unauthorized; any other 4xx → bot.Permanent. With
// item.Plain the message is the notice's plain text alone: no tags, click
// URL or action buttons. Once the server has answered 2xx the message exists, so
// Send never reports an error after that, even if the answer is unreadable.
func (s *Sender) Send(ctx context.Context, item deckhand.OutboxItem) (string, error) {
	body, err := json.Marshal(s.build(item))
	if err != nil {
		return "", bot.Permanent{Err: fmt.Errorf("ntfy: encoding: %w", err)}
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.server()+"/", bytes.NewReader(body))
	if err != nil {
		return "", bot.Permanent{Err: fmt.Errorf("ntfy: building the request: %w", err)}
	}
	req.Header.Set("Content-Type", "application/json")
	s.authorize(req)

	resp, err := s.client.Do(req)
	if err != nil {
		return "", s.requestError("publish", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))

	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		var ok struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(raw, &ok); err != nil || ok.ID == "" {
			s.log.Warn("ntfy accepted the message but its answer has no id", "status", resp.StatusCode)
		}
		s.log.Debug("ntfy message published", "outbox_id", item.ID, "id", ok.ID)
		return ok.ID, nil
	}

	return "", statusError(resp, raw)
}

// requestError is a request that got no answer. net/http's *url.Error
// quotes the whole URL, and a poll's path is the topic: only the server
// is named (Validate refuses credentials in it; the token travels in a
// header). The cause stays wrapped for errors.Is and net.Error.
func (s *Sender) requestError(what string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("ntfy: %s on %s: %w", what, s.cfg.server(), err)
}

// statusError classifies a non-2xx answer: 429 → bot.RetryAfter
// (Retry-After when present, else DefaultRetryAfter); 5xx and 408 →
// transient; 401 and 403 (a wrong token, a user without write access to
// the topic) → bot.Unauthorized; any other 4xx → bot.Permanent. raw is the body, which carries
// ntfy's code and text when the server wrote it.
func statusError(resp *http.Response, raw []byte) error {
	apiErr := &APIError{Status: resp.StatusCode, Message: http.StatusText(resp.StatusCode)}
	var e struct {
		Code  int    `json:"code"`
		Error string `json:"error"`
	}
	if json.Unmarshal(raw, &e) == nil && e.Error != "" {
		apiErr.Code, apiErr.Message = e.Code, e.Error
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		after, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		if !ok {
			after = DefaultRetryAfter
		}
		return bot.RetryAfter{After: after, Err: apiErr}
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusRequestTimeout:
		return apiErr
	case resp.StatusCode == http.StatusUnauthorized, resp.StatusCode == http.StatusForbidden:
		return bot.Unauthorized{Err: apiErr}
	default:
		return bot.Permanent{Err: apiErr}
	}
}

func (s *Sender) authorize(req *http.Request) {
	req.Header.Set("User-Agent", "deckhand")
	switch {
	case s.cfg.Token != "":
		req.Header.Set("Authorization", "Bearer "+s.cfg.Token)
	case s.cfg.User != "":
		req.SetBasicAuth(s.cfg.User, s.cfg.Password)
	}
}

// Probe checks cheaply that the ntfy server answers: GET /v1/health,
// which needs no credentials (ntfy has no request that checks a token's
// write access without publishing). It implements bot.Prober.
func (s *Sender) Probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.cfg.server()+"/v1/health", nil)
	if err != nil {
		return fmt.Errorf("ntfy: building the health check: %w", err)
	}
	req.Header.Set("User-Agent", "deckhand")
	resp, err := s.client.Do(req)
	if err != nil {
		return s.requestError("health check", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return statusError(resp, raw)
	}
	var h struct {
		Healthy bool `json:"healthy"`
	}
	if json.Unmarshal(raw, &h) != nil || !h.Healthy {
		return errors.New("ntfy: the server reports itself unhealthy")
	}
	return nil
}

// Delivered tells whether an earlier attempt at item reached the topic
// after all (deckhand died between ntfy's answer and recording it, or the
// answer was lost): ntfy keeps a topic's recent messages (its cache, 12 h
// on ntfy.sh) and lists them to GET /<topic>/json?poll=1&since=<unix>. A
// message published since the attempt began with the same title and text
// is that attempt; its ID is returned. With the cache off nothing is
// found, and the item is sent again. It implements bot.Reconciler.
func (s *Sender) Delivered(ctx context.Context, item deckhand.OutboxItem) (string, bool, error) {
	want := s.build(item)
	ctx, cancel := context.WithTimeout(ctx, s.cfg.timeout())
	defer cancel()
	u := s.cfg.server() + "/" + url.PathEscape(s.cfg.Topic) + "/json?poll=1&since=" +
		strconv.FormatInt(item.SendingAt.Add(-time.Second).Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", false, fmt.Errorf("ntfy: building the poll: %w", err)
	}
	s.authorize(req)
	resp, err := s.client.Do(req)
	if err != nil {
		return "", false, s.requestError("poll", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// A permanent answer means it will never say (a publish-only
		// token cannot read the topic): the dispatcher then sends again.
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return "", false, statusError(resp, raw)
	}
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 16<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var m struct {
			ID      string `json:"id"`
			Event   string `json:"event"`
			Title   string `json:"title"`
			Message string `json:"message"`
		}
		if json.Unmarshal(sc.Bytes(), &m) != nil || m.Event != "message" {
			continue
		}
		if m.Title == want.Title && m.Message == want.Message {
			return m.ID, true, nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", false, fmt.Errorf("ntfy: poll: %w", err)
	}
	return "", false, nil
}

func (s *Sender) build(item deckhand.OutboxItem) publishRequest {
	n := item.Notice
	m := s.renderer.Render(n)
	text := m.Body()
	if text == "" {
		text = m.Title
	}
	p := publishRequest{
		Topic:    s.cfg.Topic,
		Title:    cut(m.Title, 250),
		Message:  cut(text, MessageLimit),
		Priority: s.cfg.priority(m.Severity),
		Click:    m.URL,
	}
	if item.Plain {
		// Only what a plain-text publish can carry; the title is in it.
		p.Title, p.Click = "", ""
		p.Message = cut(m.Plain(), MessageLimit)
		return p
	}
	if m.EmojiCode != "" {
		p.Tags = append(p.Tags, m.EmojiCode)
	}
	p.Tags = append(p.Tags, m.Tags...)
	if len(m.Actions) > 0 && s.cfg.Actions && s.buttons != nil {
		base := strings.TrimRight(s.cfg.ActionBaseURL, "/")
		for _, b := range s.buttons.AlertTokens(n.Alert, m.Actions) {
			if len(p.Actions) == MaxActions {
				break
			}
			if b.Label == "" || b.Payload == "" {
				continue
			}
			p.Actions = append(p.Actions, action{
				Action: "http",
				Label:  b.Label,
				URL:    base + "/hooks/ntfy?t=" + url.QueryEscape(b.Payload),
				Method: http.MethodPost,
				// Clear the notification once the button worked: it is
				// handled, and a second tap would only be refused.
				Clear: true,
			})
		}
	}
	return p
}

// cut shortens s to at most n bytes on a rune boundary, marking the cut.
func cut(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	const ellipsis = "…"
	i := n - len(ellipsis)
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + ellipsis
}

// parseRetryAfter reads Retry-After as seconds or as an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
