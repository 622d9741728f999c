package collector

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
)

var update = flag.Bool("update", false, "rewrite golden files")

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden:\n%s", name, got)
	}
}

func TestGoldenPS(t *testing.T) {
	for _, v := range []string{"v20.10", "v24.0", "v28.2", "v29.5"} {
		t.Run(v, func(t *testing.T) {
			ctrs, bad := ParsePS(readFile(t, v+"/ps.jsonl"))
			if len(bad) != 0 || len(ctrs) != 8 {
				t.Fatalf("%d containers, bad %v", len(ctrs), bad)
			}
			m := byName(ctrs)
			web := m["dh-web"]
			wantPorts := []deckhand.Port{
				{IP: "0.0.0.0", PublicPort: 5432, PrivatePort: 5432, Proto: "tcp"},
				{IP: "::", PublicPort: 5432, PrivatePort: 5432, Proto: "tcp"},
				{IP: "127.0.0.1", PublicPort: 8080, PrivatePort: 80, Proto: "tcp"},
			}
			if !reflect.DeepEqual(web.Ports, wantPorts) {
				t.Errorf("ports %+v", web.Ports)
			}
			checks := map[string]struct {
				state  deckhand.ContainerState
				health deckhand.Health
				exit   int
			}{
				"dh-healthy":    {deckhand.StateRunning, deckhand.HealthHealthy, 0},
				"dh-unhealthy":  {deckhand.StateRunning, deckhand.HealthUnhealthy, 0},
				"dh-starting":   {deckhand.StateRunning, deckhand.HealthStarting, 0},
				"dh-exited":     {deckhand.StateExited, deckhand.HealthNone, 3},
				"dh-paused":     {deckhand.StatePaused, deckhand.HealthNone, 0},
				"dh-created":    {deckhand.StateCreated, deckhand.HealthNone, 0},
				"dh-restarting": {deckhand.StateRestarting, deckhand.HealthNone, 1},
			}
			for name, w := range checks {
				c := m[name]
				if c.State != w.state || c.Health != w.health || c.ExitCode != w.exit {
					t.Errorf("%s: %s %s %d, want %+v", name, c.State, c.Health, c.ExitCode, w)
				}
			}
			golden(t, "ps-"+v+".json", ctrs)
		})
	}
}

func TestGoldenRealInspectMerge(t *testing.T) {
	ctrs, _ := ParsePS(readFile(t, "real-28.2-20.10/ps.jsonl"))
	info, bad := parseInspect(readFile(t, "real-28.2-20.10/inspect.jsonl"))
	if len(bad) != 0 || len(info) != 8 {
		t.Fatalf("inspect: %d, bad %v", len(info), bad)
	}
	m := byName(ctrs)
	if got := info[m["dh-web"].ID].Labels["note"]; got != "a,b=c,d" {
		t.Errorf("exact label from inspect = %q", got)
	}
	for i := range ctrs {
		mergeInspect(&ctrs[i], info[ctrs[i].ID])
	}
	m = byName(ctrs)
	for _, k := range []string{"note", "b"} {
		if v, ok := m["dh-web"].Labels[k]; ok {
			t.Errorf("label %q = %q kept after merge; deckhand keeps only its own and compose's", k, v)
		}
	}
	if m["dh-web"].Labels[deckhand.LabelMonitor] != "true" {
		t.Errorf("dh-web labels after merge: %v", m["dh-web"].Labels)
	}
	if c := m["dh-restarting"]; c.RestartCount != 8 || c.ExitCode != 1 {
		t.Errorf("restarting: %+v", c)
	}
	if !strings.HasPrefix(m["dh-web"].ImageID, "sha256:") {
		t.Errorf("image id %q", m["dh-web"].ImageID)
	}
	golden(t, "real-merged.json", ctrs)
}

func TestParseRealOther(t *testing.T) {
	v, err := ParseVersion(readFile(t, "real-28.2-20.10/version.json"))
	if err != nil || v.Client != "28.2.2" || v.Server != "20.10.24+dfsg1" || v.API != "1.41" {
		t.Errorf("version %+v %v", v, err)
	}
	if _, err := ParseVersion(readFile(t, "real-28.2-20.10/version-daemon-down.stdout")); !errors.Is(err, deckhand.ErrDaemonDown) {
		t.Errorf("Server null: %v", err)
	}
	if _, err := ParseVersion([]byte(`{"Client":{"Version":"2`)); !errors.Is(err, deckhand.ErrBadOutput) {
		t.Errorf("truncated version: %v", err)
	}
	imgs, bad := ParseImages(readFile(t, "real-28.2-20.10/images.jsonl"))
	if len(bad) != 0 || len(imgs) != 1 || imgs[0].Size != 3010000 || imgs[0].RepoTags[0] != "deckhand-fixture:1" || imgs[0].CreatedAt.IsZero() {
		t.Errorf("images %+v %v", imgs, bad)
	}
	vols, _ := ParseVolumes(readFile(t, "real-28.2-20.10/volumes.jsonl"))
	if len(vols) != 1 || vols[0].Name != "dh-data" || vols[0].Size != -1 || vols[0].Links != -1 {
		t.Errorf("volumes %+v", vols)
	}
	df, err := ParseSystemDF(readFile(t, "real-28.2-20.10/system-df.json"))
	if err != nil || df["dh-data"].Links != 1 || df["dh-data"].Size != 0 {
		t.Errorf("df %+v %v", df, err)
	}
	stats, bad := ParseStats(readFile(t, "real-28.2-20.10/stats.jsonl"))
	if len(bad) != 0 || len(stats) == 0 || stats[0].MemLimit != gib(23.54) || stats[0].PIDs != 4 {
		t.Errorf("stats %+v %v", stats, bad)
	}
}

func TestGoldenEvents(t *testing.T) {
	for _, v := range []string{"v20.10", "v28.2", "v29.5"} {
		t.Run(v, func(t *testing.T) {
			var evs []Event
			for _, l := range splitLines(readFile(t, v+"/events.jsonl")) {
				ev, err := ParseEvent(l)
				if errors.Is(err, errSkipEvent) {
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", l, err)
				}
				evs = append(evs, ev)
			}
			var die, health bool
			for _, ev := range evs {
				if strings.HasPrefix(ev.Action, "exec_") || strings.Contains(ev.Action, ":") {
					t.Errorf("unfiltered action %q", ev.Action)
				}
				if ev.Action == "die" && ev.Name == "dh-exited" && ev.ExitCode == 3 {
					die = true
				}
				if ev.Action == "health_status" && ev.Name == "dh-unhealthy" && ev.Health == deckhand.HealthUnhealthy &&
					ev.Labels[deckhand.LabelAutoRestart] == "true" {
					health = true
				}
			}
			if !die || !health {
				t.Errorf("die seen %v, health seen %v", die, health)
			}
			// Every version must parse to the same events.
			golden(t, "events.json", evs)
		})
	}
}

func TestParseLabels(t *testing.T) {
	tests := []struct {
		in   string
		want map[string]string
	}{
		{"", map[string]string{}},
		{"a=1", map[string]string{"a": "1"}},
		{"a=1,b=2", map[string]string{"a": "1", "b": "2"}},
		{"a=x,y,z", map[string]string{"a": "x,y,z"}},
		{"a=k=v", map[string]string{"a": "k=v"}},
		{"a=", map[string]string{"a": ""}},
		{"a=1,,b=2", map[string]string{"a": "1,", "b": "2"}},
		{"desc=hello world, x y=z,b=2", map[string]string{"desc": "hello world, x y=z", "b": "2"}},
		{"traefik.http.routers.r.rule=Host(`a.b`) || Host(`c`),homelab.monitor=true",
			map[string]string{"traefik.http.routers.r.rule": "Host(`a.b`) || Host(`c`)", "homelab.monitor": "true"}},
		{",orphan,a=1", map[string]string{"a": "1"}},
	}
	for _, tc := range tests {
		if got := ParseLabels(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseLabels(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestParseStatus(t *testing.T) {
	tests := []struct {
		in   string
		want StatusInfo
	}{
		{"Up 2 hours (healthy)", StatusInfo{deckhand.StateRunning, deckhand.HealthHealthy, 0}},
		{"Up 5 seconds (unhealthy)", StatusInfo{deckhand.StateRunning, deckhand.HealthUnhealthy, 0}},
		{"Up 14 seconds (health: starting)", StatusInfo{deckhand.StateRunning, deckhand.HealthStarting, 0}},
		{"Up Less than a second", StatusInfo{deckhand.StateRunning, deckhand.HealthNone, 0}},
		{"Up 3 minutes (Paused)", StatusInfo{deckhand.StatePaused, deckhand.HealthNone, 0}},
		{"Exited (137) 5 minutes ago", StatusInfo{deckhand.StateExited, deckhand.HealthNone, 137}},
		{"Exited (0) About an hour ago", StatusInfo{deckhand.StateExited, deckhand.HealthNone, 0}},
		{"Exited (-1) 2 days ago", StatusInfo{deckhand.StateExited, deckhand.HealthNone, -1}},
		{"Restarting (1) 3 seconds ago", StatusInfo{deckhand.StateRestarting, deckhand.HealthNone, 1}},
		{"Created", StatusInfo{deckhand.StateCreated, deckhand.HealthNone, 0}},
		{"Dead", StatusInfo{deckhand.StateDead, deckhand.HealthNone, 0}},
		{"Removal In Progress", StatusInfo{deckhand.StateRemoving, deckhand.HealthNone, 0}},
		{"", StatusInfo{"", deckhand.HealthNone, 0}},
		{"Something new", StatusInfo{"", deckhand.HealthNone, 0}},
		{"Exited (+5) 2 days ago", StatusInfo{deckhand.StateExited, deckhand.HealthNone, 0}},
		{"Exited () 2 days ago", StatusInfo{deckhand.StateExited, deckhand.HealthNone, 0}},
		{"Exited (12", StatusInfo{deckhand.StateExited, deckhand.HealthNone, 0}},
		{"Up 1 hour (unhealthy) (healthy)", StatusInfo{deckhand.StateRunning, deckhand.HealthUnhealthy, 0}},
	}
	for _, tc := range tests {
		if got := ParseStatus(tc.in); got != tc.want {
			t.Errorf("ParseStatus(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestParsePorts(t *testing.T) {
	tests := []struct {
		in   string
		want []deckhand.Port
	}{
		{"", nil},
		{"80/tcp", []deckhand.Port{{PrivatePort: 80, Proto: "tcp"}}},
		{"0.0.0.0:8080->80/tcp", []deckhand.Port{{IP: "0.0.0.0", PublicPort: 8080, PrivatePort: 80, Proto: "tcp"}}},
		{":::5432->5432/tcp", []deckhand.Port{{IP: "::", PublicPort: 5432, PrivatePort: 5432, Proto: "tcp"}}},
		{"[::]:5432->5432/tcp", []deckhand.Port{{IP: "::", PublicPort: 5432, PrivatePort: 5432, Proto: "tcp"}}},
		{"[fe80::1]:53->53/udp", []deckhand.Port{{IP: "fe80::1", PublicPort: 53, PrivatePort: 53, Proto: "udp"}}},
		{"127.0.0.1:8000-8001->9000-9001/tcp", []deckhand.Port{
			{IP: "127.0.0.1", PublicPort: 8000, PrivatePort: 9000, Proto: "tcp"},
			{IP: "127.0.0.1", PublicPort: 8001, PrivatePort: 9001, Proto: "tcp"}}},
		{"7000-7001/udp, 80/tcp", []deckhand.Port{{PrivatePort: 7000, Proto: "udp"}, {PrivatePort: 7001, Proto: "udp"}, {PrivatePort: 80, Proto: "tcp"}}},
		{"garbage, 1.2.3.4:x->80/tcp, 99999/tcp", nil},
	}
	for _, tc := range tests {
		if got := ParsePorts(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParsePorts(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestParsePSIsolatesBadLines(t *testing.T) {
	good := readFile(t, "v28.2/ps.jsonl")
	lines := bytes.SplitN(good, []byte("\n"), 3)
	in := bytes.Join([][]byte{lines[0], []byte(`{"ID":"abc","Names":`), []byte(`{"Names":"no-id"}`), lines[1]}, []byte("\n"))
	ctrs, bad := ParsePS(in)
	if len(ctrs) != 2 || len(bad) != 2 || bad[0].Line != 2 {
		t.Errorf("ctrs %d bad %+v", len(ctrs), bad)
	}
	if ctrs, bad := ParsePS(nil); len(ctrs) != 0 || len(bad) != 0 {
		t.Error("empty output is not an empty list")
	}
}

func TestParseSize(t *testing.T) {
	tests := map[string]int64{"0B": 0, "12.3MB": 12300000, "1.49kB": 1490, "2.383MiB": 2498756, "1GB": 1e9, "512": 512}
	for in, want := range tests {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"N/A", "", "12XB", "--"} {
		if _, err := ParseSize(in); !errors.Is(err, deckhand.ErrBadOutput) {
			t.Errorf("ParseSize(%q) err = %v", in, err)
		}
	}
}

func TestClassify(t *testing.T) {
	rd := func(name string) []byte { return readFile(t, "real-28.2-20.10/"+name) }
	tests := []struct {
		name string
		res  result
		err  error
		want error
		msg  string
	}{
		{"ok", result{}, nil, nil, ""},
		{"daemon down", result{Stderr: rd("ps-daemon-down.stderr"), ExitCode: 1}, nil, deckhand.ErrDaemonDown, "Cannot connect"},
		{"daemon down windows", result{Stderr: []byte("error during connect: Get http://...: open //./pipe/docker_engine"), ExitCode: 1}, nil, deckhand.ErrDaemonDown, ""},
		{"permission denied", result{Stderr: rd("ps-permission-denied.stderr"), ExitCode: 1}, nil, deckhand.ErrPermissionDenied, "permission denied"},
		{"permission denied old", result{Stderr: []byte("Got permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Get ..."), ExitCode: 1}, nil, deckhand.ErrPermissionDenied, ""},
		{"exit 127", result{Stderr: []byte("sh: 1: docker: not found\n"), ExitCode: 127}, nil, deckhand.ErrDockerMissing, "docker_path"},
		{"bash", result{Stderr: []byte("bash: docker: command not found"), ExitCode: 127}, nil, deckhand.ErrDockerMissing, ""},
		{"zsh", result{Stderr: []byte("zsh:1: command not found: docker"), ExitCode: 1}, nil, deckhand.ErrDockerMissing, ""},
		{"no such container", result{Stderr: []byte("Error response from daemon: No such container: x"), ExitCode: 1}, nil, deckhand.ErrNotFound, ""},
		{"timeout", result{}, errors.New("x: " + deckhand.ErrTimeout.Error()), deckhand.ErrUnreachable, ""},
		{"classified transport", result{}, deckhand.ErrTimeout, deckhand.ErrTimeout, ""},
		{"auth", result{}, deckhand.ErrAuthFailed, deckhand.ErrAuthFailed, ""},
		{"other", result{Stderr: []byte("\n  something odd  \nmore"), ExitCode: 2}, nil, nil, "exit status 2: something odd"},
	}
	for _, tc := range tests {
		err := classify("docker ps", "nas", "docker", tc.res, tc.err)
		switch {
		case tc.want == nil && tc.msg == "" && err != nil:
			t.Errorf("%s: unexpected %v", tc.name, err)
		case tc.want != nil && !errors.Is(err, tc.want):
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		case tc.msg != "" && (err == nil || !strings.Contains(err.Error(), tc.msg)):
			t.Errorf("%s: message %v lacks %q", tc.name, err, tc.msg)
		case err != nil && !strings.HasPrefix(err.Error(), "docker ps on nas: "):
			t.Errorf("%s: message %q", tc.name, err)
		}
	}
	long := result{Stderr: []byte(strings.Repeat("é", 300)), ExitCode: 1}
	if msg := classify("x", "h", "docker", long, nil).Error(); len(msg) > 260 {
		t.Errorf("stderr not trimmed: %d bytes", len(msg))
	}
}

func gib(f float64) int64 { return int64(f * (1 << 30)) }

// TestStateFromOneRead: ps and inspect run some 70 ms apart, so a
// crash-looping container was stored "running" (inspect) with the status
// text "Restarting (1) 3 seconds ago" (ps). State, health, exit code and
// status text now all come from the ps line; inspect adds what ps lacks.
func TestStateFromOneRead(t *testing.T) {
	tests := []struct {
		name, ps, inspect string
		state             deckhand.ContainerState
		health            deckhand.Health
		exit              int
	}{
		{"restarting in ps, running in inspect",
			`{"ID":"a1","Names":"loop","State":"restarting","Status":"Restarting (1) 3 seconds ago"}`,
			`{"ID":"a1","Name":"/loop","State":"running","Health":"","ExitCode":0,"RestartCount":7,"StartedAt":"2026-01-02T03:04:05.123456789Z","FinishedAt":"2026-01-02T03:04:04.5Z"}`,
			deckhand.StateRestarting, deckhand.HealthNone, 1},
		{"healthy in ps, unhealthy in inspect",
			`{"ID":"a1","Names":"web","State":"running","Status":"Up 2 hours (healthy)"}`,
			`{"ID":"a1","Name":"/web","State":"running","Health":"unhealthy","ExitCode":0,"RestartCount":0,"StartedAt":"2026-01-02T03:04:05.123456789Z","FinishedAt":"0001-01-01T00:00:00Z"}`,
			deckhand.StateRunning, deckhand.HealthHealthy, 0},
		{"exited in ps, running again in inspect",
			`{"ID":"a1","Names":"job","State":"exited","Status":"Exited (137) 1 second ago"}`,
			`{"ID":"a1","Name":"/job","State":"running","Health":"","ExitCode":0,"RestartCount":1,"StartedAt":"2026-01-02T03:04:05.123456789Z","FinishedAt":"2026-01-02T03:04:04.5Z"}`,
			deckhand.StateExited, deckhand.HealthNone, 137},
	}
	for _, tt := range tests {
		ctrs, bad := ParsePS([]byte(tt.ps))
		info, ibad := parseInspect([]byte(tt.inspect))
		if len(bad)+len(ibad) != 0 || len(ctrs) != 1 {
			t.Fatalf("%s: parse: %v %v", tt.name, bad, ibad)
		}
		c := ctrs[0]
		status := c.Status
		mergeInspect(&c, info["a1"])
		if c.State != tt.state || c.Health != tt.health || c.ExitCode != tt.exit || c.Status != status {
			t.Errorf("%s: %s %s exit %d %q, want %s %s exit %d", tt.name, c.State, c.Health, c.ExitCode, c.Status, tt.state, tt.health, tt.exit)
		}
		if c.RestartCount == 0 && tt.name != "healthy in ps, unhealthy in inspect" {
			t.Errorf("%s: restart count not taken from inspect", tt.name)
		}
		want := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
		if !c.StartedAt.Equal(want) {
			t.Errorf("%s: StartedAt %v, want %v", tt.name, c.StartedAt, want)
		}
		if tt.state != deckhand.StateRunning && !c.FinishedAt.Equal(time.Date(2026, 1, 2, 3, 4, 4, 5e8, time.UTC)) {
			t.Errorf("%s: FinishedAt %v", tt.name, c.FinishedAt)
		}
		if tt.state == deckhand.StateRunning && !c.FinishedAt.IsZero() {
			t.Errorf("%s: Docker's zero FinishedAt read as %v", tt.name, c.FinishedAt)
		}
	}
}
