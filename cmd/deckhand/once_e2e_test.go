package main

import (
	"bytes"
	"context"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/internal/dockertest"
	"github.com/deckhand/deckhand/store"
)

// TestE2ERunOnceStoresWhatDockerSays is issue 5's smoke test: `deckhand run
// --once` collects the local engine into the SQLite file, and the stored
// rows say what `docker inspect` says.
func TestE2ERunOnceStoresWhatDockerSays(t *testing.T) {
	requireDocker(t)
	labels := map[string]string{
		deckhand.LabelMonitor:        "true",
		deckhand.LabelComposeProject: "e2e-media",
		deckhand.LabelComposeService: "player",
		"org.example.note":           "a, b=c", // commas and '=' inside a value
	}
	healthy := dockertest.Run(t, "once-healthy", dockertest.RunOptions{Labels: labels})
	stopped := dockertest.Run(t, "once-stopped", dockertest.RunOptions{NoHealthcheck: true})
	dockertest.WaitHealth(t, healthy.Name, deckhand.HealthHealthy)
	dockertest.Kill(t, stopped.Name)
	dockertest.WaitState(t, stopped.Name, deckhand.StateExited)

	env := newEnv(t, e2eConfig{Hosts: []hostBlock{{Name: "here", Transport: "local"}}})
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"run", "--once", "--config", env.configPath()}, &stdout, &stderr); err != nil {
		t.Fatalf("run --once: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "collected 1 host(s) into "+env.cfg.Data) {
		t.Errorf("stdout = %q", stdout.String())
	}

	st, err := store.Open(context.Background(), env.cfg.Data)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if h := hostStatus(t, st, "here"); h.Status != deckhand.HostOK || h.DockerVersion == "" || h.LastOKAt.IsZero() {
		t.Errorf("host row = %+v, want ok with a version", h)
	}
	ctrs, err := st.Containers(context.Background(), "here")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{healthy.Name, stopped.Name} {
		want := dockertest.Inspect(t, name)
		var got *deckhand.Container
		for i := range ctrs {
			if ctrs[i].Name == name {
				got = &ctrs[i]
			}
		}
		if got == nil {
			t.Errorf("%s not stored", name)
			continue
		}
		if got.ID != want.ID || got.State != want.State || got.Health != want.Health ||
			got.ComposeProject != want.ComposeProject || got.ComposeService != want.ComposeService || got.Host != "here" {
			t.Errorf("stored %s = id %s state %s health %s project %q service %q host %q; docker inspect: id %s state %s health %s project %q service %q",
				name, got.ID, got.State, got.Health, got.ComposeProject, got.ComposeService, got.Host,
				want.ID, want.State, want.Health, want.ComposeProject, want.ComposeService)
		}
		// Only deckhand's own and the compose labels are stored; the
		// others (the test's owner label, org.example.note) never reach
		// the database.
		kept := maps.Clone(want.Labels)
		maps.DeleteFunc(kept, func(k, _ string) bool { return !deckhand.KeptLabel(k) })
		if len(kept) == len(want.Labels) {
			t.Fatalf("%s has no foreign label to drop: %v", name, want.Labels)
		}
		if !maps.Equal(got.Labels, kept) {
			t.Errorf("stored labels of %s = %v, want %v of docker inspect's %v", name, got.Labels, kept, want.Labels)
		}
		if want.State == deckhand.StateExited && got.ExitCode != want.ExitCode {
			t.Errorf("stored exit code of %s = %d, docker inspect %d", name, got.ExitCode, want.ExitCode)
		}
	}
	if err := st.IntegrityCheck(context.Background()); err != nil {
		t.Errorf("integrity: %v", err)
	}
}

// TestE2ECheckConfigNamesKeyAndLine: a typo in the file makes run() return
// an error naming the key and its line, and nothing starts.
func TestE2ECheckConfigNamesKeyAndLine(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "deckhand.toml")
	db := filepath.Join(dir, "x.db")
	text := "data = " + strconv.Quote(db) + "\n\n[[hosts]]\nname = \"nas\"\ntransport = \"local\"\n\n[alerts]\ncooldwn = \"5m\"\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"check-config", "run"} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), []string{cmd, "--config", path}, &stdout, &stderr)
		if err == nil {
			t.Fatalf("%s accepted a config with a typo; stdout %q", cmd, stdout.String())
		}
		for _, want := range []string{path + ":8", "alerts.cooldwn", "unknown key"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q lacks %q", cmd, err, want)
			}
		}
	}
	if _, err := os.Stat(db); err == nil {
		t.Errorf("a database was created from an invalid config")
	}

	good := "data = " + strconv.Quote(db) + "\n\n[[hosts]]\nname = \"nas\"\ntransport = \"local\"\n"
	if err := os.WriteFile(path, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"check-config", "--config", path}, &stdout, &stdout); err != nil {
		t.Fatalf("check-config on a good file: %v", err)
	}
	if !strings.Contains(stdout.String(), "config OK: 1 host(s)") || !strings.Contains(stdout.String(), "host nas") {
		t.Errorf("check-config printed %q", stdout.String())
	}
}
