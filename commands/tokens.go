package commands

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/deckhand/deckhand"
)

// spentTokens is the process's own record of used single-use tokens. It
// answers before the store: a duplicate delivery racing the original is
// refused without a database round trip, and a store that cannot write
// still refuses replays until deckhand restarts. Entries leave once their
// token has expired, so it holds at most the presses of one ButtonTTL.
type spentTokens struct {
	mu   sync.Mutex
	used map[string]time.Time // id → expiry
}

// spend records id and reports whether it was new.
func (s *spentTokens) spend(id string, expires, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.used[id]; ok {
		return false
	}
	if s.used == nil {
		s.used = make(map[string]time.Time)
	}
	for k, exp := range s.used {
		if !now.Before(exp) {
			delete(s.used, k)
		}
	}
	s.used[id] = expires
	return true
}

// spend marks a state-changing token as used, or refuses it because it
// already was: one press acts once, however often it is delivered or
// replayed. Only a press that is about to act calls it (runAction, with the
// container's lock held), so a refused or busy press leaves the button
// usable.
func (r *Router) spend(ctx context.Context, t Token) error {
	if !r.spent.spend(t.ID, t.Expires, r.now()) {
		return errAlreadyUsed()
	}
	if r.deps.Tokens == nil {
		return nil
	}
	first, err := r.deps.Tokens.UseToken(context.WithoutCancel(ctx), t.ID, t.Expires)
	if err != nil {
		// Refusing would cost the restart a full disk may call for; this
		// process keeps refusing replays on its own.
		r.log.Error("cannot record a used button; replays are refused only until deckhand restarts", "err", err)
		return nil
	}
	if !first {
		return errAlreadyUsed()
	}
	return nil
}

func errAlreadyUsed() error {
	return fail("denied", fmt.Errorf("button: %w", deckhand.ErrAlreadyUsed),
		"This button was already used, and deckhand acts once per button. Run the command again to repeat it.")
}
