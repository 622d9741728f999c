// Package discord is deckhand's Discord adapter. It owns everything
// Discord-specific: the gateway session, the registration of slash commands
// from the router's command specs, turning interactions (slash commands,
// button clicks, autocomplete) into commands.Request values with the
// actor's role mapped from guild roles and user IDs, answering them within
// Discord's 3-second window (defer first, then edit or follow up), and
// delivering alert notices from the outbox as embeds with action buttons
// that are edited in place on ack and recovery.
//
// The adapter uses github.com/bwmarrin/discordgo. discordgo reads its REST
// endpoints from package-level variables; Options.APIBase rewrites them so
// that tests can point the adapter at discordtest's fake. That mutation is
// process-wide (a discordgo limitation): tests that use it must not run in
// parallel with each other.
package discord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/bot"
	"github.com/deckhand/deckhand/commands"
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

func snowflake(s string) bool {
	if len(s) < 1 || len(s) > 20 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Validate reports every problem with the configuration, in words a person
// can act on.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf(format+": %w", append(args, deckhand.ErrInvalidInput)...))
	}
	if strings.TrimSpace(c.Token) == "" {
		bad("discord: token is empty")
	} else if strings.HasPrefix(c.Token, "Bot ") {
		bad(`discord: token must not start with "Bot " (deckhand adds it)`)
	}
	for _, f := range []struct{ name, v string }{
		{"application_id", c.ApplicationID}, {"guild_id", c.GuildID}, {"alert_channel_id", c.AlertChannelID},
	} {
		if !snowflake(f.v) {
			bad("discord: %s %q is not a Discord ID (digits; enable Developer Mode and use Copy ID)", f.name, f.v)
		}
	}
	for id, r := range c.Roles {
		if !snowflake(id) {
			bad("discord: roles: %q is not a role ID", id)
		}
		if r < deckhand.RoleViewer || r > deckhand.RoleAdmin {
			bad("discord: roles: role %s maps to no deckhand role", id)
		}
	}
	for id, r := range c.Users {
		if !snowflake(id) {
			bad("discord: users: %q is not a user ID", id)
		}
		if r < deckhand.RoleViewer || r > deckhand.RoleAdmin {
			bad("discord: users: user %s maps to no deckhand role", id)
		}
	}
	for id, hosts := range c.RoleHosts {
		_, isRole := c.Roles[id]
		_, isUser := c.Users[id]
		if !isRole && !isUser {
			bad("discord: role_hosts: %q is neither a mapped role nor a mapped user", id)
		}
		if len(hosts) == 0 {
			bad("discord: role_hosts: %q lists no hosts (remove the entry to allow all hosts)", id)
		}
	}
	return errors.Join(errs...)
}

// Options are the adapter's optional dependencies.
type Options struct {
	Logger     *slog.Logger
	HTTPClient *http.Client
	Dialer     *websocket.Dialer
	// APIBase replaces https://discord.com (tests). See the package
	// documentation: it rewrites discordgo's package-level endpoints. The
	// gateway URL then comes from GET {APIBase}/api/v9/gateway.
	APIBase string
	// AckTimeout bounds the work done before an autocomplete answer;
	// default 2s, under Discord's 3s window.
	AckTimeout time.Duration
	// HandlerTimeout bounds one interaction's router work; default 2m.
	HandlerTimeout time.Duration
}

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
}

// New builds the adapter. It does not connect: Send works at once, Run
// opens the gateway.
func New(cfg Config, router Router, opts Options) (*Bot, error) {
	if err := cfg.Validate(); err != nil {
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
	if opts.APIBase != "" {
		useAPIBase(opts.APIBase)
	}
	s, err := discordgo.New("Bot " + cfg.Token)
	if err != nil {
		return nil, fmt.Errorf("discord: session: %w", err)
	}
	if opts.HTTPClient != nil {
		s.Client = opts.HTTPClient
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

// useAPIBase points discordgo's package-level endpoints at base. discordgo
// computes the derived string endpoints once at init, so each one is reset
// here; the function endpoints read them at call time.
func useAPIBase(base string) {
	discordgo.EndpointDiscord = strings.TrimSuffix(base, "/") + "/"
	api := discordgo.EndpointDiscord + "api/v" + discordgo.APIVersion + "/"
	discordgo.EndpointAPI = api
	discordgo.EndpointGuilds = api + "guilds/"
	discordgo.EndpointChannels = api + "channels/"
	discordgo.EndpointUsers = api + "users/"
	discordgo.EndpointGateway = api + "gateway"
	discordgo.EndpointGatewayBot = discordgo.EndpointGateway + "/bot"
	discordgo.EndpointWebhooks = api + "webhooks/"
	discordgo.EndpointStickers = api + "stickers/"
	discordgo.EndpointStageInstances = api + "stage-instances"
	discordgo.EndpointSKUs = api + "skus"
	discordgo.EndpointVoice = api + "/voice/"
	discordgo.EndpointVoiceRegions = discordgo.EndpointVoice + "regions"
	discordgo.EndpointNitroStickersPacks = api + "/sticker-packs"
	discordgo.EndpointGuildCreate = api + "guilds"
	discordgo.EndpointApplications = api + "applications"
	discordgo.EndpointOAuth2 = api + "oauth2/"
	discordgo.EndpointOAuth2Applications = discordgo.EndpointOAuth2 + "applications"
	discordgo.EndpointOauth2Applications = discordgo.EndpointOAuth2Applications
}

// Platform names the platform for the outbox.
func (b *Bot) Platform() string { return deckhand.PlatformDiscord }

// Run registers the slash commands in the guild, opens the gateway and
// answers interactions until ctx is done. In-flight interactions get up to
// 10 s to finish after that.
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
	if _, err := b.s.ApplicationCommandBulkOverwrite(b.cfg.ApplicationID, b.cfg.GuildID, cmds, discordgo.WithContext(ctx)); err != nil {
		return fmt.Errorf("discord: register commands: %w", describe(err))
	}
	b.log.Info("discord commands registered", "guild", b.cfg.GuildID, "count", len(cmds))

	remove := b.s.AddHandler(b.onInteraction)
	defer remove()
	if err := b.s.Open(); err != nil {
		return fmt.Errorf("discord: open gateway: %w", describe(err))
	}
	b.log.Info("discord gateway connected")
	<-ctx.Done()
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
