// Command deckhand-bench measures the figures the README's Performance
// section quotes: deckhand's monitor loop on a simulated fleet (per-host
// cycles, a hung host beside healthy ones, events streams), the real
// daemon (`deckhand run`, a child process) on the same fleet, its storage,
// the status page under load, and on the real Docker engine the path from
// a container's death to an ntfy notification, hop by hop. It holds the
// fakes and load generators, so it is its own command: nothing of it is
// linked into the binary users run.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "deckhand-bench:", err)
		os.Exit(1)
	}
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

const usage = `deckhand-bench — measure deckhand: the monitor on a simulated fleet, the whole
daemon, storage, the status page, and detection on the real Docker engine.

usage: deckhand-bench [flags]

Run it from the deckhand source tree (it builds ./cmd/deckhand with go build)
or give the binary to measure with -deckhand.`

// options are the command's flags and what -short derives from them.
type options struct {
	hosts, containers int
	rtt, jitter       time.Duration
	fail              float64
	short, check      bool
	json              bool
	deckhand          string          // binary to measure; built from source when empty
	only              map[string]bool // sections to run; all when empty
	logs              string          // where the latency daemons' logs are kept; not kept when empty
	cpuProfile        string          // pprof CPU profile of the monitor in the fleet section
	memProfile        string          // pprof heap profile after the steady fleet rounds

	// Derived from short: how much of each measurement to do.
	cycles                                        int           // steady fleet rounds measured
	interval                                      time.Duration // the monitor's polling interval in the fleet section
	naiveHosts                                    int           // hosts collected the naive way, then extrapolated
	loadFor                                       time.Duration // per status page load test
	storeHosts                                    int           // hosts of the simulated 30-day history
	storeSpan                                     time.Duration // availability span per RecordAvailability call
	trials                                        int           // crash → notice trials per transport
	daemonInterval, daemonInventory, daemonWindow time.Duration // of the whole-daemon run
	restarts                                      int           // Restart taps (and as many direct restarts)
	latencySkip                                   string        // why the real docker section is skipped
}

// sectionNames are the sections in the order they run.
var sectionNames = []string{"fleet", "daemon", "storage", "writes", "page", "latency"}

// errGoals is returned by -check when a checked figure misses its goal.
var errGoals = errors.New("goals missed")

func parseOptions(args []string) (options, *fleetServe, error) {
	fs := flag.NewFlagSet("deckhand-bench", flag.ContinueOnError)
	var o options
	fs.IntVar(&o.hosts, "hosts", 200, "simulated hosts")
	fs.IntVar(&o.containers, "containers", 40, "containers per simulated host")
	fs.DurationVar(&o.rtt, "rtt", 20*time.Millisecond, "round trip time between deckhand and every simulated host")
	fs.DurationVar(&o.jitter, "jitter", 2*time.Millisecond, "random extra delay per round trip, up to")
	fs.Float64Var(&o.fail, "fail", 0, "fraction of simulated hosts that fail (half daemon down, half refusing the login)")
	fs.BoolVar(&o.short, "short", false, "smaller and shorter measurements (CI), skips the real Docker section")
	fs.BoolVar(&o.check, "check", false, "exit non-zero when a checked figure misses its goal")
	fs.BoolVar(&o.json, "json", false, "print the figures as JSON on stdout (the table goes to stderr)")
	fs.StringVar(&o.deckhand, "deckhand", "", "the deckhand binary to measure (default: go build ./cmd/deckhand into a temp dir)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the monitor's side of the fleet section to this file")
	fs.StringVar(&o.memProfile, "memprofile", "", "write a heap profile taken after the steady fleet rounds to this file")
	fs.StringVar(&o.logs, "logs", "", "keep the latency section's daemon logs (JSON, debug) in this directory")
	trials := fs.Int("trials", 20, "crash → notification trials per transport in the latency section")
	only := fs.String("only", "", "run only these sections, comma-separated: "+strings.Join(sectionNames, ", "))
	var serve fleetServe
	fs.BoolVar(&serve.on, "serve-fleet", false, "internal: serve a simulated fleet, print its manifest and its events streams, run until stdin closes")
	fs.StringVar(&serve.dir, "dir", "", "internal: directory for -serve-fleet's key and known_hosts")
	fs.IntVar(&serve.hang, "hang", 0, "internal: hosts -serve-fleet adds that never answer a command")
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, nil, usageError{usage + "\n\nflags:\n" + flagDefaults(fs)}
		}
		return o, nil, usageError{fmt.Sprintf("deckhand-bench: %v\n\n%s", err, usage)}
	}
	if fs.NArg() > 0 {
		return o, nil, usageError{fmt.Sprintf("deckhand-bench: unexpected argument %q\n\n%s", fs.Arg(0), usage)}
	}
	if o.hosts < 2 || o.containers < 1 || o.rtt < 0 || o.jitter < 0 || o.fail < 0 || o.fail >= 1 || serve.hang < 0 || *trials < 1 {
		return o, nil, usageError{"deckhand-bench: -hosts must be ≥ 2 and -containers ≥ 1, -rtt and -jitter ≥ 0, -fail in [0, 1), -trials ≥ 1"}
	}
	if *only != "" {
		o.only = map[string]bool{}
		for _, name := range strings.Split(*only, ",") {
			if !slices.Contains(sectionNames, name) {
				return o, nil, usageError{fmt.Sprintf("deckhand-bench: -only: no section %q (there are %s)", name, strings.Join(sectionNames, ", "))}
			}
			o.only[name] = true
		}
	}
	if serve.on && serve.dir == "" {
		return o, nil, usageError{"deckhand-bench: -serve-fleet needs -dir"}
	}
	o.cycles, o.interval, o.naiveHosts, o.loadFor = 7, time.Second, 10, 3*time.Second
	o.storeHosts, o.storeSpan = o.hosts, 12*time.Hour
	o.trials, o.restarts = *trials, 5
	o.daemonInterval, o.daemonInventory, o.daemonWindow = 2*time.Second, 10*time.Second, 12*time.Second
	if o.short {
		o.daemonInventory, o.daemonWindow = 5*time.Second, 6*time.Second
		// Seven rounds: one or two slowed by the machine are then
		// a minority of the samples the hung-host ratio takes the median of.
		o.cycles, o.naiveHosts, o.loadFor = 7, 4, time.Second
		o.storeHosts, o.storeSpan = max(1, o.hosts/4), 24*time.Hour
		o.latencySkip = "-short"
	}
	o.naiveHosts = min(o.naiveHosts, o.hosts)
	return o, &serve, nil
}

func flagDefaults(fs *flag.FlagSet) string {
	var b strings.Builder
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	return b.String()
}

// run is the whole command behind main, so tests can drive it in-process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, serve, err := parseOptions(args)
	if err != nil {
		return err
	}
	if o.memProfile != "" {
		// Precise enough to account for per-connection buffers of a few KiB.
		runtime.MemProfileRate = 4 << 10
	}
	if serve.on {
		return serveFleet(ctx, o, *serve, os.Stdin, stdout)
	}
	rep := &benchReport{Machine: machineFacts(ctx), Params: benchParams{
		Hosts: o.hosts, Containers: o.containers, RTT: o.rtt.String(), Jitter: o.jitter.String(),
		FailRate: o.fail, Short: o.short,
	}}
	progress := func(format string, a ...any) { fmt.Fprintf(stderr, "deckhand-bench: "+format+"\n", a...) }
	sections := []struct {
		name, doing string
		fn          func(context.Context, options, *benchReport, io.Writer) error
	}{
		// The fleet goes first: its RSS figures are this process's peak,
		// and nothing else may have run before it.
		{"fleet", fmt.Sprintf("the monitor on %d simulated hosts × %d containers at %s RTT, then with a hung host…", o.hosts, o.containers, o.rtt), benchFleet},
		{"daemon", "the whole daemon (`deckhand run`) on the same fleet…", benchDaemon},
		{"storage", fmt.Sprintf("storage: 30 simulated days of %d hosts × %d containers…", o.storeHosts, o.containers), benchStorage},
		{"writes", "storage writes of one unchanged host at the default schedule, on a fast clock…", benchWrites},
		{"page", "status page load, 64 connections…", benchPage},
		{"latency", "crash → ntfy on the real Docker engine, local and through OpenSSH…", benchLatency},
	}
	var bin binary
	defer bin.cleanup()
	if o.only == nil || o.only["daemon"] || o.only["latency"] {
		if o.deckhand, err = bin.path(ctx, o.deckhand); err != nil {
			return err
		}
	}
	for _, s := range sections {
		if o.only != nil && !o.only[s.name] {
			continue
		}
		progress("%s", s.doing)
		if err := s.fn(ctx, o, rep, stderr); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	table := stdout
	if o.json {
		table = stderr
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	}
	rep.print(table)
	if o.check {
		if missed := rep.missed(); len(missed) > 0 {
			return fmt.Errorf("%w: %s", errGoals, strings.Join(missed, "; "))
		}
	}
	return nil
}
