package commands

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/deckhand/deckhand"
)

func hostIcon(h deckhand.Host) string {
	switch {
	case !h.Enabled:
		return "⏸️"
	case h.Status == deckhand.HostOK:
		return "🟢"
	case h.Status == deckhand.HostUnknown:
		return "⚪"
	default:
		return "🔴"
	}
}

func hostState(h deckhand.Host) string {
	if !h.Enabled {
		return "disabled"
	}
	s := string(h.Status)
	if h.LastError != "" && h.Status != deckhand.HostOK {
		s += ": " + truncate(sanitizeLine(h.LastError), 120)
	}
	return s
}

// attention is the verdict of a container that needs a look, or "" when it
// does not. Only watched containers count, as on the page and in alerts:
// homelabs keep stopped helper containers around on purpose. The verdict
// is the status page's, so /status and the page say the same.
func attention(h deckhand.Host, w deckhand.Watchlist, c deckhand.Container, alerts []deckhand.Alert) deckhand.Verdict {
	if !w.Watched(c) {
		return ""
	}
	switch v := deckhand.ContainerVerdict(h.Status, deckhand.ConditionOf(c), alerts, false); v {
	case deckhand.VerdictDown, deckhand.VerdictDegraded, deckhand.VerdictRecovering:
		return v
	}
	return ""
}

// activeByContainer groups the active alerts by host and container; nil
// without an alerts store, which leaves verdicts to the conditions.
func (r *Router) activeByContainer(ctx context.Context) (map[[2]string][]deckhand.Alert, error) {
	if r.deps.Alerts == nil {
		return nil, nil
	}
	list, err := r.deps.Alerts.ActiveAlerts(ctx)
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	out := map[[2]string][]deckhand.Alert{}
	for _, a := range list {
		if a.Key.Container != "" {
			k := [2]string{a.Key.Host, a.Key.Container}
			out[k] = append(out[k], a)
		}
	}
	return out, nil
}

func ctrLine(c deckhand.Container) string {
	s := fmt.Sprintf("`%s` %s", c.Name, c.State)
	if c.Health != "" && c.Health != deckhand.HealthNone {
		s += " (" + string(c.Health) + ")"
	}
	if c.Protected() {
		s += " 🔒"
	}
	return s
}

func (r *Router) reachableHosts(ctx context.Context, actor deckhand.Actor) ([]deckhand.Host, error) {
	hosts, err := r.deps.Inventory.Hosts(ctx)
	if err != nil {
		return nil, fmt.Errorf("list hosts: %w", err)
	}
	out := hosts[:0:0]
	for _, h := range hosts {
		if actor.CanReach(h.Name) {
			out = append(out, h)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (r *Router) cmdStatus(ctx context.Context, c *call, args []string) (Reply, error) {
	var hosts []deckhand.Host
	if len(args) > 0 {
		h, err := r.hostArg(ctx, c, args[0], false)
		if err != nil {
			return Reply{}, err
		}
		hosts = []deckhand.Host{h}
	} else {
		var err error
		if hosts, err = r.reachableHosts(ctx, c.actor); err != nil {
			return Reply{}, err
		}
	}
	if len(hosts) == 0 {
		return Reply{Text: "No hosts configured that you can see."}, nil
	}
	alerts, err := r.activeByContainer(ctx)
	if err != nil {
		return Reply{}, err
	}
	l := newLines("")
	r.selfProblems(l)
	var problems, stopped []string
	intents := r.intents(ctx)
	for _, h := range hosts {
		list, err := r.deps.Inventory.Containers(ctx, h.Name)
		if err != nil {
			return Reply{}, fmt.Errorf("list containers on %s: %w", h.Name, err)
		}
		running, unhealthy := 0, 0
		for _, ct := range list {
			if ct.Up() {
				running++
			}
			if ct.Health == deckhand.HealthUnhealthy {
				unhealthy++
			}
			if i, ok := intents[[2]string{h.Name, ct.Name}]; ok && i.Explains(ct, true) {
				stopped = append(stopped, fmt.Sprintf("⏹️ **%s**/%s · %s", h.Name, ctrLine(ct), display(i.Phrase())))
			} else if v := attention(h, r.cfg.Watch, ct, alerts[[2]string{h.Name, ct.Name}]); v != "" {
				problems = append(problems, fmt.Sprintf("%s **%s**/%s: %s", "⚠️", h.Name, ctrLine(ct), v))
			}
		}
		line := fmt.Sprintf("%s **%s** — %d/%d running", hostIcon(h), h.Name, running, len(list))
		if unhealthy > 0 {
			line += fmt.Sprintf(", %d unhealthy", unhealthy)
		}
		if h.Status != deckhand.HostOK || !h.Enabled {
			line += " · " + hostState(h)
			if !h.LastOKAt.IsZero() {
				line += ", last OK " + deckhand.HumanDuration(r.now().Sub(h.LastOKAt)) + " ago"
			}
		}
		l.add(line)
	}
	if len(problems) == 0 {
		l.add("All containers are as they should be.")
	} else {
		l.add("")
		l.add("**Needs attention:**")
		for _, p := range problems {
			l.add(p)
		}
	}
	if len(stopped) > 0 {
		l.add("")
		l.add("**Stopped on purpose:**")
		for _, s := range stopped {
			l.add(s)
		}
	}
	return Reply{Title: "deckhand status", Text: l.String()}, nil
}

// selfProblems puts what is wrong with deckhand itself first: it explains
// a bot that seems to ignore commands or a status that looks stale.
func (r *Router) selfProblems(l *lines) {
	if r.deps.Health == nil {
		return
	}
	ps := r.deps.Health.ProblemLines()
	if len(ps) == 0 {
		return
	}
	l.add("**Problems of deckhand itself:**")
	for _, p := range ps {
		l.add("🛠️ " + p)
	}
	l.add("")
}

func (r *Router) cmdHosts(ctx context.Context, c *call, _ []string) (Reply, error) {
	hosts, err := r.reachableHosts(ctx, c.actor)
	if err != nil {
		return Reply{}, err
	}
	if len(hosts) == 0 {
		return Reply{Text: "No hosts configured that you can see."}, nil
	}
	l := newLines("")
	for _, h := range hosts {
		line := fmt.Sprintf("%s **%s** (%s) %s", hostIcon(h), h.Name, h.Transport, hostState(h))
		if h.DockerVersion != "" {
			line += " · Docker " + h.DockerVersion
		}
		if !h.LastCollectAt.IsZero() {
			line += " · checked " + deckhand.HumanDuration(r.now().Sub(h.LastCollectAt)) + " ago"
		}
		l.add(line)
	}
	return Reply{Title: "Hosts", Text: l.String()}, nil
}

func (r *Router) cmdContainers(ctx context.Context, c *call, args []string) (Reply, error) {
	h, err := r.hostArg(ctx, c, args[0], false)
	if err != nil {
		return Reply{}, err
	}
	list, err := r.deps.Inventory.Containers(ctx, h.Name)
	if err != nil {
		return Reply{}, fmt.Errorf("list containers on %s: %w", h.Name, err)
	}
	if len(args) > 1 && args[1] != "" {
		project := args[1]
		c.target = "project:" + truncate(sanitizeLine(project), maxRefLen)
		var projects []string
		filtered := list[:0:0]
		for _, ct := range list {
			if ct.ComposeProject == project {
				filtered = append(filtered, ct)
			}
			if ct.ComposeProject != "" && !slices.Contains(projects, ct.ComposeProject) {
				projects = append(projects, ct.ComposeProject)
			}
		}
		if len(filtered) == 0 {
			return Reply{}, fail("error", deckhand.ErrNotFound, "No compose project %s on %s.%s", display(project), h.Name, suggestText(project, projects))
		}
		list = filtered
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].ComposeProject != list[j].ComposeProject {
			return list[i].ComposeProject < list[j].ComposeProject
		}
		return list[i].Name < list[j].Name
	})
	if len(list) == 0 {
		return Reply{Text: fmt.Sprintf("No containers on **%s**.", h.Name)}, nil
	}
	l := newLines(fmt.Sprintf("**%s** — %d containers", h.Name, len(list)))
	var full strings.Builder
	project := "\x00"
	for _, ct := range list {
		if ct.ComposeProject != project {
			project = ct.ComposeProject
			name := project
			if name == "" {
				name = "(no project)"
			}
			l.add("__" + name + "__")
			fmt.Fprintf(&full, "%s\n", name)
		}
		l.add("• " + ctrLine(ct) + " · " + truncate(sanitizeLine(ct.Image), 80))
		fmt.Fprintf(&full, "  %s · %s\n", strings.ReplaceAll(ctrLine(ct), "`", ""), sanitizeLine(ct.Image))
	}
	if l.dropped == 0 {
		return Reply{Text: l.String()}, nil
	}
	// A count is no answer to "what runs there": the whole list goes along.
	return Reply{
		Text: l.close(" (full list attached)"),
		File: &File{Name: fileName(h.Name, "containers", "txt"), Data: []byte(full.String())},
	}, nil
}

// resolveTarget validates host and container arguments for a command that
// reaches the host.
func (r *Router) resolveTarget(ctx context.Context, c *call, hostArg, ctrArg string) (deckhand.Host, deckhand.Container, error) {
	h, err := r.hostArg(ctx, c, hostArg, true)
	if err != nil {
		return h, deckhand.Container{}, err
	}
	ct, err := r.containerArg(ctx, c, h.Name, ctrArg)
	return h, ct, err
}

// dockerRef is what is handed to Docker: the snapshot's exact name, or its
// full ID when the snapshot has no name.
func dockerRef(ct deckhand.Container) string {
	if ct.Name != "" {
		return ct.Name
	}
	return ct.ID
}

func lockKey(ct deckhand.Container) string {
	if ct.ID != "" {
		return ct.ID
	}
	return ct.Name
}

const inlineLimit = MaxText - 200

func (r *Router) cmdLogs(ctx context.Context, c *call, args []string) (Reply, error) {
	tail := r.cfg.LogTail
	if len(args) > 2 && args[2] != "" {
		n, err := strconv.Atoi(args[2])
		if err != nil || n < 1 {
			return Reply{}, invalid("Lines must be a positive number, got %s.", display(args[2]))
		}
		tail = min(n, MaxLogTail)
	}
	h, ct, err := r.resolveTarget(ctx, c, args[0], args[1])
	if err != nil {
		return Reply{}, err
	}
	out, err := r.deps.Docker.Logs(ctx, h.Name, dockerRef(ct), tail)
	if err != nil {
		return Reply{}, fmt.Errorf("logs of %s/%s: %w", h.Name, ct.Name, err)
	}
	head := fmt.Sprintf("Last %d log lines of **%s/%s**", tail, h.Name, ct.Name)
	if strings.TrimSpace(out) == "" {
		return Reply{Text: head + ": (empty)"}, nil
	}
	clean := cleanLog(out)
	if len(clean) <= MaxDetail-len("```\n\n```") && !strings.Contains(clean, "```") {
		// Titled, so a screenful of lines stays inline (see MaxDetail).
		title := fmt.Sprintf("Last %d log lines of %s/%s", tail, h.Name, ct.Name)
		return Reply{Title: title, Text: "```\n" + clean + "\n```"}, nil
	}
	return Reply{
		Text: head + " (attached).",
		File: &File{Name: fileName(h.Name, ct.Name, "log"), Data: []byte(out)},
	}, nil
}

// cleanLog drops terminal escape sequences and other control characters
// that chat clients would show as garbage.
func cleanLog(s string) string {
	s = ansi.ReplaceAllString(s, "")
	return strings.TrimRight(strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "?")), "\n")
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]`)

func fileName(host, ctr, ext string) string {
	safe := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' || r == '.') {
				return r
			}
			return '_'
		}, truncate(s, 64))
	}
	return safe(host) + "-" + safe(ctr) + "." + ext
}

func (r *Router) cmdInspect(ctx context.Context, c *call, args []string) (Reply, error) {
	h, ct, err := r.resolveTarget(ctx, c, args[0], args[1])
	if err != nil {
		return Reply{}, err
	}
	raw, err := r.deps.Docker.Inspect(ctx, h.Name, dockerRef(ct))
	if err != nil {
		return Reply{}, fmt.Errorf("inspect %s/%s: %w", h.Name, ct.Name, err)
	}
	// The collector redacts already; the rule is applied again where the
	// document is shown, whatever Docker implementation produced it.
	safe := deckhand.RedactInspect(raw)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep "<redacted>" readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(safe); err != nil {
		return Reply{}, fmt.Errorf("encode inspect output: %w", err)
	}
	data := bytes.TrimSpace(buf.Bytes())
	l := newLines(fmt.Sprintf("**%s/%s**", h.Name, ct.Name))
	l.add("Image: `" + truncate(sanitizeLine(ct.Image), 120) + "`")
	state := "State: " + string(ct.State) + healthSuffix(ct)
	if ct.Status != "" {
		state += " · " + truncate(sanitizeLine(ct.Status), 80)
	}
	l.add(state)
	if ct.ID != "" {
		l.add("ID: `" + shortID(ct.ID) + "`")
	}
	if ct.RestartCount > 0 {
		l.add(fmt.Sprintf("Restarts: %d", ct.RestartCount))
	}
	if ct.ComposeProject != "" {
		l.add("Compose: " + ct.ComposeProject + "/" + ct.ComposeService)
	}
	if len(ct.Ports) > 0 {
		var ps []string
		for _, p := range ct.Ports {
			if p.PublicPort > 0 {
				ps = append(ps, fmt.Sprintf("%d→%d/%s", p.PublicPort, p.PrivatePort, p.Proto))
			} else {
				ps = append(ps, fmt.Sprintf("%d/%s", p.PrivatePort, p.Proto))
			}
		}
		l.add("Ports: " + trimList(ps, 10, ", "))
	}
	text := l.String()
	if len(text)+len(data)+10 <= inlineLimit && !bytes.Contains(data, []byte("```")) {
		return Reply{Text: text + "\n```json\n" + string(data) + "\n```"}, nil
	}
	return Reply{Text: text + "\nFull inspect output attached (environment and secrets redacted).",
		File: &File{Name: fileName(h.Name, ct.Name, "json"), Data: data}}, nil
}

func healthSuffix(ct deckhand.Container) string {
	if ct.Health != "" && ct.Health != deckhand.HealthNone {
		return " (" + string(ct.Health) + ")"
	}
	return ""
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f%ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func (r *Router) cmdStats(ctx context.Context, c *call, args []string) (Reply, error) {
	h, err := r.hostArg(ctx, c, args[0], true)
	if err != nil {
		return Reply{}, err
	}
	stats, err := r.deps.Docker.Stats(ctx, h.Name)
	if err != nil {
		return Reply{}, fmt.Errorf("stats on %s: %w", h.Name, err)
	}
	if len(stats) == 0 {
		return Reply{Text: fmt.Sprintf("No running containers on **%s**.", h.Name)}, nil
	}
	stats = slices.Clone(stats)
	sort.SliceStable(stats, func(i, j int) bool { return stats[i].CPUPercent > stats[j].CPUPercent })
	l := newLines(fmt.Sprintf("**%s** — %d running containers, busiest first", h.Name, len(stats)))
	for _, s := range stats {
		line := fmt.Sprintf("`%s` CPU %.1f%% · mem %s", truncate(sanitizeLine(s.Name), 64), s.CPUPercent, humanBytes(s.MemUsage))
		if s.MemLimit > 0 {
			line += fmt.Sprintf(" / %s (%.0f%%)", humanBytes(s.MemLimit), s.MemPercent)
		}
		if s.PIDs > 0 {
			line += fmt.Sprintf(" · %d pids", s.PIDs)
		}
		l.add(line)
	}
	return Reply{Text: l.String()}, nil
}

// checkProtected refuses mutating actions on protected containers to
// anyone below admin. The one exception is deckhand's own automatic
// restart of a container whose homelab.auto_restart label asks for it:
// the owner who set both labels wants exactly that, and nothing more.
func checkProtected(c *call, ct deckhand.Container) error {
	if !c.action.Mutating() || !ct.Protected() || c.actor.Role >= deckhand.RoleAdmin {
		return nil
	}
	if c.automatic && c.action == deckhand.ActionRestart && ct.AutoRestart() {
		return nil
	}
	return denied("%s is protected: only admins may %s it.", display(ct.Name), c.action)
}

var pastTense = map[deckhand.Action]string{
	deckhand.ActionStart: "Started", deckhand.ActionStop: "Stopped", deckhand.ActionRestart: "Restarted",
	deckhand.ActionRemove: "Removed", deckhand.ActionRedeploy: "Redeployed",
}

func (r *Router) cmdContainerAction(ctx context.Context, c *call, args []string) (Reply, error) {
	h, ct, err := r.resolveTarget(ctx, c, args[0], args[1])
	if err != nil {
		return Reply{}, err
	}
	if err := checkProtected(c, ct); err != nil {
		return Reply{}, err
	}
	if err := r.runAction(ctx, c, h.Name, ct); err != nil {
		return Reply{}, err
	}
	return Reply{Text: fmt.Sprintf("%s **%s/%s** (by %s).", pastTense[c.action], h.Name, ct.Name, display(c.actor.String()))}, nil
}

// runAction performs the call's container action under its lock, records
// what it means (intend), then asks for a re-collect of the host.
func (r *Router) runAction(ctx context.Context, c *call, host string, ct deckhand.Container) error {
	unlock, err := r.lock(host, lockKey(ct))
	if err != nil {
		return err
	}
	defer unlock()
	action := c.action
	if !action.Mutating() || action == deckhand.ActionRestartProject {
		return fmt.Errorf("action %q on a container: %w", action, deckhand.ErrNotWhitelisted)
	}
	if c.spend != nil {
		if err := c.spend(ctx); err != nil {
			return err
		}
	}
	settle := r.intend(ctx, c, host, ct)
	ref := dockerRef(ct)
	switch action {
	case deckhand.ActionStart:
		err = r.deps.Docker.Start(ctx, host, ref)
	case deckhand.ActionStop:
		err = r.deps.Docker.Stop(ctx, host, ref)
	case deckhand.ActionRestart:
		err = r.deps.Docker.Restart(ctx, host, ref)
	case deckhand.ActionRemove:
		err = r.deps.Docker.Remove(ctx, host, ref)
	case deckhand.ActionRedeploy:
		err = r.deps.Docker.Redeploy(ctx, host, ct)
	}
	settle(err)
	if err != nil {
		return fmt.Errorf("%s %s/%s: %w", action, host, ct.Name, err)
	}
	r.refresh(ctx, host)
	return nil
}

func (r *Router) refresh(ctx context.Context, host string) {
	if r.deps.Refresher != nil {
		r.deps.Refresher.Refresh(context.WithoutCancel(ctx), host)
	}
}

func (r *Router) cmdRestartProject(ctx context.Context, c *call, args []string) (Reply, error) {
	h, err := r.hostArg(ctx, c, args[0], true)
	if err != nil {
		return Reply{}, err
	}
	project := args[1]
	c.target = "project:" + truncate(sanitizeLine(project), maxRefLen)
	list, err := r.deps.Inventory.Containers(ctx, h.Name)
	if err != nil {
		return Reply{}, fmt.Errorf("list containers on %s: %w", h.Name, err)
	}
	var members []deckhand.Container
	var projects []string
	for _, ct := range list {
		if ct.ComposeProject == project {
			members = append(members, ct)
		}
		if ct.ComposeProject != "" && !slices.Contains(projects, ct.ComposeProject) {
			projects = append(projects, ct.ComposeProject)
		}
	}
	if len(members) == 0 {
		return Reply{}, fail("error", deckhand.ErrNotFound, "No compose project %s on %s.%s", display(project), h.Name, suggestText(project, projects))
	}
	c.target = "project:" + project
	keys := make([]string, len(members))
	for i, ct := range members {
		if err := checkProtected(c, ct); err != nil {
			return Reply{}, err
		}
		keys[i] = lockKey(ct)
	}
	unlock, err := r.lock(h.Name, keys...)
	if err != nil {
		return Reply{}, err
	}
	defer unlock()
	sort.Slice(members, func(i, j int) bool { return members[i].Name < members[j].Name })
	var done, failed []string
	var errs []error
	for _, ct := range members {
		settle := r.intend(ctx, c, h.Name, ct)
		err := r.deps.Docker.Restart(ctx, h.Name, dockerRef(ct))
		settle(err)
		if err != nil {
			failed = append(failed, ct.Name+" ("+errorText(err)+")")
			errs = append(errs, fmt.Errorf("restart %s: %w", ct.Name, err))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		done = append(done, ct.Name)
	}
	r.refresh(ctx, h.Name)
	if len(failed) > 0 {
		msg := fmt.Sprintf("Restarting project **%s** on **%s**: %d restarted, %d failed: %s", project, h.Name, len(done), len(failed), trimList(failed, 10, ", "))
		return Reply{}, &replyErr{reply: Reply{Text: msg, Error: true}, result: "error", err: errors.Join(errs...)}
	}
	return Reply{Text: fmt.Sprintf("Restarted project **%s** on **%s**: %s (by %s).", project, h.Name, trimList(done, 20, ", "), display(c.actor.String()))}, nil
}

func (r *Router) cmdAlerts(ctx context.Context, c *call, args []string) (Reply, error) {
	only := ""
	if len(args) > 0 && args[0] != "" {
		h, err := r.hostArg(ctx, c, args[0], false)
		if err != nil {
			return Reply{}, err
		}
		only = h.Name
	}
	all, err := r.deps.Alerts.ActiveAlerts(ctx)
	if err != nil {
		return Reply{}, fmt.Errorf("list alerts: %w", err)
	}
	var list []deckhand.Alert
	for _, a := range all {
		if a.State.Active() && c.actor.CanReach(a.Key.Host) && (only == "" || a.Key.Host == only) {
			list = append(list, a)
		}
	}
	if len(list) == 0 {
		return Reply{Text: "No active alerts. 🎉"}, nil
	}
	sort.SliceStable(list, func(i, j int) bool {
		if si, sj := sevRank(list[i].Severity), sevRank(list[j].Severity); si != sj {
			return si > sj
		}
		return list[i].FirstSeenAt.Before(list[j].FirstSeenAt)
	})
	l := newLines(fmt.Sprintf("**%d active alerts**", len(list)))
	for _, a := range list {
		l.add(alertLine(a, r.now()))
	}
	return Reply{Text: l.String()}, nil
}

func sevRank(s deckhand.Severity) int {
	switch s {
	case deckhand.SeverityCritical:
		return 3
	case deckhand.SeverityError:
		return 2
	case deckhand.SeverityWarning:
		return 1
	}
	return 0
}

func alertTarget(a deckhand.Alert) string {
	if a.Key.Container == "" {
		return a.Key.Host
	}
	return a.Key.Host + "/" + a.Key.Container
}

func alertLine(a deckhand.Alert, now time.Time) string {
	icon := "🔴"
	switch {
	case a.State == deckhand.AlertAcked:
		icon = "🟡"
	case a.State == deckhand.AlertPending:
		icon = "⏳"
	}
	s := fmt.Sprintf("`#%d` %s **%s** %s · %s", a.ID, icon, alertTarget(a), strings.ReplaceAll(string(a.Key.Kind), "_", " "), deckhand.HumanDuration(a.Downtime(now)))
	if a.Message != "" {
		s += " — " + truncate(sanitizeLine(a.Message), 120)
	}
	if a.State == deckhand.AlertAcked && a.AckedBy != "" {
		s += " (acked by " + truncate(sanitizeLine(a.AckedBy), 64) + ")"
	}
	return s
}

func parseAlertID(s string) (int64, bool) {
	s = strings.TrimPrefix(s, "#")
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

// findAlert looks an active alert up and checks the actor may touch its host.
func (r *Router) findAlert(ctx context.Context, c *call, id int64) (deckhand.Alert, error) {
	c.target = fmt.Sprintf("alert #%d", id)
	all, err := r.deps.Alerts.ActiveAlerts(ctx)
	if err != nil {
		return deckhand.Alert{}, fmt.Errorf("list alerts: %w", err)
	}
	for _, a := range all {
		if a.ID == id && a.State.Active() {
			c.host = a.Key.Host
			if !c.actor.CanReach(a.Key.Host) {
				return deckhand.Alert{}, denied("Your role does not cover host %s.", display(a.Key.Host))
			}
			return a, nil
		}
	}
	return deckhand.Alert{}, fail("error", deckhand.ErrNotFound, "Alert #%d is not active (already closed, or no such alert).", id)
}

func (r *Router) cmdAck(ctx context.Context, c *call, args []string) (Reply, error) {
	id, ok := parseAlertID(args[0])
	if !ok {
		c.target = truncate(sanitizeLine(args[0]), 64)
		return Reply{}, invalid("%s is not an alert number; see /alerts.", display(args[0]))
	}
	return r.ack(ctx, c, id)
}

func (r *Router) ack(ctx context.Context, c *call, id int64) (Reply, error) {
	a, err := r.findAlert(ctx, c, id)
	if err != nil {
		return Reply{}, err
	}
	if a.State == deckhand.AlertAcked {
		return Reply{Text: fmt.Sprintf("Alert #%d (%s) was already acked by %s.", a.ID, alertTarget(a), display(a.AckedBy))}, nil
	}
	if _, err := r.deps.Alerts.Ack(ctx, id, c.actor.String()); err != nil {
		return Reply{}, fmt.Errorf("ack alert %d: %w", id, err)
	}
	return Reply{Text: fmt.Sprintf("Alert #%d (**%s**) acked by %s: no more reminders until it recovers.", a.ID, alertTarget(a), display(c.actor.String()))}, nil
}

// safeName is what Docker and Compose accept as container and project names.
var safeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)

func (r *Router) cmdSilence(ctx context.Context, c *call, args []string) (Reply, error) {
	target := args[0]
	c.target = truncate(sanitizeLine(target), maxRefLen)
	d, err := ParseDuration(args[1])
	if err != nil {
		return Reply{}, invalid("%s", strings.TrimSuffix(err.Error(), ": "+deckhand.ErrInvalidInput.Error()))
	}
	if d > MaxSilence {
		return Reply{}, invalid("A silence lasts at most 30d.")
	}
	if d < time.Minute {
		return Reply{}, invalid("A silence lasts at least 1m.")
	}
	reason := ""
	if len(args) > 2 {
		reason = truncate(strings.TrimSpace(sanitizeLine(args[2])), 200)
	}
	s := deckhand.Silence{By: c.actor.String(), Reason: reason, CreatedAt: r.now(), Until: r.now().Add(d)}
	switch {
	case strings.HasPrefix(target, "project:"):
		p := strings.TrimPrefix(target, "project:")
		if !safeName.MatchString(p) {
			return Reply{}, invalid("%s is not a project name.", display(p))
		}
		if len(c.actor.Hosts) > 0 {
			return Reply{}, denied("A project silence covers every host; your role is limited to some hosts. Silence host/container instead.")
		}
		s.Project = p
	default:
		hostPart, ctrPart, hasCtr := strings.Cut(target, "/")
		h, err := r.hostArg(ctx, c, hostPart, false)
		if err != nil {
			return Reply{}, err
		}
		s.Host = h.Name
		if hasCtr {
			list, err := r.deps.Inventory.Containers(ctx, h.Name)
			if err != nil {
				return Reply{}, fmt.Errorf("list containers on %s: %w", h.Name, err)
			}
			ct, rerr := resolveContainer(list, ctrPart)
			switch {
			case rerr == nil:
				s.Container = ct.Name
			case errors.Is(rerr, deckhand.ErrNotFound) && safeName.MatchString(ctrPart):
				// A removed or not yet created container can be silenced by name.
				s.Container = ctrPart
			default:
				return Reply{}, rerr
			}
		}
	}
	c.target = silenceTarget(s)
	id, err := r.deps.Alerts.AddSilence(ctx, s)
	if err != nil {
		return Reply{}, fmt.Errorf("add silence: %w", err)
	}
	text := fmt.Sprintf("Silenced **%s** for %s (until %s UTC), silence #%d by %s.", silenceTarget(s), deckhand.HumanDuration(d), s.Until.UTC().Format("Jan 2 15:04"), id, display(c.actor.String()))
	if reason != "" {
		text += " Reason: " + display(reason)
	}
	return Reply{Text: text}, nil
}

func silenceTarget(s deckhand.Silence) string {
	switch {
	case s.Project != "":
		return "project:" + s.Project
	case s.Container != "":
		return s.Host + "/" + s.Container
	}
	return s.Host
}

func (r *Router) cmdEnableHost(ctx context.Context, c *call, args []string) (Reply, error) {
	h, err := r.hostArg(ctx, c, args[0], false)
	if err != nil {
		return Reply{}, err
	}
	c.target = h.Name
	enable := c.action == deckhand.ActionEnableHost
	if err := r.deps.Hosts.SetHostEnabled(ctx, h.Name, enable); err != nil {
		return Reply{}, fmt.Errorf("%s %s: %w", c.action, h.Name, err)
	}
	if enable {
		r.refresh(ctx, h.Name)
		return Reply{Text: fmt.Sprintf("Host **%s** enabled; collecting it again.", h.Name)}, nil
	}
	return Reply{Text: fmt.Sprintf("Host **%s** disabled: no collection, alerts or actions until /enable-host %s.", h.Name, h.Name)}, nil
}

func (r *Router) cmdAnnounce(ctx context.Context, c *call, args []string) (Reply, error) {
	text := strings.TrimSpace(strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) || bidiControl(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(args[0], "")))
	if text == "" {
		return Reply{}, invalid("The announcement is empty.")
	}
	a := deckhand.Announcement{Body: text, By: c.actor.String(), CreatedAt: r.now()}
	if title, body, ok := strings.Cut(text, "\n"); ok && strings.TrimSpace(body) != "" {
		a.Title = truncate(strings.TrimSpace(strings.TrimLeft(title, "# ")), 120)
		a.Body = strings.TrimSpace(body)
	}
	c.target = truncate(sanitizeLine(text), 64)
	id, err := r.deps.Announcer.AddAnnouncement(ctx, a)
	if err != nil {
		return Reply{}, fmt.Errorf("add announcement: %w", err)
	}
	c.target = fmt.Sprintf("announcement #%d", id)
	return Reply{Text: fmt.Sprintf("Announcement #%d posted on the status page.", id)}, nil
}
