package alerts

import (
	"time"

	"github.com/deckhand/deckhand"
)

// intentBook is what the engine knows of deliberate actions: which
// containers one explains in this evaluation, and which intents it found
// over and the caller has not deleted yet (they must not come back into
// force when their container goes down again).
type intentBook struct {
	explained map[[2]string]deckhand.Intent // host, container → intent, this evaluation
	ended     map[[2]string]time.Time       // host, container → At of the last intent found over
}

// judgeIntents sorts the intents out against the snapshots of the hosts
// collected fine: the ones that explain their container now, and the ones
// that are over (returned for the caller to delete). Hosts without a
// usable snapshot keep their intents as they are: nothing is known there.
func (e *Engine) judgeIntents(in Input) (over []deckhand.Intent) {
	b := &e.intents
	b.explained = map[[2]string]deckhand.Intent{}
	if b.ended == nil {
		b.ended = map[[2]string]time.Time{}
	}
	if len(in.Intents) == 0 {
		clear(b.ended) // every one was deleted: nothing is pending
		return nil
	}
	type seen struct {
		byName map[string]deckhand.Container
		at     time.Time
	}
	hosts := map[string]seen{}
	for _, s := range in.Snapshots {
		if statusOf(s) != deckhand.HostOK {
			continue
		}
		sn := seen{byName: make(map[string]deckhand.Container, len(s.Containers)), at: s.CollectedAt}
		if sn.at.IsZero() {
			sn.at = in.Now
		}
		for _, c := range s.Containers {
			sn.byName[c.Name] = c
		}
		hosts[s.Host.Name] = sn
	}
	pending := map[[2]string]bool{}
	for _, i := range in.Intents {
		k := [2]string{i.Host, i.Container}
		if end, ok := b.ended[k]; ok && !i.At.After(end) {
			pending[k] = true // found over already; its deletion is on its way
			continue
		}
		sn, ok := hosts[i.Host]
		if !ok {
			continue
		}
		c, present := sn.byName[i.Container]
		switch {
		case i.Over(c, present, sn.at):
			b.ended[k] = i.At
			pending[k] = true
			over = append(over, i)
		case i.Explains(c, present):
			if prev, dup := b.explained[k]; !dup || i.At.After(prev.At) {
				b.explained[k] = i
			}
		}
	}
	for k := range b.ended {
		if !pending[k] {
			delete(b.ended, k) // the caller deleted it
		}
	}
	return over
}

// intended reports whether a deliberate action explains the container in
// this evaluation: it raises no alert, is not restarted automatically and
// is forgotten as if unmonitored, so that it is watched afresh once its
// intent is over.
func (e *Engine) intended(host, container string) bool {
	_, ok := e.intents.explained[[2]string{host, container}]
	return ok
}

// closeIntended closes an active alert of a container a deliberate action
// now explains, without a recovered notice: the operator took it down on
// purpose, which is no recovery to announce. The alert ends when the
// action took effect and says who did it, for the incident history.
func (e *Engine) closeIntended(res *Result, k deckhand.AlertKey, a deckhand.Alert, now time.Time) bool {
	i, ok := e.intents.explained[[2]string{k.Host, k.Container}]
	if !ok || k.Container == "" {
		return false
	}
	a.State, a.ClosedAt = deckhand.AlertClosed, now
	if i.At.After(a.FirstSeenAt) && i.At.Before(now) {
		a.ClosedAt = i.At
	}
	if a.Message != "" {
		a.Message += " — then " + i.Phrase()
	} else {
		a.Message = i.Phrase()
	}
	delete(e.last, k)
	e.recent[k] = a
	res.Changed = append(res.Changed, a)
	return true
}
