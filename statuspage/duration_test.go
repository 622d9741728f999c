package statuspage

import (
	"strings"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
)

// The page quotes durations in the one format of every surface (a chat
// recovery says "2h5m", so does the tooltip of the same outage).
func TestOutageDurationInTheOneFormat(t *testing.T) {
	start := time.Date(2026, 3, 1, 14, 2, 0, 0, time.UTC)
	got := outageText(deckhand.Outage{Start: start, End: start.Add(2*time.Hour + 5*time.Minute)})
	if want := "(" + deckhand.HumanDuration(2*time.Hour+5*time.Minute) + ")"; !strings.HasSuffix(got, want) {
		t.Errorf("outageText = %q, want it to end with %q", got, want)
	}
}
