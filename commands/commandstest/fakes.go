// Package commandstest provides in-memory fakes of everything the commands
// router depends on (inventory, Docker, alerts, audit, host switch,
// announcer, refresher, intents), for the router's own tests and for adapter tests
// that want a real Router behind a fake platform.
//
// The fakes behave like the real parts where it matters: the Docker fake
// refuses containers that are not in the inventory of that host (as the
// Docker CLI answers "No such container"), and the alerts fake refuses
// silences that match everything.
package commandstest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/commands"
)

// Inventory is a fixed snapshot of hosts and containers.
type Inventory struct {
	mu         sync.Mutex
	hosts      []deckhand.Host
	containers map[string][]deckhand.Container
	Err        error // returned by every call when set
}

// NewInventory returns an inventory of the given hosts; containers are
// attached to the host named in Container.Host.
func NewInventory(hosts []deckhand.Host, containers ...deckhand.Container) *Inventory {
	inv := &Inventory{hosts: slices.Clone(hosts), containers: map[string][]deckhand.Container{}}
	for _, c := range containers {
		inv.containers[c.Host] = append(inv.containers[c.Host], c)
	}
	return inv
}

// Hosts implements commands.Inventory.
func (i *Inventory) Hosts(context.Context) ([]deckhand.Host, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.Err != nil {
		return nil, i.Err
	}
	return slices.Clone(i.hosts), nil
}

// Containers implements commands.Inventory.
func (i *Inventory) Containers(_ context.Context, host string) ([]deckhand.Container, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.Err != nil {
		return nil, i.Err
	}
	return slices.Clone(i.containers[host]), nil
}

// SetContainers replaces a host's containers.
func (i *Inventory) SetContainers(host string, cs ...deckhand.Container) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.containers[host] = slices.Clone(cs)
}

// SetHostEnabled implements commands.HostSwitch on the inventory itself,
// so a disabled host shows up as disabled afterwards.
func (i *Inventory) SetHostEnabled(_ context.Context, host string, enabled bool) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	for k := range i.hosts {
		if i.hosts[k].Name == host {
			i.hosts[k].Enabled = enabled
			if !enabled {
				i.hosts[k].Status = deckhand.HostDisabled
			}
			return nil
		}
	}
	return fmt.Errorf("host %q: %w", host, deckhand.ErrNotFound)
}

// lookup reports whether ref is the exact name or full ID of a container
// on host.
func (i *Inventory) lookup(host, ref string) (deckhand.Container, bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	for _, c := range i.containers[host] {
		if c.Name == ref || c.ID == ref {
			return c, true
		}
	}
	return deckhand.Container{}, false
}

// Call is one Docker call the fake received.
type Call struct {
	Op        string // "start", "stop", "restart", "remove", "redeploy", "logs", "inspect", "stats"
	Host      string
	Container string
	Tail      int
}

// Docker is a fake of the collector's Docker actions.
type Docker struct {
	Inv *Inventory // containers are checked against it

	mu      sync.Mutex
	calls   []Call
	bad     []Call // calls naming something not in the inventory
	errs    map[string]error
	block   chan struct{}
	entered chan Call

	LogsText    string
	InspectData map[string]any
	StatsData   []commands.Stat
}

// NewDocker returns a Docker fake that validates against inv.
func NewDocker(inv *Inventory) *Docker {
	return &Docker{Inv: inv, errs: map[string]error{}, LogsText: "line 1\nline 2\n"}
}

// FailOn makes every call of op return err.
func (d *Docker) FailOn(op string, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.errs[op] = err
}

// Block makes mutating calls wait until the returned release function is
// called; entered receives each call as it starts waiting.
func (d *Docker) Block() (entered <-chan Call, release func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.block = make(chan struct{})
	d.entered = make(chan Call, 16)
	b := d.block
	var once sync.Once
	return d.entered, func() { once.Do(func() { close(b) }) }
}

// Calls returns every call received, in order.
func (d *Docker) Calls() []Call {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.calls)
}

// BadCalls returns calls whose container was not an exact snapshot name or
// ID: the router must never produce one.
func (d *Docker) BadCalls() []Call {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.bad)
}

func (d *Docker) do(ctx context.Context, c Call, mutating bool) error {
	d.mu.Lock()
	d.calls = append(d.calls, c)
	err := d.errs[c.Op]
	block, entered := d.block, d.entered
	d.mu.Unlock()
	if c.Container != "" || c.Op != "stats" {
		if _, ok := d.Inv.lookup(c.Host, c.Container); !ok {
			d.mu.Lock()
			d.bad = append(d.bad, c)
			d.mu.Unlock()
			return fmt.Errorf("no such container: %s: %w", c.Container, deckhand.ErrNotFound)
		}
	}
	if mutating && block != nil {
		entered <- c
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return err
}

// Start implements commands.Docker.
func (d *Docker) Start(ctx context.Context, host, c string) error {
	return d.do(ctx, Call{Op: "start", Host: host, Container: c}, true)
}

// Stop implements commands.Docker.
func (d *Docker) Stop(ctx context.Context, host, c string) error {
	return d.do(ctx, Call{Op: "stop", Host: host, Container: c}, true)
}

// Restart implements commands.Docker.
func (d *Docker) Restart(ctx context.Context, host, c string) error {
	return d.do(ctx, Call{Op: "restart", Host: host, Container: c}, true)
}

// Remove implements commands.Docker.
func (d *Docker) Remove(ctx context.Context, host, c string) error {
	return d.do(ctx, Call{Op: "remove", Host: host, Container: c}, true)
}

// Redeploy implements commands.Docker.
func (d *Docker) Redeploy(ctx context.Context, host string, c deckhand.Container) error {
	return d.do(ctx, Call{Op: "redeploy", Host: host, Container: c.Name}, true)
}

// Logs implements commands.Docker.
func (d *Docker) Logs(ctx context.Context, host, c string, tail int) (string, error) {
	if tail < 1 || tail > commands.MaxLogTail {
		return "", fmt.Errorf("tail %d out of range: %w", tail, deckhand.ErrInvalidInput)
	}
	if err := d.do(ctx, Call{Op: "logs", Host: host, Container: c, Tail: tail}, false); err != nil {
		return "", err
	}
	return d.LogsText, nil
}

// Inspect implements commands.Docker.
func (d *Docker) Inspect(ctx context.Context, host, c string) (map[string]any, error) {
	if err := d.do(ctx, Call{Op: "inspect", Host: host, Container: c}, false); err != nil {
		return nil, err
	}
	if d.InspectData != nil {
		return d.InspectData, nil
	}
	ctr, _ := d.Inv.lookup(host, c)
	return map[string]any{"Id": ctr.ID, "Name": "/" + ctr.Name, "Config": map[string]any{"Image": ctr.Image}}, nil
}

// Stats implements commands.Docker.
func (d *Docker) Stats(ctx context.Context, host string) ([]commands.Stat, error) {
	if err := d.do(ctx, Call{Op: "stats", Host: host}, false); err != nil {
		return nil, err
	}
	return slices.Clone(d.StatsData), nil
}

// Alerts is an in-memory alert list with silences.
type Alerts struct {
	mu       sync.Mutex
	alerts   []deckhand.Alert
	silences []deckhand.Silence
	Now      func() time.Time
}

// NewAlerts returns a fake holding the given alerts.
func NewAlerts(now func() time.Time, alerts ...deckhand.Alert) *Alerts {
	if now == nil {
		now = time.Now
	}
	return &Alerts{alerts: slices.Clone(alerts), Now: now}
}

// ActiveAlerts implements commands.Alerts.
func (a *Alerts) ActiveAlerts(context.Context) ([]deckhand.Alert, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []deckhand.Alert
	for _, x := range a.alerts {
		if x.State.Active() {
			out = append(out, x)
		}
	}
	return out, nil
}

// Ack implements commands.Alerts.
func (a *Alerts) Ack(_ context.Context, id int64, by string) (deckhand.Alert, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, x := range a.alerts {
		if x.ID == id && x.State.Active() {
			a.alerts[i].State = deckhand.AlertAcked
			a.alerts[i].AckedBy = by
			a.alerts[i].AckedAt = a.Now()
			return a.alerts[i], nil
		}
	}
	return deckhand.Alert{}, fmt.Errorf("alert %d: %w", id, deckhand.ErrNotFound)
}

// AddSilence implements commands.Alerts; like the store it refuses a
// silence that matches everything or has already ended.
func (a *Alerts) AddSilence(_ context.Context, s deckhand.Silence) (int64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if s.Host == "" && s.Container == "" && s.Project == "" {
		return 0, fmt.Errorf("silence matches everything: %w", deckhand.ErrInvalidInput)
	}
	if !s.Until.After(a.Now()) {
		return 0, fmt.Errorf("silence already over: %w", deckhand.ErrInvalidInput)
	}
	s.ID = int64(len(a.silences) + 1)
	a.silences = append(a.silences, s)
	return s.ID, nil
}

// Alert returns the current state of an alert.
func (a *Alerts) Alert(id int64) (deckhand.Alert, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, x := range a.alerts {
		if x.ID == id {
			return x, true
		}
	}
	return deckhand.Alert{}, false
}

// Silences returns the silences added.
func (a *Alerts) Silences() []deckhand.Silence {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.silences)
}

// Audit records audit entries in memory.
type Audit struct {
	mu      sync.Mutex
	entries []deckhand.AuditEntry
}

// AddAudit implements commands.Audit.
func (a *Audit) AddAudit(_ context.Context, e deckhand.AuditEntry) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	e.ID = int64(len(a.entries) + 1)
	a.entries = append(a.entries, e)
	return nil
}

// Entries returns the recorded entries in order.
func (a *Audit) Entries() []deckhand.AuditEntry {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.entries)
}

// Last returns the latest entry (zero when none).
func (a *Audit) Last() deckhand.AuditEntry {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.entries) == 0 {
		return deckhand.AuditEntry{}
	}
	return a.entries[len(a.entries)-1]
}

// Announcer records announcements.
type Announcer struct {
	mu  sync.Mutex
	got []deckhand.Announcement
}

// AddAnnouncement implements commands.Announcer.
func (a *Announcer) AddAnnouncement(_ context.Context, x deckhand.Announcement) (int64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if x.Body == "" {
		return 0, fmt.Errorf("empty announcement: %w", deckhand.ErrInvalidInput)
	}
	x.ID = int64(len(a.got) + 1)
	a.got = append(a.got, x)
	return x.ID, nil
}

// Announcements returns what was announced.
func (a *Announcer) Announcements() []deckhand.Announcement {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.got)
}

// Refresher counts refresh requests per host.
type Refresher struct {
	mu    sync.Mutex
	hosts []string
}

// Refresh implements commands.Refresher.
func (r *Refresher) Refresh(_ context.Context, host string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hosts = append(r.hosts, host)
}

// Hosts returns the hosts refreshed, in order.
func (r *Refresher) Hosts() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.hosts)
}

// Intents is an in-memory intents table; like the store it keeps one
// intent per container and refuses what is not a deliberate action.
type Intents struct {
	mu  sync.Mutex
	m   map[[2]string]deckhand.Intent
	Err error // returned by PutIntent and DeleteIntent when set
}

// Intents implements commands.Intents.
func (i *Intents) Intents(context.Context) ([]deckhand.Intent, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	out := make([]deckhand.Intent, 0, len(i.m))
	for _, x := range i.m {
		out = append(out, x)
	}
	slices.SortFunc(out, func(a, b deckhand.Intent) int {
		return strings.Compare(a.Host+"\x00"+a.Container, b.Host+"\x00"+b.Container)
	})
	return out, nil
}

// PutIntent implements commands.Intents.
func (i *Intents) PutIntent(_ context.Context, x deckhand.Intent) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.Err != nil {
		return i.Err
	}
	if x.Host == "" || x.Container == "" || !x.Action.Deliberate() || x.At.IsZero() {
		return fmt.Errorf("intent %+v: %w", x, deckhand.ErrInvalidInput)
	}
	if i.m == nil {
		i.m = map[[2]string]deckhand.Intent{}
	}
	i.m[[2]string{x.Host, x.Container}] = x
	return nil
}

// DeleteIntent implements commands.Intents.
func (i *Intents) DeleteIntent(_ context.Context, host, container string, upTo time.Time) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.Err != nil {
		return i.Err
	}
	k := [2]string{host, container}
	if x, ok := i.m[k]; ok && !x.At.After(upTo) {
		delete(i.m, k)
	}
	return nil
}

// Get returns a container's intent.
func (i *Intents) Get(host, container string) (deckhand.Intent, bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	x, ok := i.m[[2]string{host, container}]
	return x, ok
}

// Env bundles a full set of fakes wired into Deps.
type Env struct {
	Inventory *Inventory
	Docker    *Docker
	Alerts    *Alerts
	Audit     *Audit
	Announcer *Announcer
	Refresher *Refresher
	Intents   *Intents
	Tokens    *Tokens
}

// Deps returns the router dependencies backed by the fakes (the inventory
// doubles as the host switch).
func (e *Env) Deps() commands.Deps {
	return commands.Deps{
		Inventory: e.Inventory, Docker: e.Docker, Alerts: e.Alerts, Audit: e.Audit,
		Hosts: e.Inventory, Announcer: e.Announcer, Refresher: e.Refresher, Intents: e.Intents,
		Tokens: e.Tokens,
	}
}

// NewEnv builds fakes around a small homelab: hosts "nas" and "pi" (and a
// disabled "old"), with a jellyfin, a protected vaultwarden and a
// two-container "media" compose project on nas.
func NewEnv(now func() time.Time) *Env {
	if now == nil {
		now = time.Now
	}
	hosts := []deckhand.Host{
		{Name: "nas", Transport: "ssh", Enabled: true, Status: deckhand.HostOK, DockerVersion: "28.2.2"},
		{Name: "pi", Transport: "ssh", Enabled: true, Status: deckhand.HostOK, DockerVersion: "24.0.7"},
		{Name: "old", Transport: "ssh", Enabled: false, Status: deckhand.HostDisabled},
	}
	ctrs := []deckhand.Container{
		{Host: "nas", ID: hexID("a1b2c3"), Name: "jellyfin", Image: "jellyfin/jellyfin:10.9", State: deckhand.StateRunning, Health: deckhand.HealthHealthy,
			Labels: map[string]string{deckhand.LabelMonitor: "true"}},
		{Host: "nas", ID: hexID("a1b9ff"), Name: "jellyseerr", Image: "fallenbagel/jellyseerr", State: deckhand.StateRunning, Health: deckhand.HealthNone},
		{Host: "nas", ID: hexID("d00d00"), Name: "vaultwarden", Image: "vaultwarden/server", State: deckhand.StateRunning,
			Labels: map[string]string{deckhand.LabelProtected: "true", deckhand.LabelMonitor: "true"}},
		{Host: "nas", ID: hexID("5eed01"), Name: "media-sonarr-1", Image: "linuxserver/sonarr", State: deckhand.StateRunning, ComposeProject: "media", ComposeService: "sonarr"},
		{Host: "nas", ID: hexID("5eed02"), Name: "media-radarr-1", Image: "linuxserver/radarr", State: deckhand.StateExited, ComposeProject: "media", ComposeService: "radarr",
			Labels: map[string]string{deckhand.LabelMonitor: "true"}},
		{Host: "pi", ID: hexID("beef01"), Name: "pihole", Image: "pihole/pihole", State: deckhand.StateRunning, Health: deckhand.HealthUnhealthy},
		{Host: "old", ID: hexID("01d001"), Name: "legacy", Image: "busybox", State: deckhand.StateExited},
	}
	inv := NewInventory(hosts, ctrs...)
	first := now().Add(-10 * time.Minute)
	return &Env{
		Inventory: inv,
		Docker:    NewDocker(inv),
		Alerts: NewAlerts(now,
			deckhand.Alert{ID: 12, Key: deckhand.AlertKey{Host: "nas", Container: "media-radarr-1", Kind: deckhand.AlertContainerDown}, Project: "media", Severity: deckhand.SeverityError, State: deckhand.AlertOpen, Message: "exited (137)", FirstSeenAt: first},
			deckhand.Alert{ID: 13, Key: deckhand.AlertKey{Host: "pi", Container: "pihole", Kind: deckhand.AlertUnhealthy}, Severity: deckhand.SeverityWarning, State: deckhand.AlertOpen, FirstSeenAt: first},
			deckhand.Alert{ID: 14, Key: deckhand.AlertKey{Host: "nas", Container: "vaultwarden", Kind: deckhand.AlertUnhealthy}, Severity: deckhand.SeverityWarning, State: deckhand.AlertOpen, FirstSeenAt: first},
			deckhand.Alert{ID: 15, Key: deckhand.AlertKey{Host: "pi", Kind: deckhand.AlertHostUnreachable}, Severity: deckhand.SeverityCritical, State: deckhand.AlertOpen, FirstSeenAt: first},
		),
		Audit:     &Audit{},
		Announcer: &Announcer{},
		Refresher: &Refresher{},
		Intents:   &Intents{},
		Tokens:    &Tokens{},
	}
}

// hexID pads a hex prefix into a full 64-hex container ID.
func hexID(prefix string) string {
	const zeros = "0000000000000000000000000000000000000000000000000000000000000000"
	return prefix + zeros[len(prefix):]
}

// Tokens is an in-memory commands.UsedTokens; Fail makes it error, as a
// database that cannot write does.
type Tokens struct {
	mu   sync.Mutex
	used map[string]time.Time
	err  error
}

// UseToken implements commands.UsedTokens.
func (t *Tokens) UseToken(_ context.Context, id string, expires time.Time) (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err != nil {
		return false, t.err
	}
	if _, ok := t.used[id]; ok {
		return false, nil
	}
	if t.used == nil {
		t.used = make(map[string]time.Time)
	}
	t.used[id] = expires
	return true, nil
}

// Fail makes every later UseToken return err (nil heals it).
func (t *Tokens) Fail(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.err = err
}

// Len is how many tokens were recorded as used.
func (t *Tokens) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.used)
}
