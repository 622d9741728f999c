package deckhand

import (
	"fmt"
	"strings"
	"time"
)

// Role is a chat user's permission level. The zero value is no role.
type Role int

const (
	RoleNone Role = iota
	RoleViewer
	RoleOperator
	RoleAdmin
)

func (r Role) String() string {
	switch r {
	case RoleViewer:
		return "viewer"
	case RoleOperator:
		return "operator"
	case RoleAdmin:
		return "admin"
	}
	return "none"
}

// ParseRole reads "viewer", "operator" or "admin".
func ParseRole(s string) (Role, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "viewer":
		return RoleViewer, nil
	case "operator":
		return RoleOperator, nil
	case "admin":
		return RoleAdmin, nil
	}
	return RoleNone, fmt.Errorf("unknown role %q (want viewer, operator or admin): %w", s, ErrInvalidInput)
}

// Action is one entry of the closed whitelist of things a chat user can do.
type Action string

const (
	ActionStatus         Action = "status"
	ActionHosts          Action = "hosts"
	ActionContainers     Action = "containers"
	ActionAlerts         Action = "alerts"
	ActionLogs           Action = "logs"
	ActionInspect        Action = "inspect"
	ActionStats          Action = "stats"
	ActionHelp           Action = "help"
	ActionStart          Action = "start"
	ActionStop           Action = "stop"
	ActionRestart        Action = "restart"
	ActionRestartProject Action = "restart-project"
	ActionAck            Action = "ack"
	ActionSilence        Action = "silence"
	ActionRemove         Action = "remove"
	ActionRedeploy       Action = "redeploy"
	ActionEnableHost     Action = "enable-host"
	ActionDisableHost    Action = "disable-host"
	ActionAnnounce       Action = "announce"
)

var minRoles = map[Action]Role{
	ActionStatus: RoleViewer, ActionHosts: RoleViewer, ActionContainers: RoleViewer,
	ActionAlerts: RoleViewer, ActionLogs: RoleViewer, ActionInspect: RoleViewer,
	ActionStats: RoleViewer, ActionHelp: RoleViewer,
	ActionStart: RoleOperator, ActionStop: RoleOperator, ActionRestart: RoleOperator,
	ActionRestartProject: RoleOperator, ActionAck: RoleOperator, ActionSilence: RoleOperator,
	ActionRemove: RoleAdmin, ActionRedeploy: RoleAdmin, ActionEnableHost: RoleAdmin,
	ActionDisableHost: RoleAdmin, ActionAnnounce: RoleAdmin,
}

// Actions lists the whole whitelist in a stable order.
func Actions() []Action {
	return []Action{
		ActionStatus, ActionHosts, ActionContainers, ActionAlerts, ActionLogs, ActionInspect,
		ActionStats, ActionHelp, ActionStart, ActionStop, ActionRestart, ActionRestartProject,
		ActionAck, ActionSilence, ActionRemove, ActionRedeploy, ActionEnableHost,
		ActionDisableHost, ActionAnnounce,
	}
}

// Known reports whether the action is in the whitelist.
func (a Action) Known() bool { _, ok := minRoles[a]; return ok }

// MinRole is the least role allowed to perform the action; RoleAdmin+1 (never
// satisfied) for anything outside the whitelist.
func (a Action) MinRole() Role {
	if r, ok := minRoles[a]; ok {
		return r
	}
	return RoleAdmin + 1
}

// Mutating reports whether the action changes something on a host.
func (a Action) Mutating() bool {
	switch a {
	case ActionStart, ActionStop, ActionRestart, ActionRestartProject, ActionRemove, ActionRedeploy:
		return true
	}
	return false
}

// NeedsConfirmation reports whether the action asks for a confirmation first.
func (a Action) NeedsConfirmation() bool { return a == ActionRemove || a == ActionRedeploy }

// Actor is who asked for something.
type Actor struct {
	Platform string // "discord", "telegram", "ntfy", "cli"
	UserID   string
	Name     string
	Role     Role
	Hosts    []string // when non-empty, the role binding is scoped to these hosts
}

// String names the actor for audit lines and messages.
func (a Actor) String() string {
	if a.Name != "" {
		return a.Platform + ":" + a.Name
	}
	return a.Platform + ":" + a.UserID
}

// CanReach reports whether the actor's role binding covers the host.
func (a Actor) CanReach(host string) bool {
	if len(a.Hosts) == 0 {
		return true
	}
	for _, h := range a.Hosts {
		if h == host {
			return true
		}
	}
	return false
}

// AuditEntry records one attempted action, allowed or not.
type AuditEntry struct {
	ID       int64
	At       time.Time
	Actor    Actor
	Action   Action
	Host     string
	Target   string
	Result   string // "ok", "denied", "error", "cancelled", "pending_confirmation"
	Detail   string
	Duration time.Duration
}
