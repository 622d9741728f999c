package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/backlog"
	"github.com/deckhand/deckhand/bot"
	"github.com/deckhand/deckhand/statuspage"
	"github.com/deckhand/deckhand/store"
)

// The daemon wires bot.Health to deckhand_platform_up and to a system
// notice for the admins on the other platforms.
func TestHealthIsWiredToMetricsAndAdmins(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	reg := prometheus.NewRegistry()
	d := &daemon{store: st, metrics: statuspage.NewMetrics(reg), log: slog.New(slog.DiscardHandler), health: bot.NewHealth(),
		platforms: []string{deckhand.PlatformNtfy, deckhand.PlatformDiscord, deckhand.PlatformTelegram}}
	d.backlog = backlog.New(st, backlog.Options{Platforms: d.platforms, Health: d.health})
	d.disp = bot.NewDispatcher(st, nil, bot.DispatcherOptions{})
	d.watchHealth()
	up := func(p string) float64 { return gauge(t, reg, "deckhand_platform_up", p) }
	if up(deckhand.PlatformNtfy) != 1 || up(deckhand.PlatformTelegram) != 1 {
		t.Errorf("platforms not up at the start")
	}
	d.health.Set(deckhand.PlatformNtfy, bot.PartCredentials, "ntfy rejects deckhand's credentials (HTTP 401)", time.Now())
	if up(deckhand.PlatformNtfy) != 0 || up(deckhand.PlatformDiscord) != 1 {
		t.Errorf("ntfy up = %v, discord up = %v", up(deckhand.PlatformNtfy), up(deckhand.PlatformDiscord))
	}
	items, err := st.PendingOutbox(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var told []string
	for _, it := range items {
		if it.Notice.Kind == deckhand.NoticeSystem {
			told = append(told, it.Platform)
		}
	}
	if !slices.Equal(told, []string{deckhand.PlatformDiscord, deckhand.PlatformTelegram}) {
		t.Errorf("system notices for %v, want discord and telegram", told)
	}
	d.health.Set(deckhand.PlatformNtfy, bot.PartCredentials, "", time.Now())
	if up(deckhand.PlatformNtfy) != 1 {
		t.Error("ntfy not up again")
	}
}

// gauge reads a gauge with a platform label from reg; -1 when absent.
func gauge(t *testing.T, reg *prometheus.Registry, name, platform string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "platform" && l.GetValue() == platform {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return -1
}
