package statuspage

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
)

// statusOf renders v and decodes /api/status.json.
func statusOf(t *testing.T, v View) statusDoc {
	t.Helper()
	p := newTestPage(t, Config{})
	p.Update(v)
	rec := get(t, p.Handler(), "GET", "/api/status.json", nil)
	var d statusDoc
	if err := json.Unmarshal(rec.Body.Bytes(), &d); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return d
}

func rowOf(d statusDoc, host, name string) (containerDoc, bool) {
	for _, h := range d.Hosts {
		if h.Name != host {
			continue
		}
		for _, c := range h.Containers {
			if c.Name == name {
				return c, true
			}
		}
	}
	return containerDoc{}, false
}

// ruleView is one healthy host "nas" with the given containers and alerts.
func ruleView(ctrs []deckhand.Container, active, recent []deckhand.Alert) View {
	for i := range ctrs {
		ctrs[i].Host = "nas"
		if ctrs[i].ID == "" {
			ctrs[i].ID = "id-" + ctrs[i].Name
		}
		if ctrs[i].Labels == nil {
			ctrs[i].Labels = map[string]string{}
		}
	}
	return View{
		GeneratedAt: fixtureNow,
		Hosts:       []deckhand.Host{{Name: "nas", Enabled: true, Status: deckhand.HostOK, LastCollectAt: fixtureNow}},
		Containers:  ctrs, Active: active, Recent: recent,
	}
}

func openAlert(name string, kind deckhand.AlertKind, since time.Duration) deckhand.Alert {
	at := fixtureNow.Add(-since)
	return deckhand.Alert{ID: 1, Key: deckhand.AlertKey{Host: "nas", Container: name, Kind: kind},
		Severity: deckhand.SeverityError, State: deckhand.AlertOpen, FirstSeenAt: at, OpenedAt: at,
		LastNotifiedAt: at, Notifications: 1, Public: true, Condition: deckhand.ConditionDown}
}

func TestSelectWatchedCrashShows(t *testing.T) {
	v := ruleView([]deckhand.Container{{Name: "plex", State: deckhand.StateExited, ExitCode: 137}},
		[]deckhand.Alert{openAlert("plex", deckhand.AlertContainerDown, 5*time.Minute)}, nil)
	v.Watch = deckhand.Watchlist{Select: []deckhand.Selector{{Name: "plex"}}}
	d := statusOf(t, v)
	if c, ok := rowOf(d, "nas", "plex"); !ok || c.Status != "down" {
		t.Errorf("plex row %+v %v, want down", c, ok)
	}
	if len(d.Incidents) != 1 || d.Overall == overallOperational {
		t.Errorf("incidents %+v overall %s: a paging container must show", d.Incidents, d.Overall)
	}
}

func TestExcludedContainersAreHidden(t *testing.T) {
	v := ruleView([]deckhand.Container{{Name: "build-tmp", State: deckhand.StateRunning, Labels: map[string]string{deckhand.LabelMonitor: "true"}}}, nil, nil)
	v.Watch = deckhand.Watchlist{Exclude: []deckhand.Selector{{Name: "*-tmp"}}}
	if c, ok := rowOf(statusOf(t, v), "nas", "build-tmp"); ok {
		t.Errorf("excluded container on the page: %+v", c)
	}
}

func TestIncidentOfRemovedContainerShows(t *testing.T) {
	gone := openAlert("jellyfin", deckhand.AlertContainerDown, 10*time.Minute)
	gone.Condition = deckhand.ConditionGone
	private := openAlert("vault", deckhand.AlertContainerDown, 10*time.Minute)
	private.Public = false
	d := statusOf(t, ruleView(nil, []deckhand.Alert{gone, private}, nil))
	if len(d.Incidents) != 1 || d.Incidents[0].Container != "jellyfin" || !d.Incidents[0].Active {
		t.Errorf("incidents %+v, want jellyfin's only (vault was never public)", d.Incidents)
	}
	if d.Overall == overallOperational {
		t.Error("operational with an open incident")
	}
}

func TestClosedInsideGraceIsNoIncident(t *testing.T) {
	recreate := deckhand.Alert{ID: 3, Key: deckhand.AlertKey{Host: "nas", Container: "web", Kind: deckhand.AlertContainerDown},
		State: deckhand.AlertClosed, FirstSeenAt: fixtureNow.Add(-time.Minute), ClosedAt: fixtureNow.Add(-time.Minute), Public: true}
	v := ruleView([]deckhand.Container{{Name: "web", State: deckhand.StateRunning, Labels: map[string]string{deckhand.LabelMonitor: "true"}}},
		nil, []deckhand.Alert{recreate})
	if d := statusOf(t, v); len(d.Incidents) != 0 {
		t.Errorf("past incidents %+v: a pending alert closed inside its grace is none", d.Incidents)
	}
}

func TestRecoveryHoldSaysRecovering(t *testing.T) {
	a := openAlert("web", deckhand.AlertContainerDown, 5*time.Minute)
	a.ClearedAt = fixtureNow.Add(-20 * time.Second)
	v := ruleView([]deckhand.Container{{Name: "web", State: deckhand.StateRunning, Labels: map[string]string{deckhand.LabelMonitor: "true"}}},
		[]deckhand.Alert{a}, nil)
	d := statusOf(t, v)
	if c, _ := rowOf(d, "nas", "web"); c.Status != "recovering" {
		t.Errorf("row %q, want recovering", c.Status)
	}
	if len(d.Incidents) != 1 || !d.Incidents[0].Recovering {
		t.Errorf("incidents %+v, want one recovering", d.Incidents)
	}
	if d.Overall != overallRecovering {
		t.Errorf("overall %q, want recovering", d.Overall)
	}
	p := newTestPage(t, Config{})
	p.Update(v)
	html := get(t, p.Handler(), "GET", "/", nil).Body.String()
	if strings.Contains(html, "ongoing") || !strings.Contains(html, "Recovering") {
		t.Error("the page says ongoing, not recovering")
	}
	if badge := get(t, p.Handler(), "GET", "/badge/nas/web.svg", nil).Body.String(); !strings.Contains(badge, "web: recovering") {
		t.Errorf("badge %s", badge)
	}
}

func TestRunningUnwantedIsNotTitledDown(t *testing.T) {
	a := openAlert("backup", deckhand.AlertContainerDown, 5*time.Minute)
	a.Condition = deckhand.ConditionRunningUnwanted
	v := ruleView([]deckhand.Container{{Name: "backup", State: deckhand.StateRunning,
		Labels: map[string]string{deckhand.LabelMonitor: "true", deckhand.LabelDesired: "stopped"}}}, []deckhand.Alert{a}, nil)
	d := statusOf(t, v)
	if len(d.Incidents) != 1 || strings.Contains(d.Incidents[0].Title, "down") || !strings.Contains(d.Incidents[0].Title, "should be stopped") {
		t.Errorf("incidents %+v", d.Incidents)
	}
	if c, _ := rowOf(d, "nas", "backup"); c.Status != "degraded" {
		t.Errorf("row %q, want degraded", c.Status)
	}
}

func TestCheckingBeforeTheFirstCollection(t *testing.T) {
	v := View{Hosts: []deckhand.Host{{Name: "nas", Enabled: true, Status: deckhand.HostUnknown}}}
	if d := statusOf(t, v); d.Overall != overallChecking || d.Hosts[0].Status != "checking" {
		t.Errorf("overall %q host %q, want checking", d.Overall, d.Hosts[0].Status)
	}
	// After a restart the store still has the last run's status: the
	// monitor names the hosts it has not collected yet.
	v = ruleView([]deckhand.Container{{Name: "web", State: deckhand.StateRunning, Labels: map[string]string{deckhand.LabelMonitor: "true"}}}, nil, nil)
	v.Checking = []string{"nas"}
	d := statusOf(t, v)
	if c, _ := rowOf(d, "nas", "web"); d.Overall != overallChecking || c.Status != "checking" {
		t.Errorf("overall %q row %q, want checking", d.Overall, c.Status)
	}
	p := newTestPage(t, Config{})
	p.Update(v)
	rec := get(t, p.Handler(), "GET", "/", nil)
	if strings.Contains(rec.Body.String(), "All systems operational") {
		t.Error("operational before the first collection")
	}
	// Browsers must not keep "checking" for the page's usual 10 s.
	if cc := rec.Header().Get("Cache-Control"); cc != cacheFresh {
		t.Errorf("Cache-Control while checking = %q, want %q", cc, cacheFresh)
	}
}

func TestSinceComesFromDocker(t *testing.T) {
	started := fixtureNow.Add(-3 * time.Hour)
	v := ruleView([]deckhand.Container{{Name: "web", State: deckhand.StateRunning, StartedAt: started,
		Labels: map[string]string{deckhand.LabelMonitor: "true"}}}, nil, nil)
	if c, _ := rowOf(statusOf(t, v), "nas", "web"); c.Since == nil || !c.Since.Equal(started) {
		t.Errorf("since %v, want Docker's StartedAt %v", c.Since, started)
	}
}
