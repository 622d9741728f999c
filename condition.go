package deckhand

// Condition is what a container's state means against what it should be.
// ConditionOf is the one place that decides it: the alerts engine, the
// status page, badges, /status and availability sampling all ask it.
type Condition string

const (
	ConditionUp              Condition = "up"               // running, not unhealthy (a starting healthcheck counts as up)
	ConditionUnhealthy       Condition = "unhealthy"        // running, healthcheck failing
	ConditionRestarting      Condition = "restarting"       // Docker is restarting it after an exit
	ConditionPaused          Condition = "paused"           // paused although it should run
	ConditionDown            Condition = "down"             // exited, dead, created, being removed: should run
	ConditionStopped         Condition = "stopped"          // not running, as homelab.desired=stopped asks
	ConditionRunningUnwanted Condition = "running_unwanted" // running (or paused, restarting) although it should be stopped
	// ConditionGone is a watched container missing from its host's
	// snapshot. ConditionOf never returns it: only what remembers the
	// container (the alerts engine) can tell it is gone.
	ConditionGone Condition = "gone"
)

// ConditionOf decides the condition of a container from one snapshot of it.
func ConditionOf(c Container) Condition {
	if c.Desired() == StateExited {
		switch c.State {
		case StateRunning, StateRestarting, StatePaused:
			return ConditionRunningUnwanted
		}
		return ConditionStopped
	}
	switch c.State {
	case StateRunning:
		if c.Health == HealthUnhealthy {
			return ConditionUnhealthy
		}
		return ConditionUp
	case StateRestarting:
		return ConditionRestarting
	case StatePaused:
		return ConditionPaused
	}
	return ConditionDown
}

// AsDesired reports whether the container is exactly as it should be.
func (k Condition) AsDesired() bool { return k == ConditionUp || k == ConditionStopped }

// Available reports whether the container counts as up in availability
// history: its users are not cut off. A container running although it
// should be stopped is a problem to look at, not an outage.
func (k Condition) Available() bool {
	return k == ConditionUp || k == ConditionStopped || k == ConditionRunningUnwanted
}

// Verdict is what the public is told about a container: the status page's
// rows, its JSON, badges and /status all use this vocabulary.
type Verdict string

const (
	VerdictUp          Verdict = "up"
	VerdictDegraded    Verdict = "degraded"   // running but not right (unhealthy, paused, should be stopped), or an incident still on
	VerdictDown        Verdict = "down"       // should run and does not
	VerdictRecovering  Verdict = "recovering" // back, inside the recovery hold of its incident
	VerdictStopped     Verdict = "stopped"    // stopped on purpose (homelab.desired=stopped)
	VerdictMaintenance Verdict = "maintenance"
	VerdictUnknown     Verdict = "unknown"  // its host is unreachable or disabled: the last state is stale
	VerdictChecking    Verdict = "checking" // its host has not been collected yet
)

// ContainerVerdict decides the public status of one container from its
// host's status, its condition, its active alerts and whether a
// maintenance window covers it. An incident whose condition went away but
// whose recovery hold runs makes a container that looks fine "recovering";
// an incident the engine still holds open (a restart loop between two
// restarts) keeps it "degraded". Pending alerts change nothing: inside its
// grace a problem is no incident.
func ContainerVerdict(host HostStatus, cond Condition, alerts []Alert, maintenance bool) Verdict {
	switch {
	case host == HostUnknown || host == "":
		return VerdictChecking
	case host != HostOK:
		return VerdictUnknown
	case maintenance:
		return VerdictMaintenance
	}
	switch cond {
	case ConditionDown, ConditionRestarting, ConditionGone:
		return VerdictDown
	case ConditionUnhealthy, ConditionPaused, ConditionRunningUnwanted:
		return VerdictDegraded
	}
	recovering := false
	for _, a := range alerts {
		if !a.State.Active() || !a.Incident() {
			continue
		}
		if !a.Recovering() {
			return VerdictDegraded
		}
		recovering = true
	}
	switch {
	case recovering:
		return VerdictRecovering
	case cond == ConditionStopped:
		return VerdictStopped
	}
	return VerdictUp
}
