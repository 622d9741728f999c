package ratelog

import (
	"testing"
	"time"
)

func TestEveryHoldsBackRepeats(t *testing.T) {
	e := Every{Period: time.Minute}
	t0 := time.Unix(1000, 0)
	steps := []struct {
		at         time.Duration
		ok         bool
		suppressed int
	}{{0, true, 0}, {time.Second, false, 0}, {30 * time.Second, false, 0}, {61 * time.Second, true, 2}, {62 * time.Second, false, 0}}
	for _, s := range steps {
		ok, n := e.Allow(t0.Add(s.at))
		if ok != s.ok || n != s.suppressed {
			t.Errorf("at %s: Allow = %v, %d; want %v, %d", s.at, ok, n, s.ok, s.suppressed)
		}
	}
	e.Reset()
	if ok, _ := e.Allow(t0.Add(63 * time.Second)); !ok {
		t.Error("after Reset, Allow said no")
	}
}

func TestKeyedHoldsBackEachKeyApart(t *testing.T) {
	k := Keyed{Period: time.Minute}
	t0 := time.Unix(1000, 0)
	if ok, _ := k.Allow("save snapshot", t0); !ok {
		t.Fatal("first line of a key held back")
	}
	if ok, _ := k.Allow("save snapshot", t0.Add(time.Second)); ok {
		t.Error("a repeat within the period let through")
	}
	if ok, _ := k.Allow("record availability", t0.Add(time.Second)); !ok {
		t.Error("another key's first line held back")
	}
	if ok, n := k.Allow("save snapshot", t0.Add(61*time.Second)); !ok || n != 1 {
		t.Errorf("after the period: %v, %d held back; want true, 1", ok, n)
	}
}
