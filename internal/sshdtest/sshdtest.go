// Package sshdtest owns the real-OpenSSH side of deckhand's integration tests:
// it starts the system's sshd (Debian openssh-server) in the foreground on a
// free loopback port with a generated configuration, host key, client key
// pair and known_hosts file, all in the test's temp dir, and kills it when the
// test ends. Options make it refuse the client key or present a host key that
// known_hosts does not list, for the failure paths of the collector.
//
// Tests skip when sshd is missing unless DECKHAND_REQUIRE_INTEGRATION=1, in
// which case a missing part fails the test.
package sshdtest

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// EnvRequire names the environment variable that turns a missing real part
// into a test failure instead of a skip.
const EnvRequire = "DECKHAND_REQUIRE_INTEGRATION"

// SSHDPath is where Debian's openssh-server installs the daemon. sshd must be
// started by absolute path: it re-executes itself for every connection.
const SSHDPath = "/usr/sbin/sshd"

// privsepDir is sshd's privilege separation directory, which Debian creates
// only when the service starts; a container or fresh CI machine may lack it.
const privsepDir = "/run/sshd"

// Config is the sshd_config of a loopback sshd for tests and `deckhand
// bench`: public key login for one user, no PAM, sessions with a fixed
// PATH that never read the machine's dotfiles.
type Config struct {
	Port                        int
	Dir                         string // PidFile lives here
	HostKeyFile, AuthorizedKeys string
	User                        string
	Path                        string // the sessions' PATH; DefaultPath when empty
	MaxSessions                 int    // sshd's default (10) when 0
}

// DefaultPath is the sessions' PATH unless Config.Path says otherwise.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Lines are the config file's lines.
func (c Config) Lines() []string {
	path := c.Path
	if path == "" {
		path = DefaultPath
	}
	lines := []string{
		"Port " + strconv.Itoa(c.Port),
		"ListenAddress 127.0.0.1",
		"HostKey " + c.HostKeyFile,
		"PidFile " + filepath.Join(c.Dir, "sshd.pid"),
		"AuthorizedKeysFile " + c.AuthorizedKeys,
		"AllowUsers " + c.User,
		"StrictModes no",
		"UsePAM no",
		"PubkeyAuthentication yes",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"PermitRootLogin prohibit-password",
		"MaxStartups 100",
		"LoginGraceTime 30",
		"PrintMotd no",
		"UseDNS no",
		"LogLevel VERBOSE",
		// Sessions get PATH from sshd's compiled-in default otherwise,
		// which may miss /usr/local/bin where docker can live. SHLVL: the
		// session's shell is the login user's, and Debian's bash reads
		// ~/.bashrc even for `ssh host command` when it is the top-level
		// shell; a developer's or CI image's root dotfiles (pyenv's rehash
		// waits up to a minute on a lock a killed session left) must not
		// decide whether a command answers. One SetEnv line: sshd keeps
		// only the first.
		fmt.Sprintf("SetEnv %q SHLVL=1", "PATH="+path),
	}
	if c.MaxSessions > 0 {
		lines = append(lines, "MaxSessions "+strconv.Itoa(c.MaxSessions))
	}
	return lines
}

// Required reports whether DECKHAND_REQUIRE_INTEGRATION asks for real parts.
func Required() bool {
	v := strings.ToLower(strings.TrimSpace(os.Getenv(EnvRequire)))
	return v == "1" || v == "true" || v == "yes"
}

func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if Required() {
		t.Fatalf("%s (required: %s=1)", msg, EnvRequire)
	}
	t.Skipf("%s (set %s=1 to make this a failure)", msg, EnvRequire)
}

// Require checks that OpenSSH's sshd is installed and can run here. If not,
// the test is skipped (or fails when DECKHAND_REQUIRE_INTEGRATION=1).
func Require(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(SSHDPath); err != nil {
		missing(t, "sshd: %v (install openssh-server)", err)
	}
	if os.Geteuid() == 0 {
		if err := os.MkdirAll(privsepDir, 0o755); err != nil {
			missing(t, "sshd: create privilege separation dir: %v", err)
		}
	}
}

// Options change how the server is set up.
type Options struct {
	// UnauthorizedKey makes KeyFile a key that authorized_keys does not
	// list, so public-key authentication fails.
	UnauthorizedKey bool
	// WrongHostKey makes KnownHostsFile record a different key for the
	// server's address, as after a reinstall or an attack.
	WrongHostKey bool
	// EmptyKnownHosts leaves KnownHostsFile empty: the host is unknown.
	EmptyKnownHosts bool
	// MaxSessions per connection; sshd's default, 10, when zero.
	MaxSessions int
	// Path is PATH inside sessions. The default holds the docker CLI's
	// directory and the usual system directories.
	Path string
	// ExtraConfig lines are appended to sshd_config.
	ExtraConfig []string
}

// Server is a running sshd.
type Server struct {
	Addr           string // 127.0.0.1:port, as a host's address in config
	Host           string // 127.0.0.1
	Port           int
	User           string // the user that may log in: the current user
	KeyFile        string // client private key (OpenSSH PEM, no passphrase)
	KnownHostsFile string // known_hosts for Addr, in [127.0.0.1]:port form
	HostKey        ssh.PublicKey
	Dir            string // temp dir holding config, keys and pid file

	config  string
	logFile string
	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{}
}

// Start runs sshd -D -e with a generated configuration and waits until it
// accepts connections. It is killed, with its per-connection children, when
// the test ends; its log is printed if the test failed.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	Require(t)

	u, err := user.Current()
	if err != nil {
		t.Fatalf("sshdtest: current user: %v", err)
	}
	dir := t.TempDir()
	s := &Server{Host: "127.0.0.1", User: u.Username, Dir: dir, logFile: filepath.Join(dir, "sshd.log")}

	hostPub, hostKeyFile := writeKey(t, dir, "ssh_host_ed25519_key")
	clientPub, clientKeyFile := writeKey(t, dir, "id_ed25519")
	s.HostKey, s.KeyFile = hostPub, clientKeyFile

	authorized := clientPub
	if opts.UnauthorizedKey {
		authorized, _ = writeKey(t, dir, "other_id_ed25519")
	}
	authKeys := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(authKeys, ssh.MarshalAuthorizedKey(authorized), 0o600); err != nil {
		t.Fatalf("sshdtest: %v", err)
	}

	maxSessions := opts.MaxSessions
	if maxSessions <= 0 {
		maxSessions = 10
	}
	path := opts.Path
	if path == "" {
		path = DefaultPath
		if docker, err := exec.LookPath("docker"); err == nil {
			if d, err := filepath.Abs(filepath.Dir(docker)); err == nil && !strings.Contains(":"+path+":", ":"+d+":") {
				path = d + ":" + path
			}
		}
	}

	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("sshdtest: free port: %v", err)
		}
		s.Port = port
		s.Addr = net.JoinHostPort(s.Host, strconv.Itoa(port))
		s.config = filepath.Join(dir, "sshd_config")
		cfg := Config{Port: port, Dir: dir, HostKeyFile: hostKeyFile, AuthorizedKeys: authKeys,
			User: u.Username, Path: path, MaxSessions: maxSessions}.Lines()
		cfg = append(cfg, opts.ExtraConfig...)
		if err := os.WriteFile(s.config, []byte(strings.Join(cfg, "\n")+"\n"), 0o600); err != nil {
			t.Fatalf("sshdtest: write config: %v", err)
		}
		if lastErr = s.start(); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		t.Fatalf("sshdtest: %v\nsshd log:\n%s", lastErr, s.Log())
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("sshd log:\n%s", s.Log())
		}
	})

	known := s.KnownHostsLine(hostPub)
	switch {
	case opts.EmptyKnownHosts:
		known = ""
	case opts.WrongHostKey:
		other, _ := writeKey(t, dir, "other_host_key")
		known = s.KnownHostsLine(other)
	}
	s.KnownHostsFile = filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(s.KnownHostsFile, []byte(known), 0o600); err != nil {
		t.Fatalf("sshdtest: %v", err)
	}
	return s
}

// KnownHostsLine returns a known_hosts line binding key to the server's address.
func (s *Server) KnownHostsLine(key ssh.PublicKey) string {
	return knownhosts.Line([]string{knownhosts.Normalize(s.Addr)}, key) + "\n"
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// A file, not a pipe: per-connection children inherit stderr, and Wait
	// would otherwise wait for them to close it.
	logf, err := os.OpenFile(s.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("sshd log: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(SSHDPath, "-D", "-e", "-f", s.config)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", SSHDPath, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done

	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-done:
			return fmt.Errorf("sshd exited at start: %s", cmd.ProcessState)
		default:
		}
		if err := probeBanner(s.Addr); err == nil {
			return nil
		} else if time.Now().After(deadline) {
			s.killLocked()
			return fmt.Errorf("sshd not answering on %s: %w", s.Addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// probeBanner checks that an SSH server, not just any listener, is there.
func probeBanner(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "SSH-2.0-") {
		return fmt.Errorf("unexpected banner %q", line)
	}
	return nil
}

// Stop kills sshd and every connection it serves, as a host going down
// would. It is safe to call more than once.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.killLocked()
}

func (s *Server) killLocked() {
	if s.cmd == nil {
		return
	}
	killTree(s.cmd.Process.Pid)
	<-s.done
	s.cmd = nil
}

// killTree kills pid and all its descendants. sshd's per-connection children
// call setsid, so a process group does not reach them; they are found through
// /proc instead. Everything is stopped before anything is killed so that no
// child forks or is reparented to init while the tree is walked.
func killTree(pid int) {
	stopped := map[int]bool{}
	for {
		tree := descendants(pid)
		tree = append(tree, pid)
		grew := false
		for _, p := range tree {
			if !stopped[p] {
				_ = syscall.Kill(p, syscall.SIGSTOP)
				stopped[p] = true
				grew = true
			}
		}
		if !grew {
			break
		}
	}
	for p := range stopped {
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
}

// descendants lists the processes below pid, from /proc/<pid>/stat.
func descendants(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// The command name may hold spaces and parentheses; the fields
		// after the last ')' are state and ppid.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(stat[i+1:]))
		if len(fields) < 2 {
			continue
		}
		ppid, err := strconv.Atoi(fields[1])
		if err != nil {
			continue
		}
		children[ppid] = append(children[ppid], p)
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// Restart starts sshd again on the same port with the same keys, after Stop.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	var err error
	for attempt := 0; attempt < 20; attempt++ {
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond) // the port may linger a moment
	}
	t.Fatalf("sshdtest: restart: %v\nsshd log:\n%s", err, s.Log())
}

// Log returns what sshd has written so far (LogLevel VERBOSE).
func (s *Server) Log() string {
	b, err := os.ReadFile(s.logFile)
	if err != nil {
		return fmt.Sprintf("(no sshd log: %v)", err)
	}
	return string(b)
}

// ClientConfig returns an x/crypto/ssh client configuration that logs in
// with KeyFile and checks the host against KnownHostsFile.
func (s *Server) ClientConfig(t testing.TB) *ssh.ClientConfig {
	t.Helper()
	pemBytes, err := os.ReadFile(s.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := knownhosts.New(s.KnownHostsFile)
	if err != nil {
		t.Fatal(err)
	}
	return &ssh.ClientConfig{
		User:            s.User,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: cb,
		Timeout:         5 * time.Second,
	}
}

// writeKey generates an ed25519 key pair and writes the private half to
// dir/name (0600, as sshd and ssh insist) and the public half to name.pub.
func writeKey(t testing.TB, dir, name string) (ssh.PublicKey, string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("sshdtest: generate key: %v", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "deckhand-test")
	if err != nil {
		t.Fatalf("sshdtest: marshal key: %v", err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatalf("sshdtest: public key: %v", err)
	}
	file := filepath.Join(dir, name)
	if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatalf("sshdtest: %v", err)
	}
	if err := os.WriteFile(file+".pub", ssh.MarshalAuthorizedKey(sshPub), 0o644); err != nil {
		t.Fatalf("sshdtest: %v", err)
	}
	return sshPub, file
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, errors.New("not a TCP address")
	}
	return addr.Port, nil
}
