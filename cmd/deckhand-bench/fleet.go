package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/collector"
	"github.com/deckhand/deckhand/internal/fleet"
)

// serveFleet is the child side of the fleet benchmark: it serves the
// simulated hosts, prints their manifest and lives until its stdin closes
// (the parent exited or is done), so that the parent's memory holds only
// the collecting side.
func serveFleet(ctx context.Context, o benchOptions, dir string, stdin io.Reader, stdout io.Writer) error {
	if dir == "" {
		return usageError{"bench -serve-fleet needs -dir"}
	}
	f, err := fleet.Start(fleet.Config{Hosts: o.hosts, Containers: o.containers, RTT: o.rtt, Jitter: o.jitter, FailRate: o.fail}, dir)
	if err != nil {
		return err
	}
	defer f.Close()
	stop, err := startCPUProfile(o.cpuProfile)
	if err != nil {
		return err
	}
	defer stop()
	if err := fleet.WriteManifest(stdout, f.Manifest); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, stdin); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	return nil
}

// fleetChild is a fleet served by a child process.
type fleetChild struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	dir   string
	fleet.Manifest
}

// startFleetChild runs `deckhand bench -serve-fleet` (this same binary) and
// reads its manifest.
func startFleetChild(ctx context.Context, o benchOptions, stderr io.Writer) (*fleetChild, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "deckhand-bench-fleet-")
	if err != nil {
		return nil, err
	}
	c := &fleetChild{dir: dir}
	c.cmd = exec.CommandContext(ctx, exe, "bench", "-serve-fleet", "-dir", dir,
		"-hosts", strconv.Itoa(o.hosts), "-containers", strconv.Itoa(o.containers),
		"-rtt", o.rtt.String(), "-jitter", o.jitter.String(), "-fail", strconv.FormatFloat(o.fail, 'g', -1, 64))
	if o.cpuProfile != "" {
		c.cmd.Args = append(c.cmd.Args, "-cpuprofile", o.cpuProfile+".server")
	}
	c.cmd.Stderr = stderr
	c.cmd.WaitDelay = 5 * time.Second
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := c.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start fleet process: %w", err)
	}
	line, err := bufio.NewReaderSize(out, 1<<20).ReadBytes('\n')
	if err != nil {
		c.stop()
		return nil, fmt.Errorf("fleet process: no manifest: %w", err)
	}
	if c.Manifest, err = fleet.ReadManifest(line); err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

func (c *fleetChild) stop() {
	c.stdin.Close()
	_ = c.cmd.Wait()
	os.RemoveAll(c.dir)
}

// fleetFigures are the fleet measurements, apart from the report so that a
// test can run them on a tiny in-process fleet.
type fleetFigures struct {
	ColdCycle      time.Duration // first, full collection: handshakes included
	OneHost        time.Duration // median steady cycle of one host alone
	FleetCycle     time.Duration // median steady cycle of the whole fleet
	FullCycle      time.Duration // a later full cycle: every container inspected, images, volumes
	Handshakes     float64       // per steady fleet cycle
	FailedHosts    int           // per steady cycle
	Containers     int           // collected per steady cycle
	AllocPerCtr    float64       // bytes allocated per container by a steady fleet cycle
	NaiveHosts     int           // hosts collected the naive way
	NaiveSubset    time.Duration // time for those
	NaiveFleet     time.Duration // extrapolated to the whole fleet
	NaiveDials     int64
	NaiveFailed    int
	ServerCPU      time.Duration // CPU the fleet's servers used per steady cycle, when known
	CollectorCPU   time.Duration // CPU this process used per steady cycle
	HealthyInFleet int

	// Memory of this process, in kB.
	StartRSSKB, StartFileKB int64 // before collecting: the binary and its start-up; file-backed part
	ColdHWMKB               int64 // peak RSS up to the end of the cold cycle
	SteadyHWMKB             int64 // peak RSS over the steady cycles and a full one, from the steady level
	RSSKB, FileKB           int64 // after them, and its file-backed part (the binary's pages)
	HeapStartKB             int64 // live heap before the collector existed
	HeapLiveKB              int64 // live heap after the cycles: connections, the last snapshot
	HeapNoConnKB            int64 // the same once the connections are closed: the snapshot alone
	StackKB                 int64 // goroutine stacks after the cycles
	Goroutines              int
}

// ConnKB is the heap the SSH connections hold, and SnapKB the last
// snapshot (shared with the collector's line cache).
func (f fleetFigures) ConnKB() int64 { return f.HeapLiveKB - f.HeapNoConnKB }
func (f fleetFigures) SnapKB() int64 { return f.HeapNoConnKB - f.HeapStartKB }

// measureFleet collects m's hosts with deckhand's collector (one cold full
// cycle, then cycles steady ones and a full one), one healthy host alone,
// then naiveHosts healthy hosts the naive way.
func measureFleet(ctx context.Context, m fleet.Manifest, concurrency, cycles, naiveHosts int, hooks fleetHooks) (fleetFigures, error) {
	var f fleetFigures
	var mem runtime.MemStats
	liveHeap := func() int64 {
		runtime.GC()
		runtime.ReadMemStats(&mem)
		return int64(mem.HeapAlloc >> 10)
	}
	f.HeapStartKB = liveHeap()
	coll, err := collector.New(m.HostConfigs(), collector.Options{Concurrency: concurrency, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return f, err
	}
	defer coll.Close()
	f.StartRSSKB, _, f.StartFileKB = procMemory()
	var healthy []fleet.Host
	for _, h := range m.Hosts {
		if h.Fault == "" {
			healthy = append(healthy, h)
		}
	}
	f.HealthyInFleet = len(healthy)
	if len(healthy) == 0 {
		return f, fmt.Errorf("no healthy host in the fleet")
	}

	start := time.Now()
	coll.CollectAll(ctx, true) // the collector's line cache keeps it, as the daemon would
	f.ColdCycle = time.Since(start)
	// The cold cycle (200 handshakes at once) happens once per start. Its
	// garbage is collected and, within minutes, handed back to the OS by
	// the runtime's scavenger; do both now, so that the steady peak is what
	// a running daemon sits at, and report the cold peak apart.
	_, f.ColdHWMKB, _ = procMemory()
	runtime.GC()
	debug.FreeOSMemory()
	resetPeakRSS()

	one := make([]time.Duration, 0, cycles*3)
	for range cycles * 3 {
		t := time.Now()
		if s := coll.Collect(ctx, healthy[0].Name, false); s.Err != nil {
			return f, fmt.Errorf("one host: %w", s.Err)
		}
		one = append(one, time.Since(t))
	}
	f.OneHost = percentile(one, 0.5)

	before := coll.Handshakes()
	all := make([]time.Duration, 0, cycles)
	var cpu0 time.Duration
	if hooks.serverCPU != nil {
		cpu0 = hooks.serverCPU()
	}
	self0 := procCPU(os.Getpid())
	runtime.ReadMemStats(&mem)
	alloc0 := mem.TotalAlloc
	var snaps []deckhand.Snapshot
	for range cycles {
		snaps = nil // as the daemon, which replaces its last snapshot
		t := time.Now()
		snaps = coll.CollectAll(ctx, false)
		all = append(all, time.Since(t))
		f.FailedHosts, f.Containers = 0, 0
		for _, s := range snaps {
			if s.Err != nil {
				f.FailedHosts++
			}
			f.Containers += len(s.Containers)
		}
	}
	runtime.ReadMemStats(&mem)
	if f.Containers > 0 {
		f.AllocPerCtr = float64(mem.TotalAlloc-alloc0) / float64(cycles) / float64(f.Containers)
	}
	f.CollectorCPU = (procCPU(os.Getpid()) - self0) / time.Duration(cycles)
	if hooks.serverCPU != nil {
		f.ServerCPU = (hooks.serverCPU() - cpu0) / time.Duration(cycles)
	}
	f.FleetCycle = percentile(all, 0.5)
	f.Handshakes = float64(coll.Handshakes()-before) / float64(cycles)
	// The daemon's full tier runs every few minutes: inside the steady peak.
	snaps = nil
	t := time.Now()
	snaps = coll.CollectAll(ctx, true)
	f.FullCycle = time.Since(t)
	var hwm int64
	f.RSSKB, hwm, f.FileKB = procMemory()
	f.SteadyHWMKB = hwm
	if hooks.memProfile != "" {
		if err := writeHeapProfile(hooks.memProfile); err != nil {
			return f, err
		}
	}
	// What is kept between cycles, as opposed to the garbage of the last
	// one that RSS includes: with the connections, then without them.
	f.HeapLiveKB = liveHeap()
	f.StackKB, f.Goroutines = int64(mem.StackInuse>>10), runtime.NumGoroutine()
	coll.Close()
	time.Sleep(100 * time.Millisecond) // the connections' goroutines end
	f.HeapNoConnKB = liveHeap()
	runtime.KeepAlive(snaps)
	if err := ctx.Err(); err != nil {
		return f, err
	}

	naive, err := fleet.NewNaive(m)
	if err != nil {
		return f, err
	}
	f.NaiveHosts = min(naiveHosts, len(healthy))
	t = time.Now()
	_, f.NaiveFailed = naive.Collect(ctx, healthy[:f.NaiveHosts])
	f.NaiveSubset = time.Since(t)
	f.NaiveDials = naive.Dials()
	f.NaiveFleet = time.Duration(float64(f.NaiveSubset) * float64(len(m.Hosts)) / float64(f.NaiveHosts))
	return f, nil
}

// gcPercent is the GOGC in effect.
func gcPercent() int {
	p := debug.SetGCPercent(-1)
	debug.SetGCPercent(p)
	return p
}

// rssGoalMB is the peak RSS goal of the collecting process.
const rssGoalMB = 40

// fleetHooks are the optional extras of measureFleet.
type fleetHooks struct {
	serverCPU  func() time.Duration // CPU time used so far by the process serving the fleet
	memProfile string               // heap profile written after the steady cycles
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

// resetPeakRSS resets VmHWM to the current RSS (Linux ≥ 4.0), so that the
// peak of one phase can be read apart from the earlier ones.
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// procCPU is the user and system CPU time process pid has used.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may hold spaces; the fields after it do not.
	_, rest, ok := strings.Cut(string(b), ") ")
	if !ok {
		return 0
	}
	fields := strings.Fields(rest)
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	const userHZ = 100 // USER_HZ is 100 in the Linux user ABI
	return time.Duration(utime+stime) * time.Second / userHZ
}

// procMemory reads VmRSS, VmHWM (peak RSS) and RssFile (the file-backed
// part of VmRSS: the executable's pages) of this process, in kB.
func procMemory() (rss, hwm, file int64) { return readMemory("/proc/self/status") }

// readMemory reads VmRSS, VmHWM and RssFile from a /proc/*/status file.
func readMemory(path string) (rss, hwm, file int64) {
	b, err := os.ReadFile(path)
	if err != nil {
		return -1, -1, -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "VmRSS":
			rss = n
		case "VmHWM":
			hwm = n
		case "RssFile":
			file = n
		}
	}
	return rss, hwm, file
}

func benchFleet(ctx context.Context, o benchOptions, rep *benchReport, stderr io.Writer) error {
	child, err := startFleetChild(ctx, o, stderr)
	if err != nil {
		return err
	}
	defer child.stop()
	hooks := fleetHooks{memProfile: o.memProfile, serverCPU: func() time.Duration { return procCPU(child.cmd.Process.Pid) }}
	stop, err := startCPUProfile(o.cpuProfile)
	if err != nil {
		return err
	}
	f, err := measureFleet(ctx, child.Manifest, o.concurrency, o.cycles, o.naiveHosts, hooks)
	stop()
	if err != nil {
		return err
	}

	const sec = "fleet"
	rep.add(sec, "cold cycle (full, handshakes included)", ms(f.ColdCycle), "ms")
	rep.add(sec, "one host, steady cycle (median)", ms(f.OneHost), "ms")
	rep.add(sec, fmt.Sprintf("%d hosts, steady cycle (median of %d)", o.hosts, o.cycles), ms(f.FleetCycle), "ms")
	rep.goal(sec, "fleet cycle / one host cycle", float64(f.FleetCycle)/float64(f.OneHost), "×", true, 2, true)
	rep.goal(sec, "SSH handshakes per steady cycle", f.Handshakes, "", true, 0, true)
	rep.add(sec, "containers collected per cycle", float64(f.Containers), "")
	if o.fail > 0 {
		rep.add(sec, "hosts failing per cycle (injected)", float64(f.FailedHosts), "")
	}
	rep.add(sec, fmt.Sprintf("naive: %d hosts, new connection per command", f.NaiveHosts), ms(f.NaiveSubset), "ms")
	rep.add(sec, fmt.Sprintf("naive: %d hosts (extrapolated ×%.0f)", o.hosts, float64(o.hosts)/float64(f.NaiveHosts)), ms(f.NaiveFleet), "ms")
	rep.goal(sec, "speed-up over naive", float64(f.NaiveFleet)/float64(f.FleetCycle), "×", false, 50, true)
	rep.add(sec, "collecting process CPU per steady cycle", ms(f.CollectorCPU), "ms")
	if f.ServerCPU > 0 {
		rep.add(sec, "fleet servers' CPU per steady cycle (child process)", ms(f.ServerCPU), "ms")
	}
	rep.add(sec, "allocated per container by a steady cycle", f.AllocPerCtr, "B")
	rep.add(sec, "full cycle (every container inspected, images, volumes)", ms(f.FullCycle), "ms")

	const msec = "memory"
	mb := func(kb int64) float64 { return float64(kb) / 1024 }
	rep.add(msec, "RSS before collecting (binary, start-up)", mb(f.StartRSSKB), "MB")
	rep.add(msec, "  of which the executable's file-backed pages", mb(f.StartFileKB), "MB")
	rep.add(msec, "peak RSS up to the end of the cold cycle (once per start)", mb(f.ColdHWMKB), "MB")
	if steady := mb(f.SteadyHWMKB); steady <= rssGoalMB {
		rep.goal(msec, "peak RSS, steady (fast cycles and a full one)", steady, "MB", true, rssGoalMB, true)
	} else {
		rep.unchecked(msec, "peak RSS, steady (fast cycles and a full one)", steady, "MB", true, rssGoalMB,
			fmt.Sprintf("%.0f MB is the executable and start-up before any host, %.0f MB the live heap of %d SSH connections (x/crypto/ssh buffers), %.1f MB their goroutine stacks, and GOGC=%d lets the heap grow to %.2f× what is live",
				mb(f.StartRSSKB), mb(f.ConnKB()), o.hosts, mb(f.StackKB), gcPercent(), 1+float64(gcPercent())/100))
	}
	rep.add(msec, "RSS after the steady cycles", mb(f.RSSKB), "MB")
	rep.add(msec, "live heap: SSH connections", mb(f.ConnKB()), "MB")
	rep.add(msec, "  per host", float64(f.ConnKB())/float64(o.hosts), "KB")
	rep.add(msec, "live heap: last snapshot (shared with the line cache)", mb(f.SnapKB()), "MB")
	if f.Containers > 0 {
		rep.add(msec, "  per container", float64(f.SnapKB())*1024/float64(f.Containers), "B")
	}
	rep.add(msec, "goroutine stacks", mb(f.StackKB), "MB")
	rep.add(msec, "goroutines", float64(f.Goroutines), "")
	rep.note("naive baseline: hosts one after another, a new SSH connection (TCP, key exchange, login) per docker command, "+
		"running ps and one inspect of every container (what a collector without deckhand's line cache runs every cycle); measured on %d of %d hosts (%d connections) and extrapolated linearly", f.NaiveHosts, o.hosts, f.NaiveDials)
	rep.note("fleet servers run in a child process (bench -serve-fleet); RSS is the collecting process only, from /proc/self/status; " +
		"the steady peak starts after the cold cycle's garbage is collected and returned to the OS, as the runtime's scavenger does within minutes")
	if o.fail == 0 && f.FailedHosts > 0 {
		return fmt.Errorf("%d hosts failed to collect without injected failures", f.FailedHosts)
	}
	return nil
}
