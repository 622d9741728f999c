package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// arrival is one thing that arrived: a notification, a docker event.
type arrival struct {
	at   time.Time // when it arrived here
	name string    // the container it is about
	text string    // what it says (ntfy)
	// stamp is the event's own timestamp (docker events' timeNano).
	stamp   time.Time
	actions []ntfyAction
}

// arrivals records what arrived, in order, for waiting on.
type arrivals struct {
	mu      sync.Mutex
	changed chan struct{}
	all     []arrival
}

func newArrivals() *arrivals { return &arrivals{changed: make(chan struct{})} }

func (a *arrivals) record(x arrival) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.all = append(a.all, x)
	close(a.changed)
	a.changed = make(chan struct{})
}

// wait returns the first arrival about name at or after since.
func (a *arrivals) wait(name string, since time.Time, timeout time.Duration) (arrival, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		a.mu.Lock()
		for _, x := range a.all {
			if x.name == name && !x.at.Before(since) {
				a.mu.Unlock()
				return x, nil
			}
		}
		ch := a.changed
		a.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			return arrival{}, fmt.Errorf("nothing about %s within %s", name, timeout)
		}
	}
}

// count is how many arrivals about name came at or after since.
func (a *arrivals) count(name string, since time.Time) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, x := range a.all {
		if x.name == name && !x.at.Before(since) {
			n++
		}
	}
	return n
}

// ntfyAction is an action button of a published message.
type ntfyAction struct {
	Action string `json:"action"`
	Label  string `json:"label"`
	URL    string `json:"url"`
	Method string `json:"method"`
}

// ntfyReceiver accepts what ntfy accepts on its JSON publishing endpoint
// (POST / with a JSON body naming its topic and carrying a message) and
// answers like ntfy; anything else is refused as ntfy would. A message is
// filed under every watched container its title or text names.
type ntfyReceiver struct {
	topic string
	*arrivals

	mu      sync.Mutex
	watched []string
}

func newNtfyReceiver(topic string) *ntfyReceiver {
	return &ntfyReceiver{topic: topic, arrivals: newArrivals()}
}

// watch files later messages naming one of names under it.
func (n *ntfyReceiver) watch(names ...string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.watched = append(n.watched, names...)
}

func (n *ntfyReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	if r.Method != http.MethodPost && r.Method != http.MethodPut || r.URL.Path != "/" {
		http.Error(w, `{"code":40401,"http":404,"error":"page not found"}`, http.StatusNotFound)
		return
	}
	var m struct {
		Topic    string       `json:"topic"`
		Title    string       `json:"title"`
		Message  string       `json:"message"`
		Priority int          `json:"priority"`
		Actions  []ntfyAction `json:"actions"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&m); err != nil || m.Topic != n.topic || m.Priority < 0 || m.Priority > 5 || len(m.Actions) > 3 {
		http.Error(w, `{"code":40024,"http":400,"error":"invalid request: request body must be valid JSON"}`, http.StatusBadRequest)
		return
	}
	text := m.Title + "\n" + m.Message
	n.mu.Lock()
	for _, name := range n.watched {
		if strings.Contains(text, name) {
			n.record(arrival{at: at, name: name, text: text, actions: m.Actions})
		}
	}
	n.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"id":"%s","time":%d,"event":"message","topic":%q}`+"\n", hex.EncodeToString(randBytes(6)), at.Unix(), m.Topic)
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// watchDockerEvents follows the local engine's die events of the bench's
// containers (label deckhand.bench=run), with their own timestamps.
func watchDockerEvents(ctx context.Context, run string) (*arrivals, error) {
	cmd := exec.CommandContext(ctx, "docker", "events", "--format", "{{json .}}", "--filter", "type=container",
		"--filter", "event=die", "--filter", "label=deckhand.bench="+run)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	a := newArrivals()
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			at := time.Now()
			var ev struct {
				TimeNano int64 `json:"timeNano"`
				Actor    struct{ Attributes map[string]string }
			}
			if json.Unmarshal(sc.Bytes(), &ev) == nil {
				a.record(arrival{at: at, name: ev.Actor.Attributes["name"], stamp: time.Unix(0, ev.TimeNano)})
			}
		}
		_ = cmd.Wait()
	}()
	return a, nil
}
