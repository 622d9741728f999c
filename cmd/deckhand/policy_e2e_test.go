package main

import (
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/bot/ntfy/ntfytest"
	"github.com/deckhand/deckhand/internal/dockertest"
)

// TestE2ECrashHealedByRestartPolicyDoesNotPage: a watched container whose
// restart policy is "always" crashes once (its main process exits 3 by
// itself); Docker starts it again within its backoff. That is Docker at
// work, not an outage: nobody is paged, though deckhand's fast path
// collects while Docker is still restarting it.
func TestE2ECrashHealedByRestartPolicyDoesNotPage(t *testing.T) {
	requireDocker(t)
	fake := ntfytest.NewServer(t)
	env := newEnv(t, e2eConfig{Hosts: []hostBlock{{Name: "local", Transport: "local"}}, NtfyURL: fake.URL})
	c := dockertest.Run(t, "healed", dockertest.RunOptions{Restart: "always", Labels: map[string]string{deckhand.LabelMonitor: "true"}})
	env.start()
	st := env.openStore()
	dockertest.Docker(t, "exec", c.Name, "/testapp", "crash")
	eventually(t, "Docker restarted it", func() (bool, string) {
		ctrs, _ := st.Containers(t.Context(), "local")
		for _, x := range ctrs {
			if x.Name == c.Name {
				return x.RestartCount >= 1 && x.State == deckhand.StateRunning, string(x.State)
			}
		}
		return false, "not collected"
	})
	time.Sleep(3 * time.Second) // past deploy_grace (2s): a page would have come
	if got := about(fake.Messages(), "local", c.Name); len(got) != 0 {
		t.Errorf("one crash healed by the restart policy paged: %s", titles(got))
	}
}
