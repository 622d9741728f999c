package deckhand_test

import (
	"testing"
	"time"

	"github.com/deckhand/deckhand"
)

func TestHumanDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "0s"},
		{0, "0s"},
		{45*time.Second + 900*time.Millisecond, "45s"},
		{time.Minute, "1m"},
		{3*time.Minute + 59*time.Second, "3m"},
		{time.Hour, "1h"},
		{2*time.Hour + 5*time.Minute + 59*time.Second, "2h5m"},
		{23*time.Hour + 59*time.Minute, "23h59m"},
		{26 * time.Hour, "1d2h"},
		{72 * time.Hour, "3d"},
	} {
		if got := deckhand.HumanDuration(tc.d); got != tc.want {
			t.Errorf("HumanDuration(%s) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
