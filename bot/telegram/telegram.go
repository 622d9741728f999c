// Package telegram is deckhand's Telegram adapter. It owns everything
// Telegram-specific: registering the router's commands with setMyCommands
// (names spelled with '_' for '-'), long-polling updates, turning command
// messages and inline-button presses into router calls with the actor's
// role mapped from configured user IDs and, optionally, from the
// administrators of the alert chat, answering every callback query within
// Telegram's 15-second window, rendering replies and alert notices as HTML
// (escaped: container and host names come from other people's machines),
// sending long output as a document, pacing messages per chat under
// Telegram's flood limits, and delivering outbox notices with their inline
// keyboard, edited in place on ack and recovery.
//
// The adapter uses github.com/go-telegram/bot; Options.ServerURL points it
// at another Bot API server (telegramtest's fake in tests, or a self-hosted
// telegram-bot-api).
package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

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
}

// Config is the [telegram] section of the configuration.
type Config struct {
	// Token is the bot token from @BotFather ("123456:ABC…"); secret: never logged.
	Token string
	// AlertChatID is where alert notices are posted (a group's ID is negative).
	AlertChatID int64
	// Users maps Telegram user IDs to deckhand roles.
	Users map[int64]deckhand.Role
	// ChatAdminsRole, when not RoleNone, is granted to the creator and
	// administrators of the alert chat (checked with getChatMember and
	// cached for a few minutes).
	ChatAdminsRole deckhand.Role
	// UserHosts optionally scopes a user's binding in Users to some hosts.
	UserHosts map[int64][]string
	// StatusURL is the status page (public_url), linked from every alert.
	StatusURL string
}

// String hides the token so that a Config can be logged.
func (c Config) String() string {
	return fmt.Sprintf("telegram{alert_chat=%d users=%d chat_admins=%s}", c.AlertChatID, len(c.Users), c.ChatAdminsRole)
}

// LogValue hides the token from slog.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

var tokenShape = regexp.MustCompile(`^[0-9]{1,20}:[A-Za-z0-9_-]{20,}$`)

// Validate reports every problem of the configuration as a
// *deckhand.SettingError named by its key in config.toml ("telegram.token").
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, deckhand.Invalid("telegram."+key, format, args...))
	}
	switch {
	case strings.TrimSpace(c.Token) == "":
		bad("token", "required (from @BotFather; use \"${TELEGRAM_TOKEN}\" or token_file)")
	case !tokenShape.MatchString(c.Token):
		// Never echo the token, even a malformed one.
		bad("token", "does not look like a Bot API token (digits, a colon, then the secret)")
	}
	if c.AlertChatID == 0 {
		bad("alert_chat_id", "required: the chat that receives alerts (a group's ID is negative)")
	}
	for id, r := range c.Users {
		key := fmt.Sprintf("users.%d", id)
		if id <= 0 {
			bad(key, "not a user ID (user IDs are positive)")
		}
		if r < deckhand.RoleViewer || r > deckhand.RoleAdmin {
			bad(key, "maps to no deckhand role")
		}
	}
	if c.ChatAdminsRole < deckhand.RoleNone || c.ChatAdminsRole > deckhand.RoleAdmin {
		bad("chat_admins_role", "not a deckhand role")
	}
	if c.ChatAdminsRole != deckhand.RoleNone && c.AlertChatID > 0 {
		bad("chat_admins_role", "needs a group as alert_chat_id (a private chat has no administrators)")
	}
	for id, hosts := range c.UserHosts {
		key := fmt.Sprintf("user_hosts.%d", id)
		if _, ok := c.Users[id]; !ok {
			bad(key, "not a mapped user")
		}
		if len(hosts) == 0 {
			bad(key, "lists no hosts (remove the entry to allow all hosts)")
		}
	}
	return errors.Join(errs...)
}

// Options are the adapter's optional dependencies and tunables.
type Options struct {
	Logger *slog.Logger
	// ServerURL replaces https://api.telegram.org.
	ServerURL string
	// HTTPClient is used for every call; its Timeout, if any, must exceed
	// PollTimeout.
	HTTPClient *http.Client
	// PollTimeout is the long-poll duration (default 50s; at least 2s).
	PollTimeout time.Duration
	// AdminCacheTTL is how long a getChatMember answer is trusted (default 5m).
	AdminCacheTTL time.Duration
	// CallbackDeadline is how long a button press may take before its
	// callback query is answered with "Working on it…" (default 8s, under
	// Telegram's 15s); the result then arrives as a message.
	CallbackDeadline time.Duration
	// HandlerTimeout bounds one command's or press's router work (default 2m).
	HandlerTimeout time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Health hears of what stops the poller ("telegram", "poller"): the
	// Bot API unreachable, another program polling with this token.
	Health *bot.Health
	// Conflicts counts the 409s of another program polling with this
	// token (deckhand_telegram_conflicts_total).
	Conflicts Counter
	// Backoff paces the attempts to start polling (default
	// bot.DefaultBackoff).
	Backoff bot.Backoff
}

// Counter is a metric that only goes up (a prometheus.Counter).
type Counter interface{ Inc() }

// Bot is the Telegram adapter: a bot.Sender for alert notices and, while
// Run is active, the handler of commands and button presses.
type Bot struct {
	cfg    Config
	router Router
	log    *slog.Logger
	opts   Options
	api    *tgbot.Bot
	limit  *limiter
	// renderer words alert notices; the adapter only maps them.
	renderer bot.Renderer

	mu       sync.Mutex
	running  bool
	username string // the bot's @username, learnt in Run
	inflight sync.WaitGroup
	hctx     context.Context
	admins   map[int64]adminEntry
	poll     *pollHealth
}

type adminEntry struct {
	admin bool
	until time.Time
}

// New builds the adapter. It does no I/O: Send works at once, Run starts
// polling.
func New(cfg Config, router Router, opts Options) (*Bot, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if router == nil {
		return nil, fmt.Errorf("telegram: nil router: %w", deckhand.ErrInvalidInput)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.PollTimeout <= 0 {
		opts.PollTimeout = 50 * time.Second
	}
	opts.PollTimeout = max(opts.PollTimeout, 2*time.Second)
	if opts.AdminCacheTTL <= 0 {
		opts.AdminCacheTTL = 5 * time.Minute
	}
	if opts.CallbackDeadline <= 0 {
		opts.CallbackDeadline = 8 * time.Second
	}
	if opts.HandlerTimeout <= 0 {
		opts.HandlerTimeout = 2 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	client := opts.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: opts.PollTimeout + 15*time.Second}
	}
	if opts.Backoff == (bot.Backoff{}) {
		opts.Backoff = bot.DefaultBackoff
	}
	b := &Bot{
		cfg: cfg, router: router, opts: opts,
		log:      opts.Logger.With("platform", deckhand.PlatformTelegram),
		limit:    newLimiter(opts.Now),
		admins:   map[int64]adminEntry{},
		renderer: bot.Renderer{StatusURL: cfg.StatusURL},
	}
	b.poll = &pollHealth{health: opts.Health, log: b.log, conflicts: opts.Conflicts, quiet: 2*opts.PollTimeout + 5*time.Second}
	client = watched(client, func() { b.poll.ok(b.opts.Now()) })
	tgopts := []tgbot.Option{
		tgbot.WithSkipGetMe(),
		tgbot.WithHTTPClient(opts.PollTimeout, client),
		tgbot.WithDefaultHandler(b.onUpdate),
		tgbot.WithErrorsHandler(b.onLibraryError),
		tgbot.WithAllowedUpdates(tgbot.AllowedUpdates{"message", "callback_query"}),
		tgbot.WithWorkers(2),
	}
	if opts.ServerURL != "" {
		tgopts = append(tgopts, tgbot.WithServerURL(strings.TrimSuffix(opts.ServerURL, "/")))
	}
	api, err := tgbot.New(cfg.Token, tgopts...)
	if err != nil {
		return nil, fmt.Errorf("telegram: client: %w", err)
	}
	b.api = api
	return b, nil
}

// onLibraryError hears the polling loop's errors, which the library
// retries itself: a 409 is another poller on this token, anything else a
// Bot API out of reach.
func (b *Bot) onLibraryError(err error) {
	switch {
	case errors.Is(err, context.Canceled):
	case errors.Is(err, tgbot.ErrorConflict):
		b.poll.conflict(b.opts.Now(), b.redact(err))
	default:
		b.poll.failed(b.opts.Now(), b.redact(err))
	}
}

// redact removes the token from an error's text, whatever produced it.
func (b *Bot) redact(err error) string {
	if err == nil {
		return ""
	}
	return strings.ReplaceAll(err.Error(), b.cfg.Token, "***")
}

// Platform names the platform for the outbox.
func (b *Bot) Platform() string { return deckhand.PlatformTelegram }

// Run checks the token, removes any webhook (getUpdates refuses to work
// while one is set), registers the commands and answers updates until ctx
// is done; a Bot API out of reach, at start or later, is retried for as
// long as that takes. In-flight commands get up to 10 s to finish after
// that. Run returns an error only when called twice.
func (b *Bot) Run(ctx context.Context) error {
	b.mu.Lock()
	if b.running {
		b.mu.Unlock()
		return errors.New("telegram: Run called twice")
	}
	b.running = true
	hctx, cancelHandlers := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHandlers()
	b.hctx = hctx
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.running = false
		b.mu.Unlock()
	}()

	failed := func(err error, n int, next time.Duration) {
		b.poll.startFailed(b.opts.Now(), err, b.redact(err), n, next)
	}
	if bot.Retry(ctx, b.opts.Backoff, b.prepare, failed) != nil {
		return nil // ctx is done
	}
	b.api.Start(ctx)

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

// prepare is what polling needs first: the bot's name, no webhook, the
// command list.
func (b *Bot) prepare(ctx context.Context) error {
	me, err := b.api.GetMe(ctx)
	if err != nil {
		return fmt.Errorf("getMe: %w", err)
	}
	b.mu.Lock()
	b.username = me.Username
	b.mu.Unlock()
	if _, err := b.api.DeleteWebhook(ctx, &tgbot.DeleteWebhookParams{}); err != nil {
		return fmt.Errorf("deleteWebhook: %w", err)
	}
	if err := b.registerCommands(ctx); errors.Is(err, tgbot.ErrorBadRequest) {
		// A list Telegram refuses will not change on retry; commands typed
		// in full still work.
		b.log.Error("telegram: command list refused; polling without it", "err", b.redact(err))
	} else if err != nil {
		return err
	}
	b.log.Info("telegram bot polling", "username", me.Username)
	return nil
}

// botCommands turns the router's specs into Telegram's command list,
// skipping (and reporting) any that Telegram would refuse.
func botCommands(specs []commands.Spec) ([]models.BotCommand, []string) {
	var out []models.BotCommand
	var skipped []string
	seen := map[string]bool{}
	for _, sp := range specs {
		name := sp.TelegramName()
		if !commandName.MatchString(name) || seen[name] || len(out) == maxCommands {
			skipped = append(skipped, sp.Name)
			continue
		}
		seen[name] = true
		desc := strings.TrimSpace(sp.Description)
		if desc == "" {
			desc = sp.Usage()
		}
		out = append(out, models.BotCommand{Command: name, Description: truncateRunes(desc, maxDescription)})
	}
	return out, skipped
}

var commandName = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

const (
	maxCommands    = 100
	maxDescription = 256
)

func (b *Bot) registerCommands(ctx context.Context) error {
	cmds, skipped := botCommands(b.router.Commands())
	for _, s := range skipped {
		b.log.Warn("telegram: command not registered: its name is not valid on Telegram", "command", s)
	}
	if _, err := b.api.SetMyCommands(ctx, &tgbot.SetMyCommandsParams{Commands: cmds}); err != nil {
		return fmt.Errorf("setMyCommands: %w", err)
	}
	b.log.Info("telegram commands registered", "count", len(cmds))
	return nil
}

// track registers an in-flight update; false once Run is stopping.
func (b *Bot) track() (context.Context, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.running {
		return nil, false
	}
	b.inflight.Add(1)
	return b.hctx, true
}

// classify maps a Bot API error to the outbox's contract: 429 to
// bot.RetryAfter, 401/403 to bot.Unauthorized, other rejections that will
// not change on retry to bot.Permanent, anything else as a transient error.
func (b *Bot) classify(err error) error {
	var tm *tgbot.TooManyRequestsError
	if errors.As(err, &tm) {
		after := time.Duration(max(tm.RetryAfter, 1)) * time.Second
		return bot.RetryAfter{After: after, Err: errors.New("telegram: 429 too many requests")}
	}
	var mig *tgbot.MigrateError
	msg := errors.New("telegram: " + b.redact(err))
	switch {
	case errors.As(err, &mig):
		return bot.Permanent{Err: fmt.Errorf("telegram: the group became a supergroup: set alert_chat_id to %d", mig.MigrateToChatID)}
	case errors.Is(err, tgbot.ErrorUnauthorized), errors.Is(err, tgbot.ErrorForbidden):
		// A revoked token, a bot removed from the chat: deckhand's setup,
		// not the notice, so the notice waits for the fix.
		return bot.Unauthorized{Err: msg}
	case errors.Is(err, tgbot.ErrorBadRequest), errors.Is(err, tgbot.ErrorNotFound):
		return bot.Permanent{Err: msg}
	}
	return msg
}

// retryAfter reports a 429's wait.
func retryAfter(err error) (time.Duration, bool) {
	var tm *tgbot.TooManyRequestsError
	if errors.As(err, &tm) {
		return time.Duration(max(tm.RetryAfter, 1)) * time.Second, true
	}
	return 0, false
}

func chatRef(chatID int64, messageID int) string {
	return strconv.FormatInt(chatID, 10) + "/" + strconv.Itoa(messageID)
}

func parseRef(ref string) (int64, int, bool) {
	c, m, ok := strings.Cut(ref, "/")
	if !ok {
		return 0, 0, false
	}
	chat, err1 := strconv.ParseInt(c, 10, 64)
	msg, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || chat == 0 || msg <= 0 {
		return 0, 0, false
	}
	return chat, msg, true
}
