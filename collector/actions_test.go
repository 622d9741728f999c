package collector

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/collector/collectortest"
)

func TestActions(t *testing.T) {
	f := newFleet(t, 1, "28.2", 0)
	c := f.collector(t, nil)
	e := f.hosts[0].engine
	ctx := context.Background()

	if err := c.Stop(ctx, "h00", "web"); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.Container("web"); got.State != deckhand.StateExited {
		t.Errorf("after stop: %s", got.State)
	}
	if err := c.Start(ctx, "h00", "web"); err != nil {
		t.Fatal(err)
	}
	if err := c.Restart(ctx, "h00", "crashed"); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.Container("crashed"); got.State != deckhand.StateRunning {
		t.Errorf("after restart: %s", got.State)
	}
	if err := c.Remove(ctx, "h00", "healthy"); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.Container("healthy"); ok {
		t.Error("removed container still there")
	}
	if err := c.Restart(ctx, "h00", "ghost"); !errors.Is(err, deckhand.ErrNotFound) {
		t.Errorf("unknown container: %v", err)
	}
	for _, bad := range []string{"-f", "--rm", "a b", "x;reboot", "$(id)", "", "web\n", strings.Repeat("a", 200)} {
		if err := c.Restart(ctx, "h00", bad); !errors.Is(err, deckhand.ErrInvalidInput) {
			t.Errorf("ref %q: err = %v", bad, err)
		}
	}
	cmds := f.hosts[0].server.Commands()
	for _, want := range []string{"docker stop web", "docker start web", "docker restart crashed", "docker stop healthy", "docker rm healthy"} {
		found := false
		for _, c := range cmds {
			found = found || c == want
		}
		if !found {
			t.Errorf("command %q not sent; got %q", want, cmds)
		}
	}
	for _, c := range cmds {
		if strings.Contains(c, " -f") && strings.HasPrefix(c, "docker rm") {
			t.Errorf("remove used force: %q", c)
		}
	}
}

func TestRedeploy(t *testing.T) {
	ctx := context.Background()
	t.Run("compose plugin", func(t *testing.T) {
		f := newFleet(t, 1, "29.5", 0)
		c := f.collector(t, nil)
		web, _ := f.hosts[0].engine.Container("web")
		if err := c.Redeploy(ctx, "h00", web); err != nil {
			t.Fatal(err)
		}
		now, _ := f.hosts[0].engine.Container("web")
		if now.ID == web.ID || now.State != deckhand.StateRunning {
			t.Errorf("not recreated: %s %s", now.ID, now.State)
		}
		cmds := f.hosts[0].server.Commands()
		want := "docker compose -p web -f /srv/web/compose.yaml up -d --pull always --no-deps app"
		if cmds[len(cmds)-1] != want {
			t.Errorf("command %q, want %q", cmds[len(cmds)-1], want)
		}
	})
	t.Run("legacy docker-compose", func(t *testing.T) {
		f := newFleet(t, 1, "20.10", 0)
		f.hosts[0].engine.SetCompose(false, true)
		c := f.collector(t, nil)
		web, _ := f.hosts[0].engine.Container("web")
		if err := c.Redeploy(ctx, "h00", web); err != nil {
			t.Fatal(err)
		}
		cmds := f.hosts[0].server.Commands()
		if got := cmds[len(cmds)-1]; got != "docker-compose -p web -f /srv/web/compose.yaml up -d --no-deps app" {
			t.Errorf("last command %q", got)
		}
		if now, _ := f.hosts[0].engine.Container("web"); now.ID == web.ID {
			t.Error("not recreated")
		}
	})
	t.Run("no compose at all", func(t *testing.T) {
		f := newFleet(t, 1, "20.10", 0)
		f.hosts[0].engine.SetCompose(false, false)
		c := f.collector(t, nil)
		web, _ := f.hosts[0].engine.Container("web")
		err := c.Redeploy(ctx, "h00", web)
		if !errors.Is(err, deckhand.ErrDockerMissing) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("plain container is pulled, not recreated", func(t *testing.T) {
		f := newFleet(t, 1, "28.2", 0)
		c := f.collector(t, nil)
		plain, _ := f.hosts[0].engine.Container("healthy")
		err := c.Redeploy(ctx, "h00", plain)
		if !errors.Is(err, ErrNotCompose) || !strings.Contains(err.Error(), "pulled busybox:latest") {
			t.Errorf("err = %v", err)
		}
		if p := f.hosts[0].engine.Pulls(); len(p) != 1 || p[0] != "busybox:latest" {
			t.Errorf("pulls = %v", p)
		}
		if now, _ := f.hosts[0].engine.Container("healthy"); now.ID != plain.ID {
			t.Error("a plain container was recreated")
		}
	})
}

func TestLogsInspectStats(t *testing.T) {
	f := newFleet(t, 1, "28.2", 0)
	c := f.collector(t, nil)
	e := f.hosts[0].engine
	ctx := context.Background()
	for i := range 1500 {
		e.AppendLog("web", strings.Repeat("x", 300)+" line", i%3 == 0)
	}
	out, err := c.Logs(ctx, "h00", "web", 5000)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(out) > logsMaxBytes || len(lines) < 100 || len(lines) > 1000 {
		t.Errorf("logs: %d bytes, %d lines", len(out), len(lines))
	}
	if _, err := time.Parse(time.RFC3339Nano, strings.Fields(lines[0])[0]); err != nil {
		t.Errorf("first line not whole or without timestamp: %q", lines[0][:40])
	}
	cmds := f.hosts[0].server.Commands()
	if got := cmds[len(cmds)-1]; got != "docker logs --tail 1000 --timestamps web" {
		t.Errorf("logs command %q", got)
	}
	if _, err := c.Logs(ctx, "h00", "web", 0); err != nil {
		t.Fatal(err)
	}
	if got := f.hosts[0].server.Commands(); got[len(got)-1] != "docker logs --tail 1 --timestamps web" {
		t.Errorf("tail 0 not clamped to 1: %q", got[len(got)-1])
	}
	if _, err := c.Logs(ctx, "h00", "ghost", 10); !errors.Is(err, deckhand.ErrNotFound) {
		t.Errorf("logs of unknown container: %v", err)
	}

	doc, err := c.Inspect(ctx, "h00", "web")
	if err != nil {
		t.Fatal(err)
	}
	env := doc["Config"].(map[string]any)["Env"].([]any)
	for _, v := range env {
		if !strings.HasSuffix(v.(string), "=<redacted>") || strings.Contains(v.(string), "hunter2") {
			t.Errorf("env not redacted: %v", v)
		}
	}
	if doc["Name"] != "/web" {
		t.Errorf("inspect name %v", doc["Name"])
	}

	stats, err := c.Stats(ctx, "h00")
	if err != nil {
		t.Fatal(err)
	}
	if len(stats) != 5 || stats[0].MemUsage != 2498756 || stats[0].CPUPercent != 1.08 {
		t.Errorf("stats: %d, first %+v", len(stats), stats[0])
	}
}

func TestEvents(t *testing.T) {
	for _, v := range collectortest.Versions() {
		t.Run(v, func(t *testing.T) {
			f := newFleet(t, 1, v, 0)
			c := f.collector(t, nil)
			e := f.hosts[0].engine
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			got := make(chan Event, 64)
			done := make(chan error, 1)
			go func() { done <- c.Events(ctx, "h00", func(ev Event) { got <- ev }) }()
			waitFor(t, func() bool { return e.Subscribers() == 1 })

			e.SetExitCode("web", 137)
			e.SetState("web", deckhand.StateExited, "")
			e.SetState("healthy", "", deckhand.HealthUnhealthy)
			e.Remove("fresh")

			want := []Event{
				{Action: "die", Name: "web", ExitCode: 137},
				{Action: "health_status", Name: "healthy", Health: deckhand.HealthUnhealthy},
				{Action: "destroy", Name: "fresh"},
			}
			for _, w := range want {
				select {
				case ev := <-got:
					if ev.Action != w.Action || ev.Name != w.Name || ev.ExitCode != w.ExitCode || ev.Health != w.Health ||
						ev.Host != "h00" || len(ev.ContainerID) != 64 || ev.At.IsZero() {
						t.Errorf("event %+v, want %+v", ev, w)
					}
					if ev.Name == "web" && ev.Labels[deckhand.LabelMonitor] != "true" {
						t.Errorf("labels %v", ev.Labels)
					}
					if _, ok := ev.Labels["name"]; ok {
						t.Errorf("docker attribute leaked into labels: %v", ev.Labels)
					}
				case <-time.After(5 * time.Second):
					t.Fatalf("no %s event", w.Action)
				}
			}
			// The stream ending on its own is an error the caller reconnects on.
			f.hosts[0].server.DropConnections()
			select {
			case err := <-done:
				if !errors.Is(err, deckhand.ErrUnreachable) {
					t.Errorf("stream end: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Events did not return after the connection dropped")
			}
			go func() { done <- c.Events(ctx, "h00", func(Event) {}) }()
			waitFor(t, func() bool { return e.Subscribers() == 1 })
			cancel()
			if err := <-done; err != nil {
				t.Errorf("cancelled stream: %v", err)
			}
		})
	}
}

// Redeploy merges docker's stderr into its output (compose's progress and
// its error interleave): docker's own text must still reach the user, and
// the failure must be classified like any other command's.
func TestRedeployErrorsSayWhatDockerSaid(t *testing.T) {
	ctx := context.Background()
	f := newFleet(t, 1, "28.2", 0)
	c := f.collector(t, nil)
	e := f.hosts[0].engine
	web, _ := e.Container("web")
	ghost := web
	ghost.Labels = maps.Clone(web.Labels)
	ghost.Labels[deckhand.LabelComposeService] = "ghost"
	for _, tc := range []struct {
		name  string
		ctr   deckhand.Container
		fault collectortest.Fault
		want  string
		is    error
	}{
		{"pull refused", deckhand.Container{Name: "x", Image: "nope:1"}, collectortest.FaultNone, "pull access denied for nope:1", nil},
		{"compose refuses", ghost, collectortest.FaultNone, "no such service: ghost", nil},
		{"daemon down, plain", deckhand.Container{Name: "x", Image: "nope:1"}, collectortest.FaultDaemonDown, "Cannot connect to the Docker daemon", deckhand.ErrDaemonDown},
		{"daemon down, compose", web, collectortest.FaultDaemonDown, "Cannot connect to the Docker daemon", deckhand.ErrDaemonDown},
		{"socket refused", web, collectortest.FaultPermissionDenied, "permission denied", deckhand.ErrPermissionDenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.SetFault(tc.fault)
			defer e.SetFault(collectortest.FaultNone)
			err := c.Redeploy(ctx, "h00", tc.ctr)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "no error message") {
				t.Errorf("err = %v, want docker's %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("err = %v, want %v", err, tc.is)
			}
		})
	}
}

// Compose's file and directory labels are data from the host: each file
// must resolve to an absolute path, so that none reaches `docker compose -f`
// as an option or as "-" (stdin).
func TestRedeployChecksComposeLabels(t *testing.T) {
	ctx := context.Background()
	f := newFleet(t, 1, "29.5", 0)
	c := f.collector(t, nil)
	web, _ := f.hosts[0].engine.Container("web")
	for _, tc := range []struct{ files, workdir string }{
		{"-", ""},
		{"--project-directory=/", ""},
		{"-h", ""},
		{"compose.yaml", ""},
		{"compose.yaml", "srv/web"},
		{"compose.yaml", "-x"},
		{"/srv/web/compose.yaml,-", "/srv/web"},
		{"/srv/web/compose\n.yaml", "/srv/web"},
	} {
		ctr := web
		ctr.Labels = maps.Clone(web.Labels)
		ctr.Labels[deckhand.LabelComposeFiles] = tc.files
		ctr.Labels[deckhand.LabelComposeWorkDir] = tc.workdir
		before := len(f.hosts[0].server.Commands())
		if err := c.Redeploy(ctx, "h00", ctr); !errors.Is(err, deckhand.ErrInvalidInput) {
			t.Errorf("files %q workdir %q: err = %v, want ErrInvalidInput", tc.files, tc.workdir, err)
		}
		if cmds := f.hosts[0].server.Commands(); len(cmds) != before {
			t.Errorf("files %q workdir %q: sent %q", tc.files, tc.workdir, cmds[before:])
		}
	}
	ctr := web
	ctr.Labels = maps.Clone(web.Labels)
	ctr.Labels[deckhand.LabelComposeFiles] = "compose.yaml, override.yaml"
	if err := c.Redeploy(ctx, "h00", ctr); err != nil {
		t.Fatal(err)
	}
	cmds := f.hosts[0].server.Commands()
	if want := "docker compose -p web -f /srv/web/compose.yaml -f /srv/web/override.yaml up -d --pull always --no-deps app"; cmds[len(cmds)-1] != want {
		t.Errorf("command %q, want %q", cmds[len(cmds)-1], want)
	}
}
