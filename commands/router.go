package commands

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/deckhand/deckhand"
)

// Request is one command from any platform.
type Request struct {
	Actor   deckhand.Actor // Role already mapped by the adapter (RoleNone = unmapped)
	Command string         // "restart" (no slash; a slash, upper case and '_' for '-' are tolerated)
	Args    []string       // split by the platform (Discord options) or by ParseLine
}

// ButtonStyle is how a button looks; adapters map it to their palette.
type ButtonStyle int

const (
	Primary ButtonStyle = iota
	Secondary
	Danger
	Success
)

// Button is a clickable action under a reply or an alert.
type Button struct {
	Label   string
	Payload string // signed, at most MaxPayload bytes: fits Telegram callback_data and Discord custom_id
	Style   ButtonStyle
	// Action is what pressing the button does, for adapters that describe
	// it (ntfy's action list); it grants nothing by itself.
	Action deckhand.Action
}

// File is long output sent as an attachment.
type File struct {
	Name string
	Data []byte
}

// Reply is a platform-neutral answer.
type Reply struct {
	Text      string // plain text with simple markdown (**bold**, `code`); at most MaxText bytes, MaxDetail with a Title
	Title     string
	Buttons   []Button
	File      *File
	Ephemeral bool // only the requester should see it
	Error     bool
	Edit      bool // for button replies: update the message that carried the button
}

// MaxText bounds Reply.Text so that it fits a Discord message (2000) with
// room for the adapter's decoration; Telegram allows 4096.
const MaxText = 1900

// MaxDetail bounds Reply.Text of a reply with a Title: Discord shows those
// as an embed, whose description takes 4096, and Telegram's 4096 leave
// room for the title (at most 200) before it.
const MaxDetail = 3800

// Stat is one container's resource usage as `docker stats` reports it.
type Stat struct {
	Name       string
	CPUPercent float64
	MemUsage   int64 // bytes
	MemLimit   int64 // bytes
	MemPercent float64
	PIDs       int
}

// Inventory is the latest collected snapshot (the store).
type Inventory interface {
	Hosts(ctx context.Context) ([]deckhand.Host, error)
	Containers(ctx context.Context, host string) ([]deckhand.Container, error)
}

// Docker runs the whitelisted actions on a host (the collector). Container
// arguments are always an exact name or full ID taken from the snapshot.
type Docker interface {
	Start(ctx context.Context, host, container string) error
	Stop(ctx context.Context, host, container string) error
	Restart(ctx context.Context, host, container string) error
	Remove(ctx context.Context, host, container string) error
	Redeploy(ctx context.Context, host string, c deckhand.Container) error
	Logs(ctx context.Context, host, container string, tail int) (string, error)
	Inspect(ctx context.Context, host, container string) (map[string]any, error)
	Stats(ctx context.Context, host string) ([]Stat, error)
}

// Alerts reads and changes alerts (the store / alerts engine).
type Alerts interface {
	ActiveAlerts(ctx context.Context) ([]deckhand.Alert, error)
	Ack(ctx context.Context, id int64, by string) (deckhand.Alert, error)
	AddSilence(ctx context.Context, s deckhand.Silence) (int64, error)
}

// Audit records every attempted action.
type Audit interface {
	AddAudit(ctx context.Context, e deckhand.AuditEntry) error
}

// HostSwitch enables and disables collection of a host.
type HostSwitch interface {
	SetHostEnabled(ctx context.Context, host string, enabled bool) error
}

// Announcer publishes status-page announcements.
type Announcer interface {
	AddAnnouncement(ctx context.Context, a deckhand.Announcement) (int64, error)
}

// Refresher re-collects a host right after an action changed it.
type Refresher interface {
	Refresh(ctx context.Context, host string)
}

// Intents records deliberate actions (the store), so that a stop or a
// removal through deckhand is shown as what it was instead of paging.
type Intents interface {
	Intents(ctx context.Context) ([]deckhand.Intent, error)
	PutIntent(ctx context.Context, i deckhand.Intent) error
	DeleteIntent(ctx context.Context, host, container string, upTo time.Time) error
}

// UsedTokens remembers the single-use button tokens already spent (the
// store), so that a replayed or retried press acts once, across restarts of
// deckhand too.
type UsedTokens interface {
	// UseToken records id as used until expires and reports whether this
	// call was the first to do so.
	UseToken(ctx context.Context, id string, expires time.Time) (first bool, err error)
}

// Deps are the router's collaborators. Inventory, Docker and Audit are
// required; a nil Alerts, Hosts or Announcer disables the commands that need
// it; Refresher and Intents are optional (without Intents, a stop through
// deckhand pages like any other).
type Deps struct {
	Inventory Inventory
	Docker    Docker
	Alerts    Alerts
	Audit     Audit
	Hosts     HostSwitch
	Announcer Announcer
	Refresher Refresher
	Intents   Intents
	Tokens    UsedTokens
	Health    SelfHealth
}

// SelfHealth is what is wrong with deckhand's own parts (a chat platform
// out of reach, a second poller on the Telegram token, a database that
// cannot be written): one line each, in words a person can act on, no
// secret. /status shows them.
type SelfHealth interface {
	ProblemLines() []string
}

// Config is the router's part of config.toml.
type Config struct {
	// Secret keys the button HMAC; at least MinSecretLen bytes.
	Secret []byte
	// ButtonTTL is how long alert buttons stay valid (default 24h).
	ButtonTTL time.Duration
	// ConfirmTTL is how long a confirmation can be pressed (default 2m).
	ConfirmTTL time.Duration
	// Narrow restricts a role to the listed actions. It can only remove:
	// an action above the role's level stays forbidden even when listed.
	// A role without an entry keeps every action of its level.
	Narrow map[deckhand.Role][]deckhand.Action
	// LogTail is the default /logs line count (default 100, at most MaxLogTail).
	LogTail int
	// Watch is which containers are watched (alerts.Engine.Watchlist):
	// /status lists only those that need attention.
	Watch deckhand.Watchlist `toml:"-"`
}

// MaxLogTail is the most log lines /logs fetches.
const MaxLogTail = 1000

// Validate reports every problem of the configuration as a
// *deckhand.SettingError named by its key in config.toml.
func (c Config) Validate() error {
	errs := []error{checkSecret(c.Secret)}
	bad := func(key, format string, args ...any) {
		errs = append(errs, deckhand.Invalid(key, format, args...))
	}
	if c.ButtonTTL < 0 {
		bad("commands.button_ttl", "must not be negative (got %s)", c.ButtonTTL)
	}
	if c.ConfirmTTL < 0 {
		bad("commands.confirm_ttl", "must not be negative (got %s)", c.ConfirmTTL)
	}
	if c.LogTail < 0 || c.LogTail > MaxLogTail {
		bad("commands.log_tail", "%d is out of range 1..%d", c.LogTail, MaxLogTail)
	}
	for role, actions := range c.Narrow {
		key := "commands.narrow." + role.String()
		if role < deckhand.RoleViewer || role > deckhand.RoleAdmin {
			bad(key, "narrowing for unknown role %d", role)
		}
		for _, a := range actions {
			if !a.Known() {
				errs = append(errs, &deckhand.SettingError{Key: key, Msg: fmt.Sprintf("unknown action %q", a), Err: deckhand.ErrNotWhitelisted})
			}
		}
	}
	return errors.Join(errs...)
}

// Options are the router's ambient dependencies.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time
	Rand   io.Reader // confirmation ids; crypto/rand by default
}

// Router turns requests and button presses into actions and replies.
type Router struct {
	deps   Deps
	cfg    Config
	log    *slog.Logger
	now    func() time.Time
	rand   io.Reader
	signer *Signer
	narrow map[deckhand.Role]map[deckhand.Action]bool
	specs  []Spec
	byName map[string]*Spec

	lockMu sync.Mutex
	locks  map[string]struct{} // "host\x00container" of actions in flight

	pendMu  sync.Mutex
	pending map[string]pendingAction

	spent spentTokens
}

// NewRouter validates cfg and builds a Router.
func NewRouter(deps Deps, cfg Config, opts Options) (*Router, error) {
	if deps.Inventory == nil || deps.Docker == nil || deps.Audit == nil {
		return nil, fmt.Errorf("commands: inventory, docker and audit are required: %w", deckhand.ErrInvalidInput)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("commands: %w", err)
	}
	signer, err := NewSigner(cfg.Secret, opts.Now)
	if err != nil {
		return nil, fmt.Errorf("commands: %w", err)
	}
	if cfg.ButtonTTL <= 0 {
		cfg.ButtonTTL = 24 * time.Hour
	}
	if cfg.ConfirmTTL <= 0 {
		cfg.ConfirmTTL = 2 * time.Minute
	}
	if cfg.LogTail == 0 {
		cfg.LogTail = 100
	}
	narrow := make(map[deckhand.Role]map[deckhand.Action]bool, len(cfg.Narrow))
	for role, actions := range cfg.Narrow {
		set := make(map[deckhand.Action]bool, len(actions))
		for _, a := range actions {
			if a.MinRole() > role {
				// Listing cannot widen; say so once instead of failing start-up.
				opts.Logger.Warn("narrowing lists an action above the role's level; it stays forbidden",
					"role", role.String(), "action", string(a))
			}
			set[a] = true
		}
		narrow[role] = set
	}
	r := &Router{
		deps: deps, cfg: cfg, log: opts.Logger, now: opts.Now, rand: opts.Rand,
		signer: signer, narrow: narrow,
		locks:   make(map[string]struct{}),
		pending: make(map[string]pendingAction),
	}
	r.specs = r.buildSpecs()
	r.byName = make(map[string]*Spec, len(r.specs))
	for i := range r.specs {
		r.byName[r.specs[i].Name] = &r.specs[i]
	}
	return r, nil
}

// Signer exposes the router's signer so other callback paths (ntfy) mint
// and check tokens with the same key.
func (r *Router) Signer() *Signer { return r.signer }

// Allowed reports whether the actor's role permits the action: the action
// is whitelisted, the role reaches its minimum, and config narrowing (if
// any for that role) lists it. Host scope and protection are checked
// separately because they depend on the target.
func (r *Router) Allowed(actor deckhand.Actor, a deckhand.Action) bool {
	if !a.Known() || actor.Role < a.MinRole() || actor.Role > deckhand.RoleAdmin {
		return false
	}
	if a == deckhand.ActionHelp {
		return true
	}
	if set, ok := r.narrow[actor.Role]; ok {
		return set[a]
	}
	return true
}

const refusalNoRole = "You don't have a deckhand role here; ask an admin to map your user or role."

// call is one attempt in progress: it carries what the audit line needs.
type call struct {
	actor  deckhand.Actor
	action deckhand.Action
	host   string
	target string
	start  time.Time
	// automatic is set by Act only: deckhand acting on its own, never a
	// request from a chat, ntfy or exec.
	automatic bool
	// spend, when set, spends the single-use token behind a button press;
	// runAction calls it once it holds the container's lock.
	spend func(context.Context) error
}

// replyErr is an error that carries the reply to show.
type replyErr struct {
	reply  Reply
	result string // audit result
	err    error
}

func (e *replyErr) Error() string { return e.err.Error() }
func (e *replyErr) Unwrap() error { return e.err }

func fail(result string, err error, format string, args ...any) error {
	return &replyErr{reply: Reply{Text: fmt.Sprintf(format, args...), Error: true, Ephemeral: true}, result: result, err: err}
}

func denied(format string, args ...any) error {
	return fail("denied", deckhand.ErrForbidden, format, args...)
}

func invalid(format string, args ...any) error {
	return fail("error", deckhand.ErrInvalidInput, format, args...)
}

// Handle runs one command and always returns a reply; it never panics on
// user input.
func (r *Router) Handle(ctx context.Context, req Request) (reply Reply) {
	c := &call{actor: req.Actor, start: r.now()}
	name := normalizeCommand(strings.TrimSpace(req.Command))
	spec, ok := r.byName[name]
	if !ok {
		c.action = deckhand.Action("unknown")
		c.target = truncate(name, 32)
		if !validCommandName(name) {
			c.target = "?"
		}
		rep := Reply{Text: fmt.Sprintf("Unknown command %s, try /help.", display("/"+name)), Error: true, Ephemeral: true}
		if req.Actor.Role == deckhand.RoleNone {
			rep.Text = refusalNoRole
			r.audit(ctx, c, "denied", "unmapped user, unknown command")
			return rep
		}
		r.audit(ctx, c, "error", "unknown command")
		return rep
	}
	c.action = spec.Action
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("command panicked", "action", string(c.action), "panic", fmt.Sprint(p))
			r.audit(ctx, c, "error", "internal error")
			reply = Reply{Text: "Internal error; the details are in deckhand's log.", Error: true, Ephemeral: true}
		}
	}()
	if req.Actor.Role == deckhand.RoleNone {
		r.audit(ctx, c, "denied", "unmapped user")
		return Reply{Text: refusalNoRole, Error: true, Ephemeral: true}
	}
	if !r.Allowed(req.Actor, spec.Action) {
		r.audit(ctx, c, "denied", "role "+req.Actor.Role.String())
		return Reply{Text: fmt.Sprintf("Your role (%s) may not use /%s.", req.Actor.Role, spec.Name), Error: true, Ephemeral: true}
	}
	args, err := spec.checkArgs(req.Args)
	if err != nil {
		return r.finish(ctx, c, Reply{}, err)
	}
	rep, err := spec.run(r, ctx, c, args)
	return r.finish(ctx, c, rep, err)
}

// finish audits the outcome and turns an error into a reply.
func (r *Router) finish(ctx context.Context, c *call, rep Reply, err error) Reply {
	if err == nil {
		result := "ok"
		if len(rep.Buttons) > 0 && c.action.NeedsConfirmation() {
			result = "pending_confirmation"
		}
		r.audit(ctx, c, result, "")
		return bound(rep)
	}
	var re *replyErr
	if errors.As(err, &re) {
		r.audit(ctx, c, re.result, re.err.Error())
		return bound(re.reply)
	}
	detail := err.Error()
	switch {
	case errors.Is(err, deckhand.ErrBusy):
		r.audit(ctx, c, "denied", "busy")
		return Reply{Text: fmt.Sprintf("An action on %s is already in progress; try again in a moment.", display(c.host+"/"+c.target)), Error: true, Ephemeral: true}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		r.audit(ctx, c, "cancelled", detail)
		return Reply{Text: "The request was cancelled before it finished.", Error: true, Ephemeral: true}
	}
	r.log.Warn("command failed", "action", string(c.action), "host", c.host, "target", c.target, "err", err)
	r.audit(ctx, c, "error", detail)
	return bound(Reply{Text: fmt.Sprintf("/%s failed: %s", c.action, errorText(err)), Error: true})
}

// errorText shortens an error for chat: the sentinel meaning is enough for
// people; the full chain is in the log and the audit row.
func errorText(err error) string {
	for _, s := range []error{deckhand.ErrTimeout, deckhand.ErrUnreachable, deckhand.ErrDaemonDown,
		deckhand.ErrPermissionDenied, deckhand.ErrDockerMissing, deckhand.ErrAuthFailed,
		deckhand.ErrHostKeyMismatch, deckhand.ErrHostKeyUnknown, deckhand.ErrNotFound,
		deckhand.ErrInvalidInput, deckhand.ErrHostDisabled} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return truncate(sanitizeLine(err.Error()), 300)
}

func (r *Router) audit(ctx context.Context, c *call, result, detail string) {
	e := deckhand.AuditEntry{
		At:       c.start,
		Actor:    c.actor,
		Action:   c.action,
		Host:     truncate(c.host, 128),
		Target:   truncate(c.target, 256),
		Result:   result,
		Detail:   truncate(detail, 512),
		Duration: r.now().Sub(c.start),
	}
	// The audit must be written even when the request's context is gone.
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := r.deps.Audit.AddAudit(actx, e); err != nil {
		r.log.Error("audit write failed", "action", string(c.action), "actor", c.actor.String(), "err", err)
	}
}

// lock takes the per-container action locks, all or nothing.
func (r *Router) lock(host string, containers ...string) (unlock func(), err error) {
	r.lockMu.Lock()
	defer r.lockMu.Unlock()
	for _, c := range containers {
		if _, busy := r.locks[host+"\x00"+c]; busy {
			return nil, fmt.Errorf("%s/%s: %w", host, c, deckhand.ErrBusy)
		}
	}
	for _, c := range containers {
		r.locks[host+"\x00"+c] = struct{}{}
	}
	return func() {
		r.lockMu.Lock()
		defer r.lockMu.Unlock()
		for _, c := range containers {
			delete(r.locks, host+"\x00"+c)
		}
	}, nil
}

func containsHost(hosts []deckhand.Host, name string) (deckhand.Host, bool) {
	i := slices.IndexFunc(hosts, func(h deckhand.Host) bool { return h.Name == name })
	if i < 0 {
		return deckhand.Host{}, false
	}
	return hosts[i], true
}
