package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/deckhand/deckhand/internal/fleet"
)

// Goals of the fleet section.
const (
	rssGoalMB      = 40   // peak RSS of the monitoring process, steady
	hungRatioGoal  = 1.1  // healthy hosts beside a hung one / without it
	hungRatioShort = 2.0  // the same in -short, whose few rounds are noisy
	eventsOpenGoal = 1000 // ms from start to every reachable host's events stream
	roundGoal      = 2.0  // a steady round of the whole fleet / one host's collection
	roundShort     = 2.5  // the same in -short
)

// benchFleet measures the monitor on the simulated fleet: one host alone,
// every host healthy (figures, memory), the same fleet with its last host
// replaced by one that hangs, and the naive baseline.
func benchFleet(ctx context.Context, o options, rep *benchReport, stderr io.Writer) error {
	child, err := startFleetChild(ctx, o, 1, stderr)
	if err != nil {
		return err
	}
	defer child.stop()
	all, hung := child.Hosts[:o.hosts], child.Hosts[o.hosts]
	var alone []fleet.Host
	for _, h := range all {
		if h.Fault == "" {
			alone = []fleet.Host{h}
			break
		}
	}
	if alone == nil {
		return fmt.Errorf("no healthy host in the fleet")
	}
	// Before any host: the binary and its start-up.
	var startMem memFigures
	startMem.StartRSSKB, _, startMem.StartFileKB = procMemory()
	// One host alone runs first and warms up what every run uses (SQLite,
	// the SSH client), so that the healthy fleet and the one with a hung
	// host, which are compared, both start warm; it is small, so the
	// healthy fleet's memory is still its own.
	one, err := measureMonitor(ctx, child.Manifest, alone, monitorRun{interval: 200 * time.Millisecond, rounds: 3 * o.cycles, opens: child.opens})
	if err != nil {
		return fmt.Errorf("one host: %w", err)
	}
	stopProfile, err := startCPUProfile(o.cpuProfile)
	if err != nil {
		return err
	}
	a, err := measureMonitor(ctx, child.Manifest, all, monitorRun{interval: o.interval, rounds: o.cycles, memory: true,
		memProfile: o.memProfile, serverCPU: func() time.Duration { return procCPU(child.cmd.Process.Pid) }, opens: child.opens})
	stopProfile()
	if err != nil {
		return fmt.Errorf("%d hosts: %w", len(all), err)
	}
	withHung := append(slices.Clip(all[:len(all)-1]), hung)
	b, err := measureMonitor(ctx, child.Manifest, withHung, monitorRun{interval: o.interval, rounds: o.cycles, opens: child.opens})
	if err != nil {
		return fmt.Errorf("with a hung host: %w", err)
	}
	a.Mem.StartRSSKB, a.Mem.StartFileKB = startMem.StartRSSKB, startMem.StartFileKB
	naive, err := measureNaive(ctx, child.Manifest, o.naiveHosts)
	if err != nil {
		return err
	}
	reportFleet(rep, o, a, one, naive)
	reportHung(rep, o, a, b)
	reportMemory(rep, o, a.Mem)
	if o.fail == 0 && a.FailedHosts > 0 {
		return fmt.Errorf("%d hosts failed to collect without injected failures", a.FailedHosts)
	}
	return nil
}

func reportFleet(rep *benchReport, o options, a, one monitorFigures, naive naiveFigures) {
	const sec = "fleet"
	round, oneHost := median(a.Rounds), median(one.Collect)
	rep.add(sec, "first round after start (handshakes, version probe), every host evaluated", ms(a.Cold), "ms")
	rep.add(sec, "one host alone, steady collection (median)", ms(oneHost), "ms")
	rep.add(sec, "  with recording and evaluation (median)", ms(median(one.Cycle)), "ms")
	rep.add(sec, fmt.Sprintf("%d hosts, steady round: first start → last collection's end (median of %d)", o.hosts, len(a.Rounds)), ms(round), "ms")
	// A steady round of 200 hosts is CPU-bound on a 2-core machine that
	// also runs the fleet's servers (about 155 ms of CPU a round), so the
	// -short run's seven rounds on a shared CI machine have read 1.6× to
	// 2.07× with nothing changed; -short holds it to 2.5× (a round that
	// waited for hosts one after another shows as 200×), the full run to 2×.
	goal := roundGoal
	if o.short {
		goal = roundShort
	}
	rep.goal(sec, "round / one host's collection", float64(round)/float64(oneHost), "×", true, goal, true)
	rep.add(sec, "  up to the last host's evaluation (median)", ms(median(a.LoopRounds)), "ms")
	rep.add(sec, "per host, steady collection p50", ms(percentile(a.Collect, 0.5)), "ms")
	rep.add(sec, "per host, steady collection p95", ms(percentile(a.Collect, 0.95)), "ms")
	rep.add(sec, "per host, steady cycle (collection, recording, evaluation) p50", ms(percentile(a.Cycle, 0.5)), "ms")
	rep.add(sec, "per host, steady cycle p95", ms(percentile(a.Cycle, 0.95)), "ms")
	rep.goal(sec, "SSH handshakes per steady round", a.Handshakes, "", true, 0, true)
	rep.add(sec, "containers collected per round", float64(a.Containers), "")
	if o.fail > 0 {
		rep.add(sec, "hosts failing per round (injected)", float64(a.FailedHosts), "")
	}
	rep.add(sec, fmt.Sprintf("naive: %d hosts, new connection per command", naive.Hosts), ms(naive.Subset), "ms")
	naiveFleet := time.Duration(float64(naive.Subset) * float64(o.hosts) / float64(naive.Hosts))
	rep.add(sec, fmt.Sprintf("naive: %d hosts (extrapolated ×%.0f)", o.hosts, float64(o.hosts)/float64(naive.Hosts)), ms(naiveFleet), "ms")
	rep.goal(sec, "speed-up over naive", float64(naiveFleet)/float64(round), "×", false, 50, true)
	rep.add(sec, "monitoring process CPU per steady round", ms(a.CPU), "ms")
	if a.ServerCPU > 0 {
		rep.add(sec, "fleet servers' CPU per steady round (child process)", ms(a.ServerCPU), "ms")
	}
	rep.add(sec, "allocated per container per steady round (collect, record, evaluate)", a.AllocPerCtr, "B")
	rep.add(sec, "full collection of one host (every container inspected, images, volumes), median", ms(median(a.FullTook)), "ms")
	rep.add(sec, "  start → every host's first one done (they start spread out)", ms(a.FullDone), "ms")
	if len(a.EventsOpen) > 0 {
		rep.add(sec, "events streams: start → open on every host", ms(slices.Max(a.EventsOpen)), "ms")
	}
	rep.note("fleet: deckhand's monitor (package monitor: a poller, an events stream and an inventory per host, a temp SQLite store, the alerts engine; no status page, no chat) "+
		"polling every %s, timed through monitor.Deps.OnCollect; a round is every host's collection started by the same tick; the fleet's servers run in a child process (-serve-fleet)", o.interval)
	rep.note("naive baseline: hosts one after another, a new SSH connection (TCP, key exchange, login) per docker command, "+
		"running ps and one inspect of every container (what a collector without deckhand's line cache runs every cycle); measured on %d of %d hosts (%d connections) and extrapolated linearly", naive.Hosts, o.hosts, naive.Dials)
}

func reportHung(rep *benchReport, o options, a, b monitorFigures) {
	const sec = "hung host"
	rep.add(sec, fmt.Sprintf("first round, %d healthy hosts beside a hung one: start → each evaluated (median)", o.hosts-1), ms(median(b.ColdEach)), "ms")
	// On a shared 2-core machine the -short run's few rounds swing by ±20 %
	// with nothing hung: there the ratios are held to 2× (a hung host that
	// held the others back shows as a multiple, not a tenth), and to the
	// goal by the full run.
	ratioGoal := hungRatioGoal
	if o.short {
		ratioGoal = hungRatioShort
	}
	rep.goal(sec, "first round / without the hung host (medians)", float64(median(b.ColdEach))/float64(median(a.ColdEach)), "×", true, ratioGoal, true)
	rep.add(sec, "  start → every healthy host evaluated", ms(b.Cold), "ms")
	rep.add(sec, "  without the hung host", ms(a.Cold), "ms")
	rep.add(sec, "healthy hosts' steady cycle beside the hung host (median)", ms(median(b.Cycle)), "ms")
	rep.goal(sec, "steady cycle / without the hung host", float64(median(b.Cycle))/float64(median(a.Cycle)), "×", true, ratioGoal, true)
	rep.add(sec, "healthy hosts' steady round beside the hung host (median)", ms(median(b.Rounds)), "ms")
	rep.add(sec, "  without it, same run (median)", ms(median(a.Rounds)), "ms")
	open := b.EventsOpen
	if b.EventsMissing > 0 {
		rep.goal(sec, "healthy hosts whose events stream never opened", float64(b.EventsMissing), "", true, 0, true)
	}
	if len(open) > 0 {
		rep.add(sec, "events stream open after start, p50 of the healthy hosts", ms(percentile(open, 0.5)), "ms")
		rep.goal(sec, "events stream open after start, every healthy host", ms(slices.Max(open)), "ms", true, eventsOpenGoal, true)
	}
	rep.note("hung host: the same fleet with its last host replaced by one that accepts the SSH login and never answers a command (collectortest FaultHang), measured in the same run as the healthy fleet; " +
		"a cycle is one host's collection, recording and evaluation; events streams are timed from the monitor's start to the fake engine counting the subscriber")
}

func reportMemory(rep *benchReport, o options, m memFigures) {
	const sec = "memory"
	mb := func(kb int64) float64 { return float64(kb) / 1024 }
	rep.add(sec, "RSS before the first host (binary, start-up)", mb(m.StartRSSKB), "MB")
	rep.add(sec, "  of which the executable's file-backed pages", mb(m.StartFileKB), "MB")
	rep.add(sec, "peak RSS up to the end of the first full collections (once per start)", mb(m.ColdHWMKB), "MB")
	rep.unchecked(sec, "peak RSS, steady rounds", mb(m.SteadyHWMKB), "MB", true, rssGoalMB,
		fmt.Sprintf("this is the bench process running the monitor; the daemon section's RSS, with its children, is the figure that counts; here %.0f MB is the binary and start-up, %.0f MB the live heap of %d SSH connections, %.1f MB goroutine stacks, and GOGC=%d lets the heap grow to %.2f× what is live",
			mb(m.StartRSSKB), mb(m.ConnKB()), o.hosts, mb(m.StackKB), gcPercent(), 1+float64(gcPercent())/100))
	rep.add(sec, "RSS after the steady rounds", mb(m.RSSKB), "MB")
	rep.add(sec, "live heap: SSH connections", mb(m.ConnKB()), "MB")
	rep.add(sec, "  per host", float64(m.ConnKB())/float64(o.hosts), "KB")
	rep.add(sec, "live heap: the rest (last snapshots shared with the line cache, store, alerts engine)", mb(m.RestKB()), "MB")
	rep.add(sec, "  per container", float64(m.RestKB())*1024/float64(o.hosts*o.containers), "B")
	rep.add(sec, "goroutine stacks", mb(m.StackKB), "MB")
	rep.add(sec, "goroutines", float64(m.Goroutines), "")
	rep.note("memory: this process (the monitor of the fleet section) from /proc/self/status, and the Go heap after a GC; " +
		"the steady peak starts after the first round's garbage is collected and returned to the OS, as the runtime's scavenger does within minutes")
}

// naiveFigures are the naive baseline's.
type naiveFigures struct {
	Hosts  int
	Subset time.Duration
	Dials  int64
	Failed int
}

func measureNaive(ctx context.Context, m fleet.Manifest, hosts int) (naiveFigures, error) {
	var healthy []fleet.Host
	for _, h := range m.Hosts {
		if h.Fault == "" && len(healthy) < hosts {
			healthy = append(healthy, h)
		}
	}
	n, err := fleet.NewNaive(m)
	if err != nil {
		return naiveFigures{}, err
	}
	t := time.Now()
	_, failed := n.Collect(ctx, healthy)
	f := naiveFigures{Hosts: len(healthy), Subset: time.Since(t), Dials: n.Dials(), Failed: failed}
	if failed > 0 {
		return f, fmt.Errorf("naive: %d of %d healthy hosts failed", failed, len(healthy))
	}
	return f, ctx.Err()
}

func median(d []time.Duration) time.Duration { return percentile(slices.Clone(d), 0.5) }

// gcPercent is the GOGC in effect.
func gcPercent() int {
	p := debug.SetGCPercent(-1)
	debug.SetGCPercent(p)
	return p
}

// startCPUProfile writes a CPU profile to path until stop is called; with
// no path it does nothing.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
