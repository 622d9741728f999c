package bot

import (
	"errors"
	"fmt"
	"time"
)

// RetryAfter is the error a Sender returns when the platform asked it to slow
// down (HTTP 429, Telegram's parameters.retry_after, Discord's retry_after).
// The dispatcher pauses the whole platform for After, because the limit is
// the platform's, not the message's. Both RetryAfter and *RetryAfter work.
type RetryAfter struct {
	After time.Duration
	Err   error
}

func (e RetryAfter) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("rate limited: retry after %s", e.After)
	}
	return fmt.Sprintf("rate limited: retry after %s: %v", e.After, e.Err)
}

func (e RetryAfter) Unwrap() error { return e.Err }

// Permanent is the error a Sender returns for a rejection that will never
// succeed however often it is retried (a 400 for a malformed message, a
// revoked token): the dispatcher logs it and dead-letters the item instead of
// blocking the platform's queue behind it. Both Permanent and *Permanent work.
type Permanent struct {
	Err error
}

func (e Permanent) Error() string {
	if e.Err == nil {
		return "permanent delivery failure"
	}
	return "permanent delivery failure: " + e.Err.Error()
}

func (e Permanent) Unwrap() error { return e.Err }

// Unauthorized is the error a Sender returns when the platform rejects
// deckhand's own credentials or permissions (HTTP 401 or 403: a wrong or
// revoked token, a bot removed from the chat, an ntfy ACL). Nothing is
// wrong with the notice, and retrying cannot help until someone fixes the
// setup: the dispatcher keeps the notice, reports the platform's
// credentials problem to Health, and delivers once the platform accepts
// deckhand again (after the fix and, for a token, a restart). Both
// Unauthorized and *Unauthorized work.
type Unauthorized struct {
	Err error
}

func (e Unauthorized) Error() string {
	if e.Err == nil {
		return "credentials rejected"
	}
	return "credentials rejected: " + e.Err.Error()
}

func (e Unauthorized) Unwrap() error { return e.Err }

// isUnauthorized reports whether err carries an Unauthorized, in either form.
func isUnauthorized(err error) bool {
	var v Unauthorized
	if errors.As(err, &v) {
		return true
	}
	var p *Unauthorized
	return errors.As(err, &p) && p != nil
}

// retryAfterOf reports whether err carries a RetryAfter, in either form.
func retryAfterOf(err error) (time.Duration, bool) {
	var v RetryAfter
	if errors.As(err, &v) {
		return v.After, true
	}
	var p *RetryAfter
	if errors.As(err, &p) && p != nil {
		return p.After, true
	}
	return 0, false
}

// isPermanent reports whether err carries a Permanent, in either form.
func isPermanent(err error) bool {
	var v Permanent
	if errors.As(err, &v) {
		return true
	}
	var p *Permanent
	return errors.As(err, &p) && p != nil
}
