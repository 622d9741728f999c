package commands

import (
	"testing"
	"time"
)

// FuzzParseDuration: /silence durations come straight from chat. Whatever
// is typed, the parser either refuses it or returns a positive duration.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"30m", "2h", "1d", "1h30m", "1w", "0s", "-5m", "9999999999d", "1.5h", "", "h", "30 m", "1d1d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err == nil && d <= 0 {
			t.Fatalf("ParseDuration(%q) = %v without error", s, d)
		}
		if err == nil && d > 100*365*24*time.Hour {
			t.Fatalf("ParseDuration(%q) = %v: overflow-sized duration accepted", s, d)
		}
	})
}
