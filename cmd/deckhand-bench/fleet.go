package main

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/alerts"
	"github.com/deckhand/deckhand/collector"
	"github.com/deckhand/deckhand/internal/fleet"
	"github.com/deckhand/deckhand/monitor"
	"github.com/deckhand/deckhand/store"
)

// observed is one collection as the monitor's OnCollect hook saw it.
type observed struct {
	host       string
	start      time.Time     // the collection's start (Snapshot.CollectedAt)
	took       time.Duration // the collection alone (Snapshot.Duration)
	done       time.Time     // when the loop was done with it: recorded, evaluated
	full, ok   bool
	containers int
}

func (o observed) end() time.Time { return o.start.Add(o.took) }

// recorder keeps what the hook saw.
type recorder struct {
	mu  sync.Mutex
	obs []observed
}

func (r *recorder) hook(s deckhand.Snapshot) {
	o := observed{host: s.Host.Name, start: s.CollectedAt, took: s.Duration, done: time.Now(),
		full: s.Full, ok: s.Err == nil, containers: len(s.Containers)}
	r.mu.Lock()
	r.obs = append(r.obs, o)
	r.mu.Unlock()
}

func (r *recorder) all() []observed {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.obs)
}

// firstOf is, per host, the first collection that match accepts.
func firstOf(obs []observed, match func(observed) bool) map[string]observed {
	out := map[string]observed{}
	for _, o := range obs {
		if _, seen := out[o.host]; !seen && match(o) {
			out[o.host] = o
		}
	}
	return out
}

// monitorRun is how one monitor run is measured.
type monitorRun struct {
	interval   time.Duration
	rounds     int  // steady rounds measured
	memory     bool // this process's memory figures (first run only)
	memProfile string
	serverCPU  func() time.Duration // of the process serving the fleet, when known
	opens      *streamOpens
}

// monitorFigures are what one monitor run measured. A round is the
// collections of every host started by the same tick of their pollers.
type monitorFigures struct {
	Cold          time.Duration   // start → every healthy host's first collection evaluated
	ColdEach      []time.Duration // start → each healthy host's first collection evaluated
	FullDone      time.Duration   // start → every healthy host's first full collection ended
	FullTook      []time.Duration // per healthy host: that full collection alone
	Rounds        []time.Duration // steady rounds: first start → last collection's end
	LoopRounds    []time.Duration // the same, up to the last host's evaluation done
	Collect       []time.Duration // per healthy host and steady round: the collection alone
	Cycle         []time.Duration // the same with recording and evaluation
	EventsOpen    []time.Duration // per healthy host: start → its events stream open
	EventsMissing int             // healthy hosts whose events stream never opened
	Handshakes    float64         // per steady round
	FailedHosts   int             // per steady round
	Containers    int             // per steady round
	AllocPerCtr   float64         // bytes allocated per container per steady round
	CPU           time.Duration   // this process, per steady round
	ServerCPU     time.Duration   // the fleet's servers, per steady round
	Mem           memFigures
}

// memFigures are this process's memory, in kB.
type memFigures struct {
	StartRSSKB, StartFileKB int64 // before the first host: the binary and its start-up (set by the caller)
	ColdHWMKB               int64 // peak RSS up to the end of the first full collections
	SteadyHWMKB             int64 // peak RSS over the steady rounds, from the steady level
	RSSKB                   int64 // after them
	HeapStartKB             int64 // live heap before the monitor existed
	HeapLiveKB              int64 // live heap after the rounds: connections, snapshots, store
	HeapNoConnKB            int64 // the same once the connections are closed
	StackKB                 int64
	Goroutines              int
}

// ConnKB is the heap the SSH connections hold, and RestKB the rest the
// monitor keeps: last snapshots (shared with the line cache), store,
// alerts engine.
func (m memFigures) ConnKB() int64 { return m.HeapLiveKB - m.HeapNoConnKB }
func (m memFigures) RestKB() int64 { return m.HeapNoConnKB - m.HeapStartKB }

func liveHeapKB() int64 {
	var mem runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&mem)
	return int64(mem.HeapAlloc >> 10)
}

// measureMonitor runs deckhand's monitor (collector, temp SQLite store,
// alerts engine; no page, no chat) on hosts of m, with events streams, and
// times every collection through its OnCollect hook: the first round, the
// first full collections, then p.rounds steady rounds.
func measureMonitor(ctx context.Context, m fleet.Manifest, hosts []fleet.Host, p monitorRun) (f monitorFigures, err error) {
	f.Mem.HeapStartKB = liveHeapKB()
	dir, err := os.MkdirTemp("", "deckhand-bench-monitor-")
	if err != nil {
		return f, err
	}
	defer os.RemoveAll(dir)
	st, err := store.Open(ctx, filepath.Join(dir, "deckhand.db"))
	if err != nil {
		return f, err
	}
	defer st.Close()
	var names, healthy []string
	var domain []deckhand.Host
	for _, h := range hosts {
		names = append(names, h.Name)
		domain = append(domain, deckhand.Host{Name: h.Name, Transport: collector.TransportSSH, Enabled: true, Status: deckhand.HostUnknown})
		if h.Fault == "" {
			healthy = append(healthy, h.Name)
		}
	}
	if len(healthy) == 0 {
		return f, fmt.Errorf("no healthy host among %d", len(hosts))
	}
	if err := st.SyncHosts(ctx, domain); err != nil {
		return f, err
	}
	coll, err := collector.New(fleet.Manifest{KeyFile: m.KeyFile, KnownHosts: m.KnownHosts, Hosts: hosts}.HostConfigs(),
		collector.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return f, err
	}
	defer coll.Close()
	eng, err := alerts.New(alerts.DefaultConfig())
	if err != nil {
		return f, err
	}
	rec := &recorder{}
	mon, err := monitor.New(monitor.Config{Hosts: names, Interval: p.interval, InventoryInterval: time.Hour, Events: true},
		monitor.Deps{Store: st, Collector: coll, Engine: eng, OnCollect: rec.hook})
	if err != nil {
		return f, err
	}
	if p.memory {
		// The runs before this one are neither its memory nor its peak.
		runtime.GC()
		debug.FreeOSMemory()
		resetPeakRSS()
	}

	mctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	t0 := time.Now()
	go func() { done <- mon.Run(mctx) }()
	running := true
	stop := func() error {
		if !running {
			return nil
		}
		running = false
		cancel()
		return <-done
	}
	defer stop()

	deadline := t0.Add(2*time.Minute + time.Duration(p.rounds+3)*p.interval)
	waitAll := func(what string, match func(observed) bool) (map[string]observed, error) {
		for {
			got := firstOf(rec.all(), match)
			missing := 0
			for _, h := range healthy {
				if _, ok := got[h]; !ok {
					missing++
				}
			}
			if missing == 0 {
				return got, nil
			}
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("monitor: %s: %d of %d healthy hosts not seen after %s", what, missing, len(healthy), time.Since(t0).Round(time.Second))
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	round := func(o observed) int { return int(math.Round(float64(o.start.Sub(t0)) / float64(p.interval))) }

	first, err := waitAll("first collection", func(o observed) bool { return !o.full })
	if err != nil {
		return f, err
	}
	for _, h := range healthy {
		if !first[h].ok {
			return f, fmt.Errorf("monitor: healthy host %s failed its first collection", h)
		}
		f.ColdEach = append(f.ColdEach, first[h].done.Sub(t0))
	}
	f.Cold = slices.Max(f.ColdEach)
	fulls, err := waitAll("first full collection", func(o observed) bool { return o.full && o.ok })
	if err != nil {
		return f, err
	}
	for _, h := range healthy {
		f.FullDone = max(f.FullDone, fulls[h].end().Sub(t0))
		f.FullTook = append(f.FullTook, fulls[h].took)
	}
	// The first round (every handshake at once) and the full collections
	// happen once per start: their garbage is collected and, within
	// minutes, handed back to the OS by the runtime's scavenger. Do both
	// now, so that the steady peak is what a running monitor sits at (the
	// cold peak is reported apart), and in every run alike, since the
	// rounds after it pay for the pages they take back.
	if p.memory {
		_, f.Mem.ColdHWMKB, _ = procMemory()
	}
	runtime.GC()
	debug.FreeOSMemory()
	resetPeakRSS()

	// Steady rounds start after the round in progress has ended on every
	// healthy host, so that no collection is in flight at the baseline.
	k := int(time.Since(t0) / p.interval)
	if _, err := waitAll(fmt.Sprintf("round %d", k), func(o observed) bool { return !o.full && round(o) == k }); err != nil {
		return f, err
	}
	r0, rN := k+1, k+p.rounds
	hs0, cpu0, srv0 := coll.Handshakes(), procCPU(os.Getpid()), serverCPU(p)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	alloc0 := ms.TotalAlloc
	if _, err := waitAll(fmt.Sprintf("round %d", rN), func(o observed) bool { return !o.full && round(o) == rN }); err != nil {
		return f, err
	}
	n := time.Duration(p.rounds)
	f.CPU, f.ServerCPU = (procCPU(os.Getpid())-cpu0)/n, (serverCPU(p)-srv0)/n
	f.Handshakes = float64(coll.Handshakes()-hs0) / float64(p.rounds)
	runtime.ReadMemStats(&ms)
	if p.memory {
		f.Mem.RSSKB, f.Mem.SteadyHWMKB, _ = procMemory()
	}
	obs := rec.all()
	for r := r0; r <= rN; r++ {
		f.addRound(obs, healthy, func(o observed) bool { return !o.full && round(o) == r })
	}
	if f.Containers > 0 {
		f.AllocPerCtr = float64(ms.TotalAlloc-alloc0) / float64(p.rounds) / float64(f.Containers)
	}
	f.eventsOpen(p.opens, healthy, t0)

	if p.memory && p.memProfile != "" {
		if err := writeHeapProfile(p.memProfile); err != nil {
			return f, err
		}
	}
	if err := stop(); err != nil {
		return f, err
	}
	if p.memory {
		// What is kept between rounds, as opposed to the garbage of the
		// last one that RSS includes: with the connections, then without.
		f.Mem.HeapLiveKB = liveHeapKB()
		runtime.ReadMemStats(&ms)
		f.Mem.StackKB, f.Mem.Goroutines = int64(ms.StackInuse>>10), runtime.NumGoroutine()
		coll.Close()
		time.Sleep(100 * time.Millisecond) // the connections' goroutines end
		f.Mem.HeapNoConnKB = liveHeapKB()
	}
	runtime.KeepAlive(mon)
	return f, ctx.Err()
}

// addRound adds the figures of one round (the collections in matches):
// per host the first of the round, since an event may add another.
func (f *monitorFigures) addRound(obs []observed, healthy []string, in func(observed) bool) {
	got := firstOf(obs, in)
	f.Rounds = append(f.Rounds, span(got, healthy, observed.end))
	f.LoopRounds = append(f.LoopRounds, span(got, healthy, func(o observed) time.Time { return o.done }))
	for _, h := range healthy {
		f.Collect = append(f.Collect, got[h].took)
		f.Cycle = append(f.Cycle, got[h].done.Sub(got[h].start))
	}
	f.FailedHosts, f.Containers = 0, 0
	for _, o := range got {
		if !o.ok {
			f.FailedHosts++
		}
		f.Containers += o.containers
	}
}

// eventsOpen reads when each healthy host's events stream opened after t0.
// The fleet reports opens within milliseconds; a host still missing after
// a second more never opened during the run.
func (f *monitorFigures) eventsOpen(opens *streamOpens, healthy []string, t0 time.Time) {
	if opens == nil {
		return
	}
	deadline := time.Now().Add(time.Second)
	for _, h := range healthy {
		for {
			if at, ok := opens.first(h, t0); ok {
				f.EventsOpen = append(f.EventsOpen, at.Sub(t0))
				break
			}
			if time.Now().After(deadline) {
				f.EventsMissing++
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// span is from the earliest start to the latest at(o) over hosts.
func span(got map[string]observed, hosts []string, at func(observed) time.Time) time.Duration {
	var first, last time.Time
	for _, h := range hosts {
		o := got[h]
		if first.IsZero() || o.start.Before(first) {
			first = o.start
		}
		last = later(last, at(o))
	}
	return last.Sub(first)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func serverCPU(p monitorRun) time.Duration {
	if p.serverCPU == nil {
		return 0
	}
	return p.serverCPU()
}
