package alerts

import (
	"errors"
	"fmt"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/deckhand/deckhand"
)

// Defaults applied by New to zero fields (see each field of Config).
const (
	DefaultDeployGrace       = 30 * time.Second
	DefaultUnhealthyGrace    = 30 * time.Second
	DefaultHostGrace         = 30 * time.Second
	DefaultCooldown          = 5 * time.Minute
	DefaultRepeat            = time.Hour
	DefaultRecoveryHold      = 60 * time.Second
	DefaultRestartLoopCount  = 3
	DefaultRestartLoopWindow = 10 * time.Minute
	DefaultAutoRestartMax    = 3
	DefaultAutoRestartWindow = time.Hour
)

// DefaultBackoff is the wait before each automatic restart attempt of one
// container: the first right away, then 30s, then 2m.
func DefaultBackoff() []time.Duration {
	return []time.Duration{0, 30 * time.Second, 2 * time.Minute}
}

// Config holds the alert rules. Zero durations and counts select the
// defaults, except CrashGrace (0 means page now, which is its default) and
// Repeat (0 disables reminders; DefaultConfig sets 1h). Start from
// DefaultConfig when decoding a file so that unset keys keep their defaults.
type Config struct {
	// CrashGrace applies to a container down with a non-zero exit code
	// (crash, OOM 137, kill) or dead.
	CrashGrace time.Duration `toml:"crash_grace"`
	// DeployGrace applies to a container stopped cleanly (exit 0), created
	// but not started, or missing from the snapshot: compose or watchtower
	// recreating it. Back up within it, it is not an outage.
	DeployGrace    time.Duration `toml:"deploy_grace"`
	UnhealthyGrace time.Duration `toml:"unhealthy_grace"`
	// HostGrace applies to a host unreachable or whose Docker daemon is down.
	HostGrace time.Duration `toml:"host_grace"`
	// Cooldown is the least time between two notifications of one alert
	// (a recovered notice right after the opened one excepted).
	Cooldown time.Duration `toml:"cooldown"`
	// Repeat is the reminder interval while an alert is open and not acked;
	// 0 disables reminders.
	Repeat time.Duration `toml:"repeat"`
	// RecoveryHold is how long a notified alert's condition must stay away
	// before the alert closes: flapping does not page at every bounce.
	RecoveryHold time.Duration `toml:"recovery_hold"`
	// A restart loop is RestartLoopCount restarts within RestartLoopWindow
	// (or the container seen in state restarting).
	RestartLoopCount  int           `toml:"restart_loop_count"`
	RestartLoopWindow time.Duration `toml:"restart_loop_window"`

	AutoRestart AutoRestartConfig   `toml:"auto_restart"`
	Maintenance []MaintenanceWindow `toml:"maintenance"`
	// Select lists containers monitored even without homelab.monitor=true.
	Select []deckhand.Selector `toml:"select"`
	// Exclude lists containers never monitored, whatever their labels.
	Exclude []deckhand.Selector `toml:"exclude"`
}

// AutoRestartConfig bounds automatic restarts of containers labelled
// homelab.auto_restart=true.
type AutoRestartConfig struct {
	Disabled bool `toml:"disabled"`
	// Max attempts per container within Window.
	Max    int           `toml:"max"`
	Window time.Duration `toml:"window"`
	// Backoff[i] is the wait before attempt i+1: measured from when the
	// container was seen down for the first attempt, from the previous
	// attempt afterwards. The last entry repeats.
	Backoff []time.Duration `toml:"backoff"`
}

// MaintenanceWindow is a recurring period during which matching alerts are
// opened suppressed, automatic restarts are not attempted and uptime is not
// counted. Empty selector lists match everything.
type MaintenanceWindow struct {
	Name string `toml:"name"`
	// Schedule is a 5-field cron spec (robfig/cron standard parser, so
	// descriptors like @daily and a CRON_TZ= prefix work too). Without
	// CRON_TZ it is read in the location of the times deckhand passes.
	Schedule   string        `toml:"schedule"`
	Duration   time.Duration `toml:"duration"`
	Hosts      []string      `toml:"hosts"`
	Projects   []string      `toml:"projects"`
	Containers []string      `toml:"containers"`
}

// Watchlist is the configured Select and Exclude entries as the domain's
// one answer to which containers are watched and public.
func (c Config) Watchlist() deckhand.Watchlist {
	return deckhand.Watchlist{Select: c.Select, Exclude: c.Exclude}
}

// DefaultConfig returns the documented defaults, reminders included.
func DefaultConfig() Config {
	return Config{
		DeployGrace:       DefaultDeployGrace,
		UnhealthyGrace:    DefaultUnhealthyGrace,
		HostGrace:         DefaultHostGrace,
		Cooldown:          DefaultCooldown,
		Repeat:            DefaultRepeat,
		RecoveryHold:      DefaultRecoveryHold,
		RestartLoopCount:  DefaultRestartLoopCount,
		RestartLoopWindow: DefaultRestartLoopWindow,
		AutoRestart: AutoRestartConfig{
			Max:     DefaultAutoRestartMax,
			Window:  DefaultAutoRestartWindow,
			Backoff: DefaultBackoff(),
		},
	}
}

func (c Config) withDefaults() Config {
	setDur := func(d *time.Duration, def time.Duration) {
		if *d == 0 {
			*d = def
		}
	}
	setDur(&c.DeployGrace, DefaultDeployGrace)
	setDur(&c.UnhealthyGrace, DefaultUnhealthyGrace)
	setDur(&c.HostGrace, DefaultHostGrace)
	setDur(&c.Cooldown, DefaultCooldown)
	setDur(&c.RecoveryHold, DefaultRecoveryHold)
	setDur(&c.RestartLoopWindow, DefaultRestartLoopWindow)
	setDur(&c.AutoRestart.Window, DefaultAutoRestartWindow)
	if c.RestartLoopCount == 0 {
		c.RestartLoopCount = DefaultRestartLoopCount
	}
	if c.AutoRestart.Max == 0 {
		c.AutoRestart.Max = DefaultAutoRestartMax
	}
	if len(c.AutoRestart.Backoff) == 0 {
		c.AutoRestart.Backoff = DefaultBackoff()
	}
	return c
}

// Validate reports every problem of the configuration as a
// *deckhand.SettingError named by its key in config.toml ("alerts.cooldown").
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, deckhand.Invalid("alerts."+key, format, args...))
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{
		{"crash_grace", c.CrashGrace}, {"deploy_grace", c.DeployGrace},
		{"unhealthy_grace", c.UnhealthyGrace}, {"host_grace", c.HostGrace},
		{"cooldown", c.Cooldown}, {"repeat", c.Repeat}, {"recovery_hold", c.RecoveryHold},
		{"restart_loop_window", c.RestartLoopWindow}, {"auto_restart.window", c.AutoRestart.Window},
	} {
		if d.v < 0 {
			bad(d.key, "must not be negative (got %s)", d.v)
		}
	}
	if c.Repeat > 0 && c.Repeat < time.Minute {
		bad("repeat", "%s would remind every few seconds; use at least 1m, or 0 to disable reminders", c.Repeat)
	}
	if c.RestartLoopCount < 0 {
		bad("restart_loop_count", "must not be negative (got %d)", c.RestartLoopCount)
	}
	if c.AutoRestart.Max < 0 {
		bad("auto_restart.max", "must not be negative (got %d)", c.AutoRestart.Max)
	}
	for i, b := range c.AutoRestart.Backoff {
		if b < 0 {
			bad(fmt.Sprintf("auto_restart.backoff[%d]", i), "must not be negative (got %s)", b)
		}
	}
	names := map[string]int{}
	for i, w := range c.Maintenance {
		key := fmt.Sprintf("maintenance[%d]", i)
		if w.Name == "" {
			bad(key+".name", "required: it names the window in messages and on the status page")
		} else if j, dup := names[w.Name]; dup {
			bad(key+".name", "%q is already used by maintenance[%d]", w.Name, j)
		} else {
			names[w.Name] = i
		}
		if w.Schedule == "" {
			bad(key+".schedule", "required: a 5-field cron spec such as \"0 3 * * *\" (03:00 every day)")
		} else if _, err := cron.ParseStandard(w.Schedule); err != nil {
			bad(key+".schedule", "%q is not a 5-field cron spec (minute hour day-of-month month day-of-week): %v", w.Schedule, err)
		}
		if w.Duration <= 0 {
			bad(key+".duration", "must be positive, e.g. \"30m\" (got %s)", w.Duration)
		}
	}
	for _, l := range []struct {
		key  string
		sels []deckhand.Selector
	}{{"select", c.Select}, {"exclude", c.Exclude}} {
		for i, sel := range l.sels {
			if err := sel.Validate(); err != nil {
				errs = append(errs, deckhand.Rekey(fmt.Sprintf("alerts.%s[%d]", l.key, i), err))
			}
		}
	}
	return errors.Join(errs...)
}

// window is a parsed maintenance window.
type window struct {
	MaintenanceWindow
	sched cron.Schedule
}

// activeAt reports whether an activation of the schedule lies in
// (now-Duration, now]: the window opened less than Duration ago.
func (w window) activeAt(now time.Time) bool {
	start := w.sched.Next(now.Add(-w.Duration))
	return !start.After(now)
}

func (w window) covers(host, project, container string) bool {
	return inList(w.Hosts, host) && inList(w.Projects, project) && inList(w.Containers, container)
}

func inList(list []string, v string) bool {
	if len(list) == 0 {
		return true
	}
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// Cooldown is the least time between two notifications of one alert: how
// far back a caller must hand the engine recently closed alerts.
func (e *Engine) Cooldown() time.Duration { return e.cfg.Cooldown }
