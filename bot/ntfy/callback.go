package ntfy

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

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
// action buttons POST to with ?t=<token>, from the phone or from the web
// app's fetch(). It answers 200 with the handler's text in plain text, or
// 400 (malformed), 403 (forbidden, bad signature, not whitelisted), 404,
// 405 (not POST), 409 (busy, already used), 410 (expired), 500; an OPTIONS
// preflight gets 204. Error answers are fixed texts: they never echo the
// token or internal errors.
//
// Every answer allows any origin: the web app runs on the ntfy server's
// origin, which deckhand need not know (the app can subscribe to several
// servers), and allowing it costs nothing, because the request carries no
// cookie or credential of the browser's: the token in the URL is the
// credential, and whoever holds it can send the same request with curl.
func CallbackHandler(h ActionHandler, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	log := logger.With("platform", deckhand.PlatformNtfy)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		allowCORS(w.Header())
		if r.Method == http.MethodOptions {
			w.Header().Set("Allow", "POST, OPTIONS")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST, OPTIONS")
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
		writeText(w, http.StatusOK, plainText(text))
	})
}

// allowCORS lets ntfy's web app read every answer and pass its preflight.
// The buttons send no headers of their own; Content-Type is allowed in case
// an app version sends one with an empty body.
func allowCORS(h http.Header) {
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Content-Type")
	h.Set("Access-Control-Max-Age", "3600")
}

// markup is the router's light Markdown (commands.Reply.Text: **bold** and
// `code`), which ntfy would show as typed. Backticks are only ever markup:
// the router turns those of user input into quotes.
var markup = strings.NewReplacer("**", "", "`", "")

func plainText(s string) string { return markup.Replace(s) }

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
	case errors.Is(err, deckhand.ErrAlreadyUsed):
		return http.StatusConflict, "this button was already used"
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
