package main

import (
	"context"
	"log/slog"
	"math"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

func TestByteSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"80MiB", 80 << 20, true}, {"1GiB", 1 << 30, true}, {"512 MiB", 512 << 20, true}, {"500MB", 500e6, true},
		{"4096", 4096, true}, {"0", 0, true}, {"12KiB", 12 << 10, true},
		{"-1MiB", 0, false}, {"lots", 0, false}, {"1.5GiB", 0, false}, {"80 megs", 0, false}, {"", 0, false},
	} {
		var b byteSize
		err := b.UnmarshalText([]byte(tc.in))
		if (err == nil) != tc.ok || (tc.ok && b.n != tc.want) {
			t.Errorf("%q: %d, %v; want %d (ok %v)", tc.in, b.n, err, tc.want, tc.ok)
		}
	}
}

func TestMemoryLimitKeyNamesLine(t *testing.T) {
	_, err := parseConfig("c.toml", []byte("memory_limit = 80\n\n[[hosts]]\nname = \"a\"\ntransport = \"local\"\n"))
	if err == nil || !strings.Contains(err.Error(), "c.toml:1: memory_limit: want a size in quotes") {
		t.Errorf("err = %v", err)
	}
	_, err = parseConfig("c.toml", []byte("memory_limit = \"80 megs\"\n\n[[hosts]]\nname = \"a\"\ntransport = \"local\"\n"))
	if err == nil || !strings.Contains(err.Error(), "c.toml:1: memory_limit: \"80 megs\" is not a size") {
		t.Errorf("err = %v", err)
	}
}

// A default limit below what the fleet keeps live would make the garbage
// collector run without pause: it grows instead.
func TestDefaultLimitGrowsWithWhatIsLive(t *testing.T) {
	t.Cleanup(func() { debug.SetMemoryLimit(math.MaxInt64) })
	const tiny = 1 << 20 // below any Go program's live heap plus stacks
	debug.SetMemoryLimit(tiny)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go growLimit(ctx, tiny, 10*time.Millisecond, slog.New(slog.DiscardHandler))
	deadline := time.Now().Add(10 * time.Second)
	for debug.SetMemoryLimit(-1) == tiny {
		if time.Now().After(deadline) {
			t.Fatal("the default limit stayed below what is live")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLimitForComesBackDown(t *testing.T) {
	const base = 80 << 20
	for _, tc := range []struct{ live, want int64 }{
		{10 << 20, base}, {56 << 20, base}, {70 << 20, int64(1.6 * (70 << 20))}, {40 << 20, base},
	} {
		if got := limitFor(tc.live, base); got != tc.want {
			t.Errorf("live %d MiB: limit %d, want %d", tc.live>>20, got, tc.want)
		}
	}
}
