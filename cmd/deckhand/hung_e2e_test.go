package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/bot/ntfy/ntfytest"
	"github.com/deckhand/deckhand/internal/dockertest"
	"github.com/deckhand/deckhand/internal/sshdtest"
)

// TestE2EHungHostBlindsNothing is issue 10's first observation, on the
// real binary. Beside the local engine runs a host whose sshd turns every
// session into `sleep 1000` (ForceCommand: OpenSSH refuses signals to a
// forced command and keeps its channel open, so no command ever ends).
// While that host has not even reached its command timeout, the local host
// is collected, counted up in /metrics, and a kill on it reaches ntfy; the
// hung host then ends as timeout by itself, and SIGTERM stops deckhand
// within 5 s.
func TestE2EHungHostBlindsNothing(t *testing.T) {
	requireDocker(t)
	bin := buildDeckhand(t)
	sshd := sshdtest.Start(t, sshdtest.Options{ExtraConfig: []string{"ForceCommand sleep 1000"}})
	hung := sshHost("hung", sshd)
	hung.CommandTimeout = "40s"
	fake := ntfytest.NewServer(t)
	env := newEnv(t, e2eConfig{Hosts: []hostBlock{{Name: "local", Transport: "local"}, hung}, NtfyURL: fake.URL})
	c := monitored(t, "beside-hung", nil)
	logFile := filepath.Join(env.dir, "deckhand.log")
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(logFile)
			t.Logf("deckhand log:\n%s", b)
		}
	})
	p := startProc(t, bin, env.configPath(), env.addr, logFile)
	st := env.openStore()

	stillHung := func(when string) {
		t.Helper()
		if h := hostStatus(t, st, "hung"); h.Status != deckhand.HostUnknown {
			t.Fatalf("%s: the hung host is already %s; this test proves nothing once it timed out", when, h.Status)
		}
	}
	eventually(t, "the local host collected", func() (bool, string) {
		h := hostStatus(t, st, "local")
		ctrs, _ := st.Containers(t.Context(), "local")
		for _, x := range ctrs {
			if x.Name == c.Name && h.Status == deckhand.HostOK {
				return true, ""
			}
		}
		return false, string(h.Status)
	})
	stillHung("local collected")
	eventually(t, "deckhand_hosts_up counting the local host", func() (bool, string) {
		v := metricSum(t, env.addr, "deckhand_hosts_up", "")
		return v >= 1, strconv.FormatFloat(v, 'f', -1, 64)
	})
	dockertest.Kill(t, c.Name)
	waitNtfy(t, fake, "local", c.Name, "local/"+c.Name+" is down", 1)
	stillHung("kill notified")

	eventually(t, "the hung host marked timeout", func() (bool, string) {
		h := hostStatus(t, st, "hung")
		return h.Status == deckhand.HostTimeout, string(h.Status)
	})

	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
		t.Logf("stopped %s after SIGTERM", time.Since(start).Round(time.Millisecond))
	case <-time.After(5 * time.Second):
		t.Fatalf("deckhand still running 5s after SIGTERM")
	}
}

// metricSum adds up the samples of one metric in /metrics whose labels
// contain match ("" for all; -1 when there is none).
func metricSum(t *testing.T, addr, name, match string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	total, found := 0.0, false
	for _, line := range strings.Split(string(body), "\n") {
		series, value, ok := strings.Cut(line, " ")
		if !ok || (series != name && !strings.HasPrefix(series, name+"{")) || !strings.Contains(series, match) {
			continue
		}
		if f, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil {
			total, found = total+f, true
		}
	}
	if !found {
		return -1
	}
	return total
}
