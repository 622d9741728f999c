package bot

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/deckhand/deckhand/internal/logtest"
)

// A delivery is logged at debug level as the "delivered" hop of the path
// from a container's death to the phone, naming the container, so that
// cmd/deckhand-bench can time that hop from the daemon's JSON log.
func TestDeliveryIsLoggedAsTheDeliveredHop(t *testing.T) {
	ob := newMemOutbox()
	ob.add("ntfy", notice("nas", "jellyfin"))
	s := &scriptSender{platform: "ntfy"}
	var logs logtest.Buffer
	d := NewDispatcher(ob, []Sender{s}, DispatcherOptions{Poll: 5 * time.Millisecond,
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	stop := run(t, d)
	waitUntil(t, 10*time.Second, "the delivery", func() bool { return len(s.delivered()) == 1 })
	stop()
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if rec["hop"] == "delivered" {
			if rec["host"] != "nas" || rec["container"] != "jellyfin" || rec["platform"] != "ntfy" || rec["kind"] != "opened" {
				t.Errorf("delivered hop without its container or platform: %s", line)
			}
			return
		}
	}
	t.Errorf("no delivered hop in the log:\n%s", logs.String())
}
