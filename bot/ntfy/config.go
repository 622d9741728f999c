package ntfy

import (
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

// Validate reports the first setting a person must fix, naming it the way
// config.toml does.
func (c Config) Validate() error {
	if c.Topic == "" {
		return invalid("ntfy.topic is required")
	}
	if !topicPattern.MatchString(c.Topic) {
		return invalid("ntfy.topic %q must be 1 to 64 letters, digits, '-' or '_'", c.Topic)
	}
	if c.Server != "" {
		if err := checkURL("ntfy.server", c.Server, false); err != nil {
			return err
		}
	}
	if c.Token != "" && (c.User != "" || c.Password != "") {
		return invalid("ntfy: set either token or user/password, not both")
	}
	if (c.User == "") != (c.Password == "") {
		return invalid("ntfy: user and password go together")
	}
	if strings.ContainsFunc(c.Token, badHeaderRune) {
		return invalid("ntfy.token contains spaces or control characters")
	}
	if strings.ContainsFunc(c.User, badHeaderRune) || strings.Contains(c.User, ":") {
		return invalid("ntfy.user contains ':', spaces or control characters")
	}
	for sev, p := range c.Priority {
		if _, ok := defaultPriority[sev]; !ok {
			return invalid("ntfy.priority: unknown severity %q (want warning, error, critical, recovered or info)", sev)
		}
		if p < 1 || p > 5 {
			return invalid("ntfy.priority.%s = %d: must be 1 (min) to 5 (urgent)", sev, p)
		}
	}
	if c.ClickURL != "" {
		if err := checkURL("ntfy.click_url", c.ClickURL, true); err != nil {
			return err
		}
	}
	if c.Actions {
		if c.ActionBaseURL == "" {
			return invalid("ntfy.action_base_url is required when ntfy.actions is on: the phone must reach deckhand to press a button")
		}
		if err := checkURL("ntfy.action_base_url", c.ActionBaseURL, false); err != nil {
			return err
		}
	}
	if c.Timeout < 0 {
		return invalid("ntfy.timeout must not be negative")
	}
	return nil
}

// LogValue keeps the secrets out of structured logs.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("server", c.server()),
		slog.String("topic", c.Topic),
		slog.Bool("token", c.Token != ""),
		slog.String("user", c.User),
		slog.Bool("actions", c.Actions),
	)
}

// String keeps the secrets out of fmt output.
func (c Config) String() string {
	return fmt.Sprintf("ntfy{server=%s topic=%s token=%t user=%q actions=%t}", c.server(), c.Topic, c.Token != "", c.User, c.Actions)
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
func checkURL(name, raw string, allowQuery bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return invalid("%s: not a URL", name)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return invalid("%s %q must start with http:// or https://", name, raw)
	case u.Host == "":
		return invalid("%s %q has no host", name, raw)
	case u.User != nil:
		return invalid("%s must not contain credentials: use ntfy.token or ntfy.user/password", name)
	case !allowQuery && (u.RawQuery != "" || u.Fragment != ""):
		return invalid("%s %q must not have a query or fragment", name, raw)
	}
	return nil
}

func badHeaderRune(r rune) bool { return r <= ' ' || r == 0x7f }

func invalid(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, deckhand.ErrInvalidInput)...)
}
