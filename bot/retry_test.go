package bot

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestRetryKeepsTryingUntilItWorks(t *testing.T) {
	calls := 0
	var waits []time.Duration
	err := Retry(context.Background(), Backoff{Min: time.Millisecond, Max: 4 * time.Millisecond}, func(context.Context) error {
		calls++
		if calls < 6 {
			return errors.New("unreachable")
		}
		return nil
	}, func(err error, n int, next time.Duration) { waits = append(waits, next) })
	if err != nil || calls != 6 || len(waits) != 5 {
		t.Fatalf("err=%v calls=%d waits=%v", err, calls, waits)
	}
	for i, w := range waits {
		limit := min(time.Millisecond<<i, 4*time.Millisecond)
		if w > limit || w < limit*4/5 {
			t.Errorf("wait %d = %s, want within [%s, %s]", i+1, w, limit*4/5, limit)
		}
	}
}

func TestRetryEndsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	err := Retry(ctx, Backoff{Min: time.Hour, Max: time.Hour}, func(context.Context) error {
		return errors.New("down")
	}, func(error, int, time.Duration) { cancel() })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

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
