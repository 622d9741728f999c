// Package discord is deckhand's Discord adapter. It owns everything
// Discord-specific: the gateway session, the registration of slash commands
// from the router's command specs, turning interactions (slash commands,
// button clicks, autocomplete) into commands.Request values with the
// actor's role mapped from guild roles and user IDs, answering them within
// Discord's 3-second window (defer first, then edit or follow up), and
// delivering alert notices from the outbox as embeds with action buttons
// that are edited in place on ack and recovery.
//
// The adapter uses github.com/bwmarrin/discordgo. Options.APIBase points it
// at another server (discordtest's fake in tests, or a proxy) through the
// session's own HTTP client, whose transport sends discord.com's requests
// there; discordgo's package-level endpoints are never written, so bots
// with different bases can live in one process.
package discord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/bot"
	"github.com/deckhand/deckhand/commands"
	"github.com/deckhand/deckhand/internal/ratelog"
)

// Router is what the adapter needs from the command router
// (*commands.Router satisfies it).
type Router interface {
	Handle(ctx context.Context, req commands.Request) commands.Reply
	HandleButton(ctx context.Context, actor deckhand.Actor, payload string) commands.Reply
	AlertButtons(a deckhand.Alert, actions []deckhand.Action) []commands.Button
	Commands() []commands.Spec
	Complete(ctx context.Context, kind commands.ArgKind, host, prefix string) []string
}

// Config is the [discord] section of the configuration.
type Config struct {
	Token          string // bot token, without "Bot "; secret: never logged
	ApplicationID  string
	GuildID        string // the guild whose roles are mapped and where commands are registered
	AlertChannelID string // where alert notices are posted
	// Roles maps guild role IDs to deckhand roles.
	Roles map[string]deckhand.Role
	// Users maps user IDs to deckhand roles; it applies in the guild and in
	// DMs (where there are no guild roles).
	Users map[string]deckhand.Role
	// RoleHosts optionally scopes a binding (a role ID or a user ID of Roles
	// or Users) to some hosts.
	RoleHosts map[string][]string
	// StatusURL is the status page (public_url): alert titles link to it
	// when Discord accepts the link (see linkable).
	StatusURL string
}

// String hides the token so that a Config can be logged.
func (c Config) String() string {
	return fmt.Sprintf("discord{app=%s guild=%s alerts=%s roles=%d users=%d}",
		c.ApplicationID, c.GuildID, c.AlertChannelID, len(c.Roles), len(c.Users))
}

// LogValue hides the token from slog.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// snowflake is the one rule on Discord IDs: a 64-bit unsigned integer in
// decimal, as Copy ID gives it.
func snowflake(s string) bool {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return false
	}
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}

// Validate reports every problem of the configuration as a
// *deckhand.SettingError named by its key in config.toml ("discord.guild_id").
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, deckhand.Invalid("discord."+key, format, args...))
	}
	if strings.TrimSpace(c.Token) == "" {
		bad("token", "required (the bot token; use \"${DISCORD_TOKEN}\" or token_file)")
	} else if strings.HasPrefix(c.Token, "Bot ") {
		bad("token", `must not start with "Bot " (deckhand adds it)`)
	}
	for _, f := range []struct{ name, v string }{
		{"application_id", c.ApplicationID}, {"guild_id", c.GuildID}, {"alert_channel_id", c.AlertChannelID},
	} {
		if !snowflake(f.v) {
			bad(f.name, "%q is not a Discord ID (digits; enable Developer Mode and use Copy ID)", f.v)
		}
	}
	for _, m := range []struct {
		key, what string
		ids       map[string]deckhand.Role
	}{{"roles", "role", c.Roles}, {"users", "user", c.Users}} {
		for id, r := range m.ids {
			if !snowflake(id) {
				bad(m.key+"."+id, "%q is not a %s ID", id, m.what)
			}
			if r < deckhand.RoleViewer || r > deckhand.RoleAdmin {
				bad(m.key+"."+id, "%s %s maps to no deckhand role", m.what, id)
			}
		}
	}
	for id, hosts := range c.RoleHosts {
		_, isRole := c.Roles[id]
		_, isUser := c.Users[id]
		if !isRole && !isUser {
			bad("role_hosts."+id, "%q is neither a mapped role nor a mapped user", id)
		}
		if len(hosts) == 0 {
			bad("role_hosts."+id, "%q lists no hosts (remove the entry to allow all hosts)", id)
		}
	}
	return errors.Join(errs...)
}

// Options are the adapter's optional dependencies.
type Options struct {
	Logger     *slog.Logger
	HTTPClient *http.Client
	Dialer     *websocket.Dialer
	// APIBase replaces https://discord.com (a proxy, or a test fake) for
	// REST calls. The gateway URL then comes from GET {APIBase}/api/v9/gateway.
	APIBase string
	// AckTimeout bounds the work done before an autocomplete answer;
	// default 2s, under Discord's 3s window.
	AckTimeout time.Duration
	// HandlerTimeout bounds one interaction's router work; default 2m.
	HandlerTimeout time.Duration
	// Health hears of what keeps the gateway down ("discord", "gateway").
	Health *bot.Health
	// HeartbeatTimeouts counts the gateway connections the watchdog
	// reopened because they stopped ACKing heartbeats
	// (deckhand_discord_heartbeat_timeouts_total).
	HeartbeatTimeouts Counter
	// Backoff paces the attempts to reach Discord (default
	// bot.DefaultBackoff).
	Backoff bot.Backoff
}

// Counter is a metric that only goes up (a prometheus.Counter).
type Counter interface{ Inc() }

// Bot is the Discord adapter: a bot.Sender for alert notices and, while
// Run is active, the handler of slash commands and button clicks.
type Bot struct {
	cfg    Config
	router Router
	log    *slog.Logger
	s      *discordgo.Session
	opts   Options
	// renderer words alert notices; the adapter only maps them.
	renderer bot.Renderer

	mu       sync.Mutex
	specs    map[string]commands.Spec
	running  bool
	inflight sync.WaitGroup
	hctx     context.Context
	startLog ratelog.Every
}

// New builds the adapter. It does not connect: Send works at once, Run
// opens the gateway.
func New(cfg Config, router Router, opts Options) (*Bot, error) {
	if err := errors.Join(cfg.Validate(), opts.Validate()); err != nil {
		return nil, err
	}
	if router == nil {
		return nil, fmt.Errorf("discord: nil router: %w", deckhand.ErrInvalidInput)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.AckTimeout <= 0 {
		opts.AckTimeout = 2 * time.Second
	}
	if opts.HandlerTimeout <= 0 {
		opts.HandlerTimeout = 2 * time.Minute
	}
	if opts.Backoff == (bot.Backoff{}) {
		opts.Backoff = bot.DefaultBackoff
	}
	s, err := discordgo.New("Bot " + cfg.Token)
	if err != nil {
		return nil, fmt.Errorf("discord: session: %w", err)
	}
	if opts.HTTPClient != nil {
		s.Client = opts.HTTPClient
	}
	if opts.APIBase != "" {
		s.Client = rebased(s.Client, opts.APIBase)
	}
	if opts.Dialer != nil {
		s.Dialer = opts.Dialer
	}
	// Interactions arrive without any intent; asking for none keeps the
	// gateway quiet.
	s.Identify.Intents = discordgo.IntentsNone
	s.StateEnabled = false
	s.LogLevel = discordgo.LogError
	b := &Bot{cfg: cfg, router: router, log: opts.Logger.With("platform", deckhand.PlatformDiscord), s: s, opts: opts,
		specs: map[string]commands.Spec{}, renderer: bot.Renderer{StatusURL: cfg.StatusURL}}
	return b, nil
}

// Validate checks the options a config file sets.
func (o Options) Validate() error {
	if o.APIBase == "" {
		return nil
	}
	u, err := url.Parse(o.APIBase)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return deckhand.Invalid("discord.api_base", "%q is not an http(s) URL such as https://discord.com", o.APIBase)
	}
	return nil
}

// rebased is a copy of client whose requests to discord.com go to base.
func rebased(client *http.Client, base string) *http.Client {
	c := *client
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	home, _ := url.Parse(discordgo.EndpointDiscord)
	to, _ := url.Parse(base) // checked by Validate
	c.Transport = rebase{from: home.Host, to: to, next: next}
	return &c
}

// rebase sends the requests discordgo builds from its endpoints (always
// https://discord.com/…) to another server.
type rebase struct {
	from string
	to   *url.URL
	next http.RoundTripper
}

func (r rebase) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != r.from {
		return r.next.RoundTrip(req)
	}
	out := req.Clone(req.Context())
	u := *req.URL
	u.Scheme, u.Host = r.to.Scheme, r.to.Host
	u.Path = strings.TrimSuffix(r.to.Path, "/") + req.URL.Path
	if req.URL.RawPath != "" {
		u.RawPath = strings.TrimSuffix(r.to.EscapedPath(), "/") + req.URL.RawPath
	}
	out.URL, out.Host = &u, ""
	return r.next.RoundTrip(out)
}

// Platform names the platform for the outbox.
func (b *Bot) Platform() string { return deckhand.PlatformDiscord }

// Run registers the slash commands in the guild, opens the gateway and
// answers interactions until ctx is done. Discord out of reach, at start
// or later, is retried for as long as that takes, and a gateway that
// stops ACKing heartbeats is reopened (see watch). In-flight interactions
// get up to 10 s to finish after that. Run returns an error only when
// called twice or given commands Discord could never take.
func (b *Bot) Run(ctx context.Context) error {
	b.mu.Lock()
	if b.running {
		b.mu.Unlock()
		return errors.New("discord: Run called twice")
	}
	b.running = true
	specs := b.router.Commands()
	for _, sp := range specs {
		b.specs[sp.Name] = sp
	}
	hctx, cancelHandlers := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHandlers()
	b.hctx = hctx
	b.mu.Unlock()

	cmds, err := applicationCommands(specs)
	if err != nil {
		return err
	}
	remove := b.s.AddHandler(b.onInteraction)
	defer remove()
	registered := false
	connect := func(ctx context.Context) error { return b.connect(ctx, cmds, &registered) }
	if bot.Retry(ctx, b.opts.Backoff, connect, b.connectFailed) == nil {
		b.watch(ctx)
	}
	// discordgo's heartbeat goroutine reconnects on a write error, even one
	// caused by our own Close; switch reconnection off first (under the
	// session lock, which Close and reconnect also take).
	b.s.Lock()
	b.s.ShouldReconnectOnError = false
	b.s.Unlock()
	if err := b.s.Close(); err != nil {
		b.log.Warn("discord gateway close", "err", err)
	}

	b.mu.Lock()
	b.running = false
	b.mu.Unlock()
	done := make(chan struct{})
	go func() { b.inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cancelHandlers()
		<-done
	}
	return nil
}

// track registers an in-flight interaction; false once Run is stopping.
func (b *Bot) track() (context.Context, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.running {
		return nil, false
	}
	b.inflight.Add(1)
	return b.hctx, true
}

func (b *Bot) spec(name string) (commands.Spec, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	sp, ok := b.specs[name]
	return sp, ok
}
