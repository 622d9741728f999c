package commands

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/deckhand/deckhand"
)

// Button operation codes carried in payloads.
const (
	opRestart = "r" // restart the alert's container
	opAck     = "a"
	opSilence = "s" // silence the alert's target for alertSilence
	opConfirm = "c"
	opCancel  = "x"
)

const (
	alertSilence = time.Hour
	maxPending   = 1024 // bounds memory if someone spams /remove
)

// pendingAction is a destructive action waiting for its requester's
// confirmation.
type pendingAction struct {
	platform, userID string
	action           deckhand.Action
	host             string
	ctrName, ctrID   string
	expires          time.Time
}

func (r *Router) newPending(p pendingAction) (string, error) {
	var b [9]byte
	if _, err := io.ReadFull(r.rand, b[:]); err != nil {
		return "", fmt.Errorf("confirmation id: %w", err)
	}
	id := base64.RawURLEncoding.EncodeToString(b[:])
	now := r.now()
	r.pendMu.Lock()
	defer r.pendMu.Unlock()
	for k, v := range r.pending {
		if !now.Before(v.expires) {
			delete(r.pending, k)
		}
	}
	if len(r.pending) >= maxPending {
		return "", fmt.Errorf("too many pending confirmations: %w", deckhand.ErrBusy)
	}
	r.pending[id] = p
	return id, nil
}

func (r *Router) cmdConfirm(ctx context.Context, c *call, args []string) (Reply, error) {
	h, ct, err := r.resolveTarget(ctx, c, args[0], args[1])
	if err != nil {
		return Reply{}, err
	}
	if err := checkProtected(c, ct); err != nil {
		return Reply{}, err
	}
	ttl := r.cfg.ConfirmTTL
	id, err := r.newPending(pendingAction{
		platform: c.actor.Platform, userID: c.actor.UserID, action: c.action,
		host: h.Name, ctrName: ct.Name, ctrID: ct.ID, expires: r.now().Add(ttl),
	})
	if err != nil {
		return Reply{}, err
	}
	what := "Remove"
	warn := "The container is stopped and deleted; its volumes are kept."
	if c.action == deckhand.ActionRedeploy {
		what = "Redeploy"
		warn = "The image is pulled and the container recreated."
	}
	return Reply{
		Title:     what + " " + h.Name + "/" + ct.Name + "?",
		Text:      fmt.Sprintf("**%s %s/%s?** %s Only you can confirm, within %s.", what, h.Name, ct.Name, warn, deckhand.HumanDuration(ttl)),
		Ephemeral: true,
		Buttons: []Button{
			{Label: "Confirm " + what, Payload: r.signer.Sign(opConfirm, id, ttl), Style: Danger, Action: c.action},
			{Label: "Cancel", Payload: r.signer.Sign(opCancel, id, ttl), Style: Secondary, Action: c.action},
		},
	}, nil
}

// AlertButtons signs the buttons of an alert for the given actions, in
// that order: which actions a notice offers is the bot's decision
// (bot.Actions); the router only mints them. Actions without an alert
// button (anything but restart, ack and silence) are skipped. They expire
// after Config.ButtonTTL. Pressing one goes through HandleButton, which
// re-checks the presser's role and the alert at click time.
func (r *Router) AlertButtons(a deckhand.Alert, actions []deckhand.Action) []Button {
	if a.ID <= 0 {
		return nil
	}
	ref := strconv.FormatInt(a.ID, 36)
	ttl := r.cfg.ButtonTTL
	var out []Button
	for _, act := range actions {
		switch act {
		case deckhand.ActionRestart:
			out = append(out, Button{Label: "Restart", Payload: r.signer.Sign(opRestart, ref, ttl), Style: Primary, Action: act})
		case deckhand.ActionAck:
			out = append(out, Button{Label: "Ack", Payload: r.signer.Sign(opAck, ref, ttl), Style: Success, Action: act})
		case deckhand.ActionSilence:
			out = append(out, Button{Label: "Silence 1h", Payload: r.signer.Sign(opSilence, ref, ttl), Style: Secondary, Action: act})
		}
	}
	return out
}

// AlertTokens is AlertButtons under the name the ntfy side uses: the same
// signed payloads serve as its callback tokens.
func (r *Router) AlertTokens(a deckhand.Alert, actions []deckhand.Action) []Button {
	return r.AlertButtons(a, actions)
}

// HandleButton runs a button press: it verifies the payload's signature and
// expiry, re-checks the presser's role, host scope and the container's
// protection at click time, and audits the attempt. Restart and confirm
// buttons act once (Deps.Tokens remembers them across restarts); pressed
// again they are refused as already used. Ack and silence stay idempotent.
func (r *Router) HandleButton(ctx context.Context, actor deckhand.Actor, payload string) Reply {
	rep, _ := r.handleButton(ctx, actor, payload)
	return rep
}

func (r *Router) handleButton(ctx context.Context, actor deckhand.Actor, payload string) (reply Reply, err error) {
	c := &call{actor: actor, action: "button", start: r.now()}
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("button panicked", "action", string(c.action), "panic", fmt.Sprint(p))
			reply, err = r.finishErr(ctx, c, Reply{}, fmt.Errorf("internal error: %v", p))
		}
	}()
	tok, verr := r.signer.Parse(payload)
	op, ref := tok.Op, tok.Ref
	switch op {
	case opRestart:
		c.action = deckhand.ActionRestart
	case opAck:
		c.action = deckhand.ActionAck
	case opSilence:
		c.action = deckhand.ActionSilence
	}
	switch {
	case errors.Is(verr, deckhand.ErrExpired):
		return r.finishErr(ctx, c, Reply{}, fail("denied", verr, "This button has expired; run the command again or use the newest alert message."))
	case verr != nil:
		return r.finishErr(ctx, c, Reply{}, fail("denied", verr, "This button is not valid."))
	case actor.Role == deckhand.RoleNone:
		return r.finishErr(ctx, c, Reply{}, fail("denied", deckhand.ErrForbidden, "%s", refusalNoRole))
	}
	if op == opRestart || op == opConfirm {
		// The state-changing tokens work once; ack and silence stay
		// idempotent. runAction spends it, so only a press that acts does.
		c.spend = func(ctx context.Context) error { return r.spend(ctx, tok) }
	}
	var rep Reply
	switch op {
	case opRestart, opAck, opSilence:
		rep, err = r.alertButton(ctx, c, op, ref)
	case opConfirm, opCancel:
		rep, err = r.confirmButton(ctx, c, op, ref)
	default:
		err = fail("denied", deckhand.ErrNotWhitelisted, "This button does nothing deckhand knows.")
	}
	return r.finishErr(ctx, c, rep, err)
}

// finishErr is finish that also returns the sentinel behind a failure, for
// callers (ntfy's HTTP callback) that map it to a status code.
func (r *Router) finishErr(ctx context.Context, c *call, rep Reply, err error) (Reply, error) {
	out := r.finish(ctx, c, rep, err)
	return out, err
}

func (r *Router) authorize(c *call) error {
	if !r.Allowed(c.actor, c.action) {
		return denied("Your role (%s) may not %s.", c.actor.Role, c.action)
	}
	return nil
}

func (r *Router) alertButton(ctx context.Context, c *call, op, ref string) (Reply, error) {
	if r.deps.Alerts == nil {
		return Reply{}, fail("error", deckhand.ErrNotFound, "Alerts are not available.")
	}
	id, err := strconv.ParseInt(ref, 36, 64)
	if err != nil || id <= 0 {
		return Reply{}, fail("denied", deckhand.ErrBadSignature, "This button is not valid.")
	}
	if err := r.authorize(c); err != nil {
		c.target = fmt.Sprintf("alert #%d", id)
		return Reply{}, err
	}
	switch op {
	case opAck:
		return r.ack(ctx, c, id)
	case opSilence:
		a, err := r.findAlert(ctx, c, id)
		if err != nil {
			return Reply{}, err
		}
		s := deckhand.Silence{Host: a.Key.Host, Container: a.Key.Container, By: c.actor.String(),
			Reason: fmt.Sprintf("from alert #%d", a.ID), CreatedAt: r.now(), Until: r.now().Add(alertSilence)}
		c.target = silenceTarget(s)
		sid, err := r.deps.Alerts.AddSilence(ctx, s)
		if err != nil {
			return Reply{}, fmt.Errorf("add silence: %w", err)
		}
		return Reply{Text: fmt.Sprintf("Silenced **%s** for 1h (silence #%d) by %s.", silenceTarget(s), sid, display(c.actor.String()))}, nil
	}
	a, err := r.findAlert(ctx, c, id)
	if err != nil {
		return Reply{}, err
	}
	if a.Key.Container == "" {
		return Reply{}, invalid("Alert #%d is about a host, not a container: nothing to restart.", a.ID)
	}
	h, ct, err := r.resolveTarget(ctx, c, a.Key.Host, a.Key.Container)
	if err != nil {
		return Reply{}, err
	}
	if err := checkProtected(c, ct); err != nil {
		return Reply{}, err
	}
	if err := r.runAction(ctx, c, h.Name, ct); err != nil {
		return Reply{}, err
	}
	return Reply{Text: fmt.Sprintf("Restarted **%s/%s** for alert #%d (by %s).", h.Name, ct.Name, a.ID, display(c.actor.String()))}, nil
}

func (r *Router) confirmButton(ctx context.Context, c *call, op, id string) (Reply, error) {
	r.pendMu.Lock()
	p, ok := r.pending[id]
	if ok {
		c.action, c.host, c.target = p.action, p.host, p.ctrName
		if p.platform != c.actor.Platform || p.userID != c.actor.UserID {
			r.pendMu.Unlock()
			return Reply{}, denied("Only the person who asked can confirm or cancel this.")
		}
		delete(r.pending, id)
	}
	r.pendMu.Unlock()
	if !ok || !r.now().Before(p.expires) {
		return Reply{}, &replyErr{
			reply:  Reply{Text: "This confirmation has expired or was already used; run the command again.", Error: true, Edit: true},
			result: "denied", err: fmt.Errorf("confirmation: %w", deckhand.ErrExpired),
		}
	}
	if op == opCancel {
		return Reply{}, &replyErr{
			reply:  Reply{Text: fmt.Sprintf("Cancelled: %s of %s/%s.", p.action, p.host, p.ctrName), Edit: true},
			result: "cancelled", err: context.Canceled,
		}
	}
	if err := r.authorize(c); err != nil {
		return Reply{}, err
	}
	h, ct, err := r.resolveTarget(ctx, c, p.host, p.ctrName)
	if err != nil {
		return Reply{}, err
	}
	if p.ctrID != "" && ct.ID != p.ctrID {
		return Reply{}, fail("error", deckhand.ErrNotFound, "%s/%s was recreated since you asked; run the command again.", h.Name, ct.Name)
	}
	if err := checkProtected(c, ct); err != nil {
		return Reply{}, err
	}
	if err := r.runAction(ctx, c, h.Name, ct); err != nil {
		return Reply{}, err
	}
	return Reply{Text: fmt.Sprintf("%s **%s/%s** (confirmed by %s).", pastTense[p.action], h.Name, ct.Name, display(c.actor.String())), Edit: true}, nil
}

// TokenHandler serves button payloads arriving without a chat identity
// (ntfy's HTTP action callbacks): possessing an unexpired signed token is
// the credential, and the handler lends the presser a configured role.
type TokenHandler struct {
	r    *Router
	role deckhand.Role
}

// TokenHandler returns a handler that treats an unmapped presser as role
// (RoleNone refuses every token, which is the safe default).
func (r *Router) TokenHandler(role deckhand.Role) *TokenHandler {
	return &TokenHandler{r: r, role: role}
}

// HandleButton runs the token like a button press and returns the reply
// text. The error wraps deckhand.ErrForbidden, ErrExpired, ErrAlreadyUsed,
// ErrBadSignature, ErrInvalidInput, ErrNotFound or ErrBusy so the caller can
// choose a status.
func (t *TokenHandler) HandleButton(ctx context.Context, actor deckhand.Actor, token string) (string, error) {
	if actor.Role == deckhand.RoleNone {
		actor.Role = t.role
	}
	rep, err := t.r.handleButton(ctx, actor, token)
	if err == nil && rep.Error {
		err = errors.New(rep.Text)
	}
	return rep.Text, err
}
