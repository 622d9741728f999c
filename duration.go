package deckhand

import (
	"strconv"
	"time"
)

// HumanDuration prints a duration the way people say it in a chat line or
// a tooltip: 45s, 12m, 3h20m, 2d4h (two units at most, rounded down, no
// spaces). It is the one duration format of every surface: notices,
// replies and the status page, so that a recovery says the same figure
// everywhere.
func HumanDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	two := func(a int, ua string, b int, ub string) string {
		if b == 0 {
			return strconv.Itoa(a) + ua
		}
		return strconv.Itoa(a) + ua + strconv.Itoa(b) + ub
	}
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	case d < 24*time.Hour:
		return two(int(d/time.Hour), "h", int(d%time.Hour/time.Minute), "m")
	}
	return two(int(d/(24*time.Hour)), "d", int(d%(24*time.Hour)/time.Hour), "h")
}
