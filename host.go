package deckhand

import "time"

// HostStatus says whether a host was collected and, if not, why.
type HostStatus string

const (
	HostUnknown          HostStatus = "unknown" // never collected yet
	HostOK               HostStatus = "ok"
	HostUnreachable      HostStatus = "unreachable"
	HostAuthFailed       HostStatus = "auth_failed"
	HostKeyMismatch      HostStatus = "host_key_mismatch"
	HostKeyUnknown       HostStatus = "host_key_unknown"
	HostTimeout          HostStatus = "timeout"
	HostDockerMissing    HostStatus = "docker_missing"
	HostDaemonDown       HostStatus = "daemon_down"
	HostPermissionDenied HostStatus = "permission_denied"
	HostBadOutput        HostStatus = "bad_output"
	HostDisabled         HostStatus = "disabled"
	HostError            HostStatus = "error"
)

// Reachable reports whether deckhand could talk to the host's machine at all
// (SSH up). A daemon that is down still counts as reachable.
func (s HostStatus) Reachable() bool {
	switch s {
	case HostOK, HostDockerMissing, HostDaemonDown, HostPermissionDenied, HostBadOutput:
		return true
	}
	return false
}

// DockerUp reports whether the Docker daemon answered.
func (s HostStatus) DockerUp() bool { return s == HostOK }

// Host is one Docker host as deckhand sees it.
type Host struct {
	Name          string
	Transport     string // "ssh" or "local"
	Enabled       bool
	DockerVersion string // server version, e.g. "28.2.2"
	ClientVersion string
	APIVersion    string
	Status        HostStatus
	LastError     string    // human-readable reason of the last failure; empty when OK
	LastCollectAt time.Time // last attempt
	LastOKAt      time.Time // last successful collect
}
