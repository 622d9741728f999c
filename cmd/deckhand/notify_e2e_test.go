package main

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/bot/ntfy/ntfytest"
	"github.com/deckhand/deckhand/internal/dockertest"
	"github.com/deckhand/deckhand/internal/sshdtest"
)

// TestE2EKillAndStartNotifiesOnce is issue 3: a monitored container killed
// on a host pages exactly once on ntfy, with the documented title, priority,
// tags and action buttons, and its start brings exactly one recovery notice.
// Through a real sshd and through the local transport.
func TestE2EKillAndStartNotifiesOnce(t *testing.T) {
	requireDocker(t)
	for _, transport := range []string{"ssh", "local"} {
		t.Run(transport, func(t *testing.T) {
			var host hostBlock
			if transport == "ssh" {
				host = sshHost("sshbox", sshdtest.Start(t, sshdtest.Options{}))
			} else {
				host = hostBlock{Name: "localbox", Transport: "local"}
			}
			fake := ntfytest.NewServer(t)
			env := newEnv(t, e2eConfig{Hosts: []hostBlock{host}, NtfyURL: fake.URL})
			c := monitored(t, "notify-"+transport, nil)
			env.start()
			st := env.openStore()
			eventually(t, "container collected", func() (bool, string) {
				ctrs, err := st.Containers(t.Context(), host.Name)
				for _, x := range ctrs {
					if x.Name == c.Name {
						return x.State == deckhand.StateRunning, string(x.State)
					}
				}
				return false, errString(err)
			})

			dockertest.Kill(t, c.Name)
			down := waitNtfy(t, fake, host.Name, c.Name, host.Name+"/"+c.Name+" is down", 1)[0]
			if down.Priority != 4 {
				t.Errorf("alert priority = %d, want 4 (error)", down.Priority)
			}
			for _, tag := range []string{"rotating_light", string(deckhand.AlertContainerDown), host.Name, c.Name} {
				if !slices.Contains(down.Tags, tag) {
					t.Errorf("alert tags %v lack %q", down.Tags, tag)
				}
			}
			var labels []string
			for _, a := range down.Actions {
				labels = append(labels, a.Label)
				if a.Action != "http" || !strings.HasPrefix(a.URL, "http://"+env.addr+"/hooks/ntfy?t=") {
					t.Errorf("action %+v: want an http action to this daemon's /hooks/ntfy", a)
				}
			}
			if !slices.Contains(labels, "Restart") || !slices.Contains(labels, "Ack") {
				t.Errorf("alert actions = %v, want Restart and Ack", labels)
			}
			if down.Click != "http://"+env.addr {
				t.Errorf("click = %q, want the status page", down.Click)
			}

			dockertest.Start(t, c.Name)
			rec := waitNtfy(t, fake, host.Name, c.Name, "Recovered: "+host.Name+"/"+c.Name, 1)[0]
			if len(rec.Actions) != 0 {
				t.Errorf("recovery notice has actions %+v", rec.Actions)
			}
			if !slices.Contains(rec.Tags, "white_check_mark") {
				t.Errorf("recovery tags = %v", rec.Tags)
			}
			// Several more polling cycles must not page again.
			time.Sleep(3 * time.Second)
			if got := about(fake.Messages(), host.Name, c.Name); len(got) != 2 {
				t.Errorf("ntfy got %d messages about %s, want exactly 2: %s", len(got), c.Name, titles(got))
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return "not there"
	}
	return err.Error()
}

// TestE2EOutboxSurvivesFailuresAndRestarts is issue 3's outbox: while ntfy
// answers 500 and then 429 with Retry-After, deckhand is stopped and started
// again on the same SQLite file; every notification still arrives, once.
func TestE2EOutboxSurvivesFailuresAndRestarts(t *testing.T) {
	requireDocker(t)
	fake := ntfytest.NewServer(t)
	env := newEnv(t, e2eConfig{Hosts: []hostBlock{{Name: "localbox", Transport: "local"}}, NtfyURL: fake.URL})
	c := monitored(t, "outbox", nil)

	fake.FailNext(3)
	first := env.start()
	dockertest.Kill(t, c.Name)
	st := env.openStore()
	// The alert is stored and its delivery has failed at least once.
	eventually(t, "alert open and its delivery failing", func() (bool, string) {
		active, _ := st.ActiveAlerts(t.Context())
		open := false
		for _, a := range active {
			open = open || (a.Key.Container == c.Name && a.State == deckhand.AlertOpen)
		}
		return open && fake.Requests() >= 1, "requests " + strconv.Itoa(fake.Requests())
	})
	first.stop(t)
	if got := about(fake.Messages(), "localbox", c.Name); len(got) != 0 {
		t.Fatalf("delivered while the server failed: %s", titles(got))
	}

	// Down while deckhand is down: the next run notices the recovery
	// itself, with the opened notice still queued.
	dockertest.Start(t, c.Name)
	fake.RateLimitNext(2, "1")
	second := env.start()
	waitNtfy(t, fake, "localbox", c.Name, "localbox/"+c.Name+" is down", 1)
	second.stop(t)

	third := env.start()
	waitNtfy(t, fake, "localbox", c.Name, "Recovered: localbox/"+c.Name, 1)
	time.Sleep(2 * time.Second)
	third.stop(t)

	// Across restarts too, the recovery never overtakes its alert: the
	// outbox holds it back while the opening is inside its backoff.
	got := about(fake.Messages(), "localbox", c.Name)
	if len(got) == 2 && !strings.HasSuffix(got[0].Title, "is down") {
		t.Errorf("ntfy got %s: the recovery overtook its alert", titles(got))
	}
	downs, recs := 0, 0
	for _, m := range got {
		switch {
		case strings.HasSuffix(m.Title, "is down"):
			downs++
		case strings.HasPrefix(m.Title, "Recovered"):
			recs++
		}
	}
	if len(got) != 2 || downs != 1 || recs != 1 {
		t.Errorf("ntfy got %s, want exactly one down and one recovered", titles(got))
	}
	depth, err := st.OutboxDepth(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if depth[deckhand.PlatformNtfy] != 0 {
		t.Errorf("outbox still holds %d ntfy item(s)", depth[deckhand.PlatformNtfy])
	}
	if err := st.IntegrityCheck(t.Context()); err != nil {
		t.Errorf("integrity: %v", err)
	}
}
