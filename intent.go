package deckhand

import "time"

// Intent records a deliberate action through deckhand that leaves a
// container down or gone on purpose (a stop or a removal from chat, ntfy
// or `deckhand exec`), so that what it does is shown as what it was and
// is not taken for an outage. There is at most one per container.
type Intent struct {
	Host      string
	Container string // the container's name, as alerts key it
	Action    Action // ActionStop or ActionRemove
	By        string // the actor, as Actor.String names it
	// At is when the action took effect; while it is still running, when
	// it was asked for. Only what is seen after At can end the intent.
	At time.Time
}

// Deliberate reports whether the action leaves its container down on
// purpose, that is whether deckhand records an intent for it. Start,
// restart and redeploy do the opposite: they end the container's intent.
func (a Action) Deliberate() bool { return a == ActionStop || a == ActionRemove }

// Explains reports whether the intent accounts for what a snapshot shows
// of its container (present false: the container is missing). A stopped
// container is exited or created, or was removed since; a removed one is
// missing. Anything else (running, restarting, paused, dead) is not the
// intent's doing.
func (i Intent) Explains(c Container, present bool) bool {
	switch {
	case !present:
		return i.Action.Deliberate()
	case i.Action == ActionStop:
		return c.State == StateExited || c.State == StateCreated
	}
	return false
}

// Over reports whether the intent has ended: a snapshot collected after it
// took effect shows its container in a state it does not explain (started
// again by hand, by compose, or recreated under the same name). From then
// on the container is watched as usual, even if it goes down again.
func (i Intent) Over(c Container, present bool, collectedAt time.Time) bool {
	return collectedAt.After(i.At) && !i.Explains(c, present)
}

// Phrase says what the intent did, for chat and the status page:
// "stopped by discord:alice".
func (i Intent) Phrase() string {
	verb := "stopped"
	if i.Action == ActionRemove {
		verb = "removed"
	}
	if i.By == "" {
		return verb + " through deckhand"
	}
	return verb + " by " + i.By
}

// IntentFor returns the intent that explains what a snapshot shows of a
// present container, if any.
func IntentFor(intents []Intent, host string, c Container) (Intent, bool) {
	for _, i := range intents {
		if i.Host == host && i.Container == c.Name && i.Explains(c, true) {
			return i, true
		}
	}
	return Intent{}, false
}

// ConditionWith is ConditionOf for a container that may have been left
// down on purpose through deckhand: a stop an intent explains is the
// desired state for as long as the intent lasts, like homelab.desired=stopped.
func ConditionWith(c Container, intents []Intent) Condition {
	cond := ConditionOf(c)
	if cond == ConditionDown {
		if _, ok := IntentFor(intents, c.Host, c); ok {
			return ConditionStopped
		}
	}
	return cond
}
