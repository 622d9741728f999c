package main

import (
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// defaultMemoryLimit is the Go runtime's soft memory limit unless the
// config or GOMEMLIMIT says otherwise. deckhand runs on Raspberry Pis and
// small VMs: without a limit, Go lets the heap grow to twice what is live
// before collecting, which on a 200-host fleet doubled the daemon's
// resident memory. The limit only binds on large fleets (a homelab's
// daemon lives in a fraction of it), where the collector then runs more
// often instead of the heap growing.
const defaultMemoryLimit = 80 << 20

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
// the default. "0" turns the limit off.
func applyMemoryLimit(cfg *fileConfig, log *slog.Logger) {
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
}
