package main

import (
	"context"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/bot"
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

// routerActor runs the monitor's automatic actions through the router,
// which is built after the monitor (it needs the monitor for acks).
type routerActor struct{ d *daemon }

func (a routerActor) Act(ctx context.Context, actor deckhand.Actor, action deckhand.Action, host, container string) error {
	return a.d.router.Act(ctx, actor, action, host, container)
}

// kicker wakes the outbox's delivery workers, when there are any.
type kicker struct{ d *daemon }

func (k kicker) Kick() {
	if k.d.disp != nil {
		k.d.disp.Kick()
	}
}

// commandsConfig is the router's config: the file's [commands] plus the
// engine's watchlist, so that /status watches what the alerts watch.
func (d *daemon) commandsConfig() commands.Config {
	c := d.cfg.commandsConfig(d.cfg.buttonSecret(d.log, d.withBots))
	c.Watch = d.engine.Watchlist()
	return c
}

// healthLines gives the router bot.Health's problems as /status lines.
type healthLines struct{ h *bot.Health }

func (l healthLines) ProblemLines() []string {
	var out []string
	for _, p := range l.h.Problems() {
		who := p.Platform
		if who == "" {
			who = "deckhand"
		}
		out = append(out, who+" "+p.Part+": "+p.Text)
	}
	return out
}
