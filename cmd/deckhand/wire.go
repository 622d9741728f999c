package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/alerts"
	"github.com/deckhand/deckhand/bot/discord"
	"github.com/deckhand/deckhand/bot/ntfy"
	"github.com/deckhand/deckhand/collector"
	"github.com/deckhand/deckhand/commands"
	"github.com/deckhand/deckhand/monitor"
	"github.com/deckhand/deckhand/statuspage"
)

// This file maps the config file's sections onto each package's Config.

// collectorHosts is the [[hosts]] list with the collector's defaults
// filled in, so that every reader (the store's host list, check-config's
// summary) sees the transport and docker path that will be used.
func (c *fileConfig) collectorHosts() []collector.HostConfig {
	out := make([]collector.HostConfig, 0, len(c.Hosts))
	for _, h := range c.Hosts {
		enabled := h.Enabled == nil || *h.Enabled
		out = append(out, collector.HostConfig{
			Name: h.Name, Transport: h.Transport, Address: h.Address, User: h.User,
			KeyFile: h.KeyFile, UseAgent: h.UseAgent, KnownHostsFile: h.KnownHosts,
			AcceptUnknownHostKey: h.AcceptUnknownHostKey, DockerPath: h.DockerPath,
			ConnectTimeout: h.ConnectTimeout.Duration, CommandTimeout: h.CommandTimeout.Duration,
			KeepAlive: h.KeepAlive.Duration, MaxSessions: h.MaxSessions, Labels: h.Labels, Enabled: enabled,
		}.WithDefaults())
	}
	return out
}

// collectorOptions is the [collector] section's part of collector.Options.
func (c *fileConfig) collectorOptions(log *slog.Logger) collector.Options {
	return collector.Options{Logger: log, Concurrency: c.Collector.Concurrency}
}

func (c *fileConfig) monitorConfig(hosts, platforms []string) monitor.Config {
	return monitor.Config{
		Hosts: hosts, Platforms: platforms,
		Interval: c.Collector.Interval.or(15 * time.Second), InventoryInterval: c.Collector.InventoryInterval.or(5 * time.Minute),
		Retention: c.Collector.Retention.or(time.Hour), Events: c.Collector.Events == nil || *c.Collector.Events,
	}
}

func (c *fileConfig) domainHosts() []deckhand.Host {
	out := make([]deckhand.Host, 0, len(c.Hosts))
	for _, h := range c.collectorHosts() {
		out = append(out, deckhand.Host{Name: h.Name, Transport: h.Transport, Enabled: h.Enabled, Status: deckhand.HostUnknown})
	}
	return out
}

func (c *fileConfig) alertsConfig() alerts.Config {
	a := c.Alerts
	cfg := alerts.DefaultConfig()
	set := func(dst *time.Duration, d duration) {
		if d.Duration != 0 {
			*dst = d.Duration
		}
	}
	set(&cfg.DeployGrace, a.DeployGrace)
	set(&cfg.UnhealthyGrace, a.UnhealthyGrace)
	set(&cfg.HostGrace, a.HostGrace)
	set(&cfg.Cooldown, a.Cooldown)
	set(&cfg.RecoveryHold, a.RecoveryHold)
	set(&cfg.RestartLoopWindow, a.RestartLoopWindow)
	set(&cfg.AutoRestart.Window, a.AutoRestart.Window)
	cfg.CrashGrace = a.CrashGrace.Duration
	if a.Repeat != nil {
		cfg.Repeat = a.Repeat.Duration
	}
	if a.RestartLoopCount != 0 {
		cfg.RestartLoopCount = a.RestartLoopCount
	}
	if a.AutoRestart.Max != 0 {
		cfg.AutoRestart.Max = a.AutoRestart.Max
	}
	if len(a.AutoRestart.Backoff) > 0 {
		cfg.AutoRestart.Backoff = nil
		for _, b := range a.AutoRestart.Backoff {
			cfg.AutoRestart.Backoff = append(cfg.AutoRestart.Backoff, b.Duration)
		}
	}
	for _, m := range a.Maintenance {
		cfg.Maintenance = append(cfg.Maintenance, alerts.MaintenanceWindow{
			Name: m.Name, Schedule: m.Schedule, Duration: m.Duration.Duration,
			Hosts: m.Hosts, Projects: m.Projects, Containers: m.Containers,
		})
	}
	for _, s := range a.Select {
		cfg.Select = append(cfg.Select, deckhand.Selector(s))
	}
	for _, s := range a.Exclude {
		cfg.Exclude = append(cfg.Exclude, deckhand.Selector(s))
	}
	return cfg
}

// buttonSecret is the HMAC key: the configured one, or the random one
// resolve made for this run.
func (c *fileConfig) buttonSecret(log *slog.Logger, daemon bool) []byte {
	if c.secretGenerated {
		level := slog.LevelDebug // `deckhand exec` has no buttons that outlive it
		if daemon {
			level = slog.LevelWarn
		}
		log.Log(context.Background(), level, "no secret configured: buttons and ntfy actions stop working when deckhand restarts; set secret in the config")
	}
	return []byte(c.Secret.value)
}

func (c *fileConfig) commandsConfig(secret []byte) commands.Config {
	cfg := commands.Config{Secret: secret, ButtonTTL: c.Commands.ButtonTTL.Duration, ConfirmTTL: c.Commands.ConfirmTTL.Duration, LogTail: c.Commands.LogTail}
	// config.toml says what to take away; the router wants what remains.
	if len(c.Commands.Disable) > 0 {
		cfg.Narrow = map[deckhand.Role][]deckhand.Action{}
		for roleName, disabled := range c.Commands.Disable {
			role, _ := deckhand.ParseRole(roleName)
			off := map[deckhand.Action]bool{}
			for _, a := range disabled {
				off[deckhand.Action(a)] = true
			}
			keep := []deckhand.Action{}
			for _, a := range deckhand.Actions() {
				if a.MinRole() <= role && !off[a] {
					keep = append(keep, a)
				}
			}
			cfg.Narrow[role] = keep
		}
	}
	return cfg
}

func (c *fileConfig) ntfyConfig() (ntfy.Config, deckhand.Role) {
	n := c.Ntfy
	prio := map[deckhand.Severity]int{}
	for k, v := range n.Priority {
		prio[deckhand.Severity(k)] = v
	}
	role := deckhand.RoleOperator
	if n.ActionsRole != "" {
		role, _ = deckhand.ParseRole(n.ActionsRole)
	}
	return ntfy.Config{
		Server: n.Server, Topic: n.Topic, Token: n.Token.value, User: n.User, Password: n.Password.value,
		Priority: prio, ClickURL: c.PublicURL, Actions: n.Actions, ActionBaseURL: c.PublicURL,
		Timeout: n.Timeout.Duration,
	}, role
}

func (c *fileConfig) discordConfig() discord.Config {
	d := c.Discord
	cfg := discord.Config{Token: d.Token.value, ApplicationID: d.ApplicationID, GuildID: d.GuildID,
		AlertChannelID: d.AlertChannelID, Roles: map[string]deckhand.Role{}, Users: map[string]deckhand.Role{}, RoleHosts: d.RoleHosts,
		StatusURL: c.PublicURL}
	for id, r := range d.Roles {
		cfg.Roles[id], _ = deckhand.ParseRole(r)
	}
	for id, r := range d.Users {
		cfg.Users[id], _ = deckhand.ParseRole(r)
	}
	return cfg
}

func (c *fileConfig) discordOptions(log *slog.Logger) discord.Options {
	return discord.Options{Logger: log, HTTPClient: httpClient(), APIBase: c.Discord.APIBase}
}

func (c *fileConfig) statusConfig() statuspage.Config {
	s := c.Status
	cfg := statuspage.Config{Title: s.Title, LogoURL: s.LogoURL, PublicURL: c.PublicURL, Announcements: s.Announcements, Metrics: s.Metrics}
	for _, l := range s.Links {
		cfg.Footer = append(cfg.Footer, statuspage.Link{Label: l.Label, URL: l.URL})
	}
	return cfg
}

// httpClient is the client for chat platforms: bounded, so a platform that
// hangs holds a delivery worker for seconds, not forever.
func httpClient() *http.Client { return &http.Client{Timeout: 30 * time.Second} }

// The chat sections are on when any of their identifying keys is set; the
// package's Validate then says what else is missing.
func (c *fileConfig) ntfyOn() bool { return c.Ntfy.Topic != "" || c.Ntfy.Server != "" }
func (c *fileConfig) discordOn() bool {
	d := c.Discord
	return d.Token.value != "" || d.GuildID != "" || d.ApplicationID != "" || d.AlertChannelID != ""
}
func (c *fileConfig) telegramOn() bool {
	return c.Telegram.Token.value != "" || c.Telegram.AlertChatID != 0
}

// platforms lists the notification channels configured, in delivery order.
// Every process sharing the database (the daemon, `deckhand exec`) enqueues
// for all of them; only the daemon delivers.
func (c *fileConfig) platforms() []string {
	var out []string
	if c.ntfyOn() {
		out = append(out, deckhand.PlatformNtfy)
	}
	if c.discordOn() {
		out = append(out, deckhand.PlatformDiscord)
	}
	if c.telegramOn() {
		out = append(out, deckhand.PlatformTelegram)
	}
	return out
}

// statusEnabled reports whether the status page (and its listener, which
// also serves /healthz, /hooks/ntfy and, unless statuspage.metrics says
// otherwise, /metrics) runs: on unless [statuspage] enabled = false.
func (c *fileConfig) statusEnabled() bool { return c.Status.Enabled == nil || *c.Status.Enabled }

// packageErrors hands every package the Config run gives it and returns
// what their Validate functions refuse: check-config and run agree because
// this is the check New runs too.
func (c *fileConfig) packageErrors() error {
	errs := []error{
		collector.ValidateHosts(c.collectorHosts()),
		c.collectorOptions(nil).Validate(),
		c.alertsConfig().Validate(),
		c.commandsConfig([]byte(c.Secret.value)).Validate(),
		c.statusConfig().Validate(),
	}
	if c.ntfyOn() {
		ncfg, _ := c.ntfyConfig()
		errs = append(errs, ncfg.Validate())
	}
	if c.discordOn() {
		errs = append(errs, c.discordConfig().Validate(), c.discordOptions(nil).Validate())
	}
	if c.telegramOn() {
		errs = append(errs, c.telegramConfig().Validate())
	}
	return errors.Join(errs...)
}

// settingErrors turns the packages' errors into the file's: a package names
// a setting by its own Config's key, which is the file's key except for
// these values that the mapping above takes from elsewhere in the file.
func settingErrors(err error) configErrors {
	if err == nil {
		return nil
	}
	if se, ok := err.(*deckhand.SettingError); ok {
		return configErrors{{Key: fileKey(se.Key), Msg: se.Msg}}
	}
	if multi, ok := err.(interface{ Unwrap() []error }); ok {
		var out configErrors
		for _, e := range multi.Unwrap() {
			out = append(out, settingErrors(e)...)
		}
		return out
	}
	var se *deckhand.SettingError
	if !errors.As(err, &se) {
		return configErrors{{Msg: err.Error()}}
	}
	return configErrors{{Key: fileKey(se.Key), Msg: se.Msg}}
}

var (
	fileKeys = map[string]string{
		"ntfy.click_url":        "public_url",
		"ntfy.action_base_url":  "public_url",
		"statuspage.public_url": "public_url",
		"commands.secret":       "secret",
	}
	filePrefixes = [][2]string{
		{"statuspage.footer", "statuspage.links"},
		{"commands.narrow", "commands.disable"},
	}
)

func fileKey(key string) string {
	if k, ok := fileKeys[key]; ok {
		return k
	}
	for _, p := range filePrefixes {
		if rest, ok := strings.CutPrefix(key, p[0]); ok {
			return p[1] + rest
		}
	}
	return key
}
