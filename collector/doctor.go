package collector

import (
	"context"
	"fmt"

	"github.com/deckhand/deckhand"
)

// hostFixes is what to do about each failing host status: the README's
// troubleshooting table, in the words `deckhand doctor` prints.
var hostFixes = map[deckhand.HostStatus]string{
	deckhand.HostUnreachable:      "check address and port, that sshd runs and that no firewall drops the connection",
	deckhand.HostTimeout:          "the host answers too slowly or not at all: check sshd and the network, or raise connect_timeout / command_timeout",
	deckhand.HostKeyUnknown:       "add the key: ssh-keyscan -H <host> >> known_hosts (or accept_unknown_host_key = true)",
	deckhand.HostKeyMismatch:      "the host's key changed: if expected (reinstall), replace its line in known_hosts",
	deckhand.HostAuthFailed:       "add the key to ~deckhand/.ssh/authorized_keys on the host (a passphrase-protected key needs use_agent = true)",
	deckhand.HostDockerMissing:    `set docker_path (e.g. "/usr/local/bin/docker"): a non-interactive SSH session has a shorter PATH`,
	deckhand.HostPermissionDenied: "let the user use the socket: usermod -aG docker <user>, then reconnect",
	deckhand.HostDaemonDown:       "start dockerd on the host",
	deckhand.HostBadOutput:        "docker printed something deckhand cannot read: check docker_path points at the docker CLI",
	deckhand.HostError:            "run the same docker version on the host by hand and read its error",
}

// Probe checks one host the way the first collection does (connection,
// SSH handshake and host key, login, docker version, which reaches the
// daemon through its socket) and says how to fix what failed.
func (c *Collector) Probe(ctx context.Context, host string) deckhand.Check {
	subject := "host " + host
	h, err := c.host(host)
	if err != nil {
		return deckhand.Fail(subject, err.Error(), "check the host's name in the config")
	}
	if !h.cfg.Enabled {
		return deckhand.Pass(subject, "disabled, not checked")
	}
	v, err := probeVersion(ctx, h)
	if err != nil {
		status := deckhand.StatusOf(err)
		fix, ok := hostFixes[status]
		if !ok {
			fix = hostFixes[deckhand.HostError]
		}
		return deckhand.Fail(subject, err.Error(), fix)
	}
	detail := fmt.Sprintf("docker %s (API %s), socket usable", v.Server, v.API)
	if h.cfg.Transport == TransportSSH {
		detail = "tcp, ssh handshake, host key known, login, " + detail
	}
	return deckhand.Pass(subject, detail)
}
