package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/deckhand/deckhand/collector"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// benchOptions are the flags of `deckhand bench`.
type benchOptions struct {
	hosts, containers int
	rtt, jitter       time.Duration
	fail              float64
	concurrency       int
	short, check      bool
	json              bool
	cpuProfile        string // pprof CPU profile of the fleet section
	memProfile        string // pprof heap profile after the steady fleet cycles

	// Derived from short: how much of each measurement to do.
	cycles                                        int           // steady fleet cycles measured
	naiveHosts                                    int           // hosts collected the naive way, then extrapolated
	loadFor                                       time.Duration // per status page load test
	storeHosts                                    int           // hosts of the simulated 30-day history
	storeSpan                                     time.Duration // availability span per RecordAvailability call
	trials                                        int           // kill → notice trials
	daemonInterval, daemonInventory, daemonWindow time.Duration // of the whole-daemon run
	restarts                                      int           // /restart trials (and as many direct ones)
	latencySkip                                   string        // why the real docker section is skipped
}

// errBenchGoals is returned by -check when a figure misses its goal.
var errBenchGoals = errors.New("bench: goals missed")

func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var o benchOptions
	fs.IntVar(&o.hosts, "hosts", 200, "simulated hosts")
	fs.IntVar(&o.containers, "containers", 40, "containers per simulated host")
	fs.DurationVar(&o.rtt, "rtt", 20*time.Millisecond, "round trip time between deckhand and every simulated host")
	fs.DurationVar(&o.jitter, "jitter", 2*time.Millisecond, "random extra delay per round trip, up to")
	fs.Float64Var(&o.fail, "fail", 0, "fraction of simulated hosts that fail (half daemon down, half refusing the login)")
	fs.IntVar(&o.concurrency, "concurrency", collector.DefaultConcurrency, "hosts collected at once (collector.concurrency; the default is the daemon's)")
	fs.BoolVar(&o.short, "short", false, "smaller and shorter measurements (CI), skips the real Docker section")
	fs.BoolVar(&o.check, "check", false, "exit non-zero when a checked figure misses its goal")
	fs.BoolVar(&o.json, "json", false, "print the figures as JSON on stdout (the table goes to stderr)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the collecting side of the fleet section to this file")
	fs.StringVar(&o.memProfile, "memprofile", "", "write a heap profile taken after the steady fleet cycles to this file")
	serve := fs.Bool("serve-fleet", false, "internal: serve a simulated fleet, print its manifest, run until stdin closes")
	dir := fs.String("dir", "", "internal: directory for -serve-fleet's key and known_hosts")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if o.hosts < 1 || o.containers < 1 || o.rtt < 0 || o.jitter < 0 || o.fail < 0 || o.fail >= 1 {
		return usageError{"bench: -hosts and -containers must be ≥ 1, -rtt and -jitter ≥ 0, -fail in [0, 1)"}
	}
	if o.memProfile != "" {
		// Precise enough to account for per-connection buffers of a few KiB.
		runtime.MemProfileRate = 4 << 10
	}
	if *serve {
		return serveFleet(ctx, o, *dir, os.Stdin, stdout)
	}
	if o.concurrency <= 0 {
		return usageError{"bench: -concurrency must be at least 1"}
	}
	o.cycles, o.naiveHosts, o.loadFor = 5, 10, 3*time.Second
	o.storeHosts, o.storeSpan = o.hosts, 12*time.Hour
	o.trials, o.restarts = 20, 5
	o.daemonInterval, o.daemonInventory, o.daemonWindow = 2*time.Second, 10*time.Second, 12*time.Second
	if o.short {
		o.daemonInventory, o.daemonWindow = 5*time.Second, 6*time.Second
		o.cycles, o.naiveHosts, o.loadFor = 3, 4, time.Second
		o.storeHosts, o.storeSpan = max(1, o.hosts/4), 24*time.Hour
		o.latencySkip = "-short"
	}
	o.naiveHosts = min(o.naiveHosts, o.hosts)

	rep := &benchReport{Machine: machineFacts(ctx), Params: benchParams{
		Hosts: o.hosts, Containers: o.containers, RTT: o.rtt.String(), Jitter: o.jitter.String(),
		FailRate: o.fail, Concurrency: o.concurrency, Short: o.short,
	}}
	progress := func(format string, a ...any) { fmt.Fprintf(stderr, "bench: "+format+"\n", a...) }

	// The fleet goes first: the RSS figure is the peak of this process, and
	// nothing else may have run before it.
	progress("collecting %d simulated hosts × %d containers at %s RTT…", o.hosts, o.containers, o.rtt)
	if err := benchFleet(ctx, o, rep, stderr); err != nil {
		return fmt.Errorf("bench fleet: %w", err)
	}
	progress("the whole daemon (`deckhand run`) on the same fleet…")
	if err := benchDaemon(ctx, o, rep, stderr); err != nil {
		return fmt.Errorf("bench daemon: %w", err)
	}
	progress("storage: 30 simulated days of %d hosts × %d containers…", o.storeHosts, o.containers)
	if err := benchStorage(ctx, o, rep); err != nil {
		return fmt.Errorf("bench storage: %w", err)
	}
	progress("status page load, 64 connections…")
	if err := benchPage(ctx, o, rep); err != nil {
		return fmt.Errorf("bench status page: %w", err)
	}
	progress("detection and action latency on the real Docker engine through OpenSSH…")
	if err := benchLatency(ctx, o, rep, stderr); err != nil {
		return fmt.Errorf("bench latency: %w", err)
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
			return fmt.Errorf("%w: %s", errBenchGoals, strings.Join(missed, "; "))
		}
	}
	return nil
}

// benchReport is every figure of one run.
type benchReport struct {
	Machine machine     `json:"machine"`
	Params  benchParams `json:"params"`
	Figures []figure    `json:"figures"`
	Skipped []string    `json:"skipped,omitempty"`
	Notes   []string    `json:"notes,omitempty"`
}

type benchParams struct {
	Hosts       int     `json:"hosts"`
	Containers  int     `json:"containers_per_host"`
	RTT         string  `json:"rtt"`
	Jitter      string  `json:"jitter"`
	FailRate    float64 `json:"fail_rate"`
	Concurrency int     `json:"concurrency"`
	Short       bool    `json:"short"`
}

// figure is one measured value, with its goal when it has one. Checked
// goals are the ones -check enforces.
type figure struct {
	Section string  `json:"section"`
	Name    string  `json:"name"`
	Value   float64 `json:"value"`
	Unit    string  `json:"unit"`
	Goal    string  `json:"goal,omitempty"`
	Pass    *bool   `json:"pass,omitempty"`
	Checked bool    `json:"checked,omitempty"`
	// Unchecked says why a missed goal is not enforced by -check.
	Unchecked string `json:"unchecked_reason,omitempty"`
}

func (r *benchReport) add(section, name string, value float64, unit string) {
	r.Figures = append(r.Figures, figure{Section: section, Name: name, Value: value, Unit: unit})
}

// goal records a figure with a goal: the value must be at most (atMost) or
// at least the limit.
func (r *benchReport) goal(section, name string, value float64, unit string, atMost bool, limit float64, checked bool) {
	pass := value >= limit
	goal := fmt.Sprintf("≥ %s", trimFloat(limit))
	if atMost {
		pass = value <= limit
		goal = fmt.Sprintf("≤ %s", trimFloat(limit))
	}
	if unit != "" && unit != "×" {
		goal += " " + unit
	} else if unit == "×" {
		goal += "×"
	}
	r.Figures = append(r.Figures, figure{Section: section, Name: name, Value: value, Unit: unit, Goal: goal, Pass: &pass, Checked: checked})
}

// unchecked records a figure with a goal that -check does not enforce,
// and why.
func (r *benchReport) unchecked(section, name string, value float64, unit string, atMost bool, limit float64, why string) {
	r.goal(section, name, value, unit, atMost, limit, false)
	r.Figures[len(r.Figures)-1].Unchecked = why
}

func (r *benchReport) skip(section, why string) {
	r.Skipped = append(r.Skipped, section+": "+why)
}

func (r *benchReport) note(format string, a ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, a...))
}

// missed lists the checked figures that missed their goal.
func (r *benchReport) missed() []string {
	var out []string
	for _, f := range r.Figures {
		if f.Checked && f.Pass != nil && !*f.Pass {
			out = append(out, fmt.Sprintf("%s: %s = %s%s, goal %s", f.Section, f.Name, trimFloat(f.Value), unitSuffix(f.Unit), f.Goal))
		}
	}
	return out
}

func unitSuffix(u string) string {
	switch u {
	case "", "×":
		return u
	}
	return " " + u
}

func trimFloat(v float64) string {
	switch a := abs(v); {
	case a == 0:
		return "0"
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3f", v)
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

func (r *benchReport) print(w io.Writer) {
	m := r.Machine
	fmt.Fprintf(w, "deckhand bench — %s\n", m.Date)
	fmt.Fprintf(w, "machine: %s, %d cores, %s %s/%s", m.CPU, m.Cores, m.Go, m.OS, m.Arch)
	if m.Docker != "" {
		fmt.Fprintf(w, ", docker engine %s", m.Docker)
	}
	fmt.Fprintln(w)
	p := r.Params
	fmt.Fprintf(w, "fleet: %d simulated hosts × %d containers, RTT %s ± %s, fail rate %g, concurrency %d", p.Hosts, p.Containers, p.RTT, p.Jitter, p.FailRate, p.Concurrency)
	if p.Short {
		fmt.Fprint(w, " (-short)")
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "section\tfigure\tvalue\tgoal\tresult")
	last := ""
	for _, f := range r.Figures {
		sec := f.Section
		if sec == last {
			sec = ""
		}
		last = f.Section
		result := ""
		if f.Pass != nil {
			result = "PASS"
			if !*f.Pass {
				result = "FAIL"
			}
			switch {
			case f.Unchecked != "":
				result += " (not checked: " + f.Unchecked + ")"
			case !f.Checked:
				result += " (not checked)"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s%s\t%s\t%s\n", sec, f.Name, trimFloat(f.Value), unitSuffix(f.Unit), f.Goal, result)
	}
	tw.Flush()
	for _, s := range r.Skipped {
		fmt.Fprintf(w, "skipped: %s\n", s)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

// machine is where the figures were measured.
type machine struct {
	CPU    string `json:"cpu"`
	Cores  int    `json:"cores"`
	Go     string `json:"go"`
	OS     string `json:"os"`
	Arch   string `json:"arch"`
	Date   string `json:"date"`
	Docker string `json:"docker_engine,omitempty"`
}

func machineFacts(ctx context.Context) machine {
	m := machine{CPU: "unknown", Cores: runtime.NumCPU(), Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH,
		Date: time.Now().UTC().Format("2006-01-02 15:04 MST")}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "docker", "version", "--format", "{{.Server.Version}}").Output(); err == nil {
		m.Docker = strings.TrimSpace(string(out))
	}
	return m
}

// percentile of sorted-in-place durations (nearest rank).
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	i := int(float64(len(d))*p+0.5) - 1
	return d[min(max(i, 0), len(d)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
