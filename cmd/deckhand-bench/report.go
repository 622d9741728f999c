package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// benchReport is every figure of one run.
type benchReport struct {
	Machine machine     `json:"machine"`
	Params  benchParams `json:"params"`
	Figures []figure    `json:"figures"`
	Skipped []string    `json:"skipped,omitempty"`
	Notes   []string    `json:"notes,omitempty"`
}

type benchParams struct {
	Hosts      int     `json:"hosts"`
	Containers int     `json:"containers_per_host"`
	RTT        string  `json:"rtt"`
	Jitter     string  `json:"jitter"`
	FailRate   float64 `json:"fail_rate"`
	Short      bool    `json:"short"`
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
	fmt.Fprintf(w, "deckhand-bench — %s\n", m.Date)
	fmt.Fprintf(w, "machine: %s, %d cores, %s %s/%s", m.CPU, m.Cores, m.Go, m.OS, m.Arch)
	if m.Docker != "" {
		fmt.Fprintf(w, ", docker engine %s", m.Docker)
	}
	fmt.Fprintln(w)
	p := r.Params
	fmt.Fprintf(w, "fleet: %d simulated hosts × %d containers, RTT %s ± %s, fail rate %g", p.Hosts, p.Containers, p.RTT, p.Jitter, p.FailRate)
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
