package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deckhand/deckhand/bot/ntfy/ntfytest"
	"github.com/deckhand/deckhand/internal/dockertest"
	"github.com/deckhand/deckhand/store/storetest"
)

// TestE2EDiskFull is issue 11 with the real binary: the database's
// filesystem (a tmpfs of its own) fills up while deckhand runs. The
// containers that go down and recover meanwhile are notified once each,
// admins are told, /healthz says 503 and /metrics says the store is not
// writable; once space is freed the backlog is written and everything is
// in the database.
func TestE2EDiskFull(t *testing.T) {
	requireDocker(t)
	disk := storetest.SmallDisk(t, 16<<20)
	bin := buildDeckhand(t)
	fake := ntfytest.NewServer(t)
	env := newEnv(t, e2eConfig{Hosts: []hostBlock{{Name: "box", Transport: "local"}}, NtfyURL: fake.URL,
		Data: disk.Path("deckhand.db")})
	logFile := filepath.Join(env.dir, "deckhand.log")
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(logFile)
			t.Logf("deckhand output:\n%s", b)
		}
	})
	const n = 3
	var names []string
	for i := range n {
		names = append(names, monitored(t, fmt.Sprintf("full-%d", i), nil).Name)
	}
	p := startProc(t, bin, env.configPath(), env.addr, logFile)
	time.Sleep(2 * time.Second) // collected and stored once

	disk.Fill(t)
	for _, name := range names {
		dockertest.Kill(t, name)
	}
	for _, name := range names {
		waitNtfy(t, fake, "box", name, "box/"+name+" is down", 1)
	}
	eventually(t, "admins told", func() (bool, string) {
		return systemSaid(fake, "deckhand cannot write its database: disk full"), titles(fake.Messages())
	})
	eventually(t, "/healthz 503", func() (bool, string) {
		code, body := httpGet(t, "http://"+env.addr+"/healthz")
		return code == 503 && strings.Contains(body, "deckhand cannot write its database: disk full"), fmt.Sprint(code, body)
	})
	// What Docker's HEALTHCHECK runs: it exits 1 and says why.
	out, err := exec.Command(bin, "healthcheck", "--url", "http://"+env.addr+"/healthz").CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(string(out), "deckhand cannot write its database: disk full") {
		t.Errorf("deckhand healthcheck on a full disk: %v: %s", err, out)
	}
	if _, body := httpGet(t, "http://"+env.addr+"/metrics"); !strings.Contains(body, "deckhand_store_writable 0") {
		t.Errorf("/metrics does not say the store is not writable")
	}
	if code, body := httpGet(t, "http://"+env.addr+"/api/status.json"); code != 200 {
		t.Errorf("status page on a full disk: %d %s", code, body)
	}
	for _, name := range names {
		dockertest.Start(t, name)
	}
	for _, name := range names {
		waitNtfy(t, fake, "box", name, "Recovered: box/"+name, 1)
	}

	disk.Free(t)
	eventually(t, "backlog written", func() (bool, string) {
		return systemSaid(fake, "deckhand can write its database again"), titles(fake.Messages())
	})
	eventually(t, "/healthz 200", func() (bool, string) {
		code, body := httpGet(t, "http://"+env.addr+"/healthz")
		return code == 200, fmt.Sprint(code, body)
	})
	time.Sleep(3 * time.Second) // more cycles: nothing more may arrive
	p.kill()

	for _, name := range names {
		if got := about(fake.Messages(), "box", name); len(got) != 2 {
			t.Errorf("%s: ntfy got %s, want exactly one down and one recovered", name, titles(got))
		}
	}
	st := env.openStore()
	ctx := context.Background()
	if err := st.IntegrityCheck(ctx); err != nil {
		t.Errorf("integrity: %v", err)
	}
	if active, err := st.ActiveAlerts(ctx); err != nil || len(active) != 0 {
		t.Errorf("active alerts in the database: %+v, %v", active, err)
	}
	recent, err := st.RecentAlerts(ctx, time.Now().Add(-time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	closed := 0
	for _, a := range recent {
		if a.Key.Host == "box" && a.ClosedAt.After(a.FirstSeenAt) {
			closed++
		}
	}
	if closed != n {
		t.Errorf("%d closed alerts in the database, want %d: %+v", closed, n, recent)
	}
	if depth, err := st.OutboxDepth(ctx); err != nil || depth["ntfy"] != 0 {
		t.Errorf("outbox depth %v, %v: what was delivered from memory is not recorded as sent", depth, err)
	}
}

func systemSaid(fake *ntfytest.Server, prefix string) bool {
	for _, m := range fake.Messages() {
		if m.Title == "deckhand needs attention" && strings.HasPrefix(m.Message, prefix) {
			return true
		}
	}
	return false
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
