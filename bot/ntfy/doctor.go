package ntfy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/deckhand/deckhand"
)

const doctorSubject = "ntfy"

// Doctor checks that the server answers and that deckhand's credentials
// may read the topic, with ntfy's documented poll, which publishes
// nothing. A publish is the only proof of write access, so it is made only
// when sendTest asks for it. No line names the topic or the credentials.
func (s *Sender) Doctor(ctx context.Context, sendTest bool) []deckhand.Check {
	out := []deckhand.Check{s.doctorRead(ctx)}
	if !sendTest {
		return append(out, deckhand.Pass(doctorSubject, "publish not tested (deckhand doctor --send-test publishes a test message)"))
	}
	return append(out, s.doctorPublish(ctx))
}

func (s *Sender) doctorRead(ctx context.Context) deckhand.Check {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.timeout())
	defer cancel()
	u := s.cfg.server() + "/" + url.PathEscape(s.cfg.Topic) + "/json?poll=1&since=" + strconv.FormatInt(time.Now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return deckhand.Fail(doctorSubject, "building the poll: "+err.Error(), "check ntfy.server")
	}
	s.authorize(req)
	resp, err := s.client.Do(req)
	if err != nil {
		return deckhand.Fail(doctorSubject, s.requestError("poll", err).Error(), "check ntfy.server and that this machine reaches it")
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return deckhand.Fail(doctorSubject, "read access: "+answerText(resp, raw), s.credentialsFix(resp.StatusCode))
	}
	return deckhand.Pass(doctorSubject, "server "+s.cfg.server()+" answers, read access to the topic")
}

func (s *Sender) doctorPublish(ctx context.Context) deckhand.Check {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.timeout())
	defer cancel()
	body, _ := json.Marshal(publishRequest{Topic: s.cfg.Topic, Title: "deckhand doctor", Message: "Test message from deckhand doctor: alerts reach this topic.", Priority: 2})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.server()+"/", bytes.NewReader(body))
	if err != nil {
		return deckhand.Fail(doctorSubject, "building the publish: "+err.Error(), "check ntfy.server")
	}
	req.Header.Set("Content-Type", "application/json")
	s.authorize(req)
	resp, err := s.client.Do(req)
	if err != nil {
		return deckhand.Fail(doctorSubject, s.requestError("publish", err).Error(), "check ntfy.server and that this machine reaches it")
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return deckhand.Fail(doctorSubject, "publish: "+answerText(resp, raw), s.credentialsFix(resp.StatusCode))
	}
	return deckhand.Pass(doctorSubject, "test message published")
}

func (s *Sender) credentialsFix(status int) string {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		if s.cfg.Token == "" && s.cfg.User == "" {
			return "the topic is protected: set ntfy.token (or ntfy.user and ntfy.password)"
		}
		return "ntfy.token (or user/password) is wrong or lacks read-write access to the topic: grant it with `ntfy access`"
	case status == http.StatusTooManyRequests:
		return "rate limited: try again in a minute"
	case status >= 500:
		return "the ntfy server failed: check its logs"
	}
	return "check ntfy.server and ntfy.topic"
}

// answerText is ntfy's refusal as the server said it, without the
// delivery classification that statusError wraps it in.
func answerText(resp *http.Response, raw []byte) string {
	err := statusError(resp, raw)
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Error()
	}
	return err.Error()
}
