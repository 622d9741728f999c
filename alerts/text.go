package alerts

// The words of an alert's Message live here. The words of its notices are
// the bot's (bot.Renderer): the engine hands it facts only.

import (
	"fmt"
	"strings"

	"github.com/deckhand/deckhand"
)

// subject names what an alert is about: "nas/jellyfin" or "host nas".
func subject(k deckhand.AlertKey) string {
	if k.Container == "" {
		return "host " + k.Host
	}
	return k.Host + "/" + k.Container
}

// downReason describes a container that is not running though it should.
func downReason(c deckhand.Container) string {
	switch c.State {
	case deckhand.StateExited:
		return fmt.Sprintf("exited %d", c.ExitCode)
	case deckhand.StateCreated:
		return "created, not started"
	case "":
		return "unknown state"
	}
	return string(c.State)
}

// hostCause keeps the collector's reason short and on one line.
func hostCause(s deckhand.Snapshot, status deckhand.HostStatus) string {
	msg := s.Host.LastError
	if s.Err != nil {
		msg = s.Err.Error()
	}
	if msg == "" {
		msg = strings.ReplaceAll(string(status), "_", " ")
	}
	return clip(msg)
}

func oneLine(err error) string { return clip(err.Error()) }

// clip keeps a cause on one line and short enough for a chat message.
func clip(msg string) string {
	msg = strings.Join(strings.Fields(msg), " ")
	const maxCause = 200
	if r := []rune(msg); len(r) > maxCause {
		msg = string(r[:maxCause-1]) + "…"
	}
	return msg
}
