package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/collector"
	"github.com/deckhand/deckhand/commands"
	"github.com/deckhand/deckhand/internal/fleet"
	"github.com/deckhand/deckhand/internal/sshdtest"
)

// benchLatency measures, on the real Docker engine reached through a real
// OpenSSH sshd, the time from `docker kill` to the ntfy notice produced by
// the daemon's own pipeline (events → collect → alerts → store → outbox →
// ntfy), next to the raw `docker events` latency of the same kills, and
// /restart through the command router next to a plain `ssh host docker
// restart`.
func benchLatency(ctx context.Context, o benchOptions, rep *benchReport, stderr io.Writer) error {
	const sec = "latency"
	if o.latencySkip != "" {
		rep.skip(sec, "skipped ("+o.latencySkip+")")
		return nil
	}
	if _, err := os.Stat(sshdtest.SSHDPath); err != nil {
		rep.skip(sec, "skipped: OpenSSH sshd not installed ("+sshdtest.SSHDPath+")")
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
	sshd, err := startSSHD(ctx, dir)
	if err != nil {
		return err
	}
	defer sshd.stop()

	// One container per kill trial (a fresh alert each time, no cooldown in
	// the way), one more for the restarts.
	run := hex.EncodeToString(randBytes(4))
	names := make([]string, o.trials+2)
	for i := range names {
		names[i] = fmt.Sprintf("dh-bench-%s-%03d", run, i)
	}
	defer func() {
		_ = exec.Command("docker", append([]string{"rm", "-f", "-v"}, names...)...).Run()
	}()
	for _, n := range names {
		if out, err := exec.CommandContext(ctx, "docker", "create", "--name", n, "--label", "deckhand.test.pid="+strconv.Itoa(os.Getpid()),
			"--label", "deckhand.bench="+run, "--label", deckhand.LabelMonitor+"=true", "--no-healthcheck", image).CombinedOutput(); err != nil {
			return fmt.Errorf("docker create: %v: %s", err, out)
		}
	}
	if out, err := exec.CommandContext(ctx, "docker", append([]string{"start"}, names...)...).CombinedOutput(); err != nil {
		return fmt.Errorf("docker start: %v: %s", err, out)
	}

	ntfyFake := newNtfyReceiver("deckhand-bench")
	ntfySrv := httptest.NewServer(ntfyFake)
	defer ntfySrv.Close()

	cfgText := fmt.Sprintf(`data = %q
log_level = "error"
secret = %q

[collector]
interval = "15s"

[[hosts]]
name = "bench"
transport = "ssh"
address = %q
user = %q
key_file = %q
known_hosts = %q

[statuspage]
listen = "127.0.0.1:0"

[ntfy]
server = %q
topic = "deckhand-bench"
`, filepath.Join(dir, "deckhand.db"), hex.EncodeToString(randBytes(32)), sshd.addr, sshd.user, sshd.keyFile, sshd.knownHosts, ntfySrv.URL)
	cfg, err := parseConfig("(bench)", []byte(cfgText))
	if err != nil {
		return err
	}
	dctx, stopDaemon := context.WithCancel(ctx)
	defer stopDaemon()
	d, err := newDaemon(dctx, cfg, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError})), true)
	if err != nil {
		return err
	}
	d.ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		d.close()
		return err
	}
	daemonDone := make(chan error, 1)
	go func() { daemonDone <- d.run(dctx) }()
	defer func() {
		stopDaemon()
		<-daemonDone
		d.close()
	}()
	select {
	case <-d.started:
	case err := <-daemonDone:
		return fmt.Errorf("daemon stopped: %w", err)
	case <-time.After(60 * time.Second):
		return errors.New("daemon did not start within 60s")
	}

	raw, err := watchDockerEvents(dctx, run)
	if err != nil {
		return err
	}

	kill := func(name string) (rawLat, noticeLat time.Duration, err error) {
		t0 := time.Now()
		if out, err := exec.CommandContext(ctx, "docker", "kill", name).CombinedOutput(); err != nil {
			return 0, 0, fmt.Errorf("docker kill: %v: %s", err, out)
		}
		evAt, err := raw.wait(name, 15*time.Second)
		if err != nil {
			return 0, 0, err
		}
		nAt, err := ntfyFake.wait(name, 15*time.Second)
		if err != nil {
			return 0, 0, err
		}
		return evAt.Sub(t0), nAt.Sub(t0), nil
	}
	// The first kill warms up every path (and proves the events stream is
	// connected); it is not counted.
	time.Sleep(500 * time.Millisecond)
	if _, _, err := kill(names[0]); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	var raws, notices []time.Duration
	for _, n := range names[1 : o.trials+1] {
		r, nt, err := kill(n)
		if err != nil {
			return err
		}
		raws, notices = append(raws, r), append(notices, nt)
	}
	rep.add(sec, fmt.Sprintf("docker kill → raw docker events line, p50 (%d trials)", len(raws)), ms(percentile(raws, 0.5)), "ms")
	rep.add(sec, "docker kill → raw docker events line, p95", ms(percentile(raws, 0.95)), "ms")
	rep.add(sec, "docker kill → ntfy notice received, p50", ms(percentile(notices, 0.5)), "ms")
	rep.goal(sec, "docker kill → ntfy notice received, p95", ms(percentile(notices, 0.95)), "ms", true, 1000, true)

	// /restart through the router (persistent connection) against a new
	// SSH connection running docker restart, alternating.
	target := names[len(names)-1]
	sshCfg, err := fleet.ClientConfig(sshd.keyFile, sshd.knownHosts, sshd.user)
	if err != nil {
		return err
	}
	admin := deckhand.Actor{Platform: deckhand.PlatformCLI, UserID: "bench", Name: "bench", Role: deckhand.RoleAdmin}
	var viaRouter, direct []time.Duration
	for range o.restarts {
		t := time.Now()
		reply := d.router.Handle(ctx, commands.Request{Actor: admin, Command: "restart", Args: []string{"bench", target}})
		if reply.Error {
			return fmt.Errorf("/restart: %s", reply.Text)
		}
		viaRouter = append(viaRouter, time.Since(t))
		t = time.Now()
		if _, err := fleet.Exec(ctx, sshCfg, sshd.addr, collector.QuoteArgv([]string{"docker", "restart", target})); err != nil {
			return err
		}
		direct = append(direct, time.Since(t))
	}
	rp, dp := percentile(viaRouter, 0.5), percentile(direct, 0.5)
	rep.add(sec, fmt.Sprintf("/restart via commands.Router, p50 (%d trials)", len(viaRouter)), ms(rp), "ms")
	rep.add(sec, "ssh host docker restart (new connection), p50", ms(dp), "ms")
	rep.add(sec, "/restart overhead over direct ssh", ms(rp-dp), "ms")
	rep.note("latency: real Docker engine through OpenSSH sshd on 127.0.0.1, the daemon's own pipeline with an in-process ntfy receiver; times from the moment `docker kill` is issued")
	return nil
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// benchImage returns a local image whose default command serves until
// killed: the integration tests' deckhand-testapp when present, else one
// built from internal/testapp (needs the go tool and the source tree).
func benchImage(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "docker", "images", "deckhand-testapp", "--format", "{{.Repository}}:{{.Tag}}").Output()
	if err == nil {
		if first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n"); first != "" {
			return first, nil
		}
	}
	dir, err := os.MkdirTemp("", "deckhand-bench-image-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", filepath.Join(dir, "testapp"), "github.com/deckhand/deckhand/internal/testapp")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build testapp: %v: %s", err, bytes.TrimSpace(out))
	}
	df := "FROM scratch\nCOPY testapp /testapp\nENTRYPOINT [\"/testapp\"]\nCMD [\"serve\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
		return "", err
	}
	const tag = "deckhand-bench-testapp:latest"
	b := exec.CommandContext(ctx, "docker", "build", "-q", "-t", tag, dir)
	b.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	if out, err := b.CombinedOutput(); err != nil {
		return "", fmt.Errorf("docker build: %v: %s", err, bytes.TrimSpace(out))
	}
	return tag, nil
}

// benchSSHD is OpenSSH's sshd on a loopback port with generated keys.
type benchSSHD struct {
	addr, user, keyFile, knownHosts string
	cmd                             *exec.Cmd
}

func writeKey(path string) (ssh.PublicKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := ssh.MarshalPrivateKey(priv, "deckhand bench")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, err
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, err
	}
	return s.PublicKey(), nil
}

func startSSHD(ctx context.Context, dir string) (*benchSSHD, error) {
	u, err := user.Current()
	if err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		_ = os.MkdirAll("/run/sshd", 0o755)
	}
	hostPub, err := writeKey(filepath.Join(dir, "host_key"))
	if err != nil {
		return nil, err
	}
	clientPub, err := writeKey(filepath.Join(dir, "id_ed25519"))
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), ssh.MarshalAuthorizedKey(clientPub), 0o600); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	portN, _ := strconv.Atoi(port)
	conf := strings.Join(sshdtest.Config{Port: portN, Dir: dir, HostKeyFile: filepath.Join(dir, "host_key"),
		AuthorizedKeys: filepath.Join(dir, "authorized_keys"), User: u.Username}.Lines(), "\n") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "sshd_config"), []byte(conf), 0o600); err != nil {
		return nil, err
	}
	known := knownhosts.Line([]string{knownhosts.Normalize(addr)}, hostPub) + "\n"
	if err := os.WriteFile(filepath.Join(dir, "known_hosts"), []byte(known), 0o600); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "sshd.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(sshdtest.SSHDPath, "-D", "-e", "-f", filepath.Join(dir, "sshd_config"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start sshd: %w", err)
	}
	s := &benchSSHD{addr: addr, user: u.Username, keyFile: filepath.Join(dir, "id_ed25519"), knownHosts: filepath.Join(dir, "known_hosts"), cmd: cmd}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.HasPrefix(line, "SSH-2.0-") {
				return s, nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			s.stop()
			log, _ := os.ReadFile(filepath.Join(dir, "sshd.log"))
			return nil, fmt.Errorf("sshd not answering on %s: %s", addr, bytes.TrimSpace(log))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends the listening sshd; per-connection children end with their
// connections, which the daemon has closed by then.
func (s *benchSSHD) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	_ = s.cmd.Wait()
}

// arrivals records when texts mentioning a container arrived.
type arrivals struct {
	mu      sync.Mutex
	changed chan struct{}
	seen    map[string]time.Time
}

func newArrivals() *arrivals {
	return &arrivals{changed: make(chan struct{}), seen: map[string]time.Time{}}
}

func (a *arrivals) record(key string, at time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.seen[key]; !ok {
		a.seen[key] = at
		close(a.changed)
		a.changed = make(chan struct{})
	}
}

// wait returns when a text containing name first arrived.
func (a *arrivals) wait(name string, timeout time.Duration) (time.Time, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		a.mu.Lock()
		for k, at := range a.seen {
			if strings.Contains(k, name) {
				a.mu.Unlock()
				return at, nil
			}
		}
		ch := a.changed
		a.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			return time.Time{}, fmt.Errorf("nothing about %s within %s", name, timeout)
		}
	}
}

// ntfyReceiver accepts what ntfy accepts on its JSON publishing endpoint
// (POST / with a JSON body naming a valid topic and carrying a message) and
// answers like ntfy; anything else is refused as ntfy would.
type ntfyReceiver struct {
	topic string
	*arrivals
}

func newNtfyReceiver(topic string) *ntfyReceiver {
	return &ntfyReceiver{topic: topic, arrivals: newArrivals()}
}

func (n *ntfyReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	if r.Method != http.MethodPost && r.Method != http.MethodPut || r.URL.Path != "/" {
		http.Error(w, `{"code":40401,"http":404,"error":"page not found"}`, http.StatusNotFound)
		return
	}
	var m struct {
		Topic    string `json:"topic"`
		Title    string `json:"title"`
		Message  string `json:"message"`
		Priority int    `json:"priority"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&m); err != nil || m.Topic != n.topic || m.Priority < 0 || m.Priority > 5 {
		http.Error(w, `{"code":40024,"http":400,"error":"invalid request: request body must be valid JSON"}`, http.StatusBadRequest)
		return
	}
	n.record(m.Title+"\n"+m.Message, at)
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"id":"%s","time":%d,"event":"message","topic":%q}`+"\n", hex.EncodeToString(randBytes(6)), at.Unix(), m.Topic)
}

// rawEvents is a local `docker events` stream of the bench's containers'
// die events.
type rawEvents struct{ *arrivals }

func watchDockerEvents(ctx context.Context, run string) (*rawEvents, error) {
	cmd := exec.CommandContext(ctx, "docker", "events", "--format", "{{json .}}", "--filter", "type=container",
		"--filter", "event=die", "--filter", "label=deckhand.bench="+run)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	e := &rawEvents{newArrivals()}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			at := time.Now()
			var ev struct {
				Actor struct{ Attributes map[string]string }
			}
			if json.Unmarshal(sc.Bytes(), &ev) == nil {
				e.record(ev.Actor.Attributes["name"], at)
			}
		}
		_ = cmd.Wait()
	}()
	return e, nil
}
