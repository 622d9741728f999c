package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/robfig/cron/v3"

	"github.com/deckhand/deckhand"
)

// fileConfig is the shape of config.toml. Each section maps onto the Config
// of the package that owns it (see wire.go); this file only decodes,
// resolves secrets and validates, so that every mistake is reported before
// anything starts.
type fileConfig struct {
	Data       string           `toml:"data"`
	LogLevel   string           `toml:"log_level"`
	LogFormat  string           `toml:"log_format"`
	PublicURL  string           `toml:"public_url"`
	Secret     secret           `toml:"secret"`
	SecretFile string           `toml:"secret_file"`
	Collector  collectorSection `toml:"collector"`
	Hosts      []hostSection    `toml:"hosts"`
	Alerts     alertsSection    `toml:"alerts"`
	Status     statusSection    `toml:"statuspage"`
	Commands   commandsSection  `toml:"commands"`
	Ntfy       ntfySection      `toml:"ntfy"`
	Discord    discordSection   `toml:"discord"`
	Telegram   telegramSection  `toml:"telegram"`
}

type collectorSection struct {
	Interval          duration `toml:"interval"`
	InventoryInterval duration `toml:"inventory_interval"`
	Concurrency       int      `toml:"concurrency"`
	Events            *bool    `toml:"events"`
	Retention         duration `toml:"retention_interval"`
}

type hostSection struct {
	Name                 string   `toml:"name"`
	Transport            string   `toml:"transport"`
	Address              string   `toml:"address"`
	User                 string   `toml:"user"`
	KeyFile              string   `toml:"key_file"`
	UseAgent             bool     `toml:"use_agent"`
	KnownHosts           string   `toml:"known_hosts"`
	AcceptUnknownHostKey bool     `toml:"accept_unknown_host_key"`
	DockerPath           string   `toml:"docker_path"`
	ConnectTimeout       duration `toml:"connect_timeout"`
	CommandTimeout       duration `toml:"command_timeout"`
	KeepAlive            duration `toml:"keepalive"`
	MaxSessions          int      `toml:"max_sessions"`
	Labels               []string `toml:"labels"`
	Enabled              *bool    `toml:"enabled"`
}

type alertsSection struct {
	CrashGrace        duration            `toml:"crash_grace"`
	DeployGrace       duration            `toml:"deploy_grace"`
	UnhealthyGrace    duration            `toml:"unhealthy_grace"`
	HostGrace         duration            `toml:"host_grace"`
	Cooldown          duration            `toml:"cooldown"`
	Repeat            *duration           `toml:"repeat"`
	RecoveryHold      duration            `toml:"recovery_hold"`
	RestartLoopCount  int                 `toml:"restart_loop_count"`
	RestartLoopWindow duration            `toml:"restart_loop_window"`
	AutoRestart       autoRestartSection  `toml:"auto_restart"`
	Maintenance       []maintenanceWindow `toml:"maintenance"`
	Select            []selector          `toml:"select"`
	Exclude           []selector          `toml:"exclude"`
}

type autoRestartSection struct {
	Max     int        `toml:"max"`
	Window  duration   `toml:"window"`
	Backoff []duration `toml:"backoff"`
}

type maintenanceWindow struct {
	Name       string   `toml:"name"`
	Schedule   string   `toml:"schedule"`
	Duration   duration `toml:"duration"`
	Hosts      []string `toml:"hosts"`
	Projects   []string `toml:"projects"`
	Containers []string `toml:"containers"`
}

type selector struct {
	Host    string `toml:"host"`
	Name    string `toml:"name"`
	Project string `toml:"project"`
}

type statusSection struct {
	Enabled       *bool    `toml:"enabled"`
	Listen        string   `toml:"listen"`
	Title         string   `toml:"title"`
	LogoURL       string   `toml:"logo_url"`
	Announcements []string `toml:"announcements"`
	Links         []link   `toml:"links"`
}

type link struct {
	Label string `toml:"label"`
	URL   string `toml:"url"`
}

type commandsSection struct {
	ButtonTTL  duration            `toml:"button_ttl"`
	ConfirmTTL duration            `toml:"confirm_ttl"`
	LogTail    int                 `toml:"log_tail"`
	Disable    map[string][]string `toml:"disable"`
}

type ntfySection struct {
	Server    string `toml:"server"`
	Topic     string `toml:"topic"`
	Token     secret `toml:"token"`
	TokenFile string `toml:"token_file"`
	User      string `toml:"user"`
	Password  secret `toml:"password"`
	Actions   bool   `toml:"actions"`
	// ActionsRole is the role lent to whoever taps an ntfy action: anyone
	// subscribed to the topic can.
	ActionsRole string         `toml:"actions_role"`
	Priority    map[string]int `toml:"priority"`
	Timeout     duration       `toml:"timeout"`
}

type discordSection struct {
	Token          secret              `toml:"token"`
	TokenFile      string              `toml:"token_file"`
	ApplicationID  string              `toml:"application_id"`
	GuildID        string              `toml:"guild_id"`
	AlertChannelID string              `toml:"alert_channel_id"`
	Roles          map[string]string   `toml:"roles"`
	Users          map[string]string   `toml:"users"`
	RoleHosts      map[string][]string `toml:"role_hosts"`
	// APIBase replaces https://discord.com (a proxy, or a test fake).
	APIBase string `toml:"api_base"`
}

type telegramSection struct {
	Token          secret              `toml:"token"`
	TokenFile      string              `toml:"token_file"`
	AlertChatID    int64               `toml:"alert_chat_id"`
	Users          map[string]string   `toml:"users"`
	UserHosts      map[string][]string `toml:"user_hosts"`
	ChatAdminsRole string              `toml:"chat_admins_role"`
	// APIURL replaces https://api.telegram.org (a local Bot API server).
	APIURL string `toml:"api_url"`
}

// duration decodes "30s", "5m", "1h30m", and "1d"/"7d" day counts.
type duration struct{ time.Duration }

func (d *duration) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if strings.HasSuffix(s, "d") {
		n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
		if err != nil || n < 0 {
			return fmt.Errorf("invalid duration %q: want e.g. 30s, 5m, 2h or 7d", s)
		}
		d.Duration = time.Duration(n) * 24 * time.Hour
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return fmt.Errorf("invalid duration %q: want e.g. 30s, 5m, 2h or 7d", s)
	}
	d.Duration = v
	return nil
}

func (d duration) or(def time.Duration) time.Duration {
	if d.Duration == 0 {
		return def
	}
	return d.Duration
}

// secret is a string that may reference the environment: "${NAME}" (alone
// or inside the value) is replaced by $NAME at load time. A reference to an
// unset variable is an error, so a typo never silently becomes an empty
// token.
type secret struct {
	value string
	raw   string
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

func (s *secret) UnmarshalText(b []byte) error {
	s.raw = string(b)
	var missing []string
	s.value = envRef.ReplaceAllStringFunc(s.raw, func(m string) string {
		name := envRef.FindStringSubmatch(m)[1]
		v, ok := os.LookupEnv(name)
		if !ok {
			missing = append(missing, name)
		}
		return v
	})
	if len(missing) > 0 {
		return fmt.Errorf("environment variable %s is not set", strings.Join(missing, ", "))
	}
	return nil
}

// String never reveals the value: secrets end up in error messages and logs
// only as this.
func (s secret) String() string {
	if s.value == "" {
		return ""
	}
	return "<redacted>"
}

// configError is a mistake in the file, with where it is when known.
type configError struct {
	File string
	Line int    // 0 when unknown
	Key  string // dotted path, e.g. hosts[1].address
	Msg  string
}

func (e configError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// configErrors collects every validation mistake so that a person fixes
// them in one go instead of one restart per typo.
type configErrors []configError

func (es configErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// loadConfig reads, strictly decodes and validates a config file.
func loadConfig(path string) (*fileConfig, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return parseConfig(path, raw)
}

func parseConfig(name string, raw []byte) (*fileConfig, error) {
	var cfg fileConfig
	dec := toml.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return nil, decodeError(name, err)
	}
	errs := cfg.resolve(name)
	if len(errs) == 0 {
		errs = cfg.validate(name)
	}
	if len(errs) > 0 {
		lines := keyLines(raw)
		for i := range errs {
			errs[i].Line = lineFor(lines, errs[i].Key)
		}
		return nil, errs
	}
	return &cfg, nil
}

func decodeError(name string, err error) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		var out configErrors
		for _, e := range strict.Errors {
			row, _ := e.Position()
			out = append(out, configError{File: name, Line: row, Key: strings.Join(e.Key(), "."),
				Msg: "unknown key (check the spelling against config.toml.example)"})
		}
		return out
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, _ := de.Position()
		return configErrors{{File: name, Line: row, Key: strings.Join(de.Key(), "."), Msg: de.Error()}}
	}
	return configErrors{{File: name, Msg: err.Error()}}
}

// resolve reads *_file secrets and fills defaults that depend on nothing
// else.
func (c *fileConfig) resolve(name string) configErrors {
	var errs configErrors
	readFile := func(key, path string, into *secret) {
		if path == "" {
			return
		}
		if into.value != "" {
			errs = append(errs, configError{File: name, Key: key, Msg: "set either the value or the _file, not both"})
			return
		}
		b, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, configError{File: name, Key: key + "_file", Msg: err.Error()})
			return
		}
		into.value = strings.TrimSpace(string(b))
	}
	readFile("secret", c.SecretFile, &c.Secret)
	readFile("ntfy.token", c.Ntfy.TokenFile, &c.Ntfy.Token)
	readFile("discord.token", c.Discord.TokenFile, &c.Discord.Token)
	readFile("telegram.token", c.Telegram.TokenFile, &c.Telegram.Token)
	if c.Data == "" {
		c.Data = "deckhand.db"
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.LogFormat == "" {
		c.LogFormat = "text"
	}
	if c.Status.Listen == "" {
		c.Status.Listen = "127.0.0.1:8080"
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.Status.Listen
	}
	for i := range c.Hosts {
		h := &c.Hosts[i]
		if h.Transport == "" {
			h.Transport = "ssh"
		}
		if h.DockerPath == "" {
			h.DockerPath = "docker"
		}
		if h.Transport == "ssh" && h.Address != "" && !strings.Contains(strings.TrimPrefix(h.Address, "["), ":") {
			h.Address += ":22"
		}
	}
	return errs
}

var (
	hostNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`)
	topicRE    = regexp.MustCompile(`^[-_A-Za-z0-9]{1,64}$`)
	snowflake  = regexp.MustCompile(`^[0-9]{15,21}$`)
)

func (c *fileConfig) validate(name string) configErrors {
	var errs configErrors
	bad := func(key, format string, args ...any) {
		errs = append(errs, configError{File: name, Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log_level", "%q is not one of debug, info, warn, error", c.LogLevel)
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		bad("log_format", "%q is not one of text, json", c.LogFormat)
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("public_url", "%q is not an http(s) URL", c.PublicURL)
	}
	if v := c.Secret.value; v != "" && len(v) < 32 {
		bad("secret", "too short (%d bytes): use at least 32 random bytes, e.g. `openssl rand -hex 32`", len(v))
	}
	if c.Collector.Interval.Duration != 0 && c.Collector.Interval.Duration < time.Second {
		bad("collector.interval", "%s is too short: at least 1s", c.Collector.Interval.Duration)
	}
	if c.Collector.Concurrency < 0 || c.Collector.Concurrency > 1024 {
		bad("collector.concurrency", "%d is out of range 1..1024", c.Collector.Concurrency)
	}
	if len(c.Hosts) == 0 {
		bad("hosts", "no host configured: add at least one [[hosts]] (transport = \"local\" watches this machine)")
	}
	seen := map[string]int{}
	for i, h := range c.Hosts {
		key := fmt.Sprintf("hosts[%d]", i)
		if !hostNameRE.MatchString(h.Name) {
			bad(key+".name", "%q must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit", h.Name)
		}
		if j, dup := seen[h.Name]; dup {
			bad(key+".name", "duplicate host name %q (also hosts[%d])", h.Name, j)
		}
		seen[h.Name] = i
		if !strings.HasPrefix(h.DockerPath, "/") && h.DockerPath != "docker" {
			bad(key+".docker_path", "%q must be \"docker\" or an absolute path such as /usr/local/bin/docker", h.DockerPath)
		}
		if strings.ContainsAny(h.DockerPath, " \t\n'\"$`;&|<>(){}\\") {
			bad(key+".docker_path", "%q contains characters that are not allowed in a path here", h.DockerPath)
		}
		if h.MaxSessions < 0 || h.MaxSessions > 10 {
			bad(key+".max_sessions", "%d is out of range 1..10 (sshd allows 10 sessions per connection by default)", h.MaxSessions)
		}
		switch h.Transport {
		case "local":
			if h.Address != "" || h.User != "" || h.KeyFile != "" {
				bad(key, "address, user and key_file are for transport = \"ssh\"; a local host runs the docker CLI here")
			}
		case "ssh":
			if h.Address == "" {
				bad(key+".address", "required for transport = \"ssh\" (host or host:port)")
			} else if _, port, err := net.SplitHostPort(h.Address); err != nil {
				bad(key+".address", "%q: %v", h.Address, err)
			} else if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
				bad(key+".address", "port %q is not 1..65535", port)
			}
			if h.User == "" {
				bad(key+".user", "required for transport = \"ssh\"")
			}
			if h.KeyFile == "" && !h.UseAgent {
				bad(key, "set key_file or use_agent = true: deckhand authenticates with keys only")
			}
			if h.KeyFile != "" {
				if _, err := os.Stat(h.KeyFile); err != nil {
					bad(key+".key_file", "%v", err)
				}
			}
			if h.KnownHosts == "" && !h.AcceptUnknownHostKey {
				bad(key+".known_hosts", "required (e.g. ~/.ssh/known_hosts); to trust a host's key on first use set accept_unknown_host_key = true")
			}
		default:
			bad(key+".transport", "%q is not \"ssh\" or \"local\"", h.Transport)
		}
	}
	a := c.Alerts
	for i, m := range a.Maintenance {
		key := fmt.Sprintf("alerts.maintenance[%d]", i)
		if _, err := cron.ParseStandard(m.Schedule); err != nil {
			bad(key+".schedule", "%q: %v (five fields: minute hour day month weekday, e.g. \"0 3 * * *\")", m.Schedule, err)
		}
		if m.Duration.Duration <= 0 {
			bad(key+".duration", "required and positive, e.g. \"30m\"")
		}
		for _, h := range m.Hosts {
			if _, ok := seen[h]; !ok {
				bad(key+".hosts", "unknown host %q", h)
			}
		}
	}
	for i, s := range append(append([]selector{}, a.Select...), a.Exclude...) {
		if s.Host == "" && s.Name == "" && s.Project == "" {
			bad("alerts", "selector %d of select/exclude is empty: set host, name or project", i)
		}
	}
	if a.AutoRestart.Max < 0 {
		bad("alerts.auto_restart.max", "must not be negative")
	}
	for role, actions := range c.Commands.Disable {
		if _, err := deckhand.ParseRole(role); err != nil {
			bad("commands.disable."+role, "%v", err)
		}
		for _, act := range actions {
			if !deckhand.Action(act).Known() {
				bad("commands.disable."+role, "unknown action %q (known: %s)", act, actionList())
			}
		}
	}
	if c.Commands.LogTail < 0 || c.Commands.LogTail > 1000 {
		bad("commands.log_tail", "%d is out of range 1..1000", c.Commands.LogTail)
	}
	if n := c.Ntfy; n.Topic != "" || n.Server != "" {
		if !topicRE.MatchString(n.Topic) {
			bad("ntfy.topic", "%q must be 1-64 letters, digits, '-' or '_'", n.Topic)
		}
		if n.Server != "" {
			if u, err := url.Parse(n.Server); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				bad("ntfy.server", "%q is not an http(s) URL", n.Server)
			}
		}
		if n.ActionsRole != "" {
			if r, err := deckhand.ParseRole(n.ActionsRole); err != nil {
				bad("ntfy.actions_role", "%v", err)
			} else if r > deckhand.RoleOperator {
				bad("ntfy.actions_role", "at most operator: anyone who can read the topic can tap a button")
			}
		}
		for sev, p := range n.Priority {
			switch sev {
			case "warning", "error", "critical", "recovered":
			default:
				bad("ntfy.priority."+sev, "unknown severity (warning, error, critical, recovered)")
			}
			if p < 1 || p > 5 {
				bad("ntfy.priority."+sev, "%d is out of range 1..5", p)
			}
		}
	}
	if d := c.Discord; d.Token.value != "" || d.GuildID != "" || d.ApplicationID != "" {
		if d.Token.value == "" {
			bad("discord.token", "required (the bot token; use \"${DISCORD_TOKEN}\" or token_file)")
		}
		for k, v := range map[string]string{"application_id": d.ApplicationID, "guild_id": d.GuildID, "alert_channel_id": d.AlertChannelID} {
			if !snowflake.MatchString(v) {
				bad("discord."+k, "%q is not a Discord ID (15-21 digits; enable Developer Mode and use Copy ID)", v)
			}
		}
		checkRoleMap(bad, "discord.roles", d.Roles, snowflake, "a Discord role ID")
		checkRoleMap(bad, "discord.users", d.Users, snowflake, "a Discord user ID")
	}
	if t := c.Telegram; t.Token.value != "" || t.AlertChatID != 0 {
		if t.Token.value == "" {
			bad("telegram.token", "required (from @BotFather; use \"${TELEGRAM_TOKEN}\" or token_file)")
		}
		if t.AlertChatID == 0 {
			bad("telegram.alert_chat_id", "required: the chat that receives alerts (a group id is negative)")
		}
		checkRoleMap(bad, "telegram.users", t.Users, regexp.MustCompile(`^[0-9]{1,20}$`), "a Telegram numeric user ID")
		if t.ChatAdminsRole != "" {
			if _, err := deckhand.ParseRole(t.ChatAdminsRole); err != nil {
				bad("telegram.chat_admins_role", "%v", err)
			}
		}
	}
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Key < errs[j].Key })
	return errs
}

func checkRoleMap(bad func(string, string, ...any), key string, m map[string]string, idRE *regexp.Regexp, what string) {
	for id, role := range m {
		if !idRE.MatchString(id) {
			bad(key, "%q is not %s", id, what)
		}
		if _, err := deckhand.ParseRole(role); err != nil {
			bad(key+"."+id, "%v", err)
		}
	}
}

func actionList() string {
	var names []string
	for _, a := range deckhand.Actions() {
		names = append(names, string(a))
	}
	return strings.Join(names, ", ")
}
