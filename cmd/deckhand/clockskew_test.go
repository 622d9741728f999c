package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/collector/collectortest"
)

// TestHostClockSkew: hosts whose clocks are hours off must not change what
// deckhand decides. Alert timing runs on deckhand's clock only; the hosts'
// own timestamps are stored as facts, never used for grace or downtime.
func TestHostClockSkew(t *testing.T) {
	dir := t.TempDir()
	keyFile, pub := collectortest.NewClientKey(t)
	var hosts string
	for _, h := range []struct {
		name string
		skew time.Duration
	}{{"ahead", 3 * time.Hour}, {"behind", -3 * time.Hour}, {"way-behind", -400 * 24 * time.Hour}} {
		eng := collectortest.NewEngine("28.2")
		skew := h.skew
		eng.SetNow(func() time.Time { return time.Now().Add(skew) })
		mon := map[string]string{deckhand.LabelMonitor: "true"}
		eng.AddContainer(deckhand.Container{ID: fmt.Sprintf("%064x", len(h.name)*1000+1), Name: "web", Image: "nginx", State: deckhand.StateRunning, Labels: mon, CreatedAt: time.Now().Add(skew - time.Hour)})
		eng.AddContainer(deckhand.Container{ID: fmt.Sprintf("%064x", len(h.name)*1000+2), Name: "db", Image: "postgres", State: deckhand.StateExited, ExitCode: 1, Labels: mon, CreatedAt: time.Now().Add(skew - time.Hour)})
		srv := collectortest.NewServer(t, eng, collectortest.WithAuthorizedKey(pub))
		kh := filepath.Join(dir, h.name+".known_hosts")
		srv.WriteKnownHosts(t, kh)
		hosts += fmt.Sprintf("\n[[hosts]]\nname = %q\naddress = %q\nuser = \"deckhand\"\nkey_file = %q\nknown_hosts = %q\n", h.name, srv.Addr, keyFile, kh)
	}
	cfg, err := parseConfig("skew.toml", []byte(fmt.Sprintf("data = %q\n%s", filepath.Join(dir, "d.db"), hosts)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d, err := newDaemon(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.close)
	before := time.Now()
	d.mon.RunOnce(ctx)
	after := time.Now()

	active, err := d.store.ActiveAlerts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]deckhand.Alert{}
	for _, a := range active {
		got[a.Key.Host+"/"+a.Key.Container+"/"+string(a.Key.Kind)] = a
	}
	for _, host := range []string{"ahead", "behind", "way-behind"} {
		h := hostStatus(t, d.store, host)
		if h.Status != deckhand.HostOK {
			t.Errorf("%s: status %s (%s)", host, h.Status, h.LastError)
		}
		if _, ok := got[host+"/web/"+string(deckhand.AlertContainerDown)]; ok {
			t.Errorf("%s/web is running but has a down alert", host)
		}
		a, ok := got[host+"/db/"+string(deckhand.AlertContainerDown)]
		if !ok {
			t.Errorf("%s/db crashed (exit 1) but no alert; alerts: %v", host, keys(got))
			continue
		}
		// A crash pages at once (crash_grace 0), whatever the host's clock says.
		if a.State != deckhand.AlertOpen {
			t.Errorf("%s/db: state %s, want open", host, a.State)
		}
		if a.FirstSeenAt.Before(before.Add(-time.Second)) || a.FirstSeenAt.After(after.Add(time.Second)) {
			t.Errorf("%s/db: first seen %s: not on deckhand's clock [%s, %s]", host, a.FirstSeenAt, before, after)
		}
		if dt := a.Downtime(time.Now()); dt < 0 || dt > time.Minute {
			t.Errorf("%s/db: downtime %s", host, dt)
		}
	}
	if len(active) != 3 {
		t.Errorf("want exactly the three crash alerts, got %v", keys(got))
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
