package main

import (
	"context"
	"fmt"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/collector"
	"github.com/deckhand/deckhand/commands"
)

// dockerActions gives the router the collector's actions with the router's
// Stat type.
type dockerActions struct{ *collector.Collector }

func (a dockerActions) Stats(ctx context.Context, host string) ([]commands.Stat, error) {
	st, err := a.Collector.Stats(ctx, host)
	if err != nil {
		return nil, err
	}
	out := make([]commands.Stat, len(st))
	for i, s := range st {
		out[i] = commands.Stat{Name: s.Name, CPUPercent: s.CPUPercent, MemUsage: s.MemUsage, MemLimit: s.MemLimit,
			MemPercent: s.MemPercent, PIDs: s.PIDs}
	}
	return out, nil
}

// routerActor runs the monitor's automatic actions.
//
// TODO(intents): through the router's Act (lock, role, audit, refresh),
// once it exists; until then the collector's restart plus an audit line,
// as before the monitor package.
type routerActor struct{ d *daemon }

func (a routerActor) Act(ctx context.Context, actor deckhand.Actor, action deckhand.Action, host, container string) error {
	if action != deckhand.ActionRestart {
		return fmt.Errorf("automatic %s: %w", action, deckhand.ErrNotWhitelisted)
	}
	start := time.Now()
	err := a.d.coll.Restart(ctx, host, container)
	result, detail := "ok", "automatic restart"
	if err != nil {
		result, detail = "error", err.Error()
	}
	_ = a.d.store.AddAudit(ctx, deckhand.AuditEntry{At: start, Actor: actor, Action: action, Host: host,
		Target: container, Result: result, Detail: detail, Duration: time.Since(start)})
	return err
}

// kicker wakes the outbox's delivery workers, when there are any.
type kicker struct{ d *daemon }

func (k kicker) Kick() {
	if k.d.disp != nil {
		k.d.disp.Kick()
	}
}
