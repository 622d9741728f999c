package dockertest_test

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/internal/dockertest"
)

func TestParseInspect(t *testing.T) {
	data, err := os.ReadFile("testdata/inspect-20.10.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := dockertest.ParseInspect(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d results, want 2", len(got))
	}
	tests := []struct {
		i       int
		name    string
		state   deckhand.ContainerState
		health  deckhand.Health
		exit    int
		project string
	}{
		{0, "web", deckhand.StateRunning, deckhand.HealthHealthy, 0, "media"},
		{1, "crash", deckhand.StateExited, deckhand.HealthNone, 3, ""},
	}
	for _, tt := range tests {
		r := got[tt.i]
		if r.Name != tt.name || r.State != tt.state || r.Health != tt.health || r.ExitCode != tt.exit || r.ComposeProject != tt.project {
			t.Errorf("result %d = %+v, want name %s state %s health %s exit %d project %q", tt.i, r, tt.name, tt.state, tt.health, tt.exit, tt.project)
		}
		if !strings.HasPrefix(r.ImageID, "sha256:") || len(r.ID) != 64 {
			t.Errorf("result %d: id %q image id %q", tt.i, r.ID, r.ImageID)
		}
		if r.Labels == nil {
			t.Errorf("result %d: nil labels", tt.i)
		}
	}
	// Recorded from engine 20.10.24: crash ran with --restart on-failure:2.
	if got[1].RestartCount != 2 || got[0].RestartCount != 0 || got[0].Image != "deckhand-testapp:d2e7d2a4f70c280f" {
		t.Errorf("restart counts %d, %d, image %q", got[0].RestartCount, got[1].RestartCount, got[0].Image)
	}
	if got[0].Labels["note"] != "a=b,c" || got[0].ComposeService != "web" {
		t.Errorf("labels %v", got[0].Labels)
	}
	if _, err := dockertest.ParseInspect([]byte("Error: No such object")); err == nil {
		t.Error("ParseInspect accepted garbage")
	}
}

func TestUniqueName(t *testing.T) {
	valid := regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)
	seen := map[string]bool{}
	for _, base := range []string{"web", "TestX/sub case", "x; touch /tmp/p", "", strings.Repeat("a", 200)} {
		n := dockertest.UniqueName(base)
		if !strings.HasPrefix(n, dockertest.NamePrefix) || !valid.MatchString(n) {
			t.Errorf("UniqueName(%q) = %q: not a valid docker name with the prefix", base, n)
		}
		if seen[n] {
			t.Errorf("UniqueName(%q) = %q repeated", base, n)
		}
		seen[n] = true
	}
}

// TestLifecycle runs the real engine: build the image, run a healthy, an
// exiting and a health-less container, drive them and read them back.
func TestLifecycle(t *testing.T) {
	dockertest.Require(t)
	img := dockertest.BuildImage(t)
	if again := dockertest.BuildImage(t); again != img {
		t.Fatalf("BuildImage not cached: %q then %q", img, again)
	}

	labels := map[string]string{
		deckhand.LabelMonitor:        "true",
		deckhand.LabelComposeProject: "dhtest",
		"weird":                      "a=b,c=d",
	}
	web := dockertest.Run(t, "web", dockertest.RunOptions{Labels: labels})
	crash := dockertest.Run(t, "crash", dockertest.RunOptions{Args: []string{"exit", "3"}, NoHealthcheck: true})
	plain := dockertest.Run(t, "plain", dockertest.RunOptions{NoHealthcheck: true})
	created := dockertest.Run(t, "created", dockertest.RunOptions{CreateOnly: true})

	r := dockertest.WaitHealth(t, web.Name, deckhand.HealthHealthy)
	if r.ID != web.ID || r.Name != web.Name || r.State != deckhand.StateRunning || r.Image != img {
		t.Errorf("web inspect = %+v", r)
	}
	for k, v := range labels {
		if r.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, r.Labels[k], v)
		}
	}
	if r.Labels[dockertest.OwnerLabel] != strconv.Itoa(os.Getpid()) {
		t.Errorf("owner label = %q", r.Labels[dockertest.OwnerLabel])
	}
	if r.ComposeProject != "dhtest" {
		t.Errorf("compose project %q", r.ComposeProject)
	}

	c := dockertest.WaitState(t, crash.Name, deckhand.StateExited)
	if c.ExitCode != 3 || c.Health != deckhand.HealthNone {
		t.Errorf("crash: exit %d health %s", c.ExitCode, c.Health)
	}
	if logs := dockertest.Logs(t, crash.Name); !strings.Contains(logs, "exiting with code 3") {
		t.Errorf("crash logs %q", logs)
	}

	p := dockertest.WaitState(t, plain.Name, deckhand.StateRunning)
	if p.Health != deckhand.HealthNone {
		t.Errorf("plain health %s, want none", p.Health)
	}
	if s := dockertest.Inspect(t, created.Name).State; s != deckhand.StateCreated {
		t.Errorf("created state %s", s)
	}

	dockertest.SetUnhealthy(t, web.Name, true)
	dockertest.WaitHealth(t, web.Name, deckhand.HealthUnhealthy)
	dockertest.SetUnhealthy(t, web.Name, false)
	dockertest.WaitHealth(t, web.Name, deckhand.HealthHealthy)

	dockertest.Stop(t, plain.Name)
	if s := dockertest.Inspect(t, plain.Name); s.State != deckhand.StateExited || s.ExitCode != 0 {
		t.Errorf("after stop: state %s exit %d (testapp should exit 0 on SIGTERM)", s.State, s.ExitCode)
	}
	dockertest.Start(t, plain.Name)
	dockertest.WaitState(t, plain.Name, deckhand.StateRunning)
	dockertest.Kill(t, plain.Name)
	if s := dockertest.WaitState(t, plain.Name, deckhand.StateExited); s.ExitCode != 137 {
		t.Errorf("after kill: exit %d, want 137", s.ExitCode)
	}
}

func TestRestartPolicyCountsRestarts(t *testing.T) {
	dockertest.Require(t)
	c := dockertest.Run(t, "loop", dockertest.RunOptions{Args: []string{"exit", "1"}, Restart: "on-failure:2", NoHealthcheck: true})
	r := dockertest.WaitFor(t, c.Name, "done restarting", func(r dockertest.InspectResult) bool {
		return r.State == deckhand.StateExited && r.RestartCount == 2
	})
	if r.ExitCode != 1 {
		t.Errorf("exit %d, want 1", r.ExitCode)
	}
}

func TestRemovedAtCleanup(t *testing.T) {
	dockertest.Require(t)
	var name string
	t.Run("inner", func(t *testing.T) {
		name = dockertest.Run(t, "gone", dockertest.RunOptions{NoHealthcheck: true}).Name
	})
	out := dockertest.Docker(t, "ps", "-a", "--filter", "name=^/"+name+"$", "--format", "{{.Names}}")
	if strings.TrimSpace(out) != "" {
		t.Fatalf("container %s still exists after its test ended", name)
	}
}
