package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/deckhand/deckhand/bot/ntfy/ntfytest"
	"github.com/deckhand/deckhand/internal/dockertest"
)

// buildDeckhand compiles this command into the test's temp dir.
func buildDeckhand(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "deckhand")
	args := []string{"build", "-o", bin}
	if raceBuild {
		args = append(args, "-race")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", append(args, ".")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// proc is the daemon running as a child process.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// startProc runs `deckhand run --config path` and waits until /healthz
// answers; its output is appended to logFile.
func startProc(t *testing.T, bin, path, addr, logFile string) *proc {
	t.Helper()
	logf, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(bin, "run", "--config", path)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.kill() })
	eventually(t, "the daemon answering /healthz", func() (bool, string) {
		select {
		case <-p.done:
			t.Fatalf("deckhand exited: %s", cmd.ProcessState)
		default:
		}
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
	return p
}

// kill sends SIGKILL: no shutdown code runs, as in a power cut or the OOM
// killer.
func (p *proc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// TestE2EKill9MidCycle is issue 6 (a): the daemon binary is SIGKILLed while
// alerts are being produced and delivered, and started again on the same
// SQLite file. Every container's alert and recovery reach ntfy once, and the
// database passes an integrity check.
func TestE2EKill9MidCycle(t *testing.T) {
	requireDocker(t)
	bin := buildDeckhand(t)
	fake := ntfytest.NewServer(t)
	env := newEnv(t, e2eConfig{Hosts: []hostBlock{{Name: "box", Transport: "local"}}, NtfyURL: fake.URL})
	path := env.configPath()
	logFile := filepath.Join(env.dir, "deckhand.log")
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(logFile)
			t.Logf("deckhand output:\n%s", b)
		}
	})
	const n = 4
	var names []string
	for i := range n {
		names = append(names, monitored(t, fmt.Sprintf("kill9-%d", i), nil).Name)
	}

	p := startProc(t, bin, path, env.addr, logFile)
	for _, name := range names {
		dockertest.Kill(t, name)
	}
	// Kill -9 as soon as the first alert is out: the others are being
	// evaluated, stored or delivered at that moment.
	eventually(t, "a first alert delivered", func() (bool, string) {
		for _, name := range names {
			if len(about(fake.Messages(), "box", name)) > 0 {
				return true, ""
			}
		}
		return false, titles(fake.Messages())
	})
	p.kill()
	delivered := len(fake.Messages())

	p = startProc(t, bin, path, env.addr, logFile)
	for _, name := range names {
		waitNtfy(t, fake, "box", name, "box/"+name+" is down", 1)
	}
	for _, name := range names {
		dockertest.Start(t, name)
	}
	// And once more while recoveries are under way.
	eventually(t, "a first recovery delivered", func() (bool, string) {
		for _, m := range fake.Messages() {
			if strings.HasPrefix(m.Title, "Recovered: box/") {
				return true, ""
			}
		}
		return false, titles(fake.Messages())
	})
	p.kill()
	p = startProc(t, bin, path, env.addr, logFile)
	for _, name := range names {
		waitNtfy(t, fake, "box", name, "Recovered: box/"+name, 1)
	}
	time.Sleep(3 * time.Second) // more cycles: nothing more may arrive
	p.kill()

	for _, name := range names {
		got := about(fake.Messages(), "box", name)
		if len(got) != 2 {
			t.Errorf("%s: ntfy got %s, want exactly one down and one recovered (first kill after %d message(s))", name, titles(got), delivered)
		}
	}
	st := env.openStore()
	if err := st.IntegrityCheck(context.Background()); err != nil {
		t.Errorf("integrity after kill -9: %v", err)
	}
	depth, err := st.OutboxDepth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if depth["ntfy"] != 0 {
		t.Errorf("outbox still holds %d ntfy item(s)", depth["ntfy"])
	}
}
