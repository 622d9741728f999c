package collector_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/collector"
	"github.com/deckhand/deckhand/internal/dockertest"
)

// TestIntegrationLocal collects the real engine through the local transport.
func TestIntegrationLocal(t *testing.T) {
	f := startFixture(t)
	const host = "local"
	c := newCollector(t, collector.HostConfig{Name: host, Transport: collector.TransportLocal})
	ctx := context.Background()

	t.Run("snapshot matches docker inspect", func(t *testing.T) {
		snap := c.Collect(ctx, host, true)
		assertMatchesDocker(t, snap, host, f.names()...)
		assertFixtureDomain(t, snap, f)
		if !snap.Full {
			t.Errorf("full collect: Full = false")
		}
		want := strings.TrimSpace(dockertest.Docker(t, "version", "--format", "{{.Server.Version}}"))
		if snap.Host.DockerVersion != want {
			t.Errorf("DockerVersion %q, docker version says %q", snap.Host.DockerVersion, want)
		}
		img := dockertest.BuildImage(t)
		found := false
		for _, im := range snap.Images {
			for _, tag := range im.RepoTags {
				found = found || tag == img
			}
		}
		if !found {
			t.Errorf("full snapshot lists %d images, none tagged %s", len(snap.Images), img)
		}
	})

	// The ps fallback (for a container inspect did not return) reads the
	// kept labels by name through the real CLI's .Label, in order.
	t.Run("ps labels by name", func(t *testing.T) {
		for _, name := range f.names() {
			out := dockertest.Docker(t, "ps", "-a", "--no-trunc", "--filter", "name=^"+name+"$", "--format", collector.PSFormat)
			ctrs, bad := collector.ParsePS([]byte(out))
			if len(ctrs) != 1 || len(bad) != 0 {
				t.Fatalf("%s: ps gave %d containers, bad %v: %s", name, len(ctrs), bad, out)
			}
			want := map[string]string{}
			for k, v := range dockertest.Inspect(t, name).Labels {
				if deckhand.KeptLabel(k) && v != "" {
					want[k] = v
				}
			}
			if !maps.Equal(ctrs[0].Labels, want) {
				t.Errorf("%s: ps labels %v, want %v", name, ctrs[0].Labels, want)
			}
		}
	})

	t.Run("logs", func(t *testing.T) {
		out, err := c.Logs(ctx, host, f.crash.Name, 50)
		if err != nil || !strings.Contains(out, "exiting with code 3") {
			t.Fatalf("Logs = %q, %v", out, err)
		}
	})

	t.Run("hostile references", func(t *testing.T) {
		assertHostileRefsHarmless(t, c, host)
	})

	t.Run("docker path wrong", func(t *testing.T) {
		bad := newCollector(t, collector.HostConfig{Name: host, Transport: collector.TransportLocal, DockerPath: "/nonexistent/docker"})
		snap := bad.Collect(ctx, host, false)
		if !errors.Is(snap.Err, deckhand.ErrDockerMissing) || snap.Host.Status != deckhand.HostDockerMissing {
			t.Fatalf("err %v status %s, want docker_missing", snap.Err, snap.Host.Status)
		}
	})
}

// TestIntegrationLabelsNarrowTheHost runs on the real engine, which other
// people's containers share: a host with labels sees only the containers
// that carry them, in ps and in the events stream.
func TestIntegrationLabelsNarrowTheHost(t *testing.T) {
	dockertest.Require(t)
	mine := dockertest.Run(t, "narrow-mine", dockertest.RunOptions{NoHealthcheck: true, Labels: map[string]string{"deckhand.test.part": "mine"}})
	other := dockertest.Run(t, "narrow-other", dockertest.RunOptions{NoHealthcheck: true, Labels: map[string]string{"deckhand.test.part": "other"}})
	const host = "local"
	c := newCollector(t, collector.HostConfig{Name: host, Transport: collector.TransportLocal, Labels: []string{"deckhand.test.part=mine"}})
	snap := c.Collect(context.Background(), host, false)
	if snap.Err != nil {
		t.Fatal(snap.Err)
	}
	var names []string
	for _, ct := range snap.Containers {
		names = append(names, ct.Name)
	}
	if len(names) != 1 || names[0] != mine.Name {
		t.Fatalf("host narrowed to deckhand.test.part=mine sees %v, want only %s", names, mine.Name)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	seen := make(chan string, 16)
	go func() {
		_ = c.Events(ctx, host, func(ev collector.Event) { seen <- ev.Name })
	}()
	waitStream := time.After(2 * time.Second) // the stream has no "ready" signal: give it time to open
	<-waitStream
	dockertest.Kill(t, other.Name)
	dockertest.Kill(t, mine.Name)
	for {
		select {
		case name := <-seen:
			if name == other.Name {
				t.Fatalf("events stream shows %s, which lacks the label", other.Name)
			}
			if name == mine.Name {
				return
			}
		case <-time.After(30 * time.Second):
			t.Fatal("no event for the labelled container")
		}
	}
}

// TestIntegrationInspectRedacts inspects a real container that carries
// secrets on its command line, in its environment and in a foreign label:
// none reaches the caller, whatever role it serves.
func TestIntegrationInspectRedacts(t *testing.T) {
	dockertest.Require(t)
	ctr := dockertest.Run(t, "inspect-secrets", dockertest.RunOptions{
		CreateOnly:    true,
		NoHealthcheck: true,
		Args:          []string{"serve", "--db-password=hunter2", "-p", "s3cret1", "KEY=v4lue"},
		Env:           map[string]string{"API_KEY": "s3cret2"},
		Labels: map[string]string{
			"token":                      "s3cret3",
			deckhand.LabelMonitor:        "true",
			deckhand.LabelComposeProject: "dhit",
		},
	})
	const host = "local"
	c := newCollector(t, collector.HostConfig{Name: host, Transport: collector.TransportLocal})
	doc, err := c.Inspect(context.Background(), host, ctr.Name)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(doc)
	for _, leak := range []string{"hunter2", "s3cret", "v4lue"} {
		if strings.Contains(string(out), leak) {
			t.Errorf("inspect leaks %q", leak)
		}
	}
	labels := doc["Config"].(map[string]any)["Labels"].(map[string]any)
	if labels[deckhand.LabelMonitor] != "true" || labels[deckhand.LabelComposeProject] != "dhit" {
		t.Errorf("deckhand's and compose's labels hidden: %v", labels)
	}
	if labels["token"] != deckhand.Redacted || labels[dockertest.OwnerLabel] != deckhand.Redacted {
		t.Errorf("foreign labels shown: %v", labels)
	}
	if args := doc["Args"].([]any); len(args) != 5 || args[0] != "serve" || args[1] != "--db-password=<redacted>" {
		t.Errorf("args %v", args)
	}
}

// TestIntegrationRedeployTellsDockersReason pulls an image no registry
// serves through the real CLI, whose output is merged: the user reads
// docker's reason, not "no error message".
func TestIntegrationRedeployTellsDockersReason(t *testing.T) {
	dockertest.Require(t)
	const host = "local"
	c := newCollector(t, collector.HostConfig{Name: host, Transport: collector.TransportLocal})
	err := c.Redeploy(context.Background(), host, deckhand.Container{Name: "x", Image: "127.0.0.1:1/deckhand-absent:1"})
	if err == nil || !strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "no error message") {
		t.Errorf("err = %v, want docker's reason (connection refused)", err)
	}
}
