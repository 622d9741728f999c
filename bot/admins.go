package bot

import (
	"context"
	"log/slog"

	"github.com/deckhand/deckhand"
)

// Enqueuer adds notices to the outbox (*store.Store satisfies it).
type Enqueuer interface {
	Enqueue(ctx context.Context, items ...deckhand.OutboxItem) error
}

// TellAdmins returns a Health.OnChange callback that tells the admins on
// the other platforms when a platform's problem starts: a system notice
// (deckhand.NoticeSystem, the problem's text) is enqueued for every
// platform in platforms but the failing one, where alerts go, and kick
// wakes the dispatcher. Health calls it once per problem start, not per
// failed attempt; the end of a problem is not announced (the notices that
// waited arrive). Problems of deckhand itself (no platform) are left to
// their own reporters.
func TellAdmins(ob Enqueuer, platforms []string, kick func(), log *slog.Logger) func(Problem, bool) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func(p Problem, set bool) {
		if !set || p.Platform == "" {
			return
		}
		n := deckhand.Notice{Kind: deckhand.NoticeSystem, Text: p.Text, At: p.Since}
		var items []deckhand.OutboxItem
		for _, other := range platforms {
			if other != p.Platform {
				items = append(items, deckhand.OutboxItem{Platform: other, Notice: n})
			}
		}
		if len(items) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), bookkeepingTimeout)
		defer cancel()
		if err := ob.Enqueue(ctx, items...); err != nil {
			log.Error("telling the admins on the other platforms", "problem", p.Platform+"/"+p.Part, "err", err)
			return
		}
		if kick != nil {
			kick()
		}
	}
}
