package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/deckhand/deckhand"
)

// ArgKind is what an argument names; adapters use it for option types and
// autocompletion.
type ArgKind string

const (
	ArgHost      ArgKind = "host"
	ArgContainer ArgKind = "container"
	ArgProject   ArgKind = "project"
	ArgInt       ArgKind = "int"
	ArgDuration  ArgKind = "duration"
	ArgText      ArgKind = "text" // free text; as the last argument it takes the rest of the line
	ArgAlert     ArgKind = "alert"
)

// ArgSpec describes one positional argument.
type ArgSpec struct {
	Name        string
	Description string
	Required    bool
	Kind        ArgKind
}

// Spec describes one command for registration (Discord application
// commands, Telegram setMyCommands) and for /help.
type Spec struct {
	Name        string // e.g. "restart-project"
	Description string // ≤ 100 characters (Discord's limit)
	Args        []ArgSpec
	MinRole     deckhand.Role
	Action      deckhand.Action

	run func(r *Router, ctx context.Context, c *call, args []string) (Reply, error)
}

// TelegramName is the name with '-' replaced by '_', since Telegram command
// names allow only lowercase letters, digits and underscores. Handle
// accepts both spellings.
func (s Spec) TelegramName() string { return strings.ReplaceAll(s.Name, "-", "_") }

// Usage is the one-line syntax, e.g. "/logs <host> <container> [lines]".
func (s Spec) Usage() string {
	var b strings.Builder
	b.WriteString("/" + s.Name)
	for _, a := range s.Args {
		if a.Required {
			fmt.Fprintf(&b, " <%s>", a.Name)
		} else {
			fmt.Fprintf(&b, " [%s]", a.Name)
		}
	}
	return b.String()
}

const (
	maxArgs     = 16
	maxArgBytes = 2048 // one argument; the announcement text is the longest
)

// checkArgs validates the count and size of arguments and folds trailing
// words into a final text argument.
func (s *Spec) checkArgs(in []string) ([]string, error) {
	if len(in) > maxArgs {
		return nil, invalid("Too many arguments. Usage: `%s`", s.Usage())
	}
	for _, a := range in {
		if len(a) > maxArgBytes {
			return nil, invalid("An argument is too long (%d bytes, at most %d).", len(a), maxArgBytes)
		}
	}
	required := 0
	for _, a := range s.Args {
		if a.Required {
			required++
		}
	}
	args := in
	if n := len(s.Args); n > 0 && s.Args[n-1].Kind == ArgText && len(in) > n {
		args = append(append([]string(nil), in[:n-1]...), strings.Join(in[n-1:], " "))
		if len(args[n-1]) > maxArgBytes {
			return nil, invalid("The text is too long (at most %d bytes).", maxArgBytes)
		}
	}
	if len(args) < required {
		return nil, invalid("Missing argument. Usage: `%s`", s.Usage())
	}
	if len(args) > len(s.Args) {
		return nil, invalid("Too many arguments. Usage: `%s`", s.Usage())
	}
	for i, a := range args {
		if a == "" && s.Args[i].Required {
			return nil, invalid("Empty %s. Usage: `%s`", s.Args[i].Name, s.Usage())
		}
	}
	return args, nil
}

func (r *Router) buildSpecs() []Spec {
	host := ArgSpec{Name: "host", Description: "Docker host", Required: true, Kind: ArgHost}
	optHost := ArgSpec{Name: "host", Description: "only this host", Kind: ArgHost}
	ctr := ArgSpec{Name: "container", Description: "container name or ID prefix", Required: true, Kind: ArgContainer}
	all := []Spec{
		{Name: "status", Description: "Overview of hosts and containers that need attention", Args: []ArgSpec{optHost}, Action: deckhand.ActionStatus, run: (*Router).cmdStatus},
		{Name: "hosts", Description: "List Docker hosts and their state", Action: deckhand.ActionHosts, run: (*Router).cmdHosts},
		{Name: "containers", Description: "List containers on a host", Args: []ArgSpec{host, {Name: "project", Description: "only this compose project", Kind: ArgProject}}, Action: deckhand.ActionContainers, run: (*Router).cmdContainers},
		{Name: "logs", Description: "Last log lines of a container", Args: []ArgSpec{host, ctr, {Name: "lines", Description: fmt.Sprintf("how many lines (default %d, max %d)", r.cfg.LogTail, MaxLogTail), Kind: ArgInt}}, Action: deckhand.ActionLogs, run: (*Router).cmdLogs},
		{Name: "inspect", Description: "Container details (secrets redacted)", Args: []ArgSpec{host, ctr}, Action: deckhand.ActionInspect, run: (*Router).cmdInspect},
		{Name: "stats", Description: "CPU and memory use of containers on a host", Args: []ArgSpec{host}, Action: deckhand.ActionStats, run: (*Router).cmdStats},
		{Name: "start", Description: "Start a container", Args: []ArgSpec{host, ctr}, Action: deckhand.ActionStart, run: (*Router).cmdContainerAction},
		{Name: "stop", Description: "Stop a container", Args: []ArgSpec{host, ctr}, Action: deckhand.ActionStop, run: (*Router).cmdContainerAction},
		{Name: "restart", Description: "Restart a container", Args: []ArgSpec{host, ctr}, Action: deckhand.ActionRestart, run: (*Router).cmdContainerAction},
		{Name: "restart-project", Description: "Restart every container of a compose project", Args: []ArgSpec{host, {Name: "project", Description: "compose project", Required: true, Kind: ArgProject}}, Action: deckhand.ActionRestartProject, run: (*Router).cmdRestartProject},
		{Name: "remove", Description: "Remove a container (asks for confirmation)", Args: []ArgSpec{host, ctr}, Action: deckhand.ActionRemove, run: (*Router).cmdConfirm},
		{Name: "redeploy", Description: "Pull and recreate a container (asks for confirmation)", Args: []ArgSpec{host, ctr}, Action: deckhand.ActionRedeploy, run: (*Router).cmdConfirm},
	}
	if r.deps.Alerts != nil {
		all = append(all,
			Spec{Name: "alerts", Description: "Active alerts", Args: []ArgSpec{optHost}, Action: deckhand.ActionAlerts, run: (*Router).cmdAlerts},
			Spec{Name: "ack", Description: "Acknowledge an alert: no more reminders", Args: []ArgSpec{{Name: "id", Description: "alert number", Required: true, Kind: ArgAlert}}, Action: deckhand.ActionAck, run: (*Router).cmdAck},
			Spec{Name: "silence", Description: "Silence alerts for a host, host/container or project:<name>", Args: []ArgSpec{
				{Name: "target", Description: "host, host/container or project:name", Required: true, Kind: ArgText},
				{Name: "duration", Description: "e.g. 30m, 2h, 1d (max 30d)", Required: true, Kind: ArgDuration},
				{Name: "reason", Description: "why", Kind: ArgText},
			}, Action: deckhand.ActionSilence, run: (*Router).cmdSilence},
		)
	}
	if r.deps.Hosts != nil {
		all = append(all,
			Spec{Name: "enable-host", Description: "Resume collecting a host", Args: []ArgSpec{host}, Action: deckhand.ActionEnableHost, run: (*Router).cmdEnableHost},
			Spec{Name: "disable-host", Description: "Stop collecting a host (maintenance)", Args: []ArgSpec{host}, Action: deckhand.ActionDisableHost, run: (*Router).cmdEnableHost},
		)
	}
	if r.deps.Announcer != nil {
		all = append(all, Spec{Name: "announce", Description: "Post an announcement on the status page (Markdown)", Args: []ArgSpec{{Name: "text", Description: "Markdown text; the first line is the title", Required: true, Kind: ArgText}}, Action: deckhand.ActionAnnounce, run: (*Router).cmdAnnounce})
	}
	all = append(all, Spec{Name: "help", Description: "What you can do here", Action: deckhand.ActionHelp, run: (*Router).cmdHelp})
	for i := range all {
		all[i].MinRole = all[i].Action.MinRole()
	}
	return all
}

// Commands lists every command the router serves, for the adapters to
// register. /help shows each actor only what their role allows.
func (r *Router) Commands() []Spec {
	out := make([]Spec, len(r.specs))
	copy(out, r.specs)
	for i := range out {
		out[i].Args = append([]ArgSpec(nil), out[i].Args...)
		out[i].run = nil
	}
	return out
}

func (r *Router) cmdHelp(ctx context.Context, c *call, _ []string) (Reply, error) {
	l := newLines("**deckhand commands** (role: " + c.actor.Role.String() + ")")
	for _, s := range r.specs {
		if r.Allowed(c.actor, s.Action) {
			l.add(fmt.Sprintf("`%s` — %s", s.Usage(), s.Description))
		}
	}
	if len(c.actor.Hosts) > 0 {
		l.add("Hosts you can reach: " + trimList(c.actor.Hosts, 20, ", "))
	}
	return Reply{Text: l.String(), Ephemeral: true}, nil
}
