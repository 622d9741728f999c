package deckhand

import "errors"

// Host-level failures, classified by the collector so that the store, the
// alerts and the status page can say why a host is not collected.
var (
	ErrUnreachable      = errors.New("host unreachable")
	ErrAuthFailed       = errors.New("ssh authentication failed")
	ErrHostKeyMismatch  = errors.New("ssh host key mismatch")
	ErrHostKeyUnknown   = errors.New("ssh host key unknown")
	ErrDockerMissing    = errors.New("docker cli not found")
	ErrDaemonDown       = errors.New("docker daemon unreachable")
	ErrPermissionDenied = errors.New("permission denied on the docker socket")
	ErrTimeout          = errors.New("timed out")
	ErrBadOutput        = errors.New("unparseable docker output")
)

// Errors of the command and action side.
var (
	ErrNotFound       = errors.New("not found")
	ErrAmbiguous      = errors.New("ambiguous reference")
	ErrForbidden      = errors.New("forbidden")
	ErrBusy           = errors.New("an action is already in progress")
	ErrExpired        = errors.New("expired")
	ErrAlreadyUsed    = errors.New("already used") // a single-use token pressed again
	ErrBadSignature   = errors.New("bad signature")
	ErrInvalidInput   = errors.New("invalid input")
	ErrHostDisabled   = errors.New("host disabled")
	ErrNotWhitelisted = errors.New("action not allowed")
)

// StatusOf maps a collection error to the host status that records it.
// A nil error is HostOK; an error the collector did not classify is
// HostError.
func StatusOf(err error) HostStatus {
	switch {
	case err == nil:
		return HostOK
	case errors.Is(err, ErrHostKeyMismatch):
		return HostKeyMismatch
	case errors.Is(err, ErrHostKeyUnknown):
		return HostKeyUnknown
	case errors.Is(err, ErrAuthFailed):
		return HostAuthFailed
	case errors.Is(err, ErrTimeout):
		return HostTimeout
	case errors.Is(err, ErrUnreachable):
		return HostUnreachable
	case errors.Is(err, ErrDockerMissing):
		return HostDockerMissing
	case errors.Is(err, ErrPermissionDenied):
		return HostPermissionDenied
	case errors.Is(err, ErrDaemonDown):
		return HostDaemonDown
	case errors.Is(err, ErrBadOutput):
		return HostBadOutput
	case errors.Is(err, ErrHostDisabled):
		return HostDisabled
	default:
		return HostError
	}
}
