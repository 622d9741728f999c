package alerts

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/deckhand/deckhand"
)

// restartTimeout is how long an emitted restart order may stay without a
// RestartDone before the engine assumes it was lost and may order again.
const restartTimeout = 2 * time.Minute

// Input is what one evaluation looks at.
type Input struct {
	Now time.Time
	// Snapshots holds the latest snapshot of each host. Alerts of a host
	// without a snapshot here are left as they are.
	Snapshots []deckhand.Snapshot
	// Active holds the current pending, open and acked alerts from the store.
	Active []deckhand.Alert
	// Silences may include expired ones: Silence.Matches decides.
	Silences []deckhand.Silence
	// Recent optionally holds alerts closed within the last Cooldown. The
	// engine remembers the ones it closed itself; passing them from the
	// store lets a flap right after deckhand restarts re-open the same alert.
	Recent []deckhand.Alert
	// Intents holds the deliberate actions through deckhand (the store's
	// intents): a container one explains raises no alert (see intents.go).
	Intents []deckhand.Intent
}

// Result is what the caller must persist and do, in one transaction for
// Changed and Notices.
type Result struct {
	// Changed holds new (ID 0) or modified alerts, a closed one included.
	// A notice about a new alert carries ID 0 too: the store sets it to the
	// ID it assigns to the alert of the same key in the same transaction.
	// An alert may come back from closed to pending or open with its ID
	// kept: the same story re-opened within Cooldown.
	Changed  []deckhand.Alert
	Notices  []deckhand.Notice
	Restarts []RestartOrder // automatic restarts to perform now
	// Wake is the earliest moment after Now at which evaluating again could
	// change something without a new snapshot: a grace, recovery hold,
	// cooldown, reminder, silence, maintenance window or auto-restart
	// backoff ending. Zero when nothing is due. Polling alone would act up
	// to one interval late.
	Wake time.Time
	// IntentsOver holds the intents whose container was seen in a state
	// they do not explain: delete each (store.DeleteIntent up to its At).
	IntentsOver []deckhand.Intent
}

// wakeAt moves Wake earlier to t when t is after now.
func (r *Result) wakeAt(t, now time.Time) {
	if t.After(now) && (r.Wake.IsZero() || t.Before(r.Wake)) {
		r.Wake = t
	}
}

// RestartOrder asks the caller to restart one container and to report the
// outcome with Engine.RestartDone.
type RestartOrder struct {
	Host        string
	Container   string
	ContainerID string
	Attempt     int // 1-based within the AutoRestart window
	AlertKey    deckhand.AlertKey
}

// Engine evaluates alert rules. It is safe for concurrent use.
type Engine struct {
	cfg     Config
	watch   deckhand.Watchlist
	windows []window

	mu         sync.Mutex
	containers map[string]map[string]*tracked       // host → container name → memory
	recent     map[deckhand.AlertKey]deckhand.Alert // closed within Cooldown
	last       map[deckhand.AlertKey]deckhand.Alert // latest view of each active alert
	recalled   map[[2]string][]time.Time            // host, container → auto-restarts before a restart of deckhand
	intents    intentBook
}

// tracked is what the engine remembers about one monitored container between
// evaluations.
type tracked struct {
	id           string
	project      string
	public       bool
	desired      deckhand.ContainerState
	restartCount int
	restarts     []time.Time // restarts observed within RestartLoopWindow
	loopHeldTill time.Time   // no restart history for an active loop alert until then
	downSince    time.Time   // first seen down, for the first auto-restart
	attempts     []time.Time // auto-restarts within the AutoRestart window
	inflightAt   time.Time   // an order awaits RestartDone
	gaveUpAt     time.Time
}

type condition struct {
	// hold keeps the alert exactly as stored: there is not enough evidence
	// either way (memory lost when deckhand restarted).
	hold     bool
	message  string
	severity deckhand.Severity
	grace    time.Duration
	project  string
	public   bool
	cond     deckhand.Condition
}

type restartCandidate struct {
	host string
	c    deckhand.Container
	t    *tracked
}

// hostScope says which alerts of a host this evaluation may change.
type hostScope int

const (
	scopeNone        hostScope = iota // no usable snapshot: hold everything
	scopeUnreachable                  // only the unreachable alert is known
	scopeHost                         // host reachable, Docker not: host alerts only
	scopeAll
)

func (s hostScope) covers(k deckhand.AlertKey) bool {
	switch s {
	case scopeAll:
		return true
	case scopeHost:
		return k.Container == ""
	case scopeUnreachable:
		return k.Kind == deckhand.AlertHostUnreachable
	}
	return false
}

// New validates cfg, applies the defaults and returns an engine.
func New(cfg Config) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	e := &Engine{
		cfg:        cfg,
		watch:      cfg.Watchlist(),
		containers: map[string]map[string]*tracked{},
		recent:     map[deckhand.AlertKey]deckhand.Alert{},
		last:       map[deckhand.AlertKey]deckhand.Alert{},
		recalled:   map[[2]string][]time.Time{},
	}
	for _, w := range cfg.Maintenance {
		s, err := cron.ParseStandard(w.Schedule)
		if err != nil { // Validate parsed it already
			return nil, fmt.Errorf("alerts: maintenance %q: %w", w.Name, err)
		}
		e.windows = append(e.windows, window{MaintenanceWindow: w, sched: s})
	}
	return e, nil
}

// Monitored reports whether deckhand alerts on the container (see
// deckhand.Watchlist.Watched).
func (e *Engine) Monitored(c deckhand.Container) bool { return e.watch.Watched(c) }

// Watchlist is the configured answer to which containers are watched and
// public, for the surfaces that must agree with the engine.
func (e *Engine) Watchlist() deckhand.Watchlist { return e.watch }

// InMaintenance reports whether a maintenance window covers the container
// (or the host, with an empty container) at now, and its name. The history
// recorder uses it to leave maintenance out of uptime.
func (e *Engine) InMaintenance(host, project, container string, now time.Time) (string, bool) {
	for _, w := range e.windows {
		if w.covers(host, project, container) && w.activeAt(now) {
			return w.Name, true
		}
	}
	return "", false
}

func (e *Engine) suppressed(a deckhand.Alert, now time.Time, silences []deckhand.Silence) bool {
	for _, s := range silences {
		if s.Matches(a, now) {
			return true
		}
	}
	_, in := e.InMaintenance(a.Key.Host, a.Project, a.Key.Container, now)
	return in
}

// Evaluate turns the snapshots and the active alerts into transitions.
//
// It is a function of the stored state: give it the alerts as stored after
// the previous Result was persisted, and serialize evaluate-then-persist
// (one goroutine), as two evaluations of the same stored state would both
// announce what they find new. Evaluated again with the persisted result
// and the same Now, or by a rebuilt Engine, it announces nothing twice.
func (e *Engine) Evaluate(in Input) Result {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := in.Now
	var res Result

	active := make(map[deckhand.AlertKey]deckhand.Alert, len(in.Active))
	for _, a := range in.Active {
		if !a.State.Active() {
			continue
		}
		prev, dup := active[a.Key]
		if !dup {
			active[a.Key] = a
			continue
		}
		// One story per key: keep the oldest, close the stray copy silently.
		keep, stray := prev, a
		if a.ID != 0 && (prev.ID == 0 || a.ID < prev.ID) {
			keep, stray = a, prev
		}
		active[a.Key] = keep
		stray.State, stray.ClosedAt = deckhand.AlertClosed, now
		res.Changed = append(res.Changed, stray)
	}
	for _, r := range in.Recent {
		if r.State != deckhand.AlertClosed || r.ClosedAt.IsZero() {
			continue
		}
		if cur, ok := e.recent[r.Key]; !ok || r.ClosedAt.After(cur.ClosedAt) {
			e.recent[r.Key] = r
		}
	}
	for k, r := range e.recent {
		if now.Sub(r.ClosedAt) >= e.cfg.Cooldown {
			delete(e.recent, k)
		}
	}

	clear(e.last)

	res.IntentsOver = e.judgeIntents(in)
	conds := map[deckhand.AlertKey]condition{}
	scopes := map[string]hostScope{}
	var candidates []restartCandidate
	for _, s := range in.Snapshots {
		host := s.Host.Name
		st := statusOf(s)
		switch {
		case st == deckhand.HostOK:
			scopes[host] = scopeAll
			candidates = e.containerConditions(s, now, active, conds, candidates)
		case st == deckhand.HostDaemonDown || st == deckhand.HostPermissionDenied || st == deckhand.HostDockerMissing:
			scopes[host] = scopeHost
			conds[deckhand.AlertKey{Host: host, Kind: deckhand.AlertDaemonDown}] = condition{
				message:  fmt.Sprintf("host %s: %s: %s", host, daemonProblem(st), hostCause(s, st)),
				severity: deckhand.SeverityCritical,
				grace:    e.cfg.HostGrace,
			}
		case st == deckhand.HostUnknown || st == deckhand.HostDisabled || st == deckhand.HostBadOutput:
			// Nothing reliable to say: a disabled host is intentional, and
			// unparseable output says nothing about the containers.
			scopes[host] = scopeNone
		default:
			scopes[host] = scopeUnreachable
			conds[deckhand.AlertKey{Host: host, Kind: deckhand.AlertHostUnreachable}] = condition{
				message:  fmt.Sprintf("host %s unreachable: %s", host, hostCause(s, st)),
				severity: deckhand.SeverityCritical,
				grace:    e.cfg.HostGrace,
			}
		}
	}

	keys := make([]deckhand.AlertKey, 0, len(conds)+len(active))
	for k := range conds {
		keys = append(keys, k)
	}
	for k := range active {
		if _, ok := conds[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, compareKeys)
	for _, k := range keys {
		a, has := active[k]
		if !scopes[k.Host].covers(k) {
			// Held: the host is out of reach, so its containers are
			// neither opened, reminded nor closed until it is back.
			if has {
				e.last[k] = a
			}
			continue
		}
		if has && e.closeIntended(&res, k, a, now) {
			continue
		}
		c, cond := conds[k]
		if c.hold {
			e.last[k] = a
			continue
		}
		e.step(&res, k, a, has, c, cond, now, in.Silences)
	}
	e.autoRestart(&res, candidates, now)
	return res
}

func compareKeys(a, b deckhand.AlertKey) int {
	return cmp.Or(cmp.Compare(a.Host, b.Host), cmp.Compare(a.Container, b.Container), cmp.Compare(a.Kind, b.Kind))
}

func statusOf(s deckhand.Snapshot) deckhand.HostStatus {
	st := s.Host.Status
	if s.Err != nil && (st == "" || st == deckhand.HostOK || st == deckhand.HostUnknown) {
		return deckhand.StatusOf(s.Err)
	}
	if s.Err == nil && (st == "" || st == deckhand.HostUnknown) {
		return deckhand.HostOK
	}
	return st
}

func daemonProblem(st deckhand.HostStatus) string {
	switch st {
	case deckhand.HostPermissionDenied:
		return "no permission on the docker socket"
	case deckhand.HostDockerMissing:
		return "docker cli not found"
	}
	return "docker daemon down"
}

func projectOf(c deckhand.Container) string {
	if c.ComposeProject != "" {
		return c.ComposeProject
	}
	return c.Labels[deckhand.LabelComposeProject]
}

// crashGraceApplies tells a crash (non-zero exit, dead) from a clean stop
// or a container created and not started, which compose recreates cause.
func crashGraceApplies(c deckhand.Container) bool {
	return (c.State == deckhand.StateExited && c.ExitCode != 0) || c.State == deckhand.StateDead
}

// containerConditions records the conditions of one healthy host's
// containers and updates the memory of them.
func (e *Engine) containerConditions(s deckhand.Snapshot, now time.Time, active map[deckhand.AlertKey]deckhand.Alert,
	conds map[deckhand.AlertKey]condition, candidates []restartCandidate) []restartCandidate {
	host := s.Host.Name
	mem := e.containers[host]
	if mem == nil {
		mem = map[string]*tracked{}
		e.containers[host] = mem
	}
	present := make(map[string]bool, len(s.Containers))
	for _, c := range s.Containers {
		if c.Host == "" {
			c.Host = host
		}
		present[c.Name] = true
		if !e.Monitored(c) || e.intended(host, c.Name) {
			delete(mem, c.Name)
			continue
		}
		key := func(kind deckhand.AlertKind) deckhand.AlertKey {
			return deckhand.AlertKey{Host: host, Container: c.Name, Kind: kind}
		}
		t, seen := mem[c.Name]
		if !seen {
			t = &tracked{}
			if at, ok := e.recalled[[2]string{host, c.Name}]; ok {
				t.attempts = at
				delete(e.recalled, [2]string{host, c.Name})
			}
			mem[c.Name] = t
		}
		e.observeRestarts(t, c, now)
		cond := deckhand.ConditionOf(c)
		t.project, t.desired, t.public = projectOf(c), c.Desired(), e.watch.Public(c)
		base := condition{severity: deckhand.SeverityError, project: t.project, public: t.public, cond: cond}
		switch cond {
		case deckhand.ConditionDown, deckhand.ConditionPaused:
			down := base
			down.message = fmt.Sprintf("%s/%s is down (%s)", host, c.Name, downReason(c))
			down.grace = e.cfg.DeployGrace
			if crashGraceApplies(c) {
				down.grace = e.cfg.CrashGrace
			}
			conds[key(deckhand.AlertContainerDown)] = down
		case deckhand.ConditionRunningUnwanted:
			unwanted := base
			unwanted.message = fmt.Sprintf("%s/%s is %s but should be stopped", host, c.Name, c.State)
			unwanted.grace = e.cfg.DeployGrace
			conds[key(deckhand.AlertContainerDown)] = unwanted
		case deckhand.ConditionUnhealthy:
			sick := base
			sick.message = host + "/" + c.Name + " is unhealthy"
			sick.severity, sick.grace = deckhand.SeverityWarning, e.cfg.UnhealthyGrace
			conds[key(deckhand.AlertUnhealthy)] = sick
		}
		if t.desired == deckhand.StateRunning {
			e.loopCondition(c, t, seen, base, key(deckhand.AlertRestartLoop), now, active, conds)
		}

		down := cond == deckhand.ConditionDown && c.State != deckhand.StateRemoving
		switch {
		case !down:
			t.downSince, t.gaveUpAt = time.Time{}, time.Time{}
		case t.downSince.IsZero():
			t.downSince = now
		}
		if down && c.AutoRestart() && !e.cfg.AutoRestart.Disabled {
			candidates = append(candidates, restartCandidate{host: host, c: c, t: t})
		}
	}

	missing := func(name, project string, public bool) {
		conds[deckhand.AlertKey{Host: host, Container: name, Kind: deckhand.AlertContainerDown}] = condition{
			message:  fmt.Sprintf("%s/%s is down (container missing)", host, name),
			severity: deckhand.SeverityError, grace: e.cfg.DeployGrace, project: project,
			public: public, cond: deckhand.ConditionGone,
		}
	}
	for name, t := range mem {
		if present[name] {
			continue
		}
		if t.desired != deckhand.StateRunning || e.intended(host, name) {
			delete(mem, name)
			continue
		}
		missing(name, t.project, t.public)
	}
	// After a restart of deckhand the memory is empty: an open down alert
	// of a container that is still absent stays down.
	for k, a := range active {
		if k.Host == host && k.Kind == deckhand.AlertContainerDown && !present[k.Container] && mem[k.Container] == nil && !e.intended(host, k.Container) {
			missing(k.Container, a.Project, a.Public)
		}
	}
	return candidates
}

// loopCondition records the restart-loop condition of a container that
// should run: seen restarting, or restarted RestartLoopCount times within
// RestartLoopWindow.
func (e *Engine) loopCondition(c deckhand.Container, t *tracked, seen bool, base condition, k deckhand.AlertKey,
	now time.Time, active map[deckhand.AlertKey]deckhand.Alert, conds map[deckhand.AlertKey]condition) {
	prev, loopActive := active[k]
	// A loop still pending (restarting seen, inside its grace) that Docker
	// healed is no loop: only an opened one goes on with a restart now
	// and then.
	opened := loopActive && prev.State != deckhand.AlertPending
	if !seen && loopActive {
		// Memory lost (deckhand restarted): hold the alert one window
		// rather than call it recovered, or remind about it, without
		// evidence.
		t.loopHeldTill = now.Add(e.cfg.RestartLoopWindow)
	}
	loop := base
	loop.cond = deckhand.ConditionRestarting
	n := len(t.restarts)
	switch {
	case base.cond == deckhand.ConditionRestarting:
		// Docker restarts it after a backoff of 100 ms, doubling while it
		// keeps crashing: one crash caught in between heals by itself and
		// is no outage. Still restarting after the deploy grace, it is
		// stuck in a growing backoff; crashing again and again, the
		// restart count below says so sooner.
		loop.message = fmt.Sprintf("%s/%s is in a restart loop (restarting, exit %d)", c.Host, c.Name, c.ExitCode)
		loop.grace = max(e.cfg.CrashGrace, e.cfg.DeployGrace)
	case n >= e.cfg.RestartLoopCount:
		loop.message = fmt.Sprintf("%s/%s is in a restart loop (%d+ restarts in %s)", c.Host, c.Name, n, deckhand.HumanDuration(e.cfg.RestartLoopWindow))
	case opened && n > 0:
		// Still restarting now and then: the loop goes on, under the
		// message it was raised with.
	case loopActive && now.Before(t.loopHeldTill):
		loop = condition{hold: true}
	default:
		return
	}
	conds[k] = loop
}

func (e *Engine) observeRestarts(t *tracked, c deckhand.Container, now time.Time) {
	switch {
	case t.id != c.ID:
		// A new container under this name: its count starts afresh.
		t.id, t.restarts = c.ID, nil
	case c.RestartCount > t.restartCount:
		for i := t.restartCount; i < c.RestartCount && i-t.restartCount < e.cfg.RestartLoopCount; i++ {
			t.restarts = append(t.restarts, now)
		}
	}
	t.restartCount = c.RestartCount
	keep := t.restarts[:0]
	for _, r := range t.restarts {
		if now.Sub(r) < e.cfg.RestartLoopWindow {
			keep = append(keep, r)
		}
	}
	if over := len(keep) - e.cfg.RestartLoopCount; over > 0 {
		keep = keep[over:]
	}
	t.restarts = keep
}

// step moves one alert through its life. Whether a notice is due is decided
// from the alert's persisted fields only, so that a second evaluation of the
// same input, or one by a rebuilt engine, does not notify again.
func (e *Engine) step(res *Result, k deckhand.AlertKey, a deckhand.Alert, has bool, c condition, cond bool,
	now time.Time, silences []deckhand.Silence) {
	before := a
	notify := func(kind deckhand.NoticeKind) {
		a.LastNotifiedAt = now
		a.Notifications++
		res.Notices = append(res.Notices, deckhand.Notice{Kind: kind, Alert: a, At: now})
	}
	switch {
	case cond:
		a.ClearedAt = time.Time{}
		if !has {
			if r, ok := e.recent[k]; ok && now.Sub(r.ClosedAt) < e.cfg.Cooldown {
				// The same story again: keep its ID and its notification
				// history so the cooldown counts from the recovered notice.
				a = r
				delete(e.recent, k)
				a.OpenedAt, a.AckedAt, a.ClosedAt, a.AckedBy, a.Suppressed = time.Time{}, time.Time{}, time.Time{}, "", false
			} else {
				a = deckhand.Alert{Key: k}
			}
			a.State, a.FirstSeenAt = deckhand.AlertPending, now
		}
		if c.message != "" {
			a.Message = c.message
		}
		a.Severity, a.Project = c.severity, c.project
		if k.Container != "" {
			a.Public, a.Condition = c.public, c.cond
		}
		if a.OpenedAt.IsZero() && now.Sub(a.FirstSeenAt) >= c.grace {
			a.OpenedAt = now
			if a.State == deckhand.AlertPending {
				a.State = deckhand.AlertOpen
			}
		}
		if !a.OpenedAt.IsZero() {
			a.Suppressed = e.suppressed(a, now, silences)
		}
		if a.State == deckhand.AlertOpen && !a.Suppressed {
			since := now.Sub(a.LastNotifiedAt)
			switch {
			case !notifiedOpening(a):
				if a.LastNotifiedAt.IsZero() || since >= e.cfg.Cooldown {
					notify(deckhand.NoticeOpened)
				}
			case e.cfg.Repeat > 0 && since >= max(e.cfg.Repeat, e.cfg.Cooldown):
				notify(deckhand.NoticeReminder)
			}
		}
	case !has:
		return
	case a.OpenedAt.IsZero():
		// Back within its grace: not an outage, nobody was told.
		a.State, a.ClosedAt = deckhand.AlertClosed, now
	default:
		// Persisted, so that the page can say "recovering" and a restarted
		// deckhand goes on with the same hold.
		if a.ClearedAt.IsZero() {
			a.ClearedAt = now
		}
		if now.Sub(a.ClearedAt) < e.cfg.RecoveryHold {
			break
		}
		a.State, a.ClosedAt = deckhand.AlertClosed, a.ClearedAt
		if notifiedOpening(a) {
			notify(deckhand.NoticeRecovered)
		}
	}
	if a.State == deckhand.AlertClosed {
		delete(e.last, k)
		e.recent[k] = a
	} else {
		e.last[k] = a
		e.wake(res, a, c.grace, cond, now, silences)
	}
	if !has || a != before {
		res.Changed = append(res.Changed, a)
	}
}

// wake records when an active alert is next due to change by time alone:
// the mirror of the decisions step takes.
func (e *Engine) wake(res *Result, a deckhand.Alert, grace time.Duration, cond bool, now time.Time, silences []deckhand.Silence) {
	switch {
	case !cond:
		res.wakeAt(a.ClearedAt.Add(e.cfg.RecoveryHold), now)
	case a.OpenedAt.IsZero():
		res.wakeAt(a.FirstSeenAt.Add(grace), now)
	case a.Suppressed:
		res.wakeAt(e.suppressedUntil(a, now, silences), now)
	case a.State != deckhand.AlertOpen:
		// Acked: no reminders.
	case !notifiedOpening(a):
		res.wakeAt(a.LastNotifiedAt.Add(e.cfg.Cooldown), now)
	case e.cfg.Repeat > 0:
		res.wakeAt(a.LastNotifiedAt.Add(max(e.cfg.Repeat, e.cfg.Cooldown)), now)
	}
}

// suppressedUntil is when the last silence or maintenance window covering
// the alert at now ends.
func (e *Engine) suppressedUntil(a deckhand.Alert, now time.Time, silences []deckhand.Silence) time.Time {
	var until time.Time
	later := func(t time.Time) {
		if t.After(until) {
			until = t
		}
	}
	for _, s := range silences {
		if s.Matches(a, now) {
			later(s.Until)
		}
	}
	for _, w := range e.windows {
		if w.covers(a.Key.Host, a.Project, a.Key.Container) && w.activeAt(now) {
			later(w.sched.Next(now.Add(-w.Duration)).Add(w.Duration))
		}
	}
	return until
}

// notifiedOpening reports whether the current opening of the alert was
// announced: a re-opened story's last notice predates its new OpenedAt.
func notifiedOpening(a deckhand.Alert) bool {
	return a.Notifications > 0 && !a.OpenedAt.IsZero() && !a.LastNotifiedAt.Before(a.OpenedAt)
}

// Ack marks an alert as being handled: no more reminders until it closes.
// Acking an acked alert changes nothing and announces nothing.
func (e *Engine) Ack(a deckhand.Alert, by string, now time.Time) (deckhand.Alert, *deckhand.Notice, error) {
	if !a.State.Active() {
		return a, nil, fmt.Errorf("ack %s: alert is %s: %w", subject(a.Key), a.State, deckhand.ErrInvalidInput)
	}
	if a.State == deckhand.AlertAcked {
		return a, nil, nil
	}
	a.State, a.AckedAt, a.AckedBy = deckhand.AlertAcked, now, by
	e.mu.Lock()
	e.last[a.Key] = a
	e.mu.Unlock()
	return a, &deckhand.Notice{Kind: deckhand.NoticeAcked, Alert: a, At: now}, nil
}
