package collector

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/deckhand/deckhand"
)

var hostSentinels = []error{
	deckhand.ErrUnreachable, deckhand.ErrAuthFailed, deckhand.ErrHostKeyMismatch,
	deckhand.ErrHostKeyUnknown, deckhand.ErrDockerMissing, deckhand.ErrDaemonDown,
	deckhand.ErrPermissionDenied, deckhand.ErrTimeout, deckhand.ErrBadOutput,
	deckhand.ErrHostDisabled, deckhand.ErrNotFound, deckhand.ErrInvalidInput,
}

func isClassified(err error) bool {
	for _, s := range hostSentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// classify turns the outcome of one docker command into nil or an error
// whose message is fit for a person (it becomes the host's LastError) and
// which wraps the sentinel callers switch on. op is "docker ps" and the like.
func classify(op, host, dockerPath string, res result, err error) error {
	if err != nil {
		if errors.Is(err, errClosed) {
			return fmt.Errorf("%s on %s: %w", op, host, err)
		}
		// The host was refused before any command ran, and the message
		// names its address: the cause stays first, where a text cut short
		// (alerts, LastError) still shows it.
		if errors.Is(err, deckhand.ErrHostKeyMismatch) || errors.Is(err, deckhand.ErrHostKeyUnknown) {
			return err
		}
		if !isClassified(err) {
			err = fmt.Errorf("%w: %v", deckhand.ErrUnreachable, err)
		}
		return fmt.Errorf("%s on %s: %w", op, host, err)
	}
	stderr, line := string(res.Stderr), firstLine(string(res.Stderr))
	if res.Merged {
		// What a command that worked printed is its output (container
		// logs can say anything); what one that failed printed ends with
		// docker's reason.
		if res.ExitCode == 0 {
			return nil
		}
		stderr = string(res.Stdout)
		line = lastLine(stderr)
	}
	low := strings.ToLower(stderr)
	switch {
	case strings.Contains(low, "permission denied") && (strings.Contains(low, "docker daemon socket") || strings.Contains(low, "docker.sock") || strings.Contains(low, "docker api")):
		return fmt.Errorf("%s on %s: %s: %w", op, host, line, deckhand.ErrPermissionDenied)
	case strings.Contains(low, "cannot connect to the docker daemon"), strings.Contains(low, "is the docker daemon running"),
		strings.Contains(low, "error during connect"):
		return fmt.Errorf("%s on %s: %s: %w", op, host, line, deckhand.ErrDaemonDown)
	}
	if res.ExitCode == 0 {
		return nil
	}
	base := path.Base(dockerPath)
	switch {
	case res.ExitCode == 127, strings.Contains(low, "command not found"),
		strings.Contains(low, base+": not found"), strings.Contains(low, dockerPath+": no such file or directory"):
		return fmt.Errorf("%s on %s: %s not found on the host's PATH (set docker_path, e.g. /usr/local/bin/docker): %s: %w",
			op, host, dockerPath, line, deckhand.ErrDockerMissing)
	case strings.Contains(low, "no such container"), strings.Contains(low, "no such object"), strings.Contains(low, "no such image"):
		return fmt.Errorf("%s on %s: %s: %w", op, host, line, deckhand.ErrNotFound)
	}
	if line == "" {
		line = "no error message"
	}
	return fmt.Errorf("%s on %s: exit status %d: %s", op, host, res.ExitCode, line)
}

// firstLine is the first non-empty line of s, trimmed to about 200
// characters on a rune boundary.
func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return shortLine(l)
		}
	}
	return ""
}

// lastLine is the last non-empty line of s, trimmed like firstLine.
func lastLine(s string) string {
	lines := strings.Split(s, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			return shortLine(l)
		}
	}
	return ""
}

func shortLine(l string) string {
	if len(l) <= 200 {
		return l
	}
	cut := 200
	for cut > 0 && !utf8.RuneStart(l[cut]) {
		cut--
	}
	return l[:cut] + "…"
}
