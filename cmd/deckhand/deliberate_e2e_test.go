package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/bot/ntfy/ntfytest"
)

// TestE2EDeliberateStopAndRemoveDoNotPage is issue 10's "deliberate actions
// page": a watched container stopped, and another removed, through
// `deckhand exec` (a process of its own beside the running daemon) page
// nobody, well past deploy_grace, and /status says who stopped it.
func TestE2EDeliberateStopAndRemoveDoNotPage(t *testing.T) {
	requireDocker(t)
	fake := ntfytest.NewServer(t)
	env := newEnv(t, e2eConfig{Hosts: []hostBlock{{Name: "local", Transport: "local"}}, NtfyURL: fake.URL})
	stopped := monitored(t, "on-purpose-stop", nil)
	removed := monitored(t, "on-purpose-rm", nil)
	env.start()
	path := env.configPath()
	exec := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		err := run(context.Background(), append([]string{"exec", "--config", path, "--yes", "--"}, args...), &out, &errb)
		if err != nil {
			t.Fatalf("exec %v: %v\n%s%s", args, err, out.String(), errb.String())
		}
		return out.String()
	}
	exec("/stop", "local", stopped.Name)
	exec("/remove", "local", removed.Name)

	st := env.openStore()
	eventually(t, "the stop and the removal collected", func() (bool, string) {
		ctrs, _ := st.Containers(t.Context(), "local")
		seenStopped, seenRemoved := false, false
		for _, c := range ctrs {
			seenStopped = seenStopped || c.Name == stopped.Name && c.State == deckhand.StateExited
			seenRemoved = seenRemoved || c.Name == removed.Name
		}
		return seenStopped && !seenRemoved, ""
	})
	// deploy_grace is 2s and the poll 1s in the e2e config: a page would
	// have come by now.
	time.Sleep(5 * time.Second)
	for _, name := range []string{stopped.Name, removed.Name} {
		if got := about(fake.Messages(), "local", name); len(got) != 0 {
			t.Errorf("%s was changed on purpose through deckhand but paged: %s", name, titles(got))
		}
	}
	active, _ := st.ActiveAlerts(t.Context())
	for _, a := range active {
		if a.Key.Container == stopped.Name || a.Key.Container == removed.Name {
			t.Errorf("active alert for a deliberate action: %+v", a.Key)
		}
	}
	if out := exec("/status"); !strings.Contains(out, "stopped by") || !strings.Contains(out, stopped.Name) {
		t.Errorf("/status does not say %s was stopped on purpose:\n%s", stopped.Name, out)
	}
}
