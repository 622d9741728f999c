package sshdtest_test

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/deckhand/deckhand/internal/sshdtest"
)

func runOne(t *testing.T, c *ssh.Client, cmd string) (string, error) {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		return "", err
	}
	defer sess.Close()
	out, err := sess.CombinedOutput(cmd)
	return string(out), err
}

func TestLoginAndPath(t *testing.T) {
	srv := sshdtest.Start(t, sshdtest.Options{})
	c, err := ssh.Dial("tcp", srv.Addr, srv.ClientConfig(t))
	if err != nil {
		t.Fatalf("dial: %v\n%s", err, srv.Log())
	}
	t.Cleanup(func() { c.Close() })

	out, err := runOne(t, c, "id -un")
	if err != nil || strings.TrimSpace(out) != srv.User {
		t.Fatalf("id -un = %q, %v; want %q", out, err, srv.User)
	}
	if docker, err := exec.LookPath("docker"); err == nil {
		out, err := runOne(t, c, "command -v docker")
		if err != nil || filepath.Dir(strings.TrimSpace(out)) != filepath.Dir(docker) {
			t.Fatalf("docker on session PATH = %q, %v; want in %s", out, err, filepath.Dir(docker))
		}
	}
	// The machine's ~/.bashrc (a slow pyenv init, say) is not read by
	// the session's shell: a variable it would set stays unset.
	if out, err := runOne(t, c, `echo "${DECKHAND_BASHRC_PROBE:-unread}"`); err != nil || strings.TrimSpace(out) != "unread" {
		t.Errorf("session read ~/.bashrc: %q, %v", out, err)
	}
	if !strings.HasPrefix(srv.KnownHostsLine(srv.HostKey), "[127.0.0.1]:") {
		t.Errorf("known_hosts line %q not in [host]:port form", srv.KnownHostsLine(srv.HostKey))
	}
}

func TestCustomPathHidesDocker(t *testing.T) {
	srv := sshdtest.Start(t, sshdtest.Options{Path: "/nonexistent"})
	c, err := ssh.Dial("tcp", srv.Addr, srv.ClientConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	out, err := runOne(t, c, "docker version")
	var exit *ssh.ExitError
	if !errors.As(err, &exit) || exit.ExitStatus() != 127 {
		t.Fatalf("docker with PATH=/nonexistent: %q, %v; want exit 127", out, err)
	}
}

func TestFailurePaths(t *testing.T) {
	tests := []struct {
		name  string
		opts  sshdtest.Options
		check func(t *testing.T, err error)
	}{
		{"unauthorized key", sshdtest.Options{UnauthorizedKey: true}, func(t *testing.T, err error) {
			if err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
				t.Fatalf("got %v, want an authentication failure", err)
			}
		}},
		{"wrong host key", sshdtest.Options{WrongHostKey: true}, func(t *testing.T, err error) {
			var ke *knownhosts.KeyError
			if !errors.As(err, &ke) || len(ke.Want) == 0 {
				t.Fatalf("got %v, want a knownhosts key mismatch", err)
			}
		}},
		{"empty known_hosts", sshdtest.Options{EmptyKnownHosts: true}, func(t *testing.T, err error) {
			var ke *knownhosts.KeyError
			if !errors.As(err, &ke) || len(ke.Want) != 0 {
				t.Fatalf("got %v, want an unknown-host key error", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := sshdtest.Start(t, tt.opts)
			c, err := ssh.Dial("tcp", srv.Addr, srv.ClientConfig(t))
			if err == nil {
				c.Close()
			}
			tt.check(t, err)
		})
	}
}

func TestMaxSessionsEnforced(t *testing.T) {
	srv := sshdtest.Start(t, sshdtest.Options{MaxSessions: 2})
	c, err := ssh.Dial("tcp", srv.Addr, srv.ClientConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	for i := 0; i < 2; i++ {
		s, err := c.NewSession()
		if err != nil {
			t.Fatalf("session %d: %v", i+1, err)
		}
		t.Cleanup(func() { s.Close() })
	}
	if s, err := c.NewSession(); err == nil {
		s.Close()
		t.Fatal("third session opened with MaxSessions 2")
	}
}

func TestStopAndRestartKeepHostKey(t *testing.T) {
	srv := sshdtest.Start(t, sshdtest.Options{})
	c, err := ssh.Dial("tcp", srv.Addr, srv.ClientConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	// The established connection dies with the server.
	if _, err := runOne(t, c, "true"); err == nil {
		t.Fatal("session on a connection to a stopped sshd succeeded")
	}
	c.Close()
	if c, err := ssh.Dial("tcp", srv.Addr, srv.ClientConfig(t)); err == nil {
		c.Close()
		t.Fatal("dial to a stopped sshd succeeded")
	}
	srv.Restart(t)
	c, err = ssh.Dial("tcp", srv.Addr, srv.ClientConfig(t))
	if err != nil {
		t.Fatalf("dial after restart (known_hosts must still match): %v", err)
	}
	c.Close()
}

// A stopped server must take its sessions with it, as a host going down does;
// a leftover `docker events` would otherwise keep running after the test.
func TestStopKillsSessions(t *testing.T) {
	srv := sshdtest.Start(t, sshdtest.Options{})
	c, err := ssh.Dial("tcp", srv.Addr, srv.ClientConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	out, err := sess.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Start("echo $$; exec sleep 300"); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("pid line %q: %v", line, err)
	}
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("session process %d not running before Stop: %v", pid, err)
	}
	srv.Stop()
	// SIGKILL is asynchronous only until the parent reaps; an orphan is
	// reaped by init, so poll briefly for the pid to vanish or turn zombie.
	for i := 0; ; i++ {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil || strings.Contains(string(stat), ") Z ") {
			break
		}
		if i == 100 {
			t.Fatalf("session process %d still alive after Stop: %s", pid, stat)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestLogRecordsAuthentication(t *testing.T) {
	srv := sshdtest.Start(t, sshdtest.Options{})
	c, err := ssh.Dial("tcp", srv.Addr, srv.ClientConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	// LogLevel VERBOSE logs accepted keys; the log is what a failing
	// integration test prints.
	for i := 0; !strings.Contains(srv.Log(), "Accepted publickey for "+srv.User); i++ {
		if i == 100 {
			t.Fatalf("sshd log lacks the accepted login:\n%s", srv.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
