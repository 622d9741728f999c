package alerts

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		want []string // substrings of the error; none = valid
	}{
		{name: "defaults", mod: func(*Config) {}},
		{name: "zero config", mod: func(c *Config) { *c = Config{} }},
		{name: "negative grace", mod: func(c *Config) { c.DeployGrace = -time.Second }, want: []string{"alerts.deploy_grace: must not be negative (got -1s)"}},
		{name: "repeat too small", mod: func(c *Config) { c.Repeat = 10 * time.Second }, want: []string{"alerts.repeat: 10s would remind every few seconds"}},
		{name: "negative counts", mod: func(c *Config) { c.RestartLoopCount, c.AutoRestart.Max = -1, -2 },
			want: []string{"alerts.restart_loop_count: must not be negative", "alerts.auto_restart.max: must not be negative (got -2)"}},
		{name: "negative backoff", mod: func(c *Config) { c.AutoRestart.Backoff = []time.Duration{0, -time.Second} }, want: []string{"alerts.auto_restart.backoff[1]"}},
		{name: "maintenance ok", mod: func(c *Config) {
			c.Maintenance = []MaintenanceWindow{{Name: "nightly", Schedule: "@daily", Duration: time.Hour}}
		}},
		{name: "maintenance bad schedule", mod: func(c *Config) {
			c.Maintenance = []MaintenanceWindow{{Name: "nightly", Schedule: "0 3 * *", Duration: time.Hour}}
		}, want: []string{`alerts.maintenance[0].schedule: "0 3 * *" is not a 5-field cron spec`}},
		{name: "maintenance six fields", mod: func(c *Config) {
			c.Maintenance = []MaintenanceWindow{{Name: "n", Schedule: "0 0 3 * * *", Duration: time.Hour}}
		}, want: []string{"alerts.maintenance[0].schedule"}},
		{name: "maintenance missing fields", mod: func(c *Config) {
			c.Maintenance = []MaintenanceWindow{{Name: "a", Schedule: "0 3 * * *", Duration: time.Hour}, {}}
		}, want: []string{"alerts.maintenance[1].name: required", "alerts.maintenance[1].schedule: required", "alerts.maintenance[1].duration: must be positive"}},
		{name: "maintenance duplicate name", mod: func(c *Config) {
			c.Maintenance = []MaintenanceWindow{{Name: "a", Schedule: "0 3 * * *", Duration: time.Hour}, {Name: "a", Schedule: "0 4 * * *", Duration: time.Hour}}
		}, want: []string{`alerts.maintenance[1].name: "a" is already used by maintenance[0]`}},
		{name: "empty selector", mod: func(c *Config) { c.Exclude = []deckhand.Selector{{Host: "nas"}, {}} }, want: []string{"alerts.exclude[1]: empty selector"}},
		{name: "bad pattern", mod: func(c *Config) { c.Select = []deckhand.Selector{{Name: "web["}} }, want: []string{`alerts.select[0].name: bad pattern "web["`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.mod(&cfg)
			err := cfg.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				if _, err := New(cfg); err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate accepted it, want %q", tc.want)
			}
			if !errors.Is(err, deckhand.ErrInvalidInput) {
				t.Errorf("error %v does not wrap ErrInvalidInput", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if _, nerr := New(cfg); nerr == nil {
				t.Error("New accepted an invalid config")
			}
		})
	}
}

func TestNewAppliesDefaults(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	def := DefaultConfig()
	def.Repeat = 0 // zero disables reminders: the one zero that is not a default
	got := e.cfg
	if got.DeployGrace != def.DeployGrace || got.UnhealthyGrace != def.UnhealthyGrace || got.HostGrace != def.HostGrace ||
		got.Cooldown != def.Cooldown || got.Repeat != 0 || got.RecoveryHold != def.RecoveryHold ||
		got.RestartLoopCount != def.RestartLoopCount || got.RestartLoopWindow != def.RestartLoopWindow ||
		got.AutoRestart.Max != def.AutoRestart.Max || got.AutoRestart.Window != def.AutoRestart.Window ||
		len(got.AutoRestart.Backoff) != 3 || got.CrashGrace != 0 {
		t.Errorf("defaults not applied: %+v", got)
	}
}

func TestHostCauseIsOneShortLine(t *testing.T) {
	long := strings.Repeat("x", 500)
	got := hostCause(deckhand.Snapshot{Err: errors.New("ssh: handshake failed:\n\t" + long)}, deckhand.HostError)
	if strings.ContainsAny(got, "\n\t") || len([]rune(got)) != 200 || !strings.HasSuffix(got, "…") {
		t.Errorf("hostCause = %q (%d runes)", got, len([]rune(got)))
	}
	if got := hostCause(deckhand.Snapshot{}, deckhand.HostTimeout); got != "timeout" {
		t.Errorf("hostCause without error = %q", got)
	}
	if got := hostCause(deckhand.Snapshot{Host: deckhand.Host{LastError: "i/o timeout"}}, deckhand.HostTimeout); got != "i/o timeout" {
		t.Errorf("hostCause from LastError = %q", got)
	}
}
