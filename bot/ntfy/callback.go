package ntfy

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/deckhand/deckhand"
)

// ActionHandler runs a button press. *commands.TokenHandler satisfies it: it
// verifies the token's signature and expiry, the action whitelist and the
// role it lends the ntfy actor, and audits the attempt.
type ActionHandler interface {
	HandleButton(ctx context.Context, actor deckhand.Actor, token string) (text string, err error)
}

// ActionHandlerFunc adapts a function to ActionHandler.
type ActionHandlerFunc func(ctx context.Context, actor deckhand.Actor, token string) (string, error)

// HandleButton calls f.
func (f ActionHandlerFunc) HandleButton(ctx context.Context, actor deckhand.Actor, token string) (string, error) {
	return f(ctx, actor, token)
}

// buttonActor is who presses an ntfy button. ntfy does not say which
// subscriber tapped, so every press is the topic's and the signed token,
// which only the topic's subscribers ever see, is the credential. The actor
// has no role of its own: the ActionHandler lends the one configured for
// ntfy (commands.TokenHandler), so that this package grants nothing.
func buttonActor() deckhand.Actor {
	return deckhand.Actor{Platform: deckhand.PlatformNtfy, UserID: "ntfy", Name: "ntfy"}
}

// maxCallbackBody bounds what is read from a button press: the buttons send
// no body, so anything sizeable is not from them.
const maxCallbackBody = 4 << 10

// maxToken bounds the t parameter; signed tokens are far shorter.
const maxToken = 256

// CallbackHandler serves <ActionBaseURL>/hooks/ntfy, which ntfy's http
// action buttons POST to from the phone with ?t=<token>. It answers 200 with
// the handler's text, or 400 (malformed), 403 (forbidden, bad signature, not
// whitelisted), 404, 405 (not POST), 409 (busy), 410 (expired), 500. Error
// answers are fixed texts: they never echo the token or internal errors.
func CallbackHandler(h ActionHandler, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	log := logger.With("platform", deckhand.PlatformNtfy)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeText(w, http.StatusMethodNotAllowed, "method not allowed")
			return
		}
		if _, err := io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, maxCallbackBody)); err != nil {
			writeText(w, http.StatusRequestEntityTooLarge, "request too large")
			return
		}
		q := r.URL.Query()
		token := q.Get("t")
		if token == "" || len(q["t"]) != 1 || len(token) > maxToken {
			writeText(w, http.StatusBadRequest, "missing or malformed token")
			return
		}
		text, err := h.HandleButton(r.Context(), buttonActor(), token)
		if err != nil {
			status, msg := statusOf(err)
			log.Warn("ntfy button refused", "status", status, "err", err)
			writeText(w, status, msg)
			return
		}
		writeText(w, http.StatusOK, text)
	})
}

func statusOf(err error) (int, string) {
	switch {
	case errors.Is(err, deckhand.ErrExpired):
		return http.StatusGone, "this button has expired"
	case errors.Is(err, deckhand.ErrBadSignature):
		return http.StatusForbidden, "invalid button"
	case errors.Is(err, deckhand.ErrForbidden), errors.Is(err, deckhand.ErrNotWhitelisted):
		return http.StatusForbidden, "not allowed"
	case errors.Is(err, deckhand.ErrInvalidInput):
		return http.StatusBadRequest, "invalid request"
	case errors.Is(err, deckhand.ErrNotFound):
		return http.StatusNotFound, "not found"
	case errors.Is(err, deckhand.ErrBusy):
		return http.StatusConflict, "an action is already in progress"
	}
	return http.StatusInternalServerError, "the action failed"
}

func writeText(w http.ResponseWriter, status int, text string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, text+"\n")
}
