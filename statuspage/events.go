package statuspage

import (
	"net/http"
	"sync"
	"time"
)

// broker fans the status JSON out to /events subscribers. Each subscriber
// holds at most one pending message: the status document is complete, so a
// slow client simply skips to the newest one instead of growing a queue.
type broker struct {
	mu     sync.Mutex
	max    int
	subs   map[chan []byte]struct{}
	closed bool
	done   chan struct{}
}

func newBroker(max int) *broker {
	return &broker{max: max, subs: map[chan []byte]struct{}{}, done: make(chan struct{})}
}

// subscribe returns nil when the client limit is reached or the broker is
// closed.
func (b *broker) subscribe() chan []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || len(b.subs) >= b.max {
		return nil
	}
	ch := make(chan []byte, 1)
	b.subs[ch] = struct{}{}
	return ch
}

func (b *broker) unsubscribe(ch chan []byte) {
	b.mu.Lock()
	delete(b.subs, ch)
	b.mu.Unlock()
}

func (b *broker) publish(msg []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- msg:
		default:
			// Replace the stale pending message with the newest.
			select {
			case <-ch:
			default:
			}
			ch <- msg
		}
	}
}

func (b *broker) clients() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

func (b *broker) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.closed = true
		close(b.done)
	}
}

// serveEvents streams `event: status` with the status JSON: once on
// connect, then after every Update, with a comment line as heartbeat so that
// proxies keep the connection open.
func (p *Page) serveEvents(w http.ResponseWriter, r *http.Request) {
	ch := p.events.subscribe()
	if ch == nil {
		w.Header().Set("Retry-After", "30")
		http.Error(w, "too many live clients, try again later", http.StatusServiceUnavailable)
		return
	}
	defer p.events.unsubscribe(ch)
	rc := http.NewResponseController(w)
	// A server WriteTimeout must not cut a stream that is meant to stay open.
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	send := func(msg []byte) bool {
		if _, err := w.Write([]byte("retry: 5000\nevent: status\ndata: ")); err != nil {
			return false
		}
		if _, err := w.Write(msg); err != nil {
			return false
		}
		if _, err := w.Write([]byte("\n\n")); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send(p.current().json.body) {
		return
	}
	tick := time.NewTicker(p.heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-p.events.done:
			return
		case msg := <-ch:
			if !send(msg) {
				return
			}
		case <-tick.C:
			if _, err := w.Write([]byte(": heartbeat\n\n")); err != nil {
				return
			}
			if rc.Flush() != nil {
				return
			}
		}
	}
}
