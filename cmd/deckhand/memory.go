package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"
)

// defaultMemoryLimit is the Go runtime's soft memory limit unless the
// config or GOMEMLIMIT says otherwise. deckhand runs on Raspberry Pis and
// small VMs: without a limit, Go lets the heap grow to twice what is live
// before collecting, which on a 200-host fleet made the daemon's resident
// memory half garbage (168 MB peak, 41 MB live). The limit only binds on
// large fleets (a homelab's daemon lives in a fraction of it), where the
// collector then runs more often instead of the heap growing: at 200 hosts
// × 40 containers, a quarter more CPU for 40 % less memory.
const defaultMemoryLimit = 80 << 20

// A limit close to what is live makes the garbage collector run without
// pause (up to half the CPU). Past limitRoom of the default live, the
// limit is limitGrowth times what is live: a fleet larger than the default
// was sized for costs memory, never a stalled daemon. A limit set in the
// config or GOMEMLIMIT is the owner's and stays.
const (
	limitRoom   = 0.7
	limitGrowth = 1.6
)

// sizeExamples ends every message about a size.
const sizeExamples = `e.g. "80MiB", "512MiB", "1GiB", or "0" for no limit`

// byteSize is a size in the config file: "80MiB", "1GiB", "500MB", "0".
type byteSize struct {
	n   int64
	set bool
}

func (b *byteSize) UnmarshalText(text []byte) error {
	s := strings.TrimSpace(string(text))
	bad := fmt.Errorf("%q is not a size: want %s", s, sizeExamples)
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"kB", 1e3}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}, {"", 1}}
	for _, u := range units {
		num, ok := strings.CutSuffix(s, u.suffix)
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
		if err != nil || n < 0 || n > (1<<62)/u.mult {
			return bad
		}
		b.n, b.set = n*u.mult, true
		return nil
	}
	return bad
}

// applyMemoryLimit sets the runtime's soft memory limit: GOMEMLIMIT in the
// environment wins (the runtime read it already), then memory_limit, then
// the default, which grows with the fleet until ctx ends. "0" turns the
// limit off.
func applyMemoryLimit(ctx context.Context, cfg *fileConfig, log *slog.Logger) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	limit := int64(defaultMemoryLimit)
	if cfg.MemoryLimit.set {
		limit = cfg.MemoryLimit.n
	}
	if limit == 0 {
		return
	}
	debug.SetMemoryLimit(limit)
	log.Debug("soft memory limit", "bytes", limit)
	if !cfg.MemoryLimit.set {
		go growLimit(ctx, limit, 5*time.Second, log)
	}
}

// growLimit raises the default limit when what is live nears it.
func growLimit(ctx context.Context, base int64, every time.Duration, log *slog.Logger) {
	limit := base
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/stacks:bytes"}}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		metrics.Read(sample)
		live := int64(sample[0].Value.Uint64() + sample[1].Value.Uint64())
		next := limitFor(live, base)
		if next == limit {
			continue
		}
		if next > limit {
			log.Info("memory limit raised: the fleet needs more than the default; set memory_limit to choose", "live_bytes", live, "limit_bytes", next)
		}
		limit = next
		debug.SetMemoryLimit(limit)
	}
}

// limitFor is the default limit for what is live: the base, or room above
// what is live once that nears the base. It comes back down when what was
// live at start (every host's first collection at once) is gone.
func limitFor(live, base int64) int64 {
	if float64(live) <= limitRoom*float64(base) {
		return base
	}
	return int64(limitGrowth * float64(live))
}
