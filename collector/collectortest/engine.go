// Package collectortest is an in-process stand-in for a Docker host reached
// over SSH: an x/crypto/ssh server on a loopback port in front of a
// scriptable fake Docker engine that runs the argv deckhand sends and prints
// what the docker CLI of a chosen version prints for it. It exists so the
// collector, and packages built on it, can be tested offline and fast (a
// benchmark runs hundreds of these in one process).
//
// The engine's output follows recordings of a real CLI 28.2 / engine 20.10
// (see ../testdata/real-28.2-20.10) and the documented differences of the
// other profiles:
//
//   - "20.10", "24.0": `{{json x}}` escapes <, > and & (so "->" reads
//     "-\u003e"); published IPv6 ports read ":::5432->5432/tcp".
//   - "28.2": no escaping in the json function; IPv6 ports bracketed
//     "[::]:5432->5432/tcp"; ps has Platform.
//   - "29.5": as 28.2, plus ps HealthStatus; events lose the legacy
//     status/id/from keys.
//
// Templates given with --format are executed with text/template over maps
// shaped like the CLI's, with missingkey=error, so a field an old CLI lacks
// fails the command as it would for real.
package collectortest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/deckhand/deckhand"
)

// Fault is a failure the engine (or the SSH server in front of it) injects.
type Fault int

// Faults.
const (
	FaultNone             Fault = iota
	FaultHang                   // every command hangs until the client gives up
	FaultGarbage                // commands print non-JSON and exit 0
	FaultTruncated              // commands print only the first half of their output
	FaultDaemonDown             // "Cannot connect to the Docker daemon …", exit 1
	FaultPermissionDenied       // permission denied on the docker socket, exit 1
	FaultDockerMissing          // "sh: 1: docker: not found", exit 127
	FaultAuth                   // the SSH server refuses every login
	FaultDropConnection         // the SSH server drops the TCP connection on exec
)

// Messages the real CLI prints, recorded on this machine.
const (
	MsgDaemonDown       = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"
	MsgPermissionDenied = `permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.50/containers/json?all=1": dial unix /var/run/docker.sock: connect: permission denied`
)

type profile struct {
	name, client, server, clientAPI, serverAPI string
	escapeHTML, bracketIPv6, platform          bool
	healthStatus, legacyEvents                 bool
}

var profiles = map[string]profile{
	"20.10": {name: "20.10", client: "20.10.24", server: "20.10.24", clientAPI: "1.41", serverAPI: "1.41", escapeHTML: true, legacyEvents: true},
	"24.0":  {name: "24.0", client: "24.0.7", server: "24.0.7", clientAPI: "1.43", serverAPI: "1.43", escapeHTML: true, legacyEvents: true},
	"28.2":  {name: "28.2", client: "28.2.2", server: "28.2.2", clientAPI: "1.50", serverAPI: "1.50", bracketIPv6: true, platform: true, legacyEvents: true},
	"29.5":  {name: "29.5", client: "29.5.0", server: "29.5.0", clientAPI: "1.53", serverAPI: "1.53", bracketIPv6: true, platform: true, healthStatus: true},
}

// Versions lists the supported version profiles.
func Versions() []string { return []string{"20.10", "24.0", "28.2", "29.5"} }

type fakeCtr struct {
	c          deckhand.Container
	startedAt  time.Time
	finishedAt time.Time
	env        []string
	logs       []logLine
}

type logLine struct {
	at     time.Time
	text   string
	stderr bool
}

// Engine is a scriptable fake Docker engine plus CLI. Safe for concurrent use.
type Engine struct {
	prof profile
	// imagesBorn is when the engine's images were built: fixed once
	// asked, as a real image's creation time is.
	imagesBorn time.Time

	mu            sync.Mutex
	now           func() time.Time
	ctrs          []*fakeCtr // newest first, like docker ps
	volumes       []string
	fault         Fault
	latency       time.Duration
	dockerPaths   map[string]bool
	composePlugin bool
	legacyCompose bool
	subs          map[chan []byte]struct{}
	tmpls         map[string]*template.Template
	pulls         []string

	// gen counts changes of state; outs caches the output of read-only
	// commands per command line for one gen (see cached).
	gen  uint64
	outs map[string]cachedOutput
}

// cachedOutput is what one read-only command printed.
type cachedOutput struct {
	gen            uint64
	clock          string // timeKey when it ran
	stdout, stderr []byte
	code           int
}

// maxCachedOutputs bounds the output cache; it is emptied when full.
const maxCachedOutputs = 64

// NewEngine returns an empty engine speaking the given version profile
// ("20.10", "24.0", "28.2" or "29.5"); it panics on an unknown one.
func NewEngine(version string) *Engine {
	p, ok := profiles[version]
	if !ok {
		panic("collectortest: unknown docker version profile " + version)
	}
	return &Engine{
		prof:          p,
		now:           time.Now,
		dockerPaths:   map[string]bool{"docker": true, "/usr/bin/docker": true},
		composePlugin: true,
		subs:          map[chan []byte]struct{}{},
		tmpls:         map[string]*template.Template{},
		outs:          map[string]cachedOutput{},
	}
}

// Version is the profile name.
func (e *Engine) Version() string { return e.prof.name }

// SetNow sets the engine's clock (status texts like "Up 2 hours" use it).
func (e *Engine) SetNow(now func() time.Time) { e.mu.Lock(); e.now = now; e.gen++; e.mu.Unlock() }

// SetDockerPath makes path the only argv[0] that finds docker, as on a
// Synology or a Mac where docker is in /usr/local/bin, off the
// non-interactive PATH.
func (e *Engine) SetDockerPath(path string) {
	e.mu.Lock()
	e.dockerPaths = map[string]bool{path: true}
	e.gen++
	e.mu.Unlock()
}

// SetCompose chooses which compose flavours exist: the `docker compose`
// plugin and the legacy `docker-compose` binary.
func (e *Engine) SetCompose(plugin, legacy bool) {
	e.mu.Lock()
	e.composePlugin, e.legacyCompose = plugin, legacy
	e.gen++
	e.mu.Unlock()
}

// SetFault injects a fault into every following command (FaultNone clears).
func (e *Engine) SetFault(f Fault) { e.mu.Lock(); e.fault = f; e.mu.Unlock() }

// Fault is the fault in force.
func (e *Engine) Fault() Fault { e.mu.Lock(); defer e.mu.Unlock(); return e.fault }

// SetLatency delays every command by d.
func (e *Engine) SetLatency(d time.Duration) { e.mu.Lock(); e.latency = d; e.mu.Unlock() }

// Pulls lists the images `docker pull` was asked for.
func (e *Engine) Pulls() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.pulls...)
}

// AddVolume adds a named local volume.
func (e *Engine) AddVolume(name string) {
	e.mu.Lock()
	e.volumes = append(e.volumes, name)
	e.gen++
	e.mu.Unlock()
}

func randomID() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func imageID(image string) string {
	sum := sha256.Sum256([]byte(image))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// AddContainer adds a container. Zero fields get defaults: a random ID,
// image "busybox:latest", command "/app", state running, health none,
// created and started an hour ago. It emits create (and start) events.
func (e *Engine) AddContainer(c deckhand.Container) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.gen++
	now := e.now()
	if c.ID == "" {
		c.ID = randomID()
	}
	if c.Image == "" {
		c.Image = "busybox:latest"
	}
	if c.ImageID == "" {
		c.ImageID = imageID(c.Image)
	}
	if c.Command == "" {
		c.Command = "/app"
	}
	if c.State == "" {
		c.State = deckhand.StateRunning
	}
	if c.Health == "" {
		c.Health = deckhand.HealthNone
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = now.Add(-time.Hour)
	}
	if c.Labels == nil {
		c.Labels = map[string]string{}
	}
	f := &fakeCtr{c: c, startedAt: c.CreatedAt, finishedAt: c.CreatedAt.Add(30 * time.Minute), env: []string{"PATH=/usr/bin", "DB_PASSWORD=hunter2"}}
	e.ctrs = append([]*fakeCtr{f}, e.ctrs...)
	e.emit(f, "create", nil)
	if c.State == deckhand.StateRunning {
		e.emit(f, "start", nil)
	}
}

func (e *Engine) find(ref string) *fakeCtr {
	for _, f := range e.ctrs {
		if f.c.ID == ref || f.c.Name == ref || strings.TrimPrefix(ref, "/") == f.c.Name {
			return f
		}
	}
	if len(ref) >= 4 {
		for _, f := range e.ctrs {
			if strings.HasPrefix(f.c.ID, ref) {
				return f
			}
		}
	}
	return nil
}

// Container returns the container by name or ID.
func (e *Engine) Container(ref string) (deckhand.Container, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if f := e.find(ref); f != nil {
		return f.c, true
	}
	return deckhand.Container{}, false
}

// SetState changes a container's state and health, emitting the events the
// daemon would (die with exitCode, start, pause, health_status: …).
func (e *Engine) SetState(name string, state deckhand.ContainerState, health deckhand.Health) {
	e.mu.Lock()
	defer e.mu.Unlock()
	f := e.find(name)
	if f == nil {
		return
	}
	e.gen++
	e.setState(f, state)
	if health != "" && health != f.c.Health {
		f.c.Health = health
		if health != deckhand.HealthNone {
			e.emit(f, "health_status: "+string(health), nil)
		}
	}
}

// SetExitCode sets the exit code the next die reports.
func (e *Engine) SetExitCode(name string, code int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if f := e.find(name); f != nil {
		f.c.ExitCode = code
		e.gen++
	}
}

func (e *Engine) setState(f *fakeCtr, state deckhand.ContainerState) {
	old := f.c.State
	if state == "" || state == old {
		return
	}
	e.gen++
	now := e.now()
	f.c.State = state
	switch state {
	case deckhand.StateRunning:
		if old == deckhand.StatePaused {
			e.emit(f, "unpause", nil)
			return
		}
		f.startedAt = now
		f.c.ExitCode = 0
		e.emit(f, "start", nil)
	case deckhand.StatePaused:
		e.emit(f, "pause", nil)
	case deckhand.StateExited, deckhand.StateDead:
		f.finishedAt = now
		e.emit(f, "die", map[string]string{"exitCode": fmt.Sprint(f.c.ExitCode)})
	case deckhand.StateRestarting:
		f.finishedAt = now
		e.emit(f, "die", map[string]string{"exitCode": fmt.Sprint(f.c.ExitCode)})
		f.c.RestartCount++
	}
}

// Remove deletes a container, emitting destroy.
func (e *Engine) Remove(name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.remove(name)
}

func (e *Engine) remove(name string) bool {
	for i, f := range e.ctrs {
		if f.c.Name == name || f.c.ID == name {
			e.gen++
			e.ctrs = append(e.ctrs[:i], e.ctrs[i+1:]...)
			e.emit(f, "destroy", nil)
			return true
		}
	}
	return false
}

// AppendLog adds a log line to a container, on stdout or stderr.
func (e *Engine) AppendLog(name, line string, stderr bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if f := e.find(name); f != nil {
		f.logs = append(f.logs, logLine{at: e.now(), text: line, stderr: stderr})
		e.gen++
	}
}

// Subscribers is the number of connected `docker events` streams.
func (e *Engine) Subscribers() int { e.mu.Lock(); defer e.mu.Unlock(); return len(e.subs) }

// eventJSON has the real key order: legacy keys first, as the daemon sends
// them up to API 1.51.
type eventJSON struct {
	Status   string     `json:"status,omitempty"`
	ID       string     `json:"id,omitempty"`
	From     string     `json:"from,omitempty"`
	Type     string     `json:"Type"`
	Action   string     `json:"Action"`
	Actor    eventActor `json:"Actor"`
	Scope    string     `json:"scope"`
	Time     int64      `json:"time"`
	TimeNano int64      `json:"timeNano"`
}

type eventActor struct {
	ID         string            `json:"ID"`
	Attributes map[string]string `json:"Attributes"`
}

// emit sends an event to every subscriber; e.mu is held.
func (e *Engine) emit(f *fakeCtr, action string, extra map[string]string) {
	if len(e.subs) == 0 {
		return
	}
	attrs := map[string]string{"image": f.c.Image, "name": f.c.Name}
	for k, v := range f.c.Labels {
		attrs[k] = v
	}
	for k, v := range extra {
		attrs[k] = v
	}
	now := e.now()
	ev := eventJSON{Type: "container", Action: action, Actor: eventActor{ID: f.c.ID, Attributes: attrs},
		Scope: "local", Time: now.Unix(), TimeNano: now.UnixNano()}
	if e.prof.legacyEvents {
		ev.Status, ev.ID, ev.From = action, f.c.ID, f.c.Image
	}
	b, _ := json.Marshal(ev)
	b = append(b, '\n')
	for ch := range e.subs {
		select {
		case ch <- b:
		default: // a subscriber that does not read loses events, like the daemon's
		}
	}
}

// Exec runs one docker command line (argv) and returns its exit status, or
// -1 when it was cut off (hang, stream ended by the client).
func (e *Engine) Exec(ctx context.Context, argv []string, stdout, stderr io.Writer) int {
	e.mu.Lock()
	fault, latency := e.fault, e.latency
	e.mu.Unlock()
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return -1
		}
	}
	if len(argv) == 0 {
		return 0
	}
	if !e.knownBinary(argv[0]) || fault == FaultDockerMissing {
		fmt.Fprintf(stderr, "sh: 1: %s: not found\n", argv[0])
		return 127
	}
	switch fault {
	case FaultHang:
		<-ctx.Done()
		return -1
	case FaultGarbage:
		io.WriteString(stdout, "\x00\x1b[31mgarbage{{not json\n<html>oops</html>\n")
		return 0
	case FaultDaemonDown:
		if len(argv) > 1 && argv[1] == "version" {
			fmt.Fprintf(stdout, `{"Client":%s,"Server":null}`+"\n", e.clientJSON())
		}
		fmt.Fprintln(stderr, MsgDaemonDown)
		return 1
	case FaultPermissionDenied:
		if len(argv) > 1 && argv[1] == "version" {
			fmt.Fprintf(stdout, `{"Client":%s,"Server":null}`+"\n", e.clientJSON())
		}
		fmt.Fprintln(stderr, MsgPermissionDenied)
		return 1
	case FaultTruncated:
		var buf bytes.Buffer
		code := e.run(ctx, argv, &buf, stderr)
		b := buf.Bytes()
		stdout.Write(b[:len(b)/2])
		return code
	}
	return e.run(ctx, argv, stdout, stderr)
}

func (e *Engine) knownBinary(p string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if path.Base(p) == "docker-compose" {
		return e.legacyCompose
	}
	return e.dockerPaths[p]
}

// flags splits docker-style options from positional arguments. valued
// lists the options that take a value.
func flags(args []string, valued ...string) (map[string]string, []string) {
	opts := map[string]string{}
	var pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		name, val, hasVal := strings.Cut(a, "=")
		isValued := false
		for _, v := range valued {
			if v == name {
				isValued = true
			}
		}
		if isValued && !hasVal && i+1 < len(args) {
			i++
			val = args[i]
		}
		if _, seen := opts[name]; seen && (name == "-f" || name == "--filter") {
			opts[name] += "\x00" + val
			continue
		}
		opts[name] = val
	}
	return opts, pos
}

// readOnly reports whether argv only reads the engine's state, so that its
// output may be cached.
func readOnly(argv []string) bool {
	if len(argv) < 2 || path.Base(argv[0]) == "docker-compose" {
		return false
	}
	switch argv[1] {
	case "version", "ps", "inspect", "images":
		return true
	case "volume":
		return len(argv) > 2 && (argv[2] == "ls" || argv[2] == "list")
	case "system":
		return len(argv) > 2 && argv[2] == "df"
	}
	return false
}

// timeKey is what the output of a read-only command depends on besides
// the engine's state: the clock, through texts like "Up 2 hours" (ps) and
// creation times printed to the second (images). e.mu is held.
func (e *Engine) timeKey(argv []string) string {
	switch argv[1] {
	case "ps":
		now := e.now()
		var b strings.Builder
		for _, f := range e.ctrs {
			b.WriteString(e.statusText(f, now))
			b.WriteByte(0)
			b.WriteString(humanDuration(now.Sub(f.c.CreatedAt)))
			b.WriteByte(0)
		}
		return b.String()
	case "images":
		return strconv.FormatInt(e.now().Unix(), 10)
	}
	return ""
}

// run runs argv, serving read-only commands from the output cache while
// the state and the clock-dependent texts are unchanged: a real host
// renders its output on its own CPU, and a fleet of hundreds of fake hosts
// in one process must not spend the measuring machine's CPU re-rendering
// the same bytes. Any other command invalidates the cache before and
// after it runs, so no read that overlaps a change is cached.
func (e *Engine) run(ctx context.Context, argv []string, stdout, stderr io.Writer) int {
	if !readOnly(argv) {
		e.mu.Lock()
		e.gen++
		e.mu.Unlock()
		defer func() {
			e.mu.Lock()
			e.gen++
			e.mu.Unlock()
		}()
		return e.runCommand(ctx, argv, stdout, stderr)
	}
	key := strings.Join(argv, "\x00")
	e.mu.Lock()
	gen, clock := e.gen, e.timeKey(argv)
	c, ok := e.outs[key]
	e.mu.Unlock()
	if !ok || c.gen != gen || c.clock != clock {
		var out, errOut bytes.Buffer
		code := e.runCommand(ctx, argv, &out, &errOut)
		c = cachedOutput{gen: gen, clock: clock, stdout: out.Bytes(), stderr: errOut.Bytes(), code: code}
		e.mu.Lock()
		// Only what is still current is kept: the state or the clock may
		// have moved while it ran.
		if e.gen == gen && e.timeKey(argv) == clock {
			if len(e.outs) >= maxCachedOutputs {
				clear(e.outs)
			}
			e.outs[key] = c
		}
		e.mu.Unlock()
	}
	if len(c.stdout) > 0 {
		_, _ = stdout.Write(c.stdout)
	}
	if len(c.stderr) > 0 {
		_, _ = stderr.Write(c.stderr)
	}
	return c.code
}

func (e *Engine) runCommand(ctx context.Context, argv []string, stdout, stderr io.Writer) int {
	if path.Base(argv[0]) == "docker-compose" {
		return e.compose(argv[1:], stdout, stderr, true)
	}
	if len(argv) < 2 {
		fmt.Fprintln(stderr, "Usage:  docker [OPTIONS] COMMAND")
		return 0
	}
	args := argv[2:]
	switch argv[1] {
	case "version":
		o, _ := flags(args, "--format", "-f")
		return e.version(o["--format"]+o["-f"], stdout, stderr)
	case "ps":
		return e.ps(args, stdout, stderr)
	case "inspect":
		return e.inspect(args, stdout, stderr)
	case "images":
		return e.images(args, stdout, stderr)
	case "volume":
		if len(args) > 0 && (args[0] == "ls" || args[0] == "list") {
			return e.volumeLs(args[1:], stdout, stderr)
		}
	case "system":
		if len(args) > 0 && args[0] == "df" {
			return e.systemDF(args[1:], stdout, stderr)
		}
	case "events":
		return e.events(ctx, args, stdout, stderr)
	case "stats":
		return e.stats(args, stdout, stderr)
	case "start", "stop", "restart", "kill", "pause", "unpause", "rm":
		return e.lifecycle(argv[1], args, stdout, stderr)
	case "logs":
		return e.logs(args, stdout, stderr)
	case "pull":
		return e.pull(args, stdout, stderr)
	case "compose":
		e.mu.Lock()
		plugin := e.composePlugin
		e.mu.Unlock()
		if !plugin {
			fmt.Fprintln(stderr, "docker: 'compose' is not a docker command.\nSee 'docker --help'")
			return 1
		}
		return e.compose(args, stdout, stderr, false)
	}
	fmt.Fprintf(stderr, "docker: '%s' is not a docker command.\nSee 'docker --help'\n", strings.Join(argv[1:], " "))
	return 1
}

func (e *Engine) jsonFunc(v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(e.prof.escapeHTML)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSpace(buf.String()), nil
}

// render executes a --format template on data like the CLI; "" format
// means the caller's default.
func (e *Engine) render(format string, data any, w io.Writer) error {
	if format == "{{json .}}" {
		// The CLI marshals whole objects with encoding/json defaults.
		b, err := json.Marshal(data)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	e.mu.Lock()
	t, ok := e.tmpls[format]
	e.mu.Unlock()
	if !ok {
		var err error
		t, err = template.New("").Option("missingkey=error").Funcs(template.FuncMap{
			"json":  e.jsonFunc,
			"join":  strings.Join,
			"lower": strings.ToLower,
			"upper": strings.ToUpper,
		}).Parse(format)
		if err != nil {
			return err
		}
		e.mu.Lock()
		e.tmpls[format] = t
		e.mu.Unlock()
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return err
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}

func (e *Engine) clientJSON() string {
	b, _ := json.Marshal(map[string]any{
		"Version": e.prof.client, "ApiVersion": e.prof.clientAPI, "DefaultAPIVersion": e.prof.clientAPI,
		"GitCommit": "0000000", "GoVersion": "go1.24.3", "Os": "linux", "Arch": "amd64",
		"BuildTime": "Fri May 30 12:07:14 2025", "Context": "default",
	})
	return string(b)
}

func (e *Engine) version(format string, stdout, stderr io.Writer) int {
	var client map[string]any
	_ = json.Unmarshal([]byte(e.clientJSON()), &client)
	server := map[string]any{
		"Platform": map[string]any{"Name": "Docker Engine - Community"},
		"Components": []any{map[string]any{"Name": "Engine", "Version": e.prof.server,
			"Details": map[string]any{"ApiVersion": e.prof.serverAPI, "MinAPIVersion": "1.24", "Os": "linux", "Arch": "amd64"}}},
		"Version": e.prof.server, "ApiVersion": e.prof.serverAPI, "MinAPIVersion": "1.24",
		"GitCommit": "0000000", "GoVersion": "go1.24.3", "Os": "linux", "Arch": "amd64",
		"KernelVersion": "6.1.0", "BuildTime": "2025-05-30T12:07:14.000000000+00:00",
	}
	if format == "" {
		fmt.Fprintf(stdout, "Client:\n Version:           %s\n\nServer:\n Engine:\n  Version:          %s\n", e.prof.client, e.prof.server)
		return 0
	}
	if err := e.render(format, map[string]any{"Client": client, "Server": server}, stdout); err != nil {
		fmt.Fprintf(stderr, "template: %v\n", err)
		return 1
	}
	return 0
}

// humanDuration follows github.com/docker/go-units HumanDuration.
func humanDuration(d time.Duration) string {
	if s := int(d.Seconds()); s < 1 {
		return "Less than a second"
	} else if s == 1 {
		return "1 second"
	} else if s < 60 {
		return fmt.Sprintf("%d seconds", s)
	}
	if m := int(d.Minutes()); m == 1 {
		return "About a minute"
	} else if m < 60 {
		return fmt.Sprintf("%d minutes", m)
	}
	if h := int(d.Hours() + 0.5); h == 1 {
		return "About an hour"
	} else if h < 48 {
		return fmt.Sprintf("%d hours", h)
	} else if h < 24*7*2 {
		return fmt.Sprintf("%d days", h/24)
	} else if h < 24*30*2 {
		return fmt.Sprintf("%d weeks", h/24/7)
	} else if h < 24*365*2 {
		return fmt.Sprintf("%d months", h/24/30)
	}
	return fmt.Sprintf("%d years", int(d.Hours())/24/365)
}

func (e *Engine) statusText(f *fakeCtr, now time.Time) string {
	c := f.c
	switch c.State {
	case deckhand.StateRunning, deckhand.StatePaused:
		s := "Up " + humanDuration(now.Sub(f.startedAt))
		switch {
		case c.State == deckhand.StatePaused:
			s += " (Paused)"
		case c.Health == deckhand.HealthStarting:
			s += " (health: starting)"
		case c.Health == deckhand.HealthHealthy, c.Health == deckhand.HealthUnhealthy:
			s += " (" + string(c.Health) + ")"
		}
		return s
	case deckhand.StateRestarting:
		return fmt.Sprintf("Restarting (%d) %s ago", c.ExitCode, humanDuration(now.Sub(f.finishedAt)))
	case deckhand.StateExited:
		return fmt.Sprintf("Exited (%d) %s ago", c.ExitCode, humanDuration(now.Sub(f.finishedAt)))
	case deckhand.StateCreated:
		return "Created"
	case deckhand.StateDead:
		return "Dead"
	case deckhand.StateRemoving:
		return "Removal In Progress"
	}
	return string(c.State)
}

func (e *Engine) portsText(ports []deckhand.Port) string {
	parts := make([]string, 0, len(ports))
	for _, p := range ports {
		if p.PublicPort == 0 {
			parts = append(parts, fmt.Sprintf("%d/%s", p.PrivatePort, p.Proto))
			continue
		}
		ip := p.IP
		if strings.Contains(ip, ":") && e.prof.bracketIPv6 {
			ip = "[" + ip + "]"
		}
		parts = append(parts, fmt.Sprintf("%s:%d->%d/%s", ip, p.PublicPort, p.PrivatePort, p.Proto))
	}
	return strings.Join(parts, ", ")
}

func labelsText(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + l[k]
	}
	return strings.Join(parts, ",")
}

// psContext is a container as the CLI's `docker ps --format` sees it: its
// fields by name, and the Label method.
type psContext map[string]any

// psLabelMap holds the labels for Label; it is not a field of the CLI's.
const psLabelMap = "\x00labels"

// Label is the value of one label, "" when it is absent, as in the CLI.
func (p psContext) Label(name string) string { return p[psLabelMap].(map[string]string)[name] }

// MarshalJSON is `{{json .}}`: the fields without the label map.
func (p psContext) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(p))
	for k, v := range p {
		if k != psLabelMap {
			m[k] = v
		}
	}
	return json.Marshal(m)
}

func (e *Engine) psContext(f *fakeCtr, now time.Time, noTrunc bool) psContext {
	c := f.c
	id := c.ID
	if !noTrunc && len(id) > 12 {
		id = id[:12]
	}
	m := psContext{
		psLabelMap: c.Labels,
		"Command":  `"` + c.Command + `"`, "CreatedAt": c.CreatedAt.UTC().Format("2006-01-02 15:04:05 -0700 MST"),
		"ID": id, "Image": c.Image, "Labels": labelsText(c.Labels), "LocalVolumes": "0", "Mounts": "",
		"Names": c.Name, "Networks": "bridge", "Ports": e.portsText(c.Ports),
		"RunningFor": humanDuration(now.Sub(c.CreatedAt)) + " ago", "Size": "0B", "State": string(c.State),
		"Status": e.statusText(f, now),
	}
	if e.prof.platform {
		m["Platform"] = nil
	}
	if e.prof.healthStatus {
		h := ""
		if c.Health != deckhand.HealthNone && c.State == deckhand.StateRunning {
			h = string(c.Health)
		}
		m["HealthStatus"] = h
	}
	return m
}

// labelFilter reads ps's --filter values (joined by NUL): label=key or
// label=key=value, all of which must match. Like the daemon, it refuses a
// filter it does not know; this fake knows only label.
func labelFilter(joined string) (func(map[string]string) bool, error) {
	type want struct {
		key, val string
		hasVal   bool
	}
	var wants []want
	for _, f := range strings.Split(joined, "\x00") {
		if f == "" {
			continue
		}
		kind, rest, ok := strings.Cut(f, "=")
		if !ok || kind != "label" {
			return nil, fmt.Errorf("invalid filter '%s'", kind)
		}
		k, v, hasVal := strings.Cut(rest, "=")
		wants = append(wants, want{k, v, hasVal})
	}
	return func(labels map[string]string) bool {
		for _, w := range wants {
			v, ok := labels[w.key]
			if !ok || w.hasVal && v != w.val {
				return false
			}
		}
		return true
	}, nil
}

func (e *Engine) ps(args []string, stdout, stderr io.Writer) int {
	o, _ := flags(args, "--format", "--filter", "-f", "-n", "--last")
	_, all := o["-a"]
	if _, ok := o["--all"]; ok {
		all = true
	}
	_, noTrunc := o["--no-trunc"]
	_, quiet := o["-q"]
	format := o["--format"]
	match, err := labelFilter(o["--filter"])
	if err != nil {
		fmt.Fprintln(stderr, "Error response from daemon:", err)
		return 1
	}
	e.mu.Lock()
	now := e.now()
	var ctxs []psContext
	var ids []string
	for _, f := range e.ctrs {
		if !all && f.c.State != deckhand.StateRunning && f.c.State != deckhand.StatePaused && f.c.State != deckhand.StateRestarting {
			continue
		}
		if !match(f.c.Labels) {
			continue
		}
		ctxs = append(ctxs, e.psContext(f, now, noTrunc))
		ids = append(ids, ctxs[len(ctxs)-1]["ID"].(string))
	}
	e.mu.Unlock()
	if quiet {
		for _, id := range ids {
			fmt.Fprintln(stdout, id)
		}
		return 0
	}
	if format == "" {
		fmt.Fprintln(stderr, "collectortest: table output is not implemented; pass --format")
		return 1
	}
	var buf bytes.Buffer
	for _, m := range ctxs {
		if err := e.render(format, m, &buf); err != nil {
			fmt.Fprintf(stderr, "template parsing error: %v\n", err)
			return 1
		}
	}
	stdout.Write(buf.Bytes())
	return 0
}

func (e *Engine) inspectContext(f *fakeCtr) map[string]any {
	c := f.c
	state := map[string]any{
		"Status": string(c.State), "Running": c.State == deckhand.StateRunning || c.State == deckhand.StatePaused,
		"Paused": c.State == deckhand.StatePaused, "Restarting": c.State == deckhand.StateRestarting,
		"OOMKilled": false, "Dead": c.State == deckhand.StateDead, "Pid": 4242, "ExitCode": c.ExitCode, "Error": "",
		"StartedAt": f.startedAt.UTC().Format(time.RFC3339Nano), "FinishedAt": "0001-01-01T00:00:00Z",
	}
	if c.State == deckhand.StateExited || c.State == deckhand.StateDead {
		state["FinishedAt"] = f.finishedAt.UTC().Format(time.RFC3339Nano)
		state["Pid"] = 0
	}
	if c.Health != deckhand.HealthNone {
		streak := 0
		if c.Health == deckhand.HealthUnhealthy {
			streak = 3
		}
		state["Health"] = map[string]any{"Status": string(c.Health), "FailingStreak": streak, "Log": []any{}}
	}
	labels := map[string]any{}
	for k, v := range c.Labels {
		labels[k] = v
	}
	env := make([]any, len(f.env))
	for i, v := range f.env {
		env[i] = v
	}
	return map[string]any{
		"Id": c.ID, "Created": c.CreatedAt.UTC().Format(time.RFC3339Nano), "Path": c.Command, "Args": []any{},
		"State": state, "Image": c.ImageID, "Name": "/" + c.Name, "RestartCount": c.RestartCount,
		"Driver": "overlay2", "Platform": "linux",
		"HostConfig": map[string]any{"RestartPolicy": map[string]any{"Name": "no", "MaximumRetryCount": 0}},
		"Mounts":     []any{},
		"Config": map[string]any{"Hostname": c.ID[:12], "Env": env, "Cmd": []any{c.Command}, "Image": c.Image,
			"Labels": labels},
		"NetworkSettings": map[string]any{"Ports": map[string]any{}},
	}
}

func (e *Engine) inspect(args []string, stdout, stderr io.Writer) int {
	o, refs := flags(args, "--format", "-f", "--type")
	format := o["--format"] + o["-f"]
	kind := "object"
	if o["--type"] == "container" {
		kind = "container"
	}
	e.mu.Lock()
	var found []map[string]any
	var missing []string
	for _, r := range refs {
		if f := e.find(r); f != nil {
			found = append(found, e.inspectContext(f))
		} else {
			missing = append(missing, r)
		}
	}
	e.mu.Unlock()
	code := 0
	if format == "" {
		if found == nil {
			found = []map[string]any{}
		}
		b, _ := json.MarshalIndent(found, "", "    ")
		stdout.Write(append(b, '\n'))
	} else {
		for _, m := range found {
			if err := e.render(format, m, stdout); err != nil {
				fmt.Fprintf(stderr, "template parsing error: %v\n", err)
				code = 1
			}
		}
	}
	for _, r := range missing {
		if kind == "container" {
			fmt.Fprintf(stderr, "Error response from daemon: No such container: %s\n", r)
		} else {
			fmt.Fprintf(stderr, "Error: No such object: %s\n", r)
		}
		code = 1
	}
	return code
}

func (e *Engine) images(args []string, stdout, stderr io.Writer) int {
	o, _ := flags(args, "--format", "--filter", "-f")
	_, noTrunc := o["--no-trunc"]
	e.mu.Lock()
	now := e.now()
	seen := map[string]bool{}
	var list []map[string]any
	for _, f := range e.ctrs {
		if seen[f.c.Image] {
			continue
		}
		seen[f.c.Image] = true
		repo, tag, ok := strings.Cut(f.c.Image, ":")
		if !ok {
			tag = "latest"
		}
		id := f.c.ImageID
		if !noTrunc {
			id = strings.TrimPrefix(id, "sha256:")[:12]
		}
		if e.imagesBorn.IsZero() {
			e.imagesBorn = now.Add(-72 * time.Hour).Truncate(time.Second)
		}
		created := e.imagesBorn
		list = append(list, map[string]any{
			"Containers": "N/A", "CreatedAt": created.UTC().Format("2006-01-02 15:04:05 -0700 MST"),
			"CreatedSince": humanDuration(now.Sub(created)) + " ago", "Digest": "<none>", "ID": id,
			"Repository": repo, "SharedSize": "N/A", "Size": "12.3MB", "Tag": tag, "UniqueSize": "N/A", "VirtualSize": "12.3MB",
		})
	}
	e.mu.Unlock()
	return e.renderAll(o["--format"], list, stdout, stderr)
}

func (e *Engine) renderAll(format string, list []map[string]any, stdout, stderr io.Writer) int {
	if format == "" {
		fmt.Fprintln(stderr, "collectortest: table output is not implemented; pass --format")
		return 1
	}
	var buf bytes.Buffer
	for _, m := range list {
		if err := e.render(format, m, &buf); err != nil {
			fmt.Fprintf(stderr, "template parsing error: %v\n", err)
			return 1
		}
	}
	stdout.Write(buf.Bytes())
	return 0
}

func (e *Engine) volumeMaps(df bool) []map[string]any {
	var list []map[string]any
	for i, name := range e.volumes {
		m := map[string]any{"Availability": "N/A", "Driver": "local", "Group": "N/A", "Labels": "", "Links": "N/A",
			"Mountpoint": "/var/lib/docker/volumes/" + name + "/_data", "Name": name, "Scope": "local", "Size": "N/A", "Status": "N/A"}
		if df {
			m["Links"] = fmt.Sprint(i % 2)
			m["Size"] = fmt.Sprintf("%d.5MB", i+1)
		}
		list = append(list, m)
	}
	return list
}

func (e *Engine) volumeLs(args []string, stdout, stderr io.Writer) int {
	o, _ := flags(args, "--format", "--filter", "-f")
	e.mu.Lock()
	list := e.volumeMaps(false)
	e.mu.Unlock()
	return e.renderAll(o["--format"], list, stdout, stderr)
}

func (e *Engine) systemDF(args []string, stdout, stderr io.Writer) int {
	o, _ := flags(args, "--format")
	e.mu.Lock()
	vols := e.volumeMaps(true)
	e.mu.Unlock()
	if vols == nil {
		vols = []map[string]any{}
	}
	data := map[string]any{"Images": []any{}, "Containers": []any{}, "Volumes": vols, "BuildCache": []any{}}
	return e.renderAll(o["--format"], []map[string]any{data}, stdout, stderr)
}

func (e *Engine) stats(args []string, stdout, stderr io.Writer) int {
	o, _ := flags(args, "--format")
	e.mu.Lock()
	var list []map[string]any
	for _, f := range e.ctrs {
		if f.c.State != deckhand.StateRunning && f.c.State != deckhand.StatePaused {
			continue
		}
		list = append(list, map[string]any{"BlockIO": "0B / 0B", "CPUPerc": "1.08%", "Container": f.c.ID[:12], "ID": f.c.ID[:12],
			"MemPerc": "0.01%", "MemUsage": "2.383MiB / 23.54GiB", "Name": f.c.Name, "NetIO": "656B / 0B", "PIDs": "4"})
	}
	e.mu.Unlock()
	return e.renderAll(o["--format"], list, stdout, stderr)
}

func (e *Engine) events(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, _ := flags(args, "--format", "--filter", "-f", "--since", "--until")
	format := o["--format"]
	if format == "" {
		format = "{{json .}}"
	}
	var typeWant string
	var labelWant []string
	for _, f := range strings.Split(o["--filter"], "\x00") {
		if t, ok := strings.CutPrefix(f, "type="); ok {
			typeWant = t
		} else if f != "" {
			labelWant = append(labelWant, f)
		}
	}
	match, err := labelFilter(strings.Join(labelWant, "\x00"))
	if err != nil {
		fmt.Fprintln(stderr, "Error response from daemon:", err)
		return 1
	}
	ch := make(chan []byte, 256)
	e.mu.Lock()
	e.subs[ch] = struct{}{}
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		delete(e.subs, ch)
		e.mu.Unlock()
	}()
	for {
		select {
		case <-ctx.Done():
			return -1
		case b := <-ch:
			var ev struct {
				Type  string
				Actor struct{ Attributes map[string]string }
			}
			_ = json.Unmarshal(b, &ev)
			if typeWant != "" && ev.Type != typeWant || !match(ev.Actor.Attributes) {
				continue
			}
			if format != "{{json .}}" {
				var m map[string]any
				_ = json.Unmarshal(b, &m)
				var buf bytes.Buffer
				if err := e.render(format, m, &buf); err != nil {
					fmt.Fprintf(stderr, "template parsing error: %v\n", err)
					return 1
				}
				b = buf.Bytes()
			}
			if _, err := stdout.Write(b); err != nil {
				return -1
			}
		}
	}
}

func (e *Engine) lifecycle(verb string, args []string, stdout, stderr io.Writer) int {
	o, refs := flags(args, "-t", "--time", "-s", "--signal")
	_, force := o["-f"]
	if _, ok := o["--force"]; ok {
		force = true
	}
	if len(refs) == 0 {
		fmt.Fprintf(stderr, "\"docker %s\" requires at least 1 argument.\n", verb)
		return 1
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	code := 0
	for _, r := range refs {
		f := e.find(r)
		if f == nil {
			fmt.Fprintf(stderr, "Error response from daemon: No such container: %s\n", r)
			code = 1
			continue
		}
		switch verb {
		case "start":
			e.setState(f, deckhand.StateRunning)
		case "stop":
			if f.c.State == deckhand.StateRunning || f.c.State == deckhand.StatePaused {
				e.emit(f, "kill", map[string]string{"signal": "15"})
				f.c.ExitCode = 0
				e.setState(f, deckhand.StateExited)
				e.emit(f, "stop", nil)
			}
		case "kill":
			if f.c.State != deckhand.StateRunning {
				fmt.Fprintf(stderr, "Error response from daemon: Cannot kill container: %s: Container %s is not running\n", r, f.c.ID)
				code = 1
				continue
			}
			e.emit(f, "kill", map[string]string{"signal": "9"})
			f.c.ExitCode = 137
			e.setState(f, deckhand.StateExited)
		case "restart":
			if f.c.State == deckhand.StateRunning {
				e.emit(f, "kill", map[string]string{"signal": "15"})
				f.c.ExitCode = 0
				e.setState(f, deckhand.StateExited)
				e.emit(f, "stop", nil)
			}
			e.setState(f, deckhand.StateRunning)
			e.emit(f, "restart", nil)
		case "pause":
			e.setState(f, deckhand.StatePaused)
		case "unpause":
			e.setState(f, deckhand.StateRunning)
		case "rm":
			if (f.c.State == deckhand.StateRunning || f.c.State == deckhand.StatePaused) && !force {
				fmt.Fprintf(stderr, "Error response from daemon: You cannot remove a running container %s. Stop the container before attempting removal or force remove\n", f.c.ID)
				code = 1
				continue
			}
			e.remove(f.c.Name)
		}
		fmt.Fprintln(stdout, r)
	}
	return code
}

func (e *Engine) logs(args []string, stdout, stderr io.Writer) int {
	o, refs := flags(args, "--tail", "-n", "--since", "--until")
	_, ts := o["--timestamps"]
	if _, ok := o["-t"]; ok {
		ts = true
	}
	if len(refs) != 1 {
		fmt.Fprintln(stderr, "\"docker logs\" requires exactly 1 argument.")
		return 1
	}
	e.mu.Lock()
	f := e.find(refs[0])
	var lines []logLine
	if f != nil {
		lines = append(lines, f.logs...)
	}
	e.mu.Unlock()
	if f == nil {
		fmt.Fprintf(stderr, "Error response from daemon: No such container: %s\n", refs[0])
		return 1
	}
	tail := o["--tail"] + o["-n"]
	var n int
	if _, err := fmt.Sscan(tail, &n); err == nil && n >= 0 && n < len(lines) {
		lines = lines[len(lines)-n:]
	}
	for _, l := range lines {
		w := stdout
		if l.stderr {
			w = stderr
		}
		if ts {
			fmt.Fprintf(w, "%s %s\n", l.at.UTC().Format(time.RFC3339Nano), l.text)
		} else {
			fmt.Fprintln(w, l.text)
		}
	}
	return 0
}

func (e *Engine) pull(args []string, stdout, stderr io.Writer) int {
	_, refs := flags(args, "--platform")
	if len(refs) != 1 {
		fmt.Fprintln(stderr, "\"docker pull\" requires exactly 1 argument.")
		return 1
	}
	img := refs[0]
	e.mu.Lock()
	e.pulls = append(e.pulls, img)
	known := false
	for _, f := range e.ctrs {
		known = known || f.c.Image == img
	}
	e.mu.Unlock()
	if !known {
		fmt.Fprintf(stderr, "Error response from daemon: pull access denied for %s, repository does not exist or may require 'docker login'\n", img)
		return 1
	}
	repo, tag, ok := strings.Cut(img, ":")
	if !ok {
		tag = "latest"
	}
	fmt.Fprintf(stdout, "%s: Pulling from library/%s\nDigest: %s\nStatus: Image is up to date for %s\n", tag, repo, imageID(img), img)
	return 0
}

// compose implements `docker compose -p P -f F… up -d [--pull always]
// [--no-deps] S` and `pull S` for both flavours: the container of service S
// in project P is recreated (new ID, running), with compose's progress on
// stderr.
func (e *Engine) compose(args []string, stdout, stderr io.Writer, legacy bool) int {
	o, pos := flags(args, "-p", "--project-name", "-f", "--file", "--pull")
	project := o["-p"] + o["--project-name"]
	if len(pos) < 2 || project == "" || o["-f"]+o["--file"] == "" {
		fmt.Fprintln(stderr, "collectortest: compose needs -p, -f, a command and a service")
		return 1
	}
	if legacy {
		if _, ok := o["--pull"]; ok {
			fmt.Fprintln(stderr, "Usage: up [options] [--scale SERVICE=NUM...] [--] [SERVICE...]")
			return 1
		}
	}
	verb, service := pos[0], pos[len(pos)-1]
	e.mu.Lock()
	defer e.mu.Unlock()
	var f *fakeCtr
	for _, c := range e.ctrs {
		if c.c.Labels[deckhand.LabelComposeProject] == project && c.c.Labels[deckhand.LabelComposeService] == service {
			f = c
		}
	}
	if f == nil {
		fmt.Fprintf(stderr, "no such service: %s\n", service)
		return 1
	}
	switch verb {
	case "pull":
		e.pulls = append(e.pulls, f.c.Image)
		fmt.Fprintf(stderr, " %s Pulled\n", service)
		return 0
	case "up":
		if _, ok := o["--pull"]; ok {
			e.pulls = append(e.pulls, f.c.Image)
		}
		old := *f
		e.remove(f.c.Name)
		nf := &fakeCtr{c: old.c, env: old.env, logs: nil}
		nf.c.ID = randomID()
		nf.c.State = deckhand.StateRunning
		nf.c.ExitCode, nf.c.RestartCount = 0, 0
		nf.c.CreatedAt, nf.startedAt = e.now(), e.now()
		e.ctrs = append([]*fakeCtr{nf}, e.ctrs...)
		e.emit(nf, "create", nil)
		e.emit(nf, "start", nil)
		fmt.Fprintf(stderr, " Container %s  Recreate\n Container %s  Recreated\n Container %s  Starting\n Container %s  Started\n",
			old.c.Name, old.c.Name, old.c.Name, old.c.Name)
		return 0
	}
	fmt.Fprintf(stderr, "collectortest: compose %s is not implemented\n", verb)
	return 1
}
