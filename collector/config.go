package collector

import (
	"fmt"
	"log/slog"
	"net"
	"regexp"
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

// normalize validates h and fills defaults.
func (h HostConfig) normalize() (HostConfig, error) {
	bad := func(format string, a ...any) (HostConfig, error) {
		return h, fmt.Errorf("host %q: %s: %w", h.Name, fmt.Sprintf(format, a...), deckhand.ErrInvalidInput)
	}
	if !reHostName.MatchString(h.Name) {
		return bad("name must be letters, digits, '.', '_' or '-'")
	}
	if h.Transport == "" {
		h.Transport = TransportSSH
	}
	if h.DockerPath == "" {
		h.DockerPath = DefaultDockerPath
	}
	// The docker path is the first word of the remote command line: a "="
	// there would make the shell read an assignment.
	if !reDockerPath.MatchString(h.DockerPath) || strings.HasPrefix(h.DockerPath, "-") {
		return bad("docker_path %q must be a plain path", h.DockerPath)
	}
	for _, l := range h.Labels {
		if key, _, _ := strings.Cut(l, "="); strings.TrimSpace(key) == "" || strings.ContainsAny(l, "\x00\r\n") {
			return bad("labels entry %q is not key or key=value", l)
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
	if h.MaxSessions <= 0 {
		h.MaxSessions = DefaultMaxSessions
	}
	if h.MaxSessions > maxSessionsCap {
		h.MaxSessions = maxSessionsCap
	}
	switch h.Transport {
	case TransportLocal:
		return h, nil
	case TransportSSH:
	default:
		return bad("transport %q is not ssh or local", h.Transport)
	}
	if h.Address == "" {
		return bad("address is required for ssh")
	}
	if _, _, err := net.SplitHostPort(h.Address); err != nil {
		h.Address = net.JoinHostPort(strings.Trim(h.Address, "[]"), "22")
	}
	if host, port, err := net.SplitHostPort(h.Address); err != nil || host == "" || port == "" {
		return bad("address %q is not host or host:port", h.Address)
	}
	if h.User == "" {
		return bad("user is required for ssh")
	}
	if h.KeyFile == "" && !h.UseAgent {
		return bad("set key_file or use_agent")
	}
	if h.KnownHostsFile == "" && !h.AcceptUnknownHostKey {
		return bad("known_hosts_file is required unless accept_unknown_host_key is set")
	}
	return h, nil
}
