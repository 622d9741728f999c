package bot

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var (
	first = time.Date(2026, 3, 1, 14, 2, 0, 0, time.UTC)
	down  = deckhand.Alert{
		ID:          7,
		Key:         deckhand.AlertKey{Host: "nas", Container: "jellyfin", Kind: deckhand.AlertContainerDown},
		Project:     "media",
		Severity:    deckhand.SeverityCritical,
		State:       deckhand.AlertOpen,
		Message:     "nas/jellyfin is down (exited 137)",
		FirstSeenAt: first,
	}
)

func TestRender(t *testing.T) {
	at := first.Add(3*time.Minute + 20*time.Second)
	acked := down
	acked.State, acked.AckedBy = deckhand.AlertAcked, "discord:alice"
	closed := down
	closed.State, closed.ClosedAt = deckhand.AlertClosed, first.Add(2*time.Hour+5*time.Minute)
	running := deckhand.Alert{Key: deckhand.AlertKey{Host: "nas", Container: "backup", Kind: deckhand.AlertContainerDown},
		Severity: deckhand.SeverityError, Message: "nas/backup is running but should be stopped", FirstSeenAt: first,
		Condition: deckhand.ConditionRunningUnwanted}
	runningClosed := running
	runningClosed.State, runningClosed.ClosedAt = deckhand.AlertClosed, first.Add(10*time.Minute)
	host := deckhand.Alert{Key: deckhand.AlertKey{Host: "pi", Kind: deckhand.AlertHostUnreachable}, Severity: deckhand.SeverityWarning,
		Message: "host pi unreachable: i/o timeout", FirstSeenAt: first}

	for _, tc := range []struct {
		name  string
		n     deckhand.Notice
		title string
		sev   deckhand.Severity
		code  string
		lines []string
		tags  []string
		quiet bool
	}{
		{"opened", deckhand.Notice{Kind: deckhand.NoticeOpened, Alert: down, At: at},
			"nas/jellyfin is down", deckhand.SeverityCritical, "rotating_light",
			[]string{"exited 137", "Since 14:02 UTC (3m)."}, []string{"container_down", "nas", "jellyfin", "media"}, false},
		{"an engine's summary in Text is not said", deckhand.Notice{Kind: deckhand.NoticeOpened, Alert: down, Text: "🔴 nas/jellyfin is down (exited 137) — since 14:02", At: at},
			"nas/jellyfin is down", deckhand.SeverityCritical, "rotating_light", []string{"exited 137", "Since 14:02 UTC (3m)."}, nil, false},
		{"reminder", deckhand.Notice{Kind: deckhand.NoticeReminder, Alert: down, At: first.Add(26 * time.Hour)},
			"Reminder: nas/jellyfin is down", deckhand.SeverityCritical, "rotating_light",
			[]string{"exited 137", "Since Mar 1 14:02 UTC (1d2h).", "Not acked yet."}, nil, false},
		{"acked", deckhand.Notice{Kind: deckhand.NoticeAcked, Alert: acked, At: at},
			"Acked: nas/jellyfin is down", SeverityInfo, "information_source", []string{"exited 137", "Since 14:02 UTC (3m).", "Acked by discord:alice."}, nil, true},
		{"recovered", deckhand.Notice{Kind: deckhand.NoticeRecovered, Alert: closed, At: closed.ClosedAt.Add(time.Minute)},
			"Recovered: nas/jellyfin", SeverityRecovered, "white_check_mark", []string{"Down for 2h5m."}, nil, true},
		{"running though it should be stopped is not titled down", deckhand.Notice{Kind: deckhand.NoticeOpened, Alert: running, At: at},
			"nas/backup is running but should be stopped", deckhand.SeverityError, "rotating_light", []string{"Since 14:02 UTC (3m)."}, nil, false},
		{"its recovery", deckhand.Notice{Kind: deckhand.NoticeRecovered, Alert: runningClosed, At: runningClosed.ClosedAt},
			"Recovered: nas/backup", SeverityRecovered, "white_check_mark", []string{"Running although it should be stopped for 10m."}, nil, true},
		{"host unreachable", deckhand.Notice{Kind: deckhand.NoticeOpened, Alert: host, At: at},
			"pi is unreachable", deckhand.SeverityWarning, "warning", []string{"i/o timeout", "Since 14:02 UTC (3m)."}, []string{"host_unreachable", "pi"}, false},
		{"unknown severity falls back to error", deckhand.Notice{Kind: deckhand.NoticeOpened, Alert: deckhand.Alert{Key: deckhand.AlertKey{Host: "h", Container: "c", Kind: deckhand.AlertUnhealthy}, Message: "h/c is unhealthy"}},
			"h/c is unhealthy", deckhand.SeverityError, "rotating_light", nil, nil, false},
		{"announcement", deckhand.Notice{Kind: deckhand.NoticeAnnouncement, Text: "Maintenance tonight"},
			"Announcement", SeverityInfo, "information_source", []string{"Maintenance tonight"}, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := Renderer{StatusURL: "https://status.example"}.Render(tc.n)
			if m.Title != tc.title {
				t.Errorf("Title = %q, want %q", m.Title, tc.title)
			}
			if m.Severity != tc.sev || m.EmojiCode != tc.code || m.Emoji == "" || m.Color == 0 || m.Quiet != tc.quiet {
				t.Errorf("severity %q code %q emoji %q color %#x quiet %v", m.Severity, m.EmojiCode, m.Emoji, m.Color, m.Quiet)
			}
			if !slices.Equal(m.Lines, tc.lines) {
				t.Errorf("Lines = %q, want %q", m.Lines, tc.lines)
			}
			if tc.tags != nil && !slices.Equal(m.Tags, tc.tags) {
				t.Errorf("Tags = %v, want %v", m.Tags, tc.tags)
			}
			if m.URL != "https://status.example" {
				t.Errorf("URL = %q", m.URL)
			}
		})
	}
	if Render(deckhand.Notice{Kind: deckhand.NoticeOpened, Alert: down}).URL != "" {
		t.Error("Render without a status page has a URL")
	}
}

func TestRenderClockInConfiguredZone(t *testing.T) {
	m := Renderer{Location: time.FixedZone("CEST", 2*3600)}.Render(deckhand.Notice{Kind: deckhand.NoticeOpened, Alert: down, At: first.Add(time.Minute)})
	if !slices.Contains(m.Lines, "Since 16:02 CEST (1m).") {
		t.Errorf("Lines = %q, want the time in CEST", m.Lines)
	}
}

func TestCause(t *testing.T) {
	key := func(c string, k deckhand.AlertKind) deckhand.AlertKey {
		return deckhand.AlertKey{Host: "nas", Container: c, Kind: k}
	}
	for _, tc := range []struct {
		key       deckhand.AlertKey
		msg, want string
	}{
		{key("jellyfin", deckhand.AlertContainerDown), "nas/jellyfin is down (exited 137)", "exited 137"},
		{key("jellyfin", deckhand.AlertContainerDown), "nas/jellyfin is down (container missing)", "container missing"},
		{key("paperless", deckhand.AlertContainerDown), "nas/paperless is running but should be stopped", "running but should be stopped"},
		{key("nextcloud", deckhand.AlertUnhealthy), "nas/nextcloud is unhealthy", ""},
		{key("db", deckhand.AlertRestartLoop), "nas/db is in a restart loop (5+ restarts in 10m)", "5+ restarts in 10m"},
		{key("", deckhand.AlertHostUnreachable), "host nas unreachable: dial tcp: no route to host", "dial tcp: no route to host"},
		{key("", deckhand.AlertDaemonDown), "host nas: docker daemon down: Cannot connect", "Cannot connect"},
		{key("", deckhand.AlertDaemonDown), "host nas: no permission on the docker socket: denied", "no permission on the docker socket: denied"},
		{key("jellyfin", deckhand.AlertContainerDown), "exited (137)", "exited (137)"},
		{key("jellyfin", deckhand.AlertContainerDown), "", ""},
	} {
		if got := cause(deckhand.Alert{Key: tc.key, Message: tc.msg}); got != tc.want {
			t.Errorf("cause(%q) = %q, want %q", tc.msg, got, tc.want)
		}
	}
}

func TestActions(t *testing.T) {
	acked := down
	acked.State = deckhand.AlertAcked
	closed := down
	closed.State = deckhand.AlertClosed
	pending := down
	pending.State = deckhand.AlertPending
	host := down
	host.Key = deckhand.AlertKey{Host: "nas", Kind: deckhand.AlertHostUnreachable}
	noID := down
	noID.ID = 0
	all := []deckhand.Action{deckhand.ActionRestart, deckhand.ActionAck, deckhand.ActionSilence}
	for _, tc := range []struct {
		name string
		kind deckhand.NoticeKind
		a    deckhand.Alert
		want []deckhand.Action
	}{
		{"opened", deckhand.NoticeOpened, down, all},
		{"reminder", deckhand.NoticeReminder, down, all},
		{"auto restart", deckhand.NoticeAutoRestart, down, all},
		{"auto restart of an acked alert", deckhand.NoticeAutoRestart, acked, []deckhand.Action{deckhand.ActionRestart, deckhand.ActionSilence}},
		{"auto restart while pending", deckhand.NoticeAutoRestart, pending, nil},
		{"host alert", deckhand.NoticeOpened, host, []deckhand.Action{deckhand.ActionAck, deckhand.ActionSilence}},
		{"acked", deckhand.NoticeAcked, acked, nil},
		{"recovered", deckhand.NoticeRecovered, closed, nil},
		{"announcement", deckhand.NoticeAnnouncement, deckhand.Alert{}, nil},
		{"alert not stored yet", deckhand.NoticeOpened, noID, nil},
	} {
		if got := Actions(deckhand.Notice{Kind: tc.kind, Alert: tc.a}); !slices.Equal(got, tc.want) {
			t.Errorf("%s: Actions = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestStoryGolden renders the notices of one eventful night as the bot
// words them, so that the wording is reviewed as a whole.
func TestStoryGolden(t *testing.T) {
	at := func(d time.Duration) time.Time { return first.Add(d) }
	db := deckhand.Alert{ID: 9, Key: deckhand.AlertKey{Host: "nas", Container: "db", Kind: deckhand.AlertContainerDown}, Severity: deckhand.SeverityError,
		State: deckhand.AlertOpen, Message: "nas/db is down (exited 137)", FirstSeenAt: at(time.Minute)}
	sick := deckhand.Alert{ID: 10, Key: deckhand.AlertKey{Host: "nas", Container: "nextcloud", Kind: deckhand.AlertUnhealthy}, Severity: deckhand.SeverityWarning,
		State: deckhand.AlertOpen, Message: "nas/nextcloud is unhealthy", FirstSeenAt: at(0)}
	loop := deckhand.Alert{ID: 11, Key: deckhand.AlertKey{Host: "nas", Container: "worker", Kind: deckhand.AlertRestartLoop}, Severity: deckhand.SeverityError,
		State: deckhand.AlertOpen, Message: "nas/worker is in a restart loop (5+ restarts in 10m)", FirstSeenAt: at(0)}
	unreachable := deckhand.Alert{ID: 12, Key: deckhand.AlertKey{Host: "nas", Kind: deckhand.AlertHostUnreachable}, Severity: deckhand.SeverityCritical,
		State: deckhand.AlertOpen, Message: "host nas unreachable: dial tcp 192.168.1.10:22: connect: no route to host", FirstSeenAt: at(10 * time.Minute)}
	daemon := deckhand.Alert{ID: 13, Key: deckhand.AlertKey{Host: "pi", Kind: deckhand.AlertDaemonDown}, Severity: deckhand.SeverityCritical,
		State: deckhand.AlertOpen, Message: "host pi: docker daemon down: Cannot connect to the Docker daemon at unix:///var/run/docker.sock", FirstSeenAt: at(11 * time.Minute)}
	unwanted := deckhand.Alert{ID: 14, Key: deckhand.AlertKey{Host: "nas", Container: "paperless", Kind: deckhand.AlertContainerDown}, Severity: deckhand.SeverityError,
		State: deckhand.AlertOpen, Message: "nas/paperless is running but should be stopped", FirstSeenAt: at(20 * time.Minute), Suppressed: true}
	closedAt := func(a deckhand.Alert, d time.Duration) deckhand.Alert {
		a.State, a.ClosedAt = deckhand.AlertClosed, at(d)
		return a
	}
	ackedBy := func(a deckhand.Alert, by string) deckhand.Alert {
		a.State, a.AckedBy = deckhand.AlertAcked, by
		return a
	}
	report := func(attempt int, err string, gaveUp bool) *deckhand.RestartReport {
		return &deckhand.RestartReport{Attempt: attempt, Max: 3, Window: time.Hour, Err: err, GaveUp: gaveUp}
	}
	story := []deckhand.Notice{
		{Kind: deckhand.NoticeOpened, Alert: down, At: at(time.Minute)},
		{Kind: deckhand.NoticeOpened, Alert: sick, At: at(2 * time.Minute)},
		{Kind: deckhand.NoticeOpened, Alert: loop, At: at(2 * time.Minute)},
		{Kind: deckhand.NoticeAutoRestart, Alert: db, At: at(time.Minute), Restart: report(1, "", false)},
		{Kind: deckhand.NoticeAutoRestart, Alert: db, At: at(2 * time.Minute), Restart: report(2, "Error response from daemon: no such container", false)},
		{Kind: deckhand.NoticeAutoRestart, Alert: db, At: at(3 * time.Minute), Restart: report(3, "timed out", true)},
		{Kind: deckhand.NoticeAutoRestart, Alert: db, At: at(4 * time.Minute), Restart: report(3, "", true)},
		{Kind: deckhand.NoticeAutoRestart, Alert: db, At: at(4 * time.Minute), Text: "🔁 nas/db restarted automatically (attempt 1/3)"},
		{Kind: deckhand.NoticeAcked, Alert: ackedBy(sick, "telegram:olga"), At: at(4 * time.Minute)},
		{Kind: deckhand.NoticeRecovered, Alert: closedAt(down, 5*time.Minute+30*time.Second), At: at(6 * time.Minute)},
		{Kind: deckhand.NoticeRecovered, Alert: closedAt(sick, 5*time.Minute), At: at(6 * time.Minute)},
		{Kind: deckhand.NoticeRecovered, Alert: closedAt(loop, 15*time.Minute), At: at(16 * time.Minute)},
		{Kind: deckhand.NoticeOpened, Alert: unreachable, At: at(11 * time.Minute)},
		{Kind: deckhand.NoticeOpened, Alert: daemon, At: at(12 * time.Minute)},
		{Kind: deckhand.NoticeRecovered, Alert: closedAt(unreachable, 15*time.Minute), At: at(17 * time.Minute)},
		{Kind: deckhand.NoticeRecovered, Alert: closedAt(daemon, 14*time.Minute), At: at(15 * time.Minute)},
		{Kind: deckhand.NoticeOpened, Alert: unwanted, At: at(21 * time.Minute)},
		{Kind: deckhand.NoticeReminder, Alert: unwanted, At: at(81 * time.Minute)},
		{Kind: deckhand.NoticeAnnouncement, Text: "Nightly updates from 02:00 to 02:30.", At: at(90 * time.Minute)},
	}
	var b strings.Builder
	r := Renderer{StatusURL: "https://status.example.org"}
	for _, n := range story {
		m := r.Render(n)
		fmt.Fprintf(&b, "%s %s %s\n", n.Kind, m.Emoji, m.Title)
		for _, l := range m.Lines {
			fmt.Fprintf(&b, "    %s\n", l)
		}
		var facts []string
		for _, f := range m.Fields {
			facts = append(facts, f.Name+"="+f.Value)
		}
		fmt.Fprintf(&b, "    [%s] actions=%v quiet=%v\n", strings.Join(facts, " "), m.Actions, m.Quiet)
	}
	path := filepath.Join("testdata", "story.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestStoryGolden -update to create it)", err)
	}
	if b.String() != string(want) {
		t.Errorf("rendered story differs from %s (-update to accept):\ngot:\n%swant:\n%s", path, b.String(), want)
	}
}

func TestPlainSaysTheSameWords(t *testing.T) {
	n := deckhand.Notice{Kind: deckhand.NoticeOpened, At: time.Date(2026, 3, 14, 9, 5, 0, 0, time.UTC), Alert: deckhand.Alert{
		ID: 7, Key: deckhand.AlertKey{Host: "nas", Container: "web", Kind: deckhand.AlertContainerDown},
		Severity: deckhand.SeverityError, State: deckhand.AlertOpen, Message: "nas/web is down (exited 137)",
	}}
	m := Renderer{StatusURL: "https://status.example.org"}.Render(n)
	want := "🔴 nas/web is down\nexited 137\nHost: nas · Container: web · Alert: #7\nhttps://status.example.org"
	if got := m.Plain(); got != want {
		t.Errorf("Plain() = %q, want %q", got, want)
	}
}
