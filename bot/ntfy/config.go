package ntfy

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/bot"
)

// DefaultServer is the public ntfy instance.
const DefaultServer = "https://ntfy.sh"

// DefaultTimeout bounds one publish when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

var topicPattern = regexp.MustCompile(`^[-_A-Za-z0-9]{1,64}$`)

// Config is the [ntfy] section of config.toml.
type Config struct {
	Server string // default https://ntfy.sh
	Topic  string
	// Token is an ntfy access token (tk_…), sent as a Bearer token. It is a
	// secret: never logged, redacted by LogValue and String.
	Token string
	// User and Password are the Basic-auth alternative to Token.
	User, Password string
	// Priority maps a rendered severity (warning, error, critical, and
	// bot.SeverityRecovered / bot.SeverityInfo) to an ntfy priority 1–5.
	// Missing entries take the defaults: warning 3, error 4, critical 5,
	// recovered 3, info 2.
	Priority map[deckhand.Severity]int
	// ClickURL is opened when the notification is tapped: the status page.
	ClickURL string
	// Actions adds Restart / Ack buttons to open alerts. The phone performs
	// them, so ActionBaseURL must be reachable from the phone.
	Actions bool
	// ActionBaseURL is deckhand's public URL; buttons POST to
	// <ActionBaseURL>/hooks/ntfy?t=<signed token>.
	ActionBaseURL string
	Timeout       time.Duration // default 10s
}

var defaultPriority = map[deckhand.Severity]int{
	deckhand.SeverityWarning:  3,
	deckhand.SeverityError:    4,
	deckhand.SeverityCritical: 5,
	bot.SeverityRecovered:     3,
	bot.SeverityInfo:          2,
}

// Validate reports every problem of the configuration as a
// *deckhand.SettingError named by its key in config.toml ("ntfy.topic").
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, deckhand.Invalid(key, format, args...))
	}
	switch {
	case c.Topic == "":
		bad("ntfy.topic", "required")
	case !topicPattern.MatchString(c.Topic):
		bad("ntfy.topic", "%q must be 1 to 64 letters, digits, '-' or '_'", c.Topic)
	}
	if c.Server != "" {
		errs = append(errs, checkURL("ntfy.server", c.Server, false))
	}
	if c.Token != "" && (c.User != "" || c.Password != "") {
		bad("ntfy.token", "set either token or user/password, not both")
	}
	if (c.User == "") != (c.Password == "") {
		bad("ntfy.user", "user and password go together")
	}
	if strings.ContainsFunc(c.Token, badHeaderRune) {
		bad("ntfy.token", "contains spaces or control characters")
	}
	if strings.ContainsFunc(c.User, badHeaderRune) || strings.Contains(c.User, ":") {
		bad("ntfy.user", "contains ':', spaces or control characters")
	}
	for sev, p := range c.Priority {
		key := "ntfy.priority." + string(sev)
		if _, ok := defaultPriority[sev]; !ok {
			bad(key, "unknown severity (want warning, error, critical, recovered or info)")
		}
		if p < 1 || p > 5 {
			bad(key, "%d is out of range 1 (min) to 5 (urgent)", p)
		}
	}
	if c.ClickURL != "" {
		errs = append(errs, checkURL("ntfy.click_url", c.ClickURL, true))
	}
	if c.Actions {
		if c.ActionBaseURL == "" {
			bad("ntfy.action_base_url", "required when ntfy.actions is on: the phone must reach deckhand to press a button")
		} else {
			errs = append(errs, checkURL("ntfy.action_base_url", c.ActionBaseURL, false))
		}
	}
	if c.Timeout < 0 {
		bad("ntfy.timeout", "must not be negative")
	}
	return errors.Join(errs...)
}

// LogValue keeps the secrets out of structured logs.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("server", c.server()),
		slog.Bool("topic", c.Topic != ""), // the topic is a secret too
		slog.Bool("token", c.Token != ""),
		slog.String("user", c.User),
		slog.Bool("actions", c.Actions),
	)
}

// String keeps the secrets out of fmt output.
func (c Config) String() string {
	return fmt.Sprintf("ntfy{server=%s topic=%t token=%t user=%q actions=%t}", c.server(), c.Topic != "", c.Token != "", c.User, c.Actions)
}

func (c Config) server() string {
	if c.Server == "" {
		return DefaultServer
	}
	return strings.TrimRight(c.Server, "/")
}

func (c Config) timeout() time.Duration {
	if c.Timeout == 0 {
		return DefaultTimeout
	}
	return c.Timeout
}

func (c Config) priority(sev deckhand.Severity) int {
	if p, ok := c.Priority[sev]; ok {
		return p
	}
	if p, ok := defaultPriority[sev]; ok {
		return p
	}
	return 3
}

// checkURL accepts an absolute http(s) URL without credentials (they would
// end up in logs and error messages) and, unless allowQuery, without a query.
func checkURL(key, raw string, allowQuery bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return deckhand.Invalid(key, "not a URL")
	}
	switch {
	case u.User != nil: // before any message that quotes raw
		return deckhand.Invalid(key, "must not contain credentials: use ntfy.token or ntfy.user/password")
	case u.Scheme != "http" && u.Scheme != "https":
		return deckhand.Invalid(key, "%q must start with http:// or https://", raw)
	case u.Host == "":
		return deckhand.Invalid(key, "%q has no host", raw)
	case !allowQuery && (u.RawQuery != "" || u.Fragment != ""):
		return deckhand.Invalid(key, "%q must not have a query or fragment", raw)
	}
	return nil
}

func badHeaderRune(r rune) bool { return r <= ' ' || r == 0x7f }
