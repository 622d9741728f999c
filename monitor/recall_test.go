package monitor_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/alerts"
	"github.com/deckhand/deckhand/collector"
	"github.com/deckhand/deckhand/monitor"
	"github.com/deckhand/deckhand/store/storetest"
)

// After a restart of deckhand, its own automatic restarts of the last hour
// come back from the audit log: a container it already restarted three
// times is not restarted a fourth time. Other actors' restarts, other
// containers' and older ones do not count.
func TestRecallAutoRestartsFromTheAuditLog(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	audit := func(actor deckhand.Actor, host, target string, ago time.Duration) {
		t.Helper()
		if err := st.AddAudit(ctx, deckhand.AuditEntry{At: now.Add(-ago), Actor: actor, Action: deckhand.ActionRestart,
			Host: host, Target: target, Result: "error"}); err != nil {
			t.Fatal(err)
		}
	}
	human := deckhand.Actor{Platform: "discord", UserID: "42", Name: "ana", Role: deckhand.RoleOperator}
	for _, ago := range []time.Duration{50 * time.Minute, 30 * time.Minute, 10 * time.Minute} {
		audit(monitor.AutoRestartActor(), "nas", "jellyfin", ago)
	}
	audit(monitor.AutoRestartActor(), "nas", "sonarr", 2*time.Hour)
	audit(human, "nas", "sonarr", 5*time.Minute)
	audit(human, "nas", "sonarr", 4*time.Minute)
	audit(human, "nas", "sonarr", 3*time.Minute)

	engine, err := alerts.New(alerts.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := monitor.New(monitor.Config{}, monitor.Deps{Store: st, Collector: noCollector{}, Engine: engine,
		Now: func() time.Time { return now }}); err != nil {
		t.Fatal(err)
	}
	down := func(name string) deckhand.Container {
		return deckhand.Container{Host: "nas", ID: "id-" + name, Name: name, State: deckhand.StateExited, ExitCode: 1,
			Labels: map[string]string{deckhand.LabelMonitor: "true", deckhand.LabelAutoRestart: "true"}}
	}
	snap := deckhand.Snapshot{Host: deckhand.Host{Name: "nas", Status: deckhand.HostOK, Enabled: true}, CollectedAt: now,
		Containers: []deckhand.Container{down("jellyfin"), down("sonarr")}}
	r := engine.Evaluate(alerts.Input{Now: now, Snapshots: []deckhand.Snapshot{snap}})
	var restarted []string
	for _, o := range r.Restarts {
		restarted = append(restarted, o.Container)
	}
	if strings.Join(restarted, ",") != "sonarr" {
		t.Errorf("restart orders for %v, want sonarr only (jellyfin had its three this hour)", restarted)
	}
}

// noCollector reaches no host.
type noCollector struct{}

func (noCollector) Collect(_ context.Context, host string, _ bool) deckhand.Snapshot {
	return deckhand.Snapshot{Host: deckhand.Host{Name: host}, Err: deckhand.ErrUnreachable}
}

func (n noCollector) CollectQuick(ctx context.Context, host string) (deckhand.Snapshot, int) {
	return n.Collect(ctx, host, false), 0
}

func (noCollector) Events(ctx context.Context, _ string, _ func(collector.Event)) error {
	<-ctx.Done()
	return nil
}
