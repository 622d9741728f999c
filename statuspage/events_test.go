package statuspage

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
)

// sseEvent is one parsed server-sent event, or a comment line.
type sseEvent struct {
	event, data, comment string
}

func readEvent(t *testing.T, r *bufio.Reader) sseEvent {
	t.Helper()
	var ev sseEvent
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("read event stream: %v", err)
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if ev != (sseEvent{}) {
				return ev
			}
		case strings.HasPrefix(line, ":"):
			ev.comment = strings.TrimSpace(line[1:])
		case strings.HasPrefix(line, "event: "):
			ev.event = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			ev.data += line[len("data: "):]
		}
	}
}

func openEvents(t *testing.T, ctx context.Context, url string) (*http.Response, *bufio.Reader) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", url+"/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp, bufio.NewReader(resp.Body)
}

func TestEvents(t *testing.T) {
	p := newTestPage(t, fixtureConfig)
	p.heartbeat = 20 * time.Millisecond
	p.Update(fixtureView())
	srv := httptest.NewServer(p.Handler())
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	resp, r := openEvents(t, ctx, srv.URL)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp.Header.Get("Content-Security-Policy") == "" {
		t.Error("event stream lacks the security headers")
	}
	first := readEvent(t, r)
	if first.event != "status" || first.data != string(p.current().json.body) {
		t.Fatalf("first event = %q with %d bytes, want the current status JSON", first.event, len(first.data))
	}

	v := fixtureView()
	v.Containers[0].State = deckhand.StateExited // jellyfin stops
	p.Update(v)
	var next sseEvent
	for next.event == "" { // heartbeats may come first
		next = readEvent(t, r)
	}
	if next.event != "status" || !strings.Contains(next.data, `"name":"jellyfin","project":"media","status":"down"`) {
		t.Fatalf("event after Update = %q %s", next.event, next.data)
	}
	for {
		if ev := readEvent(t, r); ev.comment == "heartbeat" {
			break
		}
	}

	p.Close()
	if _, err := io.ReadAll(r); err != nil {
		t.Fatalf("stream did not end cleanly after Close: %v", err)
	}
}

func TestEventsClientLimit(t *testing.T) {
	cfg := fixtureConfig
	cfg.MaxEventClients = 1
	p := newTestPage(t, cfg)
	srv := httptest.NewServer(p.Handler())
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	_, r := openEvents(t, ctx, srv.URL)
	readEvent(t, r) // connected and counted
	second, _ := openEvents(t, ctx, srv.URL)
	if second.StatusCode != http.StatusServiceUnavailable || second.Header.Get("Retry-After") == "" {
		t.Fatalf("second client: status %d, Retry-After %q; want 503 with Retry-After", second.StatusCode, second.Header.Get("Retry-After"))
	}
}

// A slow client holds at most one pending message, the newest.
func TestBrokerKeepsNewestOnly(t *testing.T) {
	b := newBroker(2)
	ch := b.subscribe()
	for _, m := range []string{"1", "2", "3"} {
		b.publish([]byte(m))
	}
	if got := string(<-ch); got != "3" {
		t.Fatalf("pending message = %q, want the newest", got)
	}
	select {
	case m := <-ch:
		t.Fatalf("unexpected second pending message %q", m)
	default:
	}
	b.unsubscribe(ch)
	if b.clients() != 0 {
		t.Fatal("unsubscribe left the client counted")
	}
}
