package commands

import (
	"context"
	"fmt"
	"time"

	"github.com/deckhand/deckhand"
)

// intend is called under the container's lock before an action runs. A
// stop or a removal is recorded as deliberate first, so that a collection
// seeing the container exited while Docker is still at it does not page.
// The returned settle finishes the story once Docker has answered: on
// success the intent is stamped with the time it took effect, on failure
// the container's previous intent (if any) is put back; a start, restart
// or redeploy that succeeded ends the container's intent. A store that
// cannot write costs the quiet, never the action: it is logged.
func (r *Router) intend(ctx context.Context, c *call, host string, ct deckhand.Container) (settle func(error)) {
	if r.deps.Intents == nil || ct.Name == "" {
		return func(error) {}
	}
	if !c.action.Deliberate() {
		if _, had := r.intentOf(ctx, host, ct.Name); !had {
			return func(error) {} // nothing to end, and no write for it
		}
		return func(err error) {
			if err == nil {
				r.writeIntent(ctx, host, ct.Name, func(ctx context.Context) error {
					return r.deps.Intents.DeleteIntent(ctx, host, ct.Name, r.now())
				})
			}
		}
	}
	prev, had := r.intentOf(ctx, host, ct.Name)
	i := deckhand.Intent{Host: host, Container: ct.Name, Action: c.action, By: c.actor.String(), At: r.now()}
	r.putIntent(ctx, i)
	return func(err error) {
		switch {
		case err == nil:
			i.At = r.now()
			r.putIntent(ctx, i)
		case had:
			r.putIntent(ctx, prev)
		default:
			r.writeIntent(ctx, host, ct.Name, func(ctx context.Context) error {
				return r.deps.Intents.DeleteIntent(ctx, host, ct.Name, i.At)
			})
		}
	}
}

func (r *Router) putIntent(ctx context.Context, i deckhand.Intent) {
	r.writeIntent(ctx, i.Host, i.Container, func(ctx context.Context) error { return r.deps.Intents.PutIntent(ctx, i) })
}

// writeIntent runs one intent write even when the request's context is
// gone: the container is in the state the action left it either way.
func (r *Router) writeIntent(ctx context.Context, host, container string, write func(context.Context) error) {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := write(wctx); err != nil {
		r.log.Warn("intent not recorded; the alert engine may take this action for an outage",
			"host", host, "container", container, "err", err)
	}
}

func (r *Router) intentOf(ctx context.Context, host, container string) (deckhand.Intent, bool) {
	all := r.intents(ctx)
	i, ok := all[[2]string{host, container}]
	return i, ok
}

// intents reads every recorded intent by (host, container); nil when none
// or unreadable, which only costs the "stopped by" notes.
func (r *Router) intents(ctx context.Context) map[[2]string]deckhand.Intent {
	if r.deps.Intents == nil {
		return nil
	}
	list, err := r.deps.Intents.Intents(ctx)
	if err != nil {
		r.log.Warn("read intents", "err", err)
		return nil
	}
	out := make(map[[2]string]deckhand.Intent, len(list))
	for _, i := range list {
		out[[2]string{i.Host, i.Container}] = i
	}
	return out
}

// Act performs a container action for deckhand itself (the monitor's
// auto-restart) on the path a chat command takes: whitelist and role,
// host scope, protection, the per-container lock, the Docker call, the
// intents, the audit and a refresh of the host. There is no confirmation:
// nobody is there to press it. The error wraps deckhand.ErrBusy while
// another action holds the container, ErrForbidden when refused,
// ErrNotWhitelisted for an action that is not a container action, and
// ErrNotFound when the container is not in the latest snapshot.
//
// A protected container refuses anyone below admin, except the automatic
// restart its own homelab.auto_restart=true label asks for: only Act can
// make that call, so no chat user can borrow the exception.
func (r *Router) Act(ctx context.Context, actor deckhand.Actor, a deckhand.Action, host, container string) error {
	c := &call{actor: actor, action: a, start: r.now(), automatic: true}
	rep, err := r.act(ctx, c, host, container)
	_, err = r.finishErr(ctx, c, rep, err)
	return err
}

func (r *Router) act(ctx context.Context, c *call, host, container string) (Reply, error) {
	c.host, c.target = truncate(sanitizeLine(host), maxRefLen), truncate(sanitizeLine(container), maxRefLen)
	switch c.action {
	case deckhand.ActionStart, deckhand.ActionStop, deckhand.ActionRestart, deckhand.ActionRemove, deckhand.ActionRedeploy:
	default:
		return Reply{}, fail("denied", deckhand.ErrNotWhitelisted, "%s is not an action on a container.", display(string(c.action)))
	}
	if err := r.authorize(c); err != nil {
		return Reply{}, err
	}
	h, ct, err := r.resolveTarget(ctx, c, host, container)
	if err != nil {
		return Reply{}, err
	}
	if err := checkProtected(c, ct); err != nil {
		return Reply{}, err
	}
	if err := r.runAction(ctx, c, h.Name, ct); err != nil {
		return Reply{}, err
	}
	return Reply{Text: fmt.Sprintf("%s %s/%s (by %s).", pastTense[c.action], h.Name, ct.Name, c.actor.String())}, nil
}
