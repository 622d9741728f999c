package main

import (
	"bufio"
	"encoding/json"
	"io"
	"time"
)

// logRecord is what the bench reads of one line of the daemon's JSON log
// (log_format = "json", log_level = "debug"): the hop attribute marks the
// steps of the path from a container's death to a notification.
type logRecord struct {
	Time      time.Time `json:"time"`
	Msg       string    `json:"msg"`
	Hop       string    `json:"hop"`
	Host      string    `json:"host"`
	Container string    `json:"container"`
	Action    string    `json:"action"`
	Kind      string    `json:"kind"`
	Took      int64     `json:"took"` // nanoseconds: slog's JSON form of a time.Duration
}

// The hops the daemon logs (monitor/host.go, monitor/evaluate.go,
// bot/dispatcher.go).
const (
	hopEventReceived = "event_received"
	hopCollectStart  = "collect_start"
	hopCollectEnd    = "collect_end"
	hopDieApplied    = "die_applied" // a container no restart policy brings back, down on its die event
	hopAlertStored   = "alert_stored"
	hopDelivered     = "delivered"
)

// readLog reads the hop records of a JSON log; other lines (and lines that
// are not JSON) are skipped.
func readLog(r io.Reader) ([]logRecord, error) {
	var out []logRecord
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		var rec logRecord
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Hop != "" {
			out = append(out, rec)
		}
	}
	return out, sc.Err()
}

// hopTimes are when each step of one crash happened; a zero time is a step
// not found in the log.
type hopTimes struct {
	name         string    // the container
	die          time.Time // the die event's own timestamp (timeNano)
	received     time.Time // the daemon read the event from its stream
	collectStart time.Time // the re-collect the event asked for began
	collectEnd   time.Time // the collection that saw the death ended, recorded
	stored       time.Time // the alert and its notice were stored
	notified     time.Time // the ntfy receiver had it
	delivered    time.Time // the daemon recorded the delivery
}

// hopsOf finds the steps of container h.name's death on host in the log:
// the first die event of name the daemon read, the first opened alert of
// name after it, the re-collect of the host that produced that alert (the
// last one to end before it), and the alert's delivery.
func hopsOf(log []logRecord, host string, h hopTimes) hopTimes {
	name := h.name
	first := func(after time.Time, match func(logRecord) bool) time.Time {
		for _, r := range log {
			if !r.Time.Before(after) && match(r) {
				return r.Time
			}
		}
		return time.Time{}
	}
	h.received = first(time.Time{}, func(r logRecord) bool {
		return r.Hop == hopEventReceived && r.Container == name && r.Action == "die"
	})
	if h.received.IsZero() {
		return h
	}
	h.stored = first(h.received, func(r logRecord) bool {
		return r.Hop == hopAlertStored && r.Container == name && r.Kind == "opened"
	})
	if h.stored.IsZero() {
		return h
	}
	if at := first(h.received, func(r logRecord) bool {
		return r.Hop == hopDieApplied && r.Container == name
	}); !at.IsZero() && !at.After(h.stored) {
		// Down on the event itself: recording it is the one step between.
		h.collectStart, h.collectEnd = h.received, at
	} else {
		h.collectStart, h.collectEnd = collectHops(log, host, h.received, h.stored)
	}
	h.delivered = first(h.stored, func(r logRecord) bool {
		return r.Hop == hopDelivered && r.Container == name && r.Kind == "opened"
	})
	return h
}

// collectHops are the start and end of the re-collect of host that
// recorded what an alert stored at stored says: the last one to end
// between the event and the alert.
func collectHops(log []logRecord, host string, received, stored time.Time) (start, end time.Time) {
	var last logRecord
	for _, r := range log {
		if r.Hop == hopCollectEnd && r.Host == host && !r.Time.Before(received) && !r.Time.After(stored) {
			last = r
		}
	}
	if last.Time.IsZero() {
		return time.Time{}, time.Time{}
	}
	return collectStart(log, host, received, last), last.Time
}

// collectStart is when the daemon began to re-collect the host for the
// event: the first start line after it (collections asked for by an
// event log one), else, for a collection a tick started, its end minus its
// duration. When that re-collect missed the change and a later poll saw
// it, the hop from start to end says so.
func collectStart(log []logRecord, host string, received time.Time, end logRecord) time.Time {
	for _, r := range log {
		if r.Hop == hopCollectStart && r.Host == host && !r.Time.Before(received) && !r.Time.After(end.Time) {
			return r.Time
		}
	}
	return end.Time.Add(-time.Duration(end.Took))
}
