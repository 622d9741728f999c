package monitor

import (
	"context"
	"fmt"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/alerts"
	"github.com/deckhand/deckhand/store"
)

// evaluate runs the alert engine on snaps (every host's latest when nil)
// and persists its transitions and notices in one transaction. The engine
// leaves the alerts of hosts it is not given as they are, so one host's
// collection evaluates that host alone.
func (m *Monitor) evaluate(ctx context.Context, snaps []deckhand.Snapshot) {
	m.evalMu.Lock()
	defer m.evalMu.Unlock()
	if snaps == nil {
		snaps = m.snapshots()
	}
	now := m.now()
	active, err := m.st.ActiveAlerts(ctx)
	if err != nil {
		m.logErr(ctx, "read alerts", err)
		return
	}
	silences, err := m.st.ActiveSilences(ctx, now)
	if err != nil {
		m.logErr(ctx, "read silences", err)
		return
	}
	recent, _ := m.st.RecentAlerts(ctx, now.Add(-m.eng.Cooldown()), 200)
	intents, err := m.st.Intents(ctx)
	if err != nil {
		m.logErr(ctx, "read intents", err)
		return
	}
	res := m.eng.Evaluate(alerts.Input{Now: now, Snapshots: snaps, Active: active, Silences: silences, Recent: recent, Intents: intents})
	for _, i := range res.IntentsOver {
		if err := m.st.DeleteIntent(ctx, i.Host, i.Container, i.At); err != nil {
			m.logErr(ctx, "forget intent", err)
		}
	}
	if len(res.Changed) > 0 || len(res.Notices) > 0 {
		if err := m.st.ApplyAlerts(ctx, res.Changed, res.Notices, m.cfg.Platforms); err != nil {
			m.logErr(ctx, "save alerts", err)
			return
		}
		for _, n := range res.Notices {
			m.log.Info("alert", "kind", n.Kind, "host", n.Alert.Key.Host, "container", n.Alert.Key.Container,
				"alert", n.Alert.Key.Kind, "message", n.Alert.Message, "hop", "alert_stored")
		}
		m.kickOutbox()
		m.pageChanged()
	}
	m.wakeAt(res)
	for _, o := range res.Restarts {
		go m.autoRestart(context.WithoutCancel(ctx), o)
	}
}

// logErr logs a failed read or write at ERROR. A database that cannot be
// written fails every poll of every host: that is said once a minute per
// kind of write, with how many were not logged (the backlog and /healthz
// say the rest), instead of a line per poll.
func (m *Monitor) logErr(ctx context.Context, what string, err error, attrs ...any) {
	if ctx.Err() != nil {
		return
	}
	if _, full := store.CannotWrite(err); full {
		ok, n := m.writeErrs.Allow(what, time.Now())
		if !ok {
			return
		}
		attrs = append(attrs, "not_logged_since_last", n)
	}
	m.log.Error(what, append(attrs, "err", err)...)
}

func (m *Monitor) kickOutbox() {
	if m.kick != nil {
		m.kick.Kick()
	}
}

// wakeAt hands the engine's next deadline (a grace, a recovery hold or a
// cooldown that ends between polls) to the wake worker.
func (m *Monitor) wakeAt(res alerts.Result) {
	at := resultWake(res)
	if at.IsZero() {
		return
	}
	select {
	case m.wake <- at:
	default:
		// A deadline is waiting to be taken: keep the earlier of the two.
		select {
		case prev := <-m.wake:
			if prev.Before(at) {
				at = prev
			}
		default:
		}
		select {
		case m.wake <- at:
		default:
		}
	}
}

// wakeWorker evaluates every host when the earliest deadline the engine
// named is reached, so that nothing waits for the next poll.
func (m *Monitor) wakeWorker(ctx context.Context) {
	var next time.Time
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case at := <-m.wake:
			if !next.IsZero() && !at.Before(next) {
				continue
			}
			next = at
			timer.Reset(max(at.Sub(m.now()), 0))
		case <-timer.C:
			next = time.Time{}
			m.evaluate(ctx, nil)
		}
	}
}

// autoRestartActor is who the audit log says did an automatic restart.
var autoRestartActor = deckhand.Actor{Platform: "deckhand", UserID: "auto_restart", Name: "auto-restart", Role: deckhand.RoleOperator}

// AutoRestartActor is the actor of automatic restarts, for wiring.
func AutoRestartActor() deckhand.Actor { return autoRestartActor }

// recallAutoRestarts hands the engine the automatic restarts of its window
// from the audit log, so that their limit survives a restart of deckhand.
func (m *Monitor) recallAutoRestarts(ctx context.Context) error {
	entries, err := m.st.AuditBy(ctx, autoRestartActor.Platform, autoRestartActor.UserID, m.now().Add(-m.eng.AutoRestartWindow()))
	if err != nil {
		return err
	}
	byContainer := map[[2]string][]time.Time{}
	for _, e := range entries {
		k := [2]string{e.Host, e.Target}
		byContainer[k] = append(byContainer[k], e.At)
	}
	for k, at := range byContainer {
		m.eng.RecallAutoRestarts(k[0], k[1], at)
	}
	return nil
}

// autoRestart performs one bounded automatic restart through the same
// action path as a chat /restart (lock, audit, refresh) and announces it
// in the alert.
func (m *Monitor) autoRestart(ctx context.Context, o alerts.RestartOrder) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var err error
	if m.actor == nil {
		err = fmt.Errorf("automatic restart: no action path wired: %w", deckhand.ErrInvalidInput)
	} else {
		target := o.ContainerID
		if target == "" {
			target = o.Container
		}
		err = m.actor.Act(ctx, autoRestartActor, deckhand.ActionRestart, o.Host, target)
	}
	m.log.Info("auto-restart", "host", o.Host, "container", o.Container, "attempt", o.Attempt, "err", err)
	m.evalMu.Lock()
	n := m.eng.RestartDone(o, err, m.now())
	if n != nil {
		if active, aerr := m.st.ActiveAlerts(ctx); aerr == nil {
			for _, a := range active {
				if a.Key == n.Alert.Key {
					n.Alert = a
				}
			}
		}
		if err := m.st.ApplyAlerts(ctx, nil, []deckhand.Notice{*n}, m.cfg.Platforms); err != nil {
			m.log.Error("save auto-restart notice", "err", err)
		}
	}
	m.evalMu.Unlock()
	m.kickOutbox()
	m.Refresh(ctx, o.Host)
}
