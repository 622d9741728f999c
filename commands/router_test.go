package commands_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/commands"
	"github.com/deckhand/deckhand/commands/commandstest"
)

// actionCases gives a valid invocation of every whitelisted action and the
// Docker operation it must cause when allowed.
var actionCases = map[deckhand.Action]struct {
	cmd    string
	args   []string
	dockOp string
}{
	deckhand.ActionStatus:         {cmd: "status"},
	deckhand.ActionHosts:          {cmd: "hosts"},
	deckhand.ActionContainers:     {cmd: "containers", args: []string{"nas"}},
	deckhand.ActionAlerts:         {cmd: "alerts"},
	deckhand.ActionLogs:           {cmd: "logs", args: []string{"nas", "jellyfin"}, dockOp: "logs"},
	deckhand.ActionInspect:        {cmd: "inspect", args: []string{"nas", "jellyfin"}, dockOp: "inspect"},
	deckhand.ActionStats:          {cmd: "stats", args: []string{"nas"}, dockOp: "stats"},
	deckhand.ActionHelp:           {cmd: "help"},
	deckhand.ActionStart:          {cmd: "start", args: []string{"nas", "media-radarr-1"}, dockOp: "start"},
	deckhand.ActionStop:           {cmd: "stop", args: []string{"nas", "jellyfin"}, dockOp: "stop"},
	deckhand.ActionRestart:        {cmd: "restart", args: []string{"nas", "jellyfin"}, dockOp: "restart"},
	deckhand.ActionRestartProject: {cmd: "restart-project", args: []string{"nas", "media"}, dockOp: "restart"},
	deckhand.ActionAck:            {cmd: "ack", args: []string{"12"}},
	deckhand.ActionSilence:        {cmd: "silence", args: []string{"nas/jellyfin", "2h", "backup"}},
	deckhand.ActionRemove:         {cmd: "remove", args: []string{"nas", "jellyfin"}},
	deckhand.ActionRedeploy:       {cmd: "redeploy", args: []string{"nas", "jellyfin"}},
	deckhand.ActionEnableHost:     {cmd: "enable-host", args: []string{"old"}},
	deckhand.ActionDisableHost:    {cmd: "disable-host", args: []string{"pi"}},
	deckhand.ActionAnnounce:       {cmd: "announce", args: []string{"**Maintenance**", "tonight"}},
}

func TestRoleMatrix(t *testing.T) {
	roles := []deckhand.Role{deckhand.RoleNone, deckhand.RoleViewer, deckhand.RoleOperator, deckhand.RoleAdmin}
	for _, action := range deckhand.Actions() {
		tc, ok := actionCases[action]
		if !ok {
			t.Fatalf("no test case for action %s", action)
		}
		for _, role := range roles {
			t.Run(fmt.Sprintf("%s/%s", action, role), func(t *testing.T) {
				f := newFixture(t, nil)
				a := actor(role, "u-"+role.String())
				rep := f.handle(a, tc.cmd, tc.args...)
				allowed := role != deckhand.RoleNone && role >= action.MinRole()
				last := f.env.Audit.Last()
				if last.Action != action || last.Actor.UserID != a.UserID {
					t.Fatalf("audit row %+v does not record %s by %s", last, action, a.UserID)
				}
				if !allowed {
					if !rep.Error || !rep.Ephemeral {
						t.Fatalf("denied reply should be an ephemeral error: %+v", rep)
					}
					if role == deckhand.RoleNone && !strings.Contains(rep.Text, "don't have a deckhand role") {
						t.Fatalf("unmapped refusal = %q", rep.Text)
					}
					if last.Result != "denied" {
						t.Fatalf("audit result %q, want denied", last.Result)
					}
					if calls := f.env.Docker.Calls(); len(calls) != 0 {
						t.Fatalf("denied action reached Docker: %+v", calls)
					}
					return
				}
				if rep.Error {
					t.Fatalf("allowed %s by %s failed: %s", action, role, rep.Text)
				}
				if action.NeedsConfirmation() {
					if len(rep.Buttons) != 2 || last.Result != "pending_confirmation" || len(f.env.Docker.Calls()) != 0 {
						t.Fatalf("confirmation expected: reply %+v audit %+v calls %+v", rep, last, f.env.Docker.Calls())
					}
					return
				}
				if last.Result != "ok" {
					t.Fatalf("audit result %q, want ok", last.Result)
				}
				if tc.dockOp != "" {
					calls := f.env.Docker.Calls()
					if len(calls) == 0 || calls[0].Op != tc.dockOp {
						t.Fatalf("docker calls %+v, want %s", calls, tc.dockOp)
					}
				}
			})
		}
	}
}

func TestActionEffects(t *testing.T) {
	f := newFixture(t, nil)
	f.mustOK(f.handle(operator, "ack", "#12"))
	if a, _ := f.env.Alerts.Alert(12); a.State != deckhand.AlertAcked || a.AckedBy != operator.String() {
		t.Fatalf("alert 12 after ack: %+v", a)
	}
	f.mustOK(f.line(operator, `/silence@DeckhandBot nas/a1b2 1h "nightly backup"`))
	if ss := f.env.Alerts.Silences(); len(ss) != 1 || ss[0].Host != "nas" || ss[0].Container != "jellyfin" || ss[0].Reason != "nightly backup" {
		t.Fatalf("silence via text: %+v", ss)
	}
	f.mustOK(f.handle(operator, "silence", "project:media", "1d"))
	f.mustOK(f.handle(operator, "silence", "pi", "30m", "rebooting"))
	ss := f.env.Alerts.Silences()
	if len(ss) != 3 || ss[1].Project != "media" || ss[2].Host != "pi" || ss[2].Reason != "rebooting" ||
		!ss[2].Until.Equal(f.clock.Now().Add(30*time.Minute)) {
		t.Fatalf("silences: %+v", ss)
	}
	f.mustOK(f.handle(admin, "disable-host", "pi"))
	f.mustFail(f.handle(admin, "restart", "pi", "pihole"), "disabled")
	f.mustOK(f.handle(admin, "enable-host", "pi"))
	f.mustOK(f.handle(admin, "restart", "pi", "pihole"))
	if got := f.env.Refresher.Hosts(); !slices.Equal(got, []string{"pi", "pi"}) {
		t.Fatalf("refreshes %v, want enable then restart of pi", got)
	}
	f.mustOK(f.handle(admin, "announce", "**Maintenance**\nThe NAS reboots at 23:00."))
	an := f.env.Announcer.Announcements()
	if len(an) != 1 || an[0].Title != "**Maintenance**" || an[0].Body != "The NAS reboots at 23:00." || an[0].By != admin.String() {
		t.Fatalf("announcement: %+v", an)
	}
	f.mustOK(f.line(operator, "/restart_project@DeckhandBot nas media"))
	var restarted []string
	for _, c := range f.mutations() {
		if c.Op == "restart" && c.Host == "nas" {
			restarted = append(restarted, c.Container)
		}
	}
	if !slices.Equal(restarted, []string{"media-radarr-1", "media-sonarr-1"}) {
		t.Fatalf("project restart hit %v", restarted)
	}
}

func TestSilenceValidation(t *testing.T) {
	f := newFixture(t, nil)
	f.mustFail(f.handle(operator, "silence", "nas", "31d"), "30d")
	f.mustFail(f.handle(operator, "silence", "nas", "forever"), "bad duration")
	f.mustFail(f.handle(operator, "silence", "nowhere", "1h"), "No host")
	f.mustFail(f.handle(operator, "silence", "project:$(id)", "1h"), "not a project name")
	f.mustFail(f.handle(actor(deckhand.RoleOperator, "o9", "pi"), "silence", "project:media", "1h"), "every host")
	f.mustFail(f.handle(actor(deckhand.RoleOperator, "o9", "pi"), "silence", "nas/jellyfin", "1h"), "does not cover")
	// A container that is gone can still be silenced by a plausible name.
	f.mustOK(f.handle(operator, "silence", "nas/old-thing", "1h"))
	f.mustFail(f.handle(operator, "silence", "nas/a1b", "1h"), "matches 2 containers")
	if n := len(f.env.Alerts.Silences()); n != 1 {
		t.Fatalf("%d silences recorded, want 1", n)
	}
}

func TestProtectedContainers(t *testing.T) {
	for _, cmd := range []string{"start", "stop", "restart", "remove", "redeploy"} {
		f := newFixture(t, nil)
		rep := f.handle(operator, cmd, "nas", "vaultwarden")
		if cmd == "remove" || cmd == "redeploy" {
			// Operators cannot remove anything; the role check comes first.
			f.mustFail(rep, "may not")
		} else {
			f.mustFail(rep, "protected")
		}
		if f.env.Audit.Last().Result != "denied" || len(f.env.Docker.Calls()) != 0 {
			t.Fatalf("%s: audit %+v calls %+v", cmd, f.env.Audit.Last(), f.env.Docker.Calls())
		}
		f.mustOK(f.handle(admin, cmd, "nas", "vaultwarden"))
	}
	// Reading a protected container is not an action on it.
	f := newFixture(t, nil)
	f.mustOK(f.handle(viewer, "logs", "nas", "vaultwarden"))
	// One protected member protects the whole project restart.
	f.env.Inventory.SetContainers("nas",
		deckhand.Container{Host: "nas", ID: strings.Repeat("1", 64), Name: "db", ComposeProject: "app", Labels: map[string]string{deckhand.LabelProtected: "yes"}},
		deckhand.Container{Host: "nas", ID: strings.Repeat("2", 64), Name: "web", ComposeProject: "app"})
	f.mustFail(f.handle(operator, "restart-project", "nas", "app"), "protected")
	if len(f.mutations()) != 0 {
		t.Fatalf("project restart went ahead: %+v", f.mutations())
	}
}

func TestHostScoping(t *testing.T) {
	f := newFixture(t, nil)
	piOp := actor(deckhand.RoleOperator, "scoped", "pi")
	f.mustFail(f.handle(piOp, "restart", "nas", "jellyfin"), "does not cover")
	f.mustFail(f.handle(piOp, "logs", "nas", "jellyfin"), "does not cover")
	f.mustFail(f.handle(piOp, "ack", "12"), "does not cover")
	f.mustOK(f.handle(piOp, "restart", "pi", "pihole"))
	hosts := f.handle(piOp, "hosts")
	if strings.Contains(hosts.Text, "nas") || !strings.Contains(hosts.Text, "pi") {
		t.Fatalf("/hosts for a pi-scoped actor: %q", hosts.Text)
	}
	alerts := f.handle(piOp, "alerts")
	if strings.Contains(alerts.Text, "#12") || !strings.Contains(alerts.Text, "#13") {
		t.Fatalf("/alerts for a pi-scoped actor: %q", alerts.Text)
	}
	status := f.handle(piOp, "status")
	if strings.Contains(status.Text, "nas") {
		t.Fatalf("/status leaks other hosts: %q", status.Text)
	}
	// Suggestions must not reveal hosts outside the scope either.
	rep := f.handle(piOp, "containers", "nass")
	if strings.Contains(rep.Text, "nas`") {
		t.Fatalf("suggestion leaks an out-of-scope host: %q", rep.Text)
	}
	for _, c := range f.env.Docker.Calls() {
		if c.Host != "pi" {
			t.Fatalf("scoped actor reached %s: %+v", c.Host, c)
		}
	}
}

func TestNarrowing(t *testing.T) {
	f := newFixture(t, func(c *commands.Config) {
		c.Narrow = map[deckhand.Role][]deckhand.Action{
			// Tries to widen: remove and announce are admin actions.
			deckhand.RoleOperator: {deckhand.ActionStatus, deckhand.ActionRestart, deckhand.ActionRemove, deckhand.ActionAnnounce},
			deckhand.RoleViewer:   {deckhand.ActionStatus, deckhand.ActionStart},
		}
	})
	f.mustOK(f.handle(operator, "restart", "nas", "jellyfin"))
	f.mustFail(f.handle(operator, "stop", "nas", "jellyfin"), "may not")
	f.mustFail(f.handle(operator, "logs", "nas", "jellyfin"), "may not")
	f.mustFail(f.handle(operator, "remove", "nas", "jellyfin"), "may not")
	f.mustFail(f.handle(operator, "announce", "hi"), "may not")
	f.mustOK(f.handle(viewer, "status"))
	f.mustFail(f.handle(viewer, "start", "nas", "media-radarr-1"), "may not")
	f.mustFail(f.handle(viewer, "hosts"), "may not")
	// Admins are not narrowed by the operator entry.
	f.mustOK(f.handle(admin, "stop", "nas", "jellyfin"))
	// Help is always there and lists only what is left.
	help := f.handle(operator, "help")
	f.mustOK(help)
	if strings.Contains(help.Text, "/stop") || strings.Contains(help.Text, "/remove") || !strings.Contains(help.Text, "/restart") {
		t.Fatalf("help for a narrowed operator: %q", help.Text)
	}
	for _, c := range f.mutations() {
		if c.Op != "restart" && c.Op != "stop" {
			t.Fatalf("unexpected docker call %+v", c)
		}
	}

	if _, err := commands.NewRouter(f.env.Deps(), commands.Config{Secret: testSecret, Narrow: map[deckhand.Role][]deckhand.Action{
		deckhand.RoleAdmin: {"shell"},
	}}, commands.Options{}); !errors.Is(err, deckhand.ErrNotWhitelisted) {
		t.Fatalf("narrowing with an unknown action: %v", err)
	}
}

func TestHelpByRole(t *testing.T) {
	f := newFixture(t, nil)
	v := f.handle(viewer, "help").Text
	a := f.handle(admin, "help").Text
	if strings.Contains(v, "/restart") || strings.Contains(v, "/remove") || !strings.Contains(v, "/logs") {
		t.Fatalf("viewer help: %q", v)
	}
	if !strings.Contains(a, "/remove") || !strings.Contains(a, "/announce") {
		t.Fatalf("admin help: %q", a)
	}
	unk := f.handle(viewer, "ctop")
	f.mustFail(unk, "try /help")
	if got := f.env.Audit.Last(); got.Result != "error" || got.Action != "unknown" {
		t.Fatalf("unknown command audit: %+v", got)
	}
}

func TestContainerResolution(t *testing.T) {
	tests := []struct {
		arg     string
		want    string // container passed to Docker
		errText string
	}{
		{arg: "jellyfin", want: "jellyfin"},
		{arg: "JellyFin", want: "jellyfin"},
		{arg: "a1b2", want: "jellyfin"},
		{arg: "A1B2C3", want: "jellyfin"},
		{arg: "a1b2c3" + strings.Repeat("0", 58), want: "jellyfin"},
		{arg: "a1b", errText: "matches 2 containers"},
		{arg: "a1", errText: "No container"},
		{arg: "jelyfin", errText: "Did you mean `jellyfin`"},
		{arg: "jelly", errText: "`jellyfin`"},
		{arg: "јellyfin", errText: "No container"}, // Cyrillic je
		{arg: "jellyfin ", errText: "No container"},
		{arg: "-jellyfin", errText: "No container"},
		{arg: "--help", errText: "No container"},
		{arg: "pihole", errText: "No container"}, // lives on pi, not nas
	}
	for _, tt := range tests {
		t.Run(tt.arg, func(t *testing.T) {
			f := newFixture(t, nil)
			rep := f.handle(operator, "restart", "nas", tt.arg)
			calls := f.mutations()
			if tt.errText != "" {
				f.mustFail(rep, tt.errText)
				if len(calls) != 0 {
					t.Fatalf("unresolved container reached Docker: %+v", calls)
				}
				return
			}
			f.mustOK(rep)
			if len(calls) != 1 || calls[0].Container != tt.want {
				t.Fatalf("docker calls %+v, want restart %s", calls, tt.want)
			}
			if last := f.env.Audit.Last(); last.Target != tt.want || last.Host != "nas" {
				t.Fatalf("audit target %q host %q", last.Target, last.Host)
			}
		})
	}
}

func TestHostResolution(t *testing.T) {
	f := newFixture(t, nil)
	f.mustFail(f.handle(viewer, "containers", "naz"), "Did you mean `nas`")
	f.mustOK(f.handle(viewer, "containers", "NAS"))
	f.mustFail(f.handle(viewer, "logs", "old", "legacy"), "disabled")
	f.mustOK(f.handle(viewer, "containers", "old")) // the snapshot can still be read
	f.mustFail(f.handle(viewer, "containers", "nas", "medai"), "`media`")
	f.mustFail(f.handle(viewer, "logs", "nas"), "Usage")
	f.mustFail(f.handle(viewer, "logs", "nas", "jellyfin", "10", "extra"), "Too many")
	f.mustFail(f.handle(viewer, "logs", "nas", "jellyfin", "ten"), "positive number")
}

func TestConfirmation(t *testing.T) {
	f := newFixture(t, nil)
	rep := f.handle(admin, "remove", "nas", "jellyfin")
	f.mustOK(rep)
	if !rep.Ephemeral {
		t.Error("confirmation prompt should be ephemeral")
	}
	confirm := buttonByLabel(t, rep.Buttons, "Confirm")
	if confirm.Style != commands.Danger || confirm.Action != deckhand.ActionRemove {
		t.Errorf("confirm button %+v", confirm)
	}

	// Another admin cannot confirm it, and their attempt does not consume it.
	f.mustFail(f.press(admin2, confirm.Payload), "Only the person who asked")
	if got := f.env.Audit.Last(); got.Result != "denied" || got.Actor.UserID != admin2.UserID || got.Action != deckhand.ActionRemove {
		t.Fatalf("audit of the other user's press: %+v", got)
	}
	// Same user id on another platform is another person.
	tg := admin
	tg.Platform = deckhand.PlatformTelegram
	f.mustFail(f.press(tg, confirm.Payload), "Only the person who asked")
	if len(f.mutations()) != 0 {
		t.Fatalf("removed without the requester's confirmation: %+v", f.mutations())
	}

	done := f.press(admin, confirm.Payload)
	f.mustOK(done)
	if !done.Edit {
		t.Error("confirmation result should edit the prompt")
	}
	if m := f.mutations(); len(m) != 1 || m[0].Op != "remove" || m[0].Container != "jellyfin" {
		t.Fatalf("mutations %+v", m)
	}
	if got := f.env.Audit.Last(); got.Result != "ok" || got.Action != deckhand.ActionRemove || got.Target != "jellyfin" {
		t.Fatalf("audit of the confirmed remove: %+v", got)
	}
	// A confirmation works once.
	f.mustFail(f.press(admin, confirm.Payload), "expired or was already used")
	if len(f.mutations()) != 1 {
		t.Fatal("second press ran the action again")
	}
}

func TestConfirmationExpiryCancelAndRecheck(t *testing.T) {
	t.Run("expired", func(t *testing.T) {
		f := newFixture(t, nil)
		rep := f.handle(admin, "redeploy", "nas", "jellyfin")
		f.clock.Advance(2*time.Minute + time.Second)
		f.mustFail(f.press(admin, buttonByLabel(t, rep.Buttons, "Confirm").Payload), "expired")
		if got := f.env.Audit.Last(); got.Result != "denied" || !strings.Contains(got.Detail, "expired") {
			t.Fatalf("audit %+v", got)
		}
		if len(f.mutations()) != 0 {
			t.Fatal("expired confirmation ran")
		}
	})
	t.Run("cancel", func(t *testing.T) {
		f := newFixture(t, nil)
		rep := f.handle(admin, "remove", "nas", "jellyfin")
		out := f.press(admin, buttonByLabel(t, rep.Buttons, "Cancel").Payload)
		if !out.Edit || !strings.Contains(out.Text, "Cancelled") {
			t.Fatalf("cancel reply %+v", out)
		}
		if got := f.env.Audit.Last(); got.Result != "cancelled" {
			t.Fatalf("audit %+v", got)
		}
		f.mustFail(f.press(admin, buttonByLabel(t, rep.Buttons, "Confirm").Payload), "expired or was already used")
		if len(f.mutations()) != 0 {
			t.Fatal("cancelled action ran")
		}
	})
	t.Run("demoted before confirming", func(t *testing.T) {
		f := newFixture(t, nil)
		rep := f.handle(admin, "remove", "nas", "jellyfin")
		demoted := admin
		demoted.Role = deckhand.RoleOperator
		f.mustFail(f.press(demoted, buttonByLabel(t, rep.Buttons, "Confirm").Payload), "may not")
		if len(f.mutations()) != 0 {
			t.Fatal("demoted user removed a container")
		}
	})
	t.Run("recreated before confirming", func(t *testing.T) {
		f := newFixture(t, nil)
		rep := f.handle(admin, "remove", "nas", "jellyfin")
		f.env.Inventory.SetContainers("nas", deckhand.Container{Host: "nas", ID: strings.Repeat("9", 64), Name: "jellyfin"})
		f.mustFail(f.press(admin, buttonByLabel(t, rep.Buttons, "Confirm").Payload), "recreated")
		if len(f.mutations()) != 0 {
			t.Fatal("removed a container the user never saw")
		}
	})
}

// alertActions is what the bot offers under an open container alert.
var alertActions = []deckhand.Action{deckhand.ActionRestart, deckhand.ActionAck, deckhand.ActionSilence}

func TestAlertButtons(t *testing.T) {
	f := newFixture(t, nil)
	env := f.env
	alert, _ := env.Alerts.Alert(12)
	bs := f.r.AlertButtons(alert, alertActions)
	if len(bs) != 3 {
		t.Fatalf("buttons for a container alert: %+v", bs)
	}
	// Which actions is the bot's decision: the router signs what it is
	// asked for, in that order, and skips what has no alert button.
	if got := f.r.AlertButtons(alert, []deckhand.Action{deckhand.ActionAck, deckhand.ActionStop}); len(got) != 1 || got[0].Label != "Ack" {
		t.Fatalf("buttons for ack and stop: %+v", got)
	}
	if got := f.r.AlertButtons(deckhand.Alert{}, alertActions); got != nil {
		t.Fatalf("buttons for an alert without ID: %+v", got)
	}
	huge := alert
	huge.ID = 1<<63 - 1
	for _, b := range append(f.r.AlertButtons(huge, alertActions), f.r.AlertTokens(alert, alertActions)...) {
		if len(b.Payload) > commands.MaxPayload || len(b.Payload) == 0 {
			t.Fatalf("payload %q is %d bytes", b.Payload, len(b.Payload))
		}
	}

	f.mustFail(f.press(viewer, buttonByLabel(t, bs, "Restart").Payload), "may not")
	f.mustFail(f.press(nobody, buttonByLabel(t, bs, "Restart").Payload), "don't have a deckhand role")
	if len(f.mutations()) != 0 {
		t.Fatal("refused presses reached Docker")
	}
	f.mustOK(f.press(operator, buttonByLabel(t, bs, "Restart").Payload))
	if m := f.mutations(); len(m) != 1 || m[0].Container != "media-radarr-1" || m[0].Op != "restart" {
		t.Fatalf("restart from alert: %+v", m)
	}
	f.mustOK(f.press(operator, buttonByLabel(t, bs, "Ack").Payload))
	if a, _ := env.Alerts.Alert(12); a.State != deckhand.AlertAcked {
		t.Fatalf("ack button left %+v", a)
	}
	f.mustOK(f.press(operator, buttonByLabel(t, bs, "Silence").Payload))
	if ss := env.Alerts.Silences(); len(ss) != 1 || ss[0].Host != "nas" || ss[0].Container != "media-radarr-1" || !ss[0].Until.Equal(f.clock.Now().Add(time.Hour)) {
		t.Fatalf("silence from button: %+v", ss)
	}

	// Protected container behind an alert: operators cannot restart it.
	vw, _ := env.Alerts.Alert(14)
	f.mustFail(f.press(operator, buttonByLabel(t, f.r.AlertButtons(vw, alertActions), "Restart").Payload), "protected")
	// Scope is checked at click time too.
	pi, _ := env.Alerts.Alert(13)
	f.mustFail(f.press(actor(deckhand.RoleOperator, "s", "nas"), buttonByLabel(t, f.r.AlertButtons(pi, alertActions), "Restart").Payload), "does not cover")

	// Tampered and expired payloads.
	p := buttonByLabel(t, bs, "Restart").Payload
	tampered := p[:len(p)-1] + "A"
	if p[len(p)-1] == 'A' {
		tampered = p[:len(p)-1] + "B"
	}
	f.mustFail(f.press(operator, tampered), "not valid")
	if got := f.env.Audit.Last(); got.Result != "denied" || !strings.Contains(got.Detail, "bad signature") {
		t.Fatalf("audit of a tampered press: %+v", got)
	}
	f.clock.Advance(24*time.Hour + time.Second)
	f.mustFail(f.press(operator, p), "expired")
	if got := f.env.Audit.Last(); got.Result != "denied" || got.Action != deckhand.ActionRestart || !strings.Contains(got.Detail, "expired") {
		t.Fatalf("audit of an expired press: %+v", got)
	}
	if n := len(f.mutations()); n != 1 {
		t.Fatalf("%d mutations, want only the first restart", n)
	}
}

func TestTokenHandler(t *testing.T) {
	f := newFixture(t, nil)
	alert, _ := f.env.Alerts.Alert(12)
	bs := f.r.AlertTokens(alert, alertActions)
	ntfy := deckhand.Actor{Platform: deckhand.PlatformNtfy, UserID: "ntfy", Name: "ntfy"}

	closed := f.r.TokenHandler(deckhand.RoleNone)
	if _, err := closed.HandleButton(context.Background(), ntfy, bs[0].Payload); !errors.Is(err, deckhand.ErrForbidden) {
		t.Fatalf("token without a lent role: %v", err)
	}
	h := f.r.TokenHandler(deckhand.RoleOperator)
	if _, err := h.HandleButton(context.Background(), ntfy, "garbage"); !errors.Is(err, deckhand.ErrBadSignature) {
		t.Fatalf("garbage token: %v", err)
	}
	text, err := h.HandleButton(context.Background(), ntfy, buttonByLabel(t, bs, "Ack").Payload)
	if err != nil || !strings.Contains(text, "acked") {
		t.Fatalf("ack via token: %q %v", text, err)
	}
	f.clock.Advance(25 * time.Hour)
	if _, err := h.HandleButton(context.Background(), ntfy, bs[0].Payload); !errors.Is(err, deckhand.ErrExpired) {
		t.Fatalf("expired token: %v", err)
	}
}

func TestBusyLock(t *testing.T) {
	f := newFixture(t, nil)
	entered, release := f.env.Docker.Block()
	t.Cleanup(release)
	var wg sync.WaitGroup
	var first commands.Reply
	wg.Add(1)
	go func() {
		defer wg.Done()
		first = f.r.Handle(context.Background(), commands.Request{Actor: operator, Command: "restart", Args: []string{"nas", "jellyfin"}})
	}()
	<-entered
	// Same container, by name or by ID prefix: refused at once.
	f.mustFail(f.handle(admin, "stop", "nas", "jellyfin"), "already in progress")
	f.mustFail(f.handle(admin, "restart", "nas", "a1b2c"), "already in progress")
	if got := f.env.Audit.Last(); got.Result != "denied" || got.Detail != "busy" {
		t.Fatalf("busy audit: %+v", got)
	}
	rep := f.handle(admin, "remove", "nas", "jellyfin")
	f.mustOK(rep) // asking is fine; running is what is locked
	f.mustFail(f.press(admin, buttonByLabel(t, rep.Buttons, "Confirm").Payload), "already in progress")
	release()
	wg.Wait()
	if first.Error {
		t.Fatalf("first restart failed: %s", first.Text)
	}
	f.mustOK(f.handle(admin, "stop", "nas", "jellyfin"))
}

func TestBusyProjectLock(t *testing.T) {
	f := newFixture(t, nil)
	entered, release := f.env.Docker.Block()
	t.Cleanup(release)
	done := make(chan commands.Reply, 1)
	go func() {
		done <- f.r.Handle(context.Background(), commands.Request{Actor: operator, Command: "restart", Args: []string{"nas", "media-sonarr-1"}})
	}()
	<-entered
	f.mustFail(f.handle(operator, "restart-project", "nas", "media"), "already in progress")
	release()
	if rep := <-done; rep.Error {
		t.Fatalf("restart failed: %s", rep.Text)
	}
	for _, c := range f.mutations() {
		if c.Container == "media-radarr-1" {
			t.Fatal("project restart ran partly while a member was busy")
		}
	}
}

func TestDockerErrors(t *testing.T) {
	f := newFixture(t, nil)
	f.env.Docker.FailOn("restart", fmt.Errorf("ssh: %w", deckhand.ErrTimeout))
	rep := f.handle(operator, "restart", "nas", "jellyfin")
	f.mustFail(rep, "timed out")
	if got := f.env.Audit.Last(); got.Result != "error" || !strings.Contains(got.Detail, "timed out") {
		t.Fatalf("audit %+v", got)
	}
	if n := len(f.env.Refresher.Hosts()); n != 0 {
		t.Fatalf("refreshed after a failed action")
	}
	// The lock is released after a failure.
	f.env.Docker.FailOn("restart", nil)
	f.mustOK(f.handle(operator, "restart", "nas", "jellyfin"))

	f.env.Inventory.Err = errors.New("database is locked")
	f.mustFail(f.handle(viewer, "status"), "failed")
}

func TestAuditFields(t *testing.T) {
	f := newFixture(t, nil)
	f.clock.Advance(time.Second)
	start := f.clock.Now()
	f.mustOK(f.handle(operator, "restart", "nas", "a1b2"))
	got := f.env.Audit.Last()
	want := deckhand.AuditEntry{ID: got.ID, At: start, Actor: operator, Action: deckhand.ActionRestart, Host: "nas", Target: "jellyfin", Result: "ok"}
	if got.ID == 0 || !got.At.Equal(want.At) || got.Actor.UserID != want.Actor.UserID || got.Actor.Platform != "discord" || got.Actor.Role != deckhand.RoleOperator ||
		got.Action != want.Action || got.Host != want.Host || got.Target != want.Target || got.Result != want.Result {
		t.Fatalf("audit %+v, want %+v", got, want)
	}
	f.handle(viewer, "restart", "nas", "jellyfin")
	if got := f.env.Audit.Last(); got.Result != "denied" || got.Action != deckhand.ActionRestart || got.Actor.UserID != viewer.UserID {
		t.Fatalf("denied audit %+v", got)
	}
	f.handle(nobody, "status")
	if got := f.env.Audit.Last(); got.Result != "denied" || got.Detail != "unmapped user" {
		t.Fatalf("unmapped audit %+v", got)
	}
	n := len(f.env.Audit.Entries())
	f.handle(viewer, "status")
	f.handle(viewer, "containers", "nope")
	if len(f.env.Audit.Entries()) != n+2 {
		t.Fatal("read commands and failed lookups must be audited too")
	}
}

func TestOutputBounds(t *testing.T) {
	f := newFixture(t, nil)
	var many []deckhand.Container
	for i := range 500 {
		many = append(many, deckhand.Container{Host: "nas", ID: fmt.Sprintf("%064x", i+1), Name: fmt.Sprintf("svc-%03d", i),
			State: deckhand.StateExited, ComposeProject: fmt.Sprintf("p%d", i%7), Labels: map[string]string{deckhand.LabelMonitor: "true"}})
	}
	f.env.Inventory.SetContainers("nas", many...)
	for _, cmd := range [][]string{{"containers", "nas"}, {"status"}, {"status", "nas"}} {
		rep := f.handle(viewer, cmd[0], cmd[1:]...)
		f.mustOK(rep)
		if !strings.Contains(rep.Text, "… and ") {
			t.Fatalf("%v: long list not trimmed with a count: %d bytes", cmd, len(rep.Text))
		}
	}

	// What does not fit goes out whole as a file, not as a count.
	rep := f.handle(viewer, "containers", "nas")
	if rep.File == nil || rep.File.Name != "nas-containers.txt" {
		t.Fatalf("long container list not attached: file=%v", rep.File != nil)
	}
	for _, ct := range many {
		if !strings.Contains(string(rep.File.Data), ct.Name+" ") {
			t.Fatalf("attached list lacks %s", ct.Name)
		}
	}
	if !strings.Contains(rep.Text, "attached") {
		t.Errorf("text does not point to the attachment: …%q", rep.Text[max(0, len(rep.Text)-80):])
	}

	f.env.Docker.LogsText = strings.Repeat("2025-06-01T12:00:00Z something happened here\n", 200)
	rep = f.handle(viewer, "logs", "nas", "svc-001", "200")
	f.mustOK(rep)
	if rep.File == nil || string(rep.File.Data) != f.env.Docker.LogsText || rep.File.Name != "nas-svc-001.log" {
		t.Fatalf("long logs not attached: file=%v text=%q", rep.File != nil, rep.Text)
	}
	// Twenty ordinary lines are read in the chat, not downloaded.
	f.env.Docker.LogsText = strings.Repeat("2025-06-01T12:00:00.123456789Z level=info msg=\"request served\" path=/api/v1/items/42 status=200 dur=12ms client=10.0.0.7\n", 20)
	rep = f.handle(viewer, "logs", "nas", "svc-001", "20")
	f.mustOK(rep)
	if rep.File != nil || strings.Count(rep.Text, "request served") != 20 {
		t.Fatalf("20 log lines (%d bytes) not inline: file=%v", len(f.env.Docker.LogsText), rep.File != nil)
	}
	f.env.Docker.LogsText = "short\n\x1b[31mred\x1b[0m\n"
	rep = f.handle(viewer, "logs", "nas", "svc-001")
	if rep.File != nil || !strings.Contains(rep.Text, "red") || strings.Contains(rep.Text, "\x1b") {
		t.Fatalf("short logs: %+v", rep)
	}
	calls := f.env.Docker.Calls()
	if calls[len(calls)-1].Tail != 100 {
		t.Fatalf("default tail %d", calls[len(calls)-1].Tail)
	}
	f.handle(viewer, "logs", "nas", "svc-001", "100000")
	calls = f.env.Docker.Calls()
	if calls[len(calls)-1].Tail != commands.MaxLogTail {
		t.Fatalf("tail not clamped: %d", calls[len(calls)-1].Tail)
	}
}

func TestInspectRedaction(t *testing.T) {
	f := newFixture(t, nil)
	f.env.Docker.InspectData = map[string]any{
		"Id":   strings.Repeat("a", 64),
		"Name": "/jellyfin",
		"Args": []any{"--db-password=argleak", "-p", "shortleak"},
		"Config": map[string]any{
			"Env":    []any{"DB_PASSWORD=hunter2", "TZ=Europe/Paris", "NOEQUALS"},
			"Image":  "jellyfin/jellyfin",
			"Labels": map[string]any{"traefik.http.middlewares.auth.basicauth.users": "admin:$apr1$leak", "com.docker.compose.project": "media", "org.example.owner": "labelleak"},
		},
		"HostConfig": map[string]any{"ApiToken": "tok-leak", "Nested": []any{map[string]any{"privateKey": "-----BEGIN"}}},
	}
	rep := f.handle(viewer, "inspect", "nas", "jellyfin")
	f.mustOK(rep)
	all := rep.Text
	if rep.File != nil {
		all += string(rep.File.Data)
	}
	for _, leak := range []string{"hunter2", "Europe/Paris", "NOEQUALS", "$apr1$leak", "tok-leak", "BEGIN", "argleak", "shortleak", "labelleak"} {
		if strings.Contains(all, leak) {
			t.Errorf("inspect output leaks %q", leak)
		}
	}
	for _, keep := range []string{"DB_PASSWORD=<redacted>", "TZ=<redacted>", "jellyfin/jellyfin", "com.docker.compose.project"} {
		if !strings.Contains(all, keep) {
			t.Errorf("inspect output lacks %q", keep)
		}
	}
}

func TestComplete(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	if got := f.r.Complete(ctx, commands.ArgHost, "", "n"); !slices.Equal(got, []string{"nas"}) {
		t.Errorf("hosts: %v", got)
	}
	if got := f.r.Complete(ctx, commands.ArgContainer, "nas", "JELLY"); !slices.Equal(got, []string{"jellyfin", "jellyseerr"}) {
		t.Errorf("containers: %v", got)
	}
	if got := f.r.Complete(ctx, commands.ArgProject, "nas", ""); !slices.Equal(got, []string{"media"}) {
		t.Errorf("projects: %v", got)
	}
	var many []deckhand.Container
	for i := range 60 {
		many = append(many, deckhand.Container{Host: "nas", Name: fmt.Sprintf("c%02d", i)})
	}
	f.env.Inventory.SetContainers("nas", many...)
	if got := f.r.Complete(ctx, commands.ArgContainer, "nas", "c"); len(got) != 25 {
		t.Errorf("%d choices, want 25", len(got))
	}
	if got := f.r.Complete(ctx, commands.ArgInt, "nas", ""); got != nil {
		t.Errorf("ints completed: %v", got)
	}
}

func TestCommandsSpecs(t *testing.T) {
	f := newFixture(t, nil)
	specs := f.r.Commands()
	names := map[string]commands.Spec{}
	for _, s := range specs {
		names[s.Name] = s
		if len(s.Description) == 0 || len(s.Description) > 100 {
			t.Errorf("%s: description length %d (Discord wants 1-100)", s.Name, len(s.Description))
		}
		if len(s.Args) > 25 {
			t.Errorf("%s: too many options", s.Name)
		}
		seenOptional := false
		for _, a := range s.Args {
			if a.Required && seenOptional {
				t.Errorf("%s: required option after an optional one (Discord refuses)", s.Name)
			}
			seenOptional = seenOptional || !a.Required
		}
		tg := s.TelegramName()
		for _, c := range tg {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
				t.Errorf("%s: Telegram name %q has %q", s.Name, tg, c)
			}
		}
		if s.MinRole != s.Action.MinRole() {
			t.Errorf("%s: MinRole %v", s.Name, s.MinRole)
		}
	}
	for _, a := range deckhand.Actions() {
		if _, ok := names[string(a)]; !ok {
			t.Errorf("no command for action %s", a)
		}
	}
	// Without optional deps the commands that need them are not offered.
	r, err := commands.NewRouter(commands.Deps{Inventory: f.env.Inventory, Docker: f.env.Docker, Audit: f.env.Audit},
		commands.Config{Secret: testSecret}, commands.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range r.Commands() {
		if s.Name == "ack" || s.Name == "announce" || s.Name == "enable-host" {
			t.Errorf("%s offered without its dependency", s.Name)
		}
	}
	rep := r.Handle(context.Background(), commands.Request{Actor: admin, Command: "ack", Args: []string{"1"}})
	if !rep.Error {
		t.Error("ack without alerts dependency succeeded")
	}
}

var _ commands.Docker = (*commandstest.Docker)(nil)
