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
