package main

// End-to-end tests drive the real daemon (newDaemon + daemon.run, or run()
// itself) with a config file, a real SQLite file, the real Docker engine,
// a real OpenSSH sshd and the in-process fakes of ntfy, Discord and
// Telegram. This file holds what they share: writing a config, running the
// daemon until the test ends, and waiting for outcomes.

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/deckhand/deckhand/internal/logtest"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/bot/ntfy/ntfytest"
	"github.com/deckhand/deckhand/internal/dockertest"
	"github.com/deckhand/deckhand/internal/sshdtest"
	"github.com/deckhand/deckhand/store"
)

// e2eWait bounds every wait for an outcome: generous, since two cores are
// shared by several test binaries; a condition that never comes still fails
// rather than hangs.
const e2eWait = 60 * time.Second

// e2eSecret signs buttons; fixed so that a restarted daemon honours the
// buttons of the previous run, as a configured secret does in production.
const e2eSecret = "e2e-secret-0123456789abcdef0123456789abcdef"

// hostBlock is one [[hosts]] section.
type hostBlock struct {
	Name       string
	Transport  string // "local" or "ssh"
	Address    string
	User       string
	KeyFile    string
	KnownHosts string
	Extra      string // more key = value lines
	// CommandTimeout is command_timeout for ssh hosts; default 5s.
	CommandTimeout string
	// Shared marks a host on the machine's real engine, which other
	// people's containers share: it is narrowed to this test process's own
	// containers (labels = the dockertest owner label). Local hosts are.
	Shared bool
}

func (h hostBlock) toml() string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n[[hosts]]\nname = %q\ntransport = %q\n", h.Name, h.Transport)
	if h.Transport == "ssh" {
		fmt.Fprintf(&b, "address = %q\nuser = %q\nkey_file = %q\nknown_hosts = %q\n", h.Address, h.User, h.KeyFile, h.KnownHosts)
		timeout := h.CommandTimeout
		if timeout == "" {
			timeout = "5s"
		}
		fmt.Fprintf(&b, "connect_timeout = \"3s\"\ncommand_timeout = %q\n", timeout)
	}
	if h.Shared || h.Transport == "local" {
		fmt.Fprintf(&b, "labels = [%q]\n", dockertest.OwnerLabel+"="+strconv.Itoa(os.Getpid()))
	}
	b.WriteString(h.Extra)
	return b.String()
}

// sshHost is a host block for a real sshd.
func sshHost(name string, s *sshdtest.Server) hostBlock {
	return hostBlock{Name: name, Transport: "ssh", Address: s.Addr, User: s.User, KeyFile: s.KeyFile, KnownHosts: s.KnownHostsFile, Shared: true}
}

// e2eConfig is the part of config.toml a test varies; the rest is short
// intervals so that a whole story takes seconds.
type e2eConfig struct {
	Data      string // default: a file in the test's temp dir
	Hosts     []hostBlock
	NtfyURL   string // empty: no ntfy
	Discord   string // a [discord] section, or empty
	Telegram  string // a [telegram] section, or empty
	Alerts    string // extra lines in [alerts]
	HostGrace string // alerts.host_grace; default 1s
	Extra     string // more top-level sections
}

// render writes the TOML, with the status page at publicAddr.
func (c e2eConfig) render(publicAddr string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "data = %q\nlog_level = \"debug\"\npublic_url = %q\nsecret = %q\n", c.Data, "http://"+publicAddr, e2eSecret)
	b.WriteString("\n[collector]\ninterval = \"1s\"\n")
	hostGrace := c.HostGrace
	if hostGrace == "" {
		hostGrace = "1s"
	}
	fmt.Fprintf(&b, "\n[alerts]\nrecovery_hold = \"1s\"\ncooldown = \"2s\"\ndeploy_grace = \"2s\"\nhost_grace = %q\n", hostGrace)
	b.WriteString(c.Alerts)
	fmt.Fprintf(&b, "\n[statuspage]\nlisten = %q\n", publicAddr)
	if c.NtfyURL != "" {
		fmt.Fprintf(&b, "\n[ntfy]\nserver = %q\ntopic = \"deckhand-e2e\"\nactions = true\n", c.NtfyURL)
	}
	b.WriteString(c.Discord)
	b.WriteString(c.Telegram)
	b.WriteString(c.Extra)
	for _, h := range c.Hosts {
		b.WriteString(h.toml())
	}
	return b.String()
}

// writeConfig renders c into a file in dir and returns its path.
func writeConfig(t *testing.T, dir string, c e2eConfig, publicAddr string) string {
	t.Helper()
	path := filepath.Join(dir, "deckhand.toml")
	if err := os.WriteFile(path, []byte(c.render(publicAddr)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// e2eDaemon is one run of the daemon in this process.
type e2eDaemon struct {
	d      *daemon
	addr   string // the status page, host:port
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

// stop cancels the daemon and waits for its orderly shutdown.
func (e *e2eDaemon) stop(t *testing.T) {
	t.Helper()
	e.once.Do(func() {
		e.cancel()
		select {
		case err := <-e.done:
			if err != nil {
				t.Errorf("daemon run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("daemon did not stop within 30s")
		}
	})
}

// e2eEnv is a test's fixed surroundings: its temp dir, its database file
// and the status page address, which stay the same across restarts.
type e2eEnv struct {
	t    *testing.T
	dir  string
	cfg  e2eConfig
	addr string
	logs *logtest.Buffer
}

func newEnv(t *testing.T, cfg e2eConfig) *e2eEnv {
	t.Helper()
	dir := t.TempDir()
	if cfg.Data == "" {
		cfg.Data = filepath.Join(dir, "deckhand.db")
	}
	// Reserve a port for the status page: public_url must name it before
	// the daemon starts, and stay the same when it restarts.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env := &e2eEnv{t: t, dir: dir, cfg: cfg, addr: addr, logs: &logtest.Buffer{}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("deckhand log:\n%s", env.logs.String())
		}
	})
	return env
}

func (env *e2eEnv) configPath() string { return writeConfig(env.t, env.dir, env.cfg, env.addr) }

// start runs the daemon until stop or the end of the test, and returns once
// every host was collected once.
func (env *e2eEnv) start() *e2eDaemon {
	t := env.t
	t.Helper()
	e := env.startNow()
	select {
	case <-e.d.started:
	case err := <-e.done:
		e.done <- err
		t.Fatalf("daemon ended before it started: %v", err)
	case <-time.After(e2eWait):
		t.Fatalf("daemon not started after %s", e2eWait)
	}
	return e
}

// startNow runs the daemon until stop or the end of the test, and returns
// at once, before any host answered.
func (env *e2eEnv) startNow() *e2eDaemon {
	t := env.t
	t.Helper()
	cfg, err := loadConfig(env.configPath())
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	log := slog.New(slog.NewTextHandler(env.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	d, err := newDaemon(ctx, cfg, log, true)
	if err != nil {
		cancel()
		t.Fatalf("newDaemon: %v", err)
	}
	var ln net.Listener
	for i := 0; ; i++ { // the previous run may have just released the port
		if ln, err = net.Listen("tcp", env.addr); err == nil || i == 50 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		cancel()
		d.close()
		t.Fatalf("status page listener: %v", err)
	}
	d.ln = ln
	e := &e2eDaemon{d: d, addr: env.addr, cancel: cancel, done: make(chan error, 1)}
	go func() {
		err := d.run(ctx)
		d.close()
		e.done <- err
	}()
	t.Cleanup(func() { e.stop(t) })
	return e
}

// openStore opens the test's database beside a running daemon (WAL allows
// it), closed when the test ends.
func (env *e2eEnv) openStore() *store.Store {
	env.t.Helper()
	st, err := store.Open(context.Background(), env.cfg.Data)
	if err != nil {
		env.t.Fatalf("open store: %v", err)
	}
	env.t.Cleanup(func() { st.Close() })
	return st
}

// eventually polls cond until it holds or e2eWait passes; what names the
// condition in the failure.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(e2eWait)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not %s after %s; last: %s", what, e2eWait, last)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// about returns the ntfy messages about one container (or one host when
// container is empty) (the engine is
// shared with other tests, whose containers may alert too).
func about(msgs []ntfytest.Message, host, container string) []ntfytest.Message {
	var out []ntfytest.Message
	for _, m := range msgs {
		// A host-level alert names the host and no container.
		if slices.Contains(m.Tags, host) && (container == "" || slices.Contains(m.Tags, container)) {
			out = append(out, m)
		}
	}
	return out
}

func titles(msgs []ntfytest.Message) string {
	var out []string
	for _, m := range msgs {
		out = append(out, fmt.Sprintf("%q", m.Title))
	}
	return "[" + strings.Join(out, ", ") + "]"
}

// waitNtfy waits until the fake holds n messages about the container whose
// titles start with prefix, and returns them.
func waitNtfy(t *testing.T, fake *ntfytest.Server, host, container, prefix string, n int) []ntfytest.Message {
	t.Helper()
	var got []ntfytest.Message
	eventually(t, fmt.Sprintf("%d ntfy message(s) %q… about %s/%s", n, prefix, host, container), func() (bool, string) {
		got = nil
		for _, m := range about(fake.Messages(), host, container) {
			if strings.HasPrefix(m.Title, prefix) {
				got = append(got, m)
			}
		}
		return len(got) >= n, titles(about(fake.Messages(), host, container))
	})
	return got
}

// statusJSON reads /api/status.json from a running daemon.
func statusJSON(t *testing.T, addr string) map[string]any {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/api/status.json")
	if err != nil {
		t.Fatalf("status.json: %v", err)
	}
	defer resp.Body.Close()
	var v map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("status.json: %v", err)
	}
	return v
}

// hostStatus reads one host's row from the store.
func hostStatus(t *testing.T, st *store.Store, name string) deckhand.Host {
	t.Helper()
	h, err := st.Host(context.Background(), name)
	if err != nil {
		t.Fatalf("store host %s: %v", name, err)
	}
	return h
}

// requireDocker skips (or fails under DECKHAND_REQUIRE_INTEGRATION=1) when
// the real Docker engine is missing, and builds the test image once.
func requireDocker(t *testing.T) string {
	t.Helper()
	dockertest.Require(t)
	return dockertest.BuildImage(t)
}

// monitored runs a monitored test container.
func monitored(t *testing.T, base string, extra map[string]string) dockertest.Container {
	t.Helper()
	labels := map[string]string{deckhand.LabelMonitor: "true"}
	for k, v := range extra {
		labels[k] = v
	}
	c := dockertest.Run(t, base, dockertest.RunOptions{Labels: labels})
	dockertest.WaitState(t, c.Name, deckhand.StateRunning)
	return c
}

// foreignDown leaves on the shared engine n watched containers that are not
// this test's and crashed (exit 1), as another user's or
// another test binary's would be. A test that sees them pages about each
// one, and past Telegram's 20 messages a minute per group its own alert
// waits behind theirs. If this process dies before its cleanup, dockertest's
// sweep removes them (ForLabel).
func foreignDown(t *testing.T, n int) {
	t.Helper()
	img := dockertest.BuildImage(t)
	base := dockertest.NamePrefix + "foreign-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(time.Now().UnixNano()%1e6, 10)
	for i := range n {
		name := base + "-" + strconv.Itoa(i)
		dockertest.Docker(t, "run", "-d", "--name", name, "--label", deckhand.LabelMonitor+"=true",
			"--label", dockertest.OwnerLabel+"=1", "--label", dockertest.ForLabel+"="+strconv.Itoa(os.Getpid()), img, "exit", "1")
		t.Cleanup(func() { _, _ = exec.Command("docker", "rm", "-f", name).CombinedOutput() })
	}
}
