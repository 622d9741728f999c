package collector

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/deckhand/deckhand"
)

// Transports.
const (
	TransportSSH   = "ssh"
	TransportLocal = "local"
)

// Defaults applied by New to zero fields.
const (
	DefaultConnectTimeout = 5 * time.Second
	DefaultCommandTimeout = 15 * time.Second
	DefaultKeepAlive      = 15 * time.Second
	DefaultMaxSessions    = 4
	DefaultConcurrency    = 256
	// DefaultFullConcurrency bounds full collections at once. They are not
	// urgent, and each holds a host's whole inspect, images and volumes
	// output while it parses: 200 at once added 20 MB to the peak RSS of a
	// 200-host fleet; 32 at once collect it in under 2 s.
	DefaultFullConcurrency = 32
	DefaultDockerPath      = "docker"
	// maxSessionsCap stays under sshd's default MaxSessions of 10, leaving
	// room for the events stream and an operator's own session.
	maxSessionsCap = 8
)

// DefaultBackoff is the wait before each reconnection attempt after
// consecutive failures; the last value repeats.
var defaultBackoff = []time.Duration{5 * time.Second, 10 * time.Second, 30 * time.Second}

// HostConfig is one Docker host.
type HostConfig struct {
	Name      string
	Transport string // "ssh" (default) or "local"

	Address string // "host" or "host:port" (port 22 by default); ssh only
	User    string

	KeyFile  string // private key without passphrase; use the agent for protected keys
	UseAgent bool   // ssh-agent at AgentSocket, or $SSH_AUTH_SOCK
	// AgentSocket overrides $SSH_AUTH_SOCK.
	AgentSocket string

	KnownHostsFile string
	// AcceptUnknownHostKey lets deckhand connect to a host whose key is not
	// in KnownHostsFile (logged at WARN each time). A changed key is always
	// refused.
	AcceptUnknownHostKey bool

	DockerPath string // "docker" by default; Synology and macOS need /usr/local/bin/docker

	ConnectTimeout time.Duration // 5 s by default
	CommandTimeout time.Duration // 15 s by default
	KeepAlive      time.Duration // 15 s by default; negative disables
	MaxSessions    int           // concurrent SSH sessions, 4 by default

	// Labels narrows what deckhand sees of the host to the containers that
	// carry every one of these labels ("key" or "key=value"), as docker's
	// own `--filter label=…` does for ps and events: on an engine shared
	// with others, deckhand watches, shows and acts on only its part.
	Labels []string

	Enabled bool
}

// Options configures a Collector.
type Options struct {
	Logger      *slog.Logger
	Concurrency int // hosts collected in parallel by CollectAll, DefaultConcurrency by default
	// FullConcurrency is how many full collections (Collect with full) run
	// at once, over every caller; DefaultFullConcurrency by default.
	FullConcurrency int
	Now             func() time.Time
	// Backoff is the wait before reconnecting after 1, 2, 3… consecutive
	// failures; the last value repeats. 5 s, 10 s, 30 s by default.
	Backoff []time.Duration
}

var (
	reHostName   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`)
	reDockerPath = regexp.MustCompile(`^[A-Za-z0-9_./+-]+$`)
)

// MaxConcurrency bounds Options.Concurrency and FullConcurrency.
const MaxConcurrency = 1024

// Validate checks the options a config file sets, naming them as
// [collector] does.
func (o Options) Validate() error {
	var errs []error
	for _, f := range []struct {
		key string
		n   int
	}{{"collector.concurrency", o.Concurrency}, {"collector.full_concurrency", o.FullConcurrency}} {
		if f.n < 0 || f.n > MaxConcurrency {
			errs = append(errs, deckhand.Invalid(f.key, "%d is out of range 1..%d", f.n, MaxConcurrency))
		}
	}
	return errors.Join(errs...)
}

// WithDefaults fills the zero fields that have a default: the transport,
// the docker path, an ssh address's port, the timeouts and the session
// bound.
func (h HostConfig) WithDefaults() HostConfig {
	if h.Transport == "" {
		h.Transport = TransportSSH
	}
	if h.DockerPath == "" {
		h.DockerPath = DefaultDockerPath
	}
	if h.Transport == TransportSSH && h.Address != "" {
		if _, _, err := net.SplitHostPort(h.Address); err != nil {
			h.Address = net.JoinHostPort(strings.Trim(h.Address, "[]"), "22")
		}
	}
	if h.ConnectTimeout <= 0 {
		h.ConnectTimeout = DefaultConnectTimeout
	}
	if h.CommandTimeout <= 0 {
		h.CommandTimeout = DefaultCommandTimeout
	}
	if h.KeepAlive == 0 {
		h.KeepAlive = DefaultKeepAlive
	}
	if h.MaxSessions == 0 {
		h.MaxSessions = DefaultMaxSessions
	}
	return h
}

// ValidateHosts reports every problem of a host list, each named by its
// key in config.toml ("hosts[1].address"). Defaults are applied first, so
// an empty transport is ssh.
func ValidateHosts(hosts []HostConfig) error {
	var errs []error
	seen := map[string]int{}
	for i, h := range hosts {
		h = h.WithDefaults()
		key := fmt.Sprintf("hosts[%d]", i)
		errs = append(errs, h.validate(key))
		if j, dup := seen[h.Name]; dup {
			errs = append(errs, deckhand.Invalid(key+".name", "duplicate host name %q (also hosts[%d])", h.Name, j))
		} else {
			seen[h.Name] = i
		}
	}
	return errors.Join(errs...)
}

// validate checks one host with defaults applied; key is where it is
// written ("hosts[0]").
func (h HostConfig) validate(key string) error {
	var errs []error
	bad := func(field, format string, a ...any) {
		errs = append(errs, deckhand.Invalid(key+field, format, a...))
	}
	if !reHostName.MatchString(h.Name) {
		bad(".name", "%q must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit", h.Name)
	}
	// The docker path is the first word of the remote command line: a "="
	// there would make the shell read an assignment, a "-" an option.
	if !reDockerPath.MatchString(h.DockerPath) || (h.DockerPath != DefaultDockerPath && !strings.HasPrefix(h.DockerPath, "/")) {
		bad(".docker_path", "%q must be \"docker\" or an absolute path such as /usr/local/bin/docker, of letters, digits and ./_+-", h.DockerPath)
	}
	for j, l := range h.Labels {
		if k, _, _ := strings.Cut(l, "="); strings.TrimSpace(k) == "" || strings.ContainsAny(l, "\x00\r\n") {
			bad(fmt.Sprintf(".labels[%d]", j), "%q is not key or key=value", l)
		}
	}
	if h.MaxSessions < 1 || h.MaxSessions > maxSessionsCap {
		bad(".max_sessions", "%d is out of range 1..%d (sshd allows 10 sessions per connection; deckhand keeps room for the events stream and yours)", h.MaxSessions, maxSessionsCap)
	}
	switch h.Transport {
	case TransportLocal:
		if h.Address != "" || h.User != "" || h.KeyFile != "" {
			bad("", "address, user and key_file are for transport = \"ssh\"; a local host runs the docker CLI here")
		}
	case TransportSSH:
		h.validateSSH(bad)
	default:
		bad(".transport", "%q is not \"ssh\" or \"local\"", h.Transport)
	}
	return errors.Join(errs...)
}

func (h HostConfig) validateSSH(bad func(field, format string, a ...any)) {
	if h.Address == "" {
		bad(".address", "required for transport = \"ssh\" (host or host:port)")
	} else if host, port, err := net.SplitHostPort(h.Address); err != nil || host == "" {
		bad(".address", "%q is not host or host:port", h.Address)
	} else if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		bad(".address", "port %q is not 1..65535", port)
	}
	if h.User == "" {
		bad(".user", "required for transport = \"ssh\"")
	}
	if h.KeyFile == "" && !h.UseAgent {
		bad("", "set key_file or use_agent = true: deckhand authenticates with keys only")
	}
	if h.KnownHostsFile == "" && !h.AcceptUnknownHostKey {
		bad(".known_hosts", "required (e.g. ~/.ssh/known_hosts); to trust a host's key on first use set accept_unknown_host_key = true")
	}
}
