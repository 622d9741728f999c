package collector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/deckhand/deckhand"
)

// Event is one container event from `docker events`.
type Event struct {
	Host        string
	ContainerID string
	Name        string
	// Action is Docker's action word: "create", "start", "die", "stop",
	// "kill", "restart", "pause", "unpause", "oom", "destroy",
	// "health_status", … A health event's "health_status: unhealthy" is split
	// into Action "health_status" and Health.
	Action   string
	Health   deckhand.Health
	ExitCode int               // from "die"; 0 otherwise
	Labels   map[string]string // the container's labels (Actor.Attributes minus Docker's own keys)
	At       time.Time
}

// eventJSON covers both shapes: up to CLI 28 events carry the legacy
// status/id/from next to Type/Action/Actor; CLI 29 dropped the legacy keys.
type eventJSON struct {
	Status string `json:"status"`
	ID     string `json:"id"`
	From   string `json:"from"`
	Type   string `json:"Type"`
	Action string `json:"Action"`
	Actor  struct {
		ID         string            `json:"ID"`
		Attributes map[string]string `json:"Attributes"`
	} `json:"Actor"`
	Time     int64 `json:"time"`
	TimeNano int64 `json:"timeNano"`
}

// errSkipEvent marks an event that is valid but of no interest (exec noise,
// non-container types).
var errSkipEvent = errors.New("event skipped")

// eventAttrs are Actor.Attributes keys Docker adds itself; the rest are the
// container's labels.
var eventAttrs = map[string]bool{"name": true, "image": true, "exitCode": true, "execID": true, "signal": true, "container": true}

// ParseEvent parses one line of `docker events --format '{{json .}}'`. It
// returns errSkipEvent for events deckhand ignores: exec_create, exec_start,
// exec_die and exec_detach, which every healthcheck probe emits, and
// non-container events.
func ParseEvent(line []byte) (Event, error) {
	var e eventJSON
	if err := json.Unmarshal(line, &e); err != nil {
		return Event{}, fmt.Errorf("docker events: %w: %v", deckhand.ErrBadOutput, err)
	}
	if e.Type != "" && e.Type != "container" {
		return Event{}, errSkipEvent
	}
	action := e.Action
	if action == "" {
		action = e.Status
	}
	id := e.Actor.ID
	if id == "" {
		id = e.ID
	}
	if action == "" || id == "" {
		return Event{}, fmt.Errorf("docker events: event without action or id: %w", deckhand.ErrBadOutput)
	}
	if strings.HasPrefix(action, "exec_") {
		return Event{}, errSkipEvent
	}
	ev := Event{ContainerID: id, Action: action, Labels: map[string]string{}}
	if a, rest, ok := strings.Cut(action, ":"); ok {
		ev.Action = strings.TrimSpace(a)
		if ev.Action == "health_status" {
			ev.Health = parseHealth(rest)
		}
		if ev.Action == "" {
			return Event{}, fmt.Errorf("docker events: empty action %q: %w", action, deckhand.ErrBadOutput)
		}
	}
	for k, v := range e.Actor.Attributes {
		if !eventAttrs[k] {
			ev.Labels[k] = v
		}
	}
	ev.Name = e.Actor.Attributes["name"]
	if c, err := strconv.Atoi(e.Actor.Attributes["exitCode"]); err == nil {
		ev.ExitCode = c
	}
	switch {
	case e.TimeNano > 0:
		ev.At = time.Unix(0, e.TimeNano).UTC()
	case e.Time > 0:
		ev.At = time.Unix(e.Time, 0).UTC()
	}
	return ev, nil
}

// Events streams container events of one host to fn until the stream ends
// or ctx is done. It returns nil when ctx ended it and a classified error
// otherwise (a stream that just ends is ErrUnreachable: the connection or
// the daemon went away). The daemon replays only its last 256 events, so
// after Events returns the caller should reconnect and collect in full.
// fn is called from one goroutine, in order.
func (c *Collector) Events(ctx context.Context, host string, fn func(Event)) error {
	h, err := c.host(host)
	if err != nil {
		return err
	}
	if !h.cfg.Enabled {
		return fmt.Errorf("docker events on %s: %w", host, deckhand.ErrHostDisabled)
	}
	argv := h.argv(append([]string{"events", "--format", jsonLineFormat, "--filter", "type=container"}, h.labelFilters()...)...)
	res, err := h.tr.Stream(ctx, argv, func(line []byte) {
		ev, err := ParseEvent(line)
		if err != nil {
			if !errors.Is(err, errSkipEvent) {
				c.log.Warn("skipping unreadable docker event", "host", host, "err", err)
			}
			return
		}
		ev.Host = host
		fn(ev)
	})
	if ctx.Err() != nil {
		return nil
	}
	if err := classify("docker events", host, h.cfg.DockerPath, res, err); err != nil {
		return err
	}
	return fmt.Errorf("docker events on %s: stream ended: %w", host, deckhand.ErrUnreachable)
}
