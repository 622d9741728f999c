package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/collector"
	"github.com/deckhand/deckhand/internal/fleet"
	"github.com/deckhand/deckhand/internal/sshdtest"
)

// Goals of the latency section, from the die event's own timestamp to the
// ntfy receiver (p95).
const (
	notifyGoalLocalMS = 100
	notifyGoalSSHMS   = 150
	notifyGoalOldMS   = 1000 // the goal checked before the hop-by-hop work
)

// latencyEnv is what every transport's run shares: the engine's die
// events, the ntfy receiver, the image, the sshd.
type latencyEnv struct {
	o      options
	run    string // this bench run's label value, and its containers' prefix
	image  string
	dir    string
	raw    *arrivals
	ntfy   *ntfyReceiver
	ntfyIn string // the receiver's URL
	sshd   *benchSSHD
	// crash kills a container's process the way a crash does (SIGKILL
	// from outside, so its restart policy applies); docker kill when this
	// process may not signal it.
	pidKill bool
}

// benchLatency measures, on the real Docker engine, the real daemon's path
// from a container's death to the ntfy notification, through the local
// transport and through a real OpenSSH sshd, hop by hop from the daemon's
// debug log; that a container whose restart policy brings it back does
// not page; and the Restart button's action path next to a plain `ssh
// host docker restart`.
func benchLatency(ctx context.Context, o options, rep *benchReport, _ io.Writer) error {
	const sec = "latency"
	if o.latencySkip != "" {
		rep.skip(sec, "skipped ("+o.latencySkip+")")
		return nil
	}
	if out, err := exec.CommandContext(ctx, "docker", "version", "--format", "{{.Server.Version}}").Output(); err != nil || len(bytes.TrimSpace(out)) == 0 {
		rep.skip(sec, "skipped: no Docker engine answering")
		return nil
	}
	image, err := benchImage(ctx)
	if err != nil {
		rep.skip(sec, "skipped: no test image: "+err.Error())
		return nil
	}
	dir, err := os.MkdirTemp("", "deckhand-bench-latency-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	env := &latencyEnv{o: o, run: hex.EncodeToString(randBytes(4)), image: image, dir: dir, ntfy: newNtfyReceiver("deckhand-bench"),
		pidKill: os.Geteuid() == 0}
	srv := httptest.NewServer(env.ntfy)
	defer srv.Close()
	env.ntfyIn = srv.URL
	dctx, stopEvents := context.WithCancel(ctx)
	defer stopEvents()
	if env.raw, err = watchDockerEvents(dctx, env.run); err != nil {
		return err
	}
	transports := []string{collector.TransportLocal}
	if _, err := os.Stat(sshdtest.SSHDPath); err == nil {
		if env.sshd, err = startSSHD(ctx, dir); err != nil {
			return err
		}
		defer env.sshd.stop()
		transports = append(transports, collector.TransportSSH)
	} else {
		rep.skip(sec+" through OpenSSH", "OpenSSH sshd not installed ("+sshdtest.SSHDPath+")")
	}
	for _, tr := range transports {
		f, err := env.measure(ctx, tr)
		if err != nil {
			return fmt.Errorf("%s transport: %w", tr, err)
		}
		f.report(rep, tr)
	}
	rep.note("latency: the real daemon (`deckhand run`, log_format json at debug level) on the real Docker engine, through the local docker CLI and through OpenSSH's sshd on 127.0.0.1; " +
		"each trial crashes a fresh container without a restart policy (SIGKILL to its process) and times from the die event's own timestamp (timeNano) to an ntfy receiver in this process; the hops come from the daemon's log (hop attribute); the Restart button is tapped the way the ntfy app does, a POST to the alert's action URL")
	if !env.pidKill {
		rep.note("latency: not root, so containers were stopped with docker kill, which Docker treats as deliberate (no restart policy applies): the restart-policy check was skipped")
	}
	return nil
}

// latencyFigures are one transport's.
type latencyFigures struct {
	hops          []hopTimes
	missingHops   int
	peak          treeUsage // daemon and its children
	policyPages   int       // notifications for one crash of a container with restart=always
	policyChecked bool
	policyBack    bool // docker brought it back
	taps, direct  []time.Duration
}

// measure runs one daemon watching the engine through transport tr.
func (e *latencyEnv) measure(ctx context.Context, tr string) (f latencyFigures, err error) {
	prefix := fmt.Sprintf("dh-bench-%s-%s", e.run, tr)
	kills := names(prefix+"-kill", e.o.trials+1) // the first warms every path up
	policy := prefix + "-policy"
	var taps []string
	if tr == collector.TransportSSH {
		taps = names(prefix+"-tap", e.o.restarts)
	}
	all := append(append(append([]string{}, kills...), policy), taps...)
	e.ntfy.watch(all...)
	defer func() { _ = exec.Command("docker", append([]string{"rm", "-f", "-v"}, all...)...).Run() }()
	if err := e.create(ctx, all, policy); err != nil {
		return f, err
	}
	d, err := e.startDaemon(ctx, tr)
	if err != nil {
		return f, err
	}
	defer d.stop()
	defer func() {
		if err != nil {
			err = fmt.Errorf("%w (the daemon's log: %s)", err, d.keep(filepath.Join(os.TempDir(), filepath.Base(d.logPath))))
		}
	}()
	peak := sampleTree(d.cmd.Process.Pid, 100*time.Millisecond)
	defer peak.stop()

	// The events stream opens right after the first collection; the
	// warm-up crash proves it and is not counted.
	time.Sleep(500 * time.Millisecond)
	if _, err := e.crashAndWait(ctx, kills[0]); err != nil {
		return f, fmt.Errorf("warm-up: %w", err)
	}
	for _, name := range kills[1:] {
		h, err := e.crashAndWait(ctx, name)
		if err != nil {
			return f, err
		}
		f.hops = append(f.hops, h)
	}
	if e.pidKill {
		if err := e.checkPolicy(ctx, policy, &f); err != nil {
			return f, err
		}
	}
	for _, name := range taps {
		tap, direct, err := e.restartBoth(ctx, name)
		if err != nil {
			return f, err
		}
		f.taps, f.direct = append(f.taps, tap), append(f.direct, direct)
	}
	f.peak = peak.stop()
	d.stop()
	return f, d.readHops(&f)
}

func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%03d", prefix, i)
	}
	return out
}

// create creates and starts the containers, monitored; policy alone gets
// a restart policy.
func (e *latencyEnv) create(ctx context.Context, all []string, policy string) error {
	for _, n := range all {
		args := []string{"create", "--name", n, "--label", "deckhand.test.pid=" + strconv.Itoa(os.Getpid()),
			"--label", "deckhand.bench=" + e.run, "--label", deckhand.LabelMonitor + "=true", "--no-healthcheck"}
		if n == policy {
			args = append(args, "--restart", "always")
		}
		if out, err := exec.CommandContext(ctx, "docker", append(args, e.image)...).CombinedOutput(); err != nil {
			return fmt.Errorf("docker create: %v: %s", err, out)
		}
	}
	if out, err := exec.CommandContext(ctx, "docker", append([]string{"start"}, all...)...).CombinedOutput(); err != nil {
		return fmt.Errorf("docker start: %v: %s", err, out)
	}
	return nil
}

// crash kills the container's main process, and returns when it did.
func (e *latencyEnv) crash(ctx context.Context, name string) (time.Time, error) {
	if !e.pidKill {
		t := time.Now()
		if out, err := exec.CommandContext(ctx, "docker", "kill", name).CombinedOutput(); err != nil {
			return t, fmt.Errorf("docker kill: %v: %s", err, out)
		}
		return t, nil
	}
	out, err := exec.CommandContext(ctx, "docker", "inspect", "--format", "{{.State.Pid}}", name).Output()
	if err != nil {
		return time.Time{}, fmt.Errorf("docker inspect %s: %w", name, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil || pid <= 0 {
		return time.Time{}, fmt.Errorf("%s: no process to kill (%q)", name, out)
	}
	t := time.Now()
	return t, syscall.Kill(pid, syscall.SIGKILL)
}

// crashAndWait crashes name and waits for its die event and its
// notification.
func (e *latencyEnv) crashAndWait(ctx context.Context, name string) (hopTimes, error) {
	t, err := e.crash(ctx, name)
	if err != nil {
		return hopTimes{}, err
	}
	die, err := e.raw.wait(name, t, 15*time.Second)
	if err != nil {
		return hopTimes{}, fmt.Errorf("die event: %w", err)
	}
	n, err := e.ntfy.wait(name, t, noticeTimeout)
	if err != nil {
		return hopTimes{}, fmt.Errorf("notification: %w", err)
	}
	return hopTimes{name: name, die: die.stamp, notified: n.at}, nil
}

// latencyInterval is the latency daemons' polling interval: the default,
// so that a crash the events path misses costs what it costs users.
const latencyInterval = 15 * time.Second

// policyWait is how long a restart-policy container is watched for a page
// after its crash: a poll and a second, so that at least one collection
// sees the container after Docker brought it back, whatever the re-collect
// the die event asked for saw.
const policyWait = latencyInterval + time.Second

// noticeTimeout bounds the wait for a crash's notification: a crash the
// events path misses is still caught by the next poll.
const noticeTimeout = latencyInterval + 10*time.Second

func (e *latencyEnv) checkPolicy(ctx context.Context, name string, f *latencyFigures) error {
	t, err := e.crash(ctx, name)
	if err != nil {
		return err
	}
	if _, err := e.raw.wait(name, t, 15*time.Second); err != nil {
		return fmt.Errorf("die event: %w", err)
	}
	time.Sleep(policyWait)
	f.policyChecked, f.policyPages = true, e.ntfy.count(name, t)
	out, err := exec.CommandContext(ctx, "docker", "inspect", "--format", "{{.State.Running}} {{.RestartCount}}", name).Output()
	f.policyBack = err == nil && strings.HasPrefix(string(out), "true ") && strings.TrimSpace(string(out)) != "true 0"
	return nil
}

// restartBoth crashes name, taps its alert's Restart button, then crashes
// it again and restarts it over a new SSH connection: the same docker
// restart of a dead container, through deckhand's action path and not.
func (e *latencyEnv) restartBoth(ctx context.Context, name string) (tap, direct time.Duration, err error) {
	t, err := e.crash(ctx, name)
	if err != nil {
		return 0, 0, err
	}
	n, err := e.ntfy.wait(name, t, noticeTimeout)
	if err != nil {
		return 0, 0, fmt.Errorf("notification: %w", err)
	}
	var button *ntfyAction
	for i, a := range n.actions {
		if a.Label == "Restart" && a.Action == "http" {
			button = &n.actions[i]
		}
	}
	if button == nil {
		return 0, 0, fmt.Errorf("%s: the notification has no Restart button: %+v", name, n.actions)
	}
	if tap, err = pressButton(ctx, *button); err != nil {
		return 0, 0, err
	}
	t, err = e.crash(ctx, name)
	if err != nil {
		return 0, 0, err
	}
	if _, err := e.raw.wait(name, t, 15*time.Second); err != nil {
		return 0, 0, fmt.Errorf("die event: %w", err)
	}
	cfg, err := fleet.ClientConfig(e.sshd.keyFile, e.sshd.knownHosts, e.sshd.user)
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	if _, err := fleet.Exec(ctx, cfg, e.sshd.addr, collector.QuoteArgv([]string{"docker", "restart", name})); err != nil {
		return 0, 0, err
	}
	return tap, time.Since(start), nil
}

// pressButton does what the ntfy app does when an http action is tapped.
func pressButton(ctx context.Context, a ntfyAction) (time.Duration, error) {
	method := a.Method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequestWithContext(ctx, method, a.URL, nil)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("tap %s: %w", a.Label, err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	took := time.Since(start)
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("tap %s: %s: %s", a.Label, resp.Status, bytes.TrimSpace(body))
	}
	return took, nil
}

// latencyDaemon is `deckhand run` watching the engine as host "bench".
type latencyDaemon struct {
	cmd     *exec.Cmd
	logPath string
	kept    bool // the log is in -logs
	done    chan struct{}
}

// keep returns where the log stays after the run: where it is with -logs,
// else a copy at path.
func (d *latencyDaemon) keep(path string) string {
	if d.kept {
		return d.logPath
	}
	if b, err := os.ReadFile(d.logPath); err != nil || os.WriteFile(path, b, 0o600) != nil {
		return "lost"
	}
	return path
}

func (e *latencyEnv) startDaemon(ctx context.Context, tr string) (*latencyDaemon, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	host := "transport = \"local\"\n"
	if tr == collector.TransportSSH {
		host = fmt.Sprintf("transport = \"ssh\"\naddress = %q\nuser = %q\nkey_file = %q\nknown_hosts = %q\n",
			e.sshd.addr, e.sshd.user, e.sshd.keyFile, e.sshd.knownHosts)
	}
	cfg := fmt.Sprintf(`data = %q
log_level = "debug"
log_format = "json"
secret = %q
public_url = "http://127.0.0.1:%d"

[collector]
interval = %q

[statuspage]
listen = "127.0.0.1:%d"

[ntfy]
server = %q
topic = "deckhand-bench"
actions = true

[[hosts]]
name = "bench"
%s`, filepath.Join(e.dir, tr+".db"), hex.EncodeToString(randBytes(32)), port, latencyInterval.String(), port, e.ntfyIn, host)
	cfgPath := filepath.Join(e.dir, tr+".toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	logDir := e.dir
	if e.o.logs != "" {
		logDir = e.o.logs
	}
	d := &latencyDaemon{logPath: filepath.Join(logDir, fmt.Sprintf("deckhand-bench-%s-%s.log", e.run, tr)), kept: e.o.logs != "", done: make(chan struct{})}
	logf, err := os.Create(d.logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	d.cmd = exec.Command(e.o.deckhand, "run", "--config", cfgPath)
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	if err := d.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start deckhand run: %w", err)
	}
	go func() { _ = d.cmd.Wait(); close(d.done) }()
	metrics := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	deadline := time.Now().Add(time.Minute)
	for {
		up, _, err := scrape(ctx, metrics)
		if err == nil && up >= 1 {
			return d, nil
		}
		select {
		case <-d.done:
			return nil, fmt.Errorf("deckhand run exited:\n%s", d.logTail())
		default:
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			d.stop()
			return nil, fmt.Errorf("the daemon did not collect its host within a minute (last error: %v):\n%s", err, d.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (d *latencyDaemon) stop() {
	select {
	case <-d.done:
		return
	default:
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(10 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
	}
}

func (d *latencyDaemon) logTail() string {
	b, _ := os.ReadFile(d.logPath)
	return tail(string(b), 30)
}

// readHops fills f's hops from the daemon's log.
func (d *latencyDaemon) readHops(f *latencyFigures) error {
	lf, err := os.Open(d.logPath)
	if err != nil {
		return err
	}
	defer lf.Close()
	log, err := readLog(lf)
	if err != nil {
		return err
	}
	if len(log) == 0 {
		return errors.New("the daemon's log holds no hop: was it started at debug level in JSON?")
	}
	for i, h := range f.hops {
		f.hops[i] = hopsOf(log, "bench", h)
		if f.hops[i].received.IsZero() || f.hops[i].collectEnd.IsZero() || f.hops[i].stored.IsZero() || f.hops[i].delivered.IsZero() {
			f.missingHops++
		}
	}
	return nil
}

// report adds one transport's figures.
func (f latencyFigures) report(rep *benchReport, tr string) {
	sec := "latency " + tr
	since := func(at func(hopTimes) time.Time) []time.Duration {
		var out []time.Duration
		for _, h := range f.hops {
			if t := at(h); !t.IsZero() && !h.die.IsZero() {
				out = append(out, t.Sub(h.die))
			}
		}
		return out
	}
	total := since(func(h hopTimes) time.Time { return h.notified })
	goal := float64(notifyGoalLocalMS)
	if tr == collector.TransportSSH {
		goal = notifyGoalSSHMS
	}
	rep.add(sec, fmt.Sprintf("die (its timeNano) → ntfy receiver has it, p50 of %d", len(total)), ms(percentile(total, 0.5)), "ms")
	p95 := ms(percentile(total, 0.95))
	rep.goal(sec, "die → ntfy receiver has it, p95", p95, "ms", true, goal, true)
	if tr == collector.TransportSSH {
		rep.goal(sec, "die → ntfy receiver has it, p95, against the earlier goal", p95, "ms", true, notifyGoalOldMS, true)
	}
	for _, hop := range []struct {
		name string
		at   func(hopTimes) time.Time
	}{
		{"die → the daemon reads the event, p50", func(h hopTimes) time.Time { return h.received }},
		{"die → state recording starts (the event itself, or a re-collect), p50", func(h hopTimes) time.Time { return h.collectStart }},
		{"die → container recorded down, p50", func(h hopTimes) time.Time { return h.collectEnd }},
		{"die → alert and notice stored, p50", func(h hopTimes) time.Time { return h.stored }},
		{"die → ntfy receiver has it, p50", func(h hopTimes) time.Time { return h.notified }},
		{"die → delivery recorded (ntfy answered), p50", func(h hopTimes) time.Time { return h.delivered }},
	} {
		rep.add(sec, "  "+hop.name, ms(percentile(since(hop.at), 0.5)), "ms")
	}
	if f.missingHops > 0 {
		rep.note("latency %s: %d of %d trials lack a hop in the daemon's log; their other hops still count", tr, f.missingHops, len(f.hops))
	}
	rep.add(sec, "peak RSS, the daemon and its child processes", float64(f.peak.RSSKB)/1024, "MB")
	rep.add(sec, "  most processes at once", float64(f.peak.Procs), "")
	if f.policyChecked {
		rep.goal(sec, fmt.Sprintf("notifications for one crash of a container with restart=always, within %s", policyWait), float64(f.policyPages), "", true, 0, true)
		if !f.policyBack {
			rep.note("latency %s: docker had not restarted the restart=always container %s after its crash", tr, policyWait)
		}
	}
	if len(f.taps) > 0 {
		tp, dp := percentile(f.taps, 0.5), percentile(f.direct, 0.5)
		rep.add(sec, fmt.Sprintf("Restart button tapped (ntfy action → /hooks/ntfy → docker restart), p50 of %d", len(f.taps)), ms(tp), "ms")
		rep.add(sec, "ssh host docker restart (new connection), p50", ms(dp), "ms")
		rep.add(sec, "Restart button overhead over direct ssh", ms(tp-dp), "ms")
	}
}
