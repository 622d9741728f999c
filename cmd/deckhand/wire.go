package main

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/alerts"
	"github.com/deckhand/deckhand/bot"
	"github.com/deckhand/deckhand/bot/discord"
	"github.com/deckhand/deckhand/bot/ntfy"
	"github.com/deckhand/deckhand/collector"
	"github.com/deckhand/deckhand/commands"
	"github.com/deckhand/deckhand/monitor"
	"github.com/deckhand/deckhand/statuspage"
)

// This file maps the config file's sections onto each package's Config.

func (c *fileConfig) collectorHosts() []collector.HostConfig {
	out := make([]collector.HostConfig, 0, len(c.Hosts))
	for _, h := range c.Hosts {
		enabled := h.Enabled == nil || *h.Enabled
		out = append(out, collector.HostConfig{
			Name: h.Name, Transport: h.Transport, Address: h.Address, User: h.User,
			KeyFile: h.KeyFile, UseAgent: h.UseAgent, KnownHostsFile: h.KnownHosts,
			AcceptUnknownHostKey: h.AcceptUnknownHostKey, DockerPath: h.DockerPath,
			ConnectTimeout: h.ConnectTimeout.Duration, CommandTimeout: h.CommandTimeout.Duration,
			KeepAlive: h.KeepAlive.Duration, MaxSessions: h.MaxSessions, Enabled: enabled,
		})
	}
	return out
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
	for _, h := range c.Hosts {
		out = append(out, deckhand.Host{Name: h.Name, Transport: h.Transport, Enabled: h.Enabled == nil || *h.Enabled, Status: deckhand.HostUnknown})
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
		cfg.Select = append(cfg.Select, alerts.Selector(s))
	}
	for _, s := range a.Exclude {
		cfg.Exclude = append(cfg.Exclude, alerts.Selector(s))
	}
	return cfg
}

// buttonSecret is the configured HMAC key, or a random one for this run.
func (c *fileConfig) buttonSecret(log *slog.Logger, daemon bool) []byte {
	if c.Secret.value != "" {
		return []byte(c.Secret.value)
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	level := slog.LevelDebug // `deckhand exec` has no buttons that outlive it
	if daemon {
		level = slog.LevelWarn
	}
	log.Log(context.Background(), level, "no secret configured: buttons and ntfy actions stop working when deckhand restarts; set secret in the config")
	return b
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
		if k == "recovered" {
			prio[bot.SeverityRecovered] = v
			continue
		}
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

func (c *fileConfig) statusConfig() statuspage.Config {
	s := c.Status
	cfg := statuspage.Config{Title: s.Title, LogoURL: s.LogoURL, PublicURL: c.PublicURL, Announcements: s.Announcements}
	for _, l := range s.Links {
		cfg.Footer = append(cfg.Footer, statuspage.Link{Label: l.Label, URL: l.URL})
	}
	return cfg
}

// httpClient is the client for chat platforms: bounded, so a platform that
// hangs holds a delivery worker for seconds, not forever.
func httpClient() *http.Client { return &http.Client{Timeout: 30 * time.Second} }

// platforms lists the notification channels configured, in delivery order.
// Every process sharing the database (the daemon, `deckhand exec`) enqueues
// for all of them; only the daemon delivers.
func (c *fileConfig) platforms() []string {
	var out []string
	if c.Ntfy.Topic != "" {
		out = append(out, deckhand.PlatformNtfy)
	}
	if c.Discord.Token.value != "" {
		out = append(out, deckhand.PlatformDiscord)
	}
	if c.Telegram.Token.value != "" {
		out = append(out, deckhand.PlatformTelegram)
	}
	return out
}
