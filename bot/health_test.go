package bot

import (
	"testing"
	"time"
)

func TestHealthSetAndClear(t *testing.T) {
	h := NewHealth()
	var events []bool
	h.OnChange(func(_ Problem, set bool) { events = append(events, set) })
	now := time.Unix(100, 0)
	if !h.Set("ntfy", "credentials", "ntfy rejects the token (401)", now) {
		t.Fatal("first Set is a change")
	}
	if h.Set("ntfy", "credentials", "ntfy rejects the token (403)", now.Add(time.Second)) {
		t.Fatal("a new text for the same problem is not a change")
	}
	if h.Up("ntfy") || !h.Up("telegram") {
		t.Fatalf("Up: ntfy %v telegram %v", h.Up("ntfy"), h.Up("telegram"))
	}
	ps := h.Problems()
	if len(ps) != 1 || ps[0].Text != "ntfy rejects the token (403)" || !ps[0].Since.Equal(now) {
		t.Fatalf("problems %+v", ps)
	}
	if !h.Set("ntfy", "credentials", "", now) || !h.Up("ntfy") {
		t.Fatal("clearing is a change and the platform is up again")
	}
	if h.Set("ntfy", "credentials", "", now) {
		t.Fatal("clearing twice is no change")
	}
	if len(events) != 2 || !events[0] || events[1] {
		t.Fatalf("events %v", events)
	}
}
