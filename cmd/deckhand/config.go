package main

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"maps"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/statuspage"
)

// fileConfig is the shape of config.toml. Each section maps onto the Config
// of the package that owns it (see wire.go); this file only decodes,
// resolves secrets and validates, so that every mistake is reported before
// anything starts.
type fileConfig struct {
	Data       string `toml:"data"`
	LogLevel   string `toml:"log_level"`
	LogFormat  string `toml:"log_format"`
	PublicURL  string `toml:"public_url"`
	Secret     secret `toml:"secret"`
	SecretFile string `toml:"secret_file"`
	// MemoryLimit is the Go runtime's soft memory limit (see memory.go).
	MemoryLimit byteSize         `toml:"memory_limit"`
	Collector   collectorSection `toml:"collector"`
	Hosts       []hostSection    `toml:"hosts"`
	Alerts      alertsSection    `toml:"alerts"`
	Status      statusSection    `toml:"statuspage"`
	Commands    commandsSection  `toml:"commands"`
	Ntfy        ntfySection      `toml:"ntfy"`
	Discord     discordSection   `toml:"discord"`
	Telegram    telegramSection  `toml:"telegram"`

	// secretGenerated is set when no secret was configured and resolve made
	// a random one for this process.
	secretGenerated bool
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
	Metrics       string   `toml:"metrics"`
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

// durationExamples ends every message about a duration.
const durationExamples = `e.g. "30s", "5m", "2h" or "7d"`

func (d *duration) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	bad := fmt.Errorf("%q is not a duration: want %s", s, durationExamples)
	if strings.HasSuffix(s, "d") {
		n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
		if err != nil || n < 0 {
			return bad
		}
		d.Duration = time.Duration(n) * 24 * time.Hour
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return bad
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

// configErrors collects every mistake so that a person fixes them in one go
// instead of one restart per typo.
type configErrors []configError

func (es configErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// in names the file and the line of each key, in file order.
func (es configErrors) in(file string, lines map[string]int) configErrors {
	for i := range es {
		es[i].File = file
		if es[i].Line == 0 {
			es[i].Line = lineFor(lines, es[i].Key)
		}
	}
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Line != es[j].Line {
			return es[i].Line < es[j].Line
		}
		return es[i].Key < es[j].Key
	})
	return es
}

// loadConfig reads, strictly decodes and validates a config file.
func loadConfig(path string) (*fileConfig, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, configReadError(path, err)
	}
	return parseConfig(path, raw)
}

// configReadError says why the config file cannot be read and what to do.
func configReadError(path string, err error) error {
	how := "check the path given with -config (or DECKHAND_CONFIG)"
	var why string
	switch {
	case errors.Is(err, fs.ErrNotExist):
		why = "does not exist"
		how += "; config.toml.example is a starting point"
	case errors.Is(err, syscall.EISDIR):
		why = "is a directory, not a file"
	case errors.Is(err, fs.ErrPermission):
		why = "cannot be read: permission denied"
		how = fmt.Sprintf("make it readable for uid %d, or %s", os.Geteuid(), how)
	default:
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		why = "cannot be read: " + err.Error()
	}
	return wordedError{msg: fmt.Sprintf("config file %s %s; %s", path, why, how), err: err}
}

// wordedError is an error said in words, kept for errors.Is.
type wordedError struct {
	msg string
	err error
}

func (e wordedError) Error() string { return e.msg }
func (e wordedError) Unwrap() error { return e.err }

// parseConfig is the one way a config becomes typed values: every command
// (run, check-config, exec, healthcheck) goes through it, so check-config
// refuses exactly what run would.
func parseConfig(name string, raw []byte) (*fileConfig, error) {
	lines, errs := scanConfig(raw)
	if len(errs) > 0 {
		return nil, errs.in(name, lines)
	}
	var cfg fileConfig
	dec := toml.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return nil, decodeError(err).in(name, lines)
	}
	errs = cfg.resolve()
	if len(errs) == 0 {
		errs = cfg.validate()
	}
	if len(errs) > 0 {
		return nil, errs.in(name, lines)
	}
	return &cfg, nil
}

// decodeError is a backstop: scanConfig reports what the decoder would
// refuse, in better words, before it runs.
func decodeError(err error) configErrors {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		var out configErrors
		for _, e := range strict.Errors {
			row, _ := e.Position()
			out = append(out, configError{Line: row, Key: strings.Join(e.Key(), "."),
				Msg: "unknown key (check the spelling against config.toml.example)"})
		}
		return out
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, _ := de.Position()
		return configErrors{{Line: row, Key: strings.Join(de.Key(), "."), Msg: strings.TrimPrefix(de.Error(), "toml: ")}}
	}
	return configErrors{{Msg: err.Error()}}
}

// resolve reads *_file secrets and fills the defaults that cmd owns; each
// package fills its own.
func (c *fileConfig) resolve() configErrors {
	var errs configErrors
	readFile := func(key, path string, into *secret) {
		if path == "" {
			return
		}
		if into.value != "" {
			errs = append(errs, configError{Key: key, Msg: "set either the value or the _file, not both"})
			return
		}
		b, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, configError{Key: key + "_file", Msg: err.Error()})
			return
		}
		into.value = strings.TrimSpace(string(b))
	}
	readFile("secret", c.SecretFile, &c.Secret)
	readFile("ntfy.token", c.Ntfy.TokenFile, &c.Ntfy.Token)
	readFile("discord.token", c.Discord.TokenFile, &c.Discord.Token)
	readFile("telegram.token", c.Telegram.TokenFile, &c.Telegram.Token)
	if c.Secret.value == "" {
		// One key per process: buttons signed by an earlier run say "expired".
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		c.Secret.value, c.secretGenerated = string(b), true
	}
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
	return errs
}

// validate checks what cmd itself owns (logging, scheduling, the listener,
// files on this machine, references between sections, names it parses),
// then hands every package its Config and keeps that package's verdict:
// each rule is checked in one place.
func (c *fileConfig) validate() configErrors {
	var errs configErrors
	bad := func(key, format string, args ...any) {
		errs = append(errs, configError{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	c.validateNames(bad)
	if len(errs) > 0 {
		// The mappings read these names: a bad one would be reported twice.
		return errs
	}
	c.validateOwn(bad)
	c.validateHosts(bad)
	return append(errs, settingErrors(c.packageErrors())...)
}

func (c *fileConfig) validateOwn(bad func(string, string, ...any)) {
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
	if dir := filepath.Dir(c.Data); dir != "." {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			bad("data", "directory %s does not exist", dir)
		}
	}
	if c.Collector.Interval.Duration != 0 && c.Collector.Interval.Duration < time.Second {
		bad("collector.interval", "%s is too short: at least 1s", c.Collector.Interval.Duration)
	}
	if host, port, err := net.SplitHostPort(c.Status.Listen); err != nil || strings.ContainsAny(host, " /") {
		bad("statuspage.listen", "%q is not host:port (e.g. 127.0.0.1:8080)", c.Status.Listen)
	} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		// 0 is what net.Listen takes as "any free port" (tests, the bench).
		bad("statuspage.listen", "port %q is not 0..65535", port)
	}
	if c.Status.Metrics != "" && c.Status.Metrics == c.Status.Listen {
		bad("statuspage.metrics", "%q is statuspage.listen: say %q to serve /metrics there", c.Status.Metrics, statuspage.MetricsOnPage)
	}
	if c.Ntfy.Actions && !c.statusEnabled() {
		bad("ntfy.actions", "the buttons post to /hooks/ntfy on the status page's listener: set [statuspage] enabled = true")
	}
}

// validateHosts checks what the collector cannot: the files named exist
// here, and the other sections name configured hosts.
func (c *fileConfig) validateHosts(bad func(string, string, ...any)) {
	if len(c.Hosts) == 0 {
		bad("hosts", "no host configured: add at least one [[hosts]] (transport = \"local\" watches this machine)")
	}
	names := map[string]bool{}
	for i, h := range c.Hosts {
		names[h.Name] = true
		if h.KeyFile != "" {
			if _, err := os.Stat(h.KeyFile); err != nil {
				bad(fmt.Sprintf("hosts[%d].key_file", i), "%v", err)
			}
		}
	}
	for i, m := range c.Alerts.Maintenance {
		for _, h := range m.Hosts {
			if !names[h] {
				bad(fmt.Sprintf("alerts.maintenance[%d].hosts", i), "unknown host %q", h)
			}
		}
	}
}

// validateNames checks the names the mapping to package Configs parses:
// roles, actions and Telegram's numeric IDs.
func (c *fileConfig) validateNames(bad func(string, string, ...any)) {
	for role, actions := range c.Commands.Disable {
		if _, err := deckhand.ParseRole(role); err != nil {
			bad("commands.disable."+role, "%s", reason(err))
		}
		for _, act := range actions {
			if !deckhand.Action(act).Known() {
				bad("commands.disable."+role, "unknown action %q (known: %s)", act, actionList())
			}
		}
	}
	if r := c.Ntfy.ActionsRole; r != "" {
		if role, err := deckhand.ParseRole(r); err != nil {
			bad("ntfy.actions_role", "%s", reason(err))
		} else if role > deckhand.RoleOperator {
			bad("ntfy.actions_role", "at most operator: anyone who can read the topic can tap a button")
		}
	}
	checkRoles(bad, "discord.roles", c.Discord.Roles)
	checkRoles(bad, "discord.users", c.Discord.Users)
	checkRoles(bad, "telegram.users", c.Telegram.Users)
	if r := c.Telegram.ChatAdminsRole; r != "" {
		if _, err := deckhand.ParseRole(r); err != nil {
			bad("telegram.chat_admins_role", "%s", reason(err))
		}
	}
	telegramIDs(bad, "telegram.users", maps.Keys(c.Telegram.Users))
	telegramIDs(bad, "telegram.user_hosts", maps.Keys(c.Telegram.UserHosts))
}

func telegramIDs(bad func(string, string, ...any), key string, ids iter.Seq[string]) {
	for id := range ids {
		if _, err := strconv.ParseInt(id, 10, 64); err != nil {
			bad(key+"."+id, "not a Telegram user ID (a number)")
		}
	}
}

func checkRoles(bad func(string, string, ...any), key string, m map[string]string) {
	for id, role := range m {
		if _, err := deckhand.ParseRole(role); err != nil {
			bad(key+"."+id, "%s", reason(err))
		}
	}
}

// reason is a domain error's text without the sentinel it wraps: the key
// in front already says the setting is invalid.
func reason(err error) string {
	return strings.TrimSuffix(err.Error(), ": "+deckhand.ErrInvalidInput.Error())
}

func actionList() string {
	var names []string
	for _, a := range deckhand.Actions() {
		names = append(names, string(a))
	}
	return strings.Join(names, ", ")
}
