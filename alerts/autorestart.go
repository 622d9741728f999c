package alerts

import (
	"time"

	"github.com/deckhand/deckhand"
)

// autoRestart orders bounded restarts of the down containers that ask for
// them. It does not wait for the alert's grace: a crash restarts now.
func (e *Engine) autoRestart(res *Result, candidates []restartCandidate, now time.Time) {
	cfg := e.cfg.AutoRestart
	for _, cand := range candidates {
		t, c := cand.t, cand.c
		// The nightly update run stops containers on purpose.
		if _, in := e.InMaintenance(cand.host, t.project, c.Name, now); in {
			continue
		}
		if !t.inflightAt.IsZero() && now.Sub(t.inflightAt) < restartTimeout {
			continue
		}
		t.inflightAt = time.Time{}
		if !t.gaveUpAt.IsZero() {
			// Given up: quiet until the container comes back by other
			// means or a whole window has passed, then a fresh round.
			if now.Sub(t.gaveUpAt) < cfg.Window {
				continue
			}
			t.gaveUpAt, t.attempts = time.Time{}, nil
		}
		keep := t.attempts[:0]
		for _, at := range t.attempts {
			if now.Sub(at) < cfg.Window {
				keep = append(keep, at)
			}
		}
		t.attempts = keep
		key := deckhand.AlertKey{Host: cand.host, Container: c.Name, Kind: deckhand.AlertContainerDown}
		n := len(t.attempts)
		if n >= cfg.Max {
			t.gaveUpAt = now
			if a := e.alertFor(key, t.project); !a.Suppressed {
				res.Notices = append(res.Notices, deckhand.Notice{
					Kind: deckhand.NoticeAutoRestart, Alert: a, At: now,
					Restart: &deckhand.RestartReport{Attempt: n, Max: cfg.Max, Window: cfg.Window, GaveUp: true},
				})
			}
			continue
		}
		ref := t.downSince
		if n > 0 && t.attempts[n-1].After(ref) {
			ref = t.attempts[n-1]
		}
		if wait := cfg.Backoff[min(n, len(cfg.Backoff)-1)]; now.Sub(ref) < wait {
			res.wakeAt(ref.Add(wait), now)
			continue
		}
		if n+1 < cfg.Max {
			res.wakeAt(now.Add(cfg.Backoff[min(n+1, len(cfg.Backoff)-1)]), now)
		}
		t.attempts = append(t.attempts, now)
		t.inflightAt = now
		res.Restarts = append(res.Restarts, RestartOrder{
			Host: cand.host, Container: c.Name, ContainerID: c.ID, Attempt: n + 1, AlertKey: key,
		})
	}
}

// RecallAutoRestarts gives back, after deckhand restarted, when it last
// restarted a container automatically (from the audit log), so that the
// limit of AutoRestart.Max per AutoRestart.Window holds across restarts
// of deckhand. Call it before the first Evaluate; times outside the window
// are ignored when it matters.
func (e *Engine) RecallAutoRestarts(host, container string, at []time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.recalled[[2]string{host, container}] = append([]time.Time(nil), at...)
}

// AutoRestartWindow is the window AutoRestart.Max counts over.
func (e *Engine) AutoRestartWindow() time.Duration { return e.cfg.AutoRestart.Window }

// alertFor is the engine's latest view of an alert, or a stand-in carrying
// its key when it has none (the alert closed meanwhile, or never opened).
func (e *Engine) alertFor(k deckhand.AlertKey, project string) deckhand.Alert {
	if a, ok := e.last[k]; ok {
		return a
	}
	return deckhand.Alert{Key: k, Project: project, Severity: deckhand.SeverityError}
}

// RestartDone records the outcome of a RestartOrder and returns the notice
// announcing it in the alert's thread, or nil when the alert is silenced or
// in maintenance.
func (e *Engine) RestartDone(o RestartOrder, err error, now time.Time) *deckhand.Notice {
	e.mu.Lock()
	defer e.mu.Unlock()
	project := ""
	maxAttempts := e.cfg.AutoRestart.Max
	t := e.containers[o.Host][o.Container]
	if t != nil {
		t.inflightAt = time.Time{}
		project = t.project
		if err != nil && o.Attempt >= maxAttempts {
			t.gaveUpAt = now // said here; Evaluate must not say it again
		}
	}
	a := e.alertFor(o.AlertKey, project)
	if a.Suppressed {
		return nil
	}
	r := &deckhand.RestartReport{Attempt: o.Attempt, Max: maxAttempts, Window: e.cfg.AutoRestart.Window}
	if err != nil {
		r.Err, r.GaveUp = oneLine(err), o.Attempt >= maxAttempts
	}
	return &deckhand.Notice{Kind: deckhand.NoticeAutoRestart, Alert: a, At: now, Restart: r}
}
