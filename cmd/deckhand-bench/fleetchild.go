package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/deckhand/deckhand/internal/fleet"
)

// fleetServe are the internal flags of the child that serves the fleet.
type fleetServe struct {
	on   bool
	dir  string
	hang int
}

// eventsPoll is how often the fleet looks for newly opened events
// streams: fine enough for a goal of a second.
const eventsPoll = 10 * time.Millisecond

// serveFleet is the child side of the fleet benchmark: it serves the
// simulated hosts, prints their manifest, then one line per `docker events`
// stream opened ("events <host> <unix nanoseconds>"), and lives until its
// stdin closes (the parent exited or is done), so that the parent's memory
// holds only the monitoring side.
func serveFleet(ctx context.Context, o options, s fleetServe, stdin io.Reader, stdout io.Writer) error {
	f, err := fleet.Start(fleet.Config{Hosts: o.hosts, Containers: o.containers, RTT: o.rtt, Jitter: o.jitter, FailRate: o.fail, Hang: s.hang}, s.dir)
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
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { _, _ = io.Copy(io.Discard, stdin); cancel() }()
	var mu sync.Mutex // lines are written whole
	watchStreams(ctx, f, eventsPoll, func(host string, at time.Time) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(stdout, "events %s %d\n", host, at.UnixNano())
	})
	return nil
}

// watchStreams calls opened each time a host's number of open events
// streams grows, until ctx ends.
func watchStreams(ctx context.Context, f *fleet.Fleet, every time.Duration, opened func(host string, at time.Time)) {
	prev := make([]int, len(f.Hosts))
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		now := time.Now()
		for i, n := range f.EventsStreams() {
			if n > prev[i] {
				opened(f.Hosts[i].Name, now)
			}
			prev[i] = n
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// streamOpens records when each host's events streams opened.
type streamOpens struct {
	mu sync.Mutex
	at map[string][]time.Time
}

func newStreamOpens() *streamOpens { return &streamOpens{at: map[string][]time.Time{}} }

func (s *streamOpens) add(host string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.at[host] = append(s.at[host], at)
}

// first is when host's first stream at or after since opened.
func (s *streamOpens) first(host string, since time.Time) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, at := range s.at[host] {
		if !at.Before(since) {
			return at, true
		}
	}
	return time.Time{}, false
}

// fleetChild is a fleet served by a child process.
type fleetChild struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	dir   string
	opens *streamOpens
	fleet.Manifest
}

// startFleetChild runs this same binary with -serve-fleet, reads its
// manifest, then follows its events lines.
func startFleetChild(ctx context.Context, o options, hang int, stderr io.Writer) (*fleetChild, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "deckhand-bench-fleet-")
	if err != nil {
		return nil, err
	}
	c := &fleetChild{dir: dir, opens: newStreamOpens()}
	c.cmd = exec.CommandContext(ctx, exe, "-serve-fleet", "-dir", dir, "-hang", strconv.Itoa(hang),
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
	r := bufio.NewReaderSize(out, 1<<20)
	line, err := r.ReadBytes('\n')
	if err != nil {
		c.stop()
		return nil, fmt.Errorf("fleet process: no manifest: %w", err)
	}
	if c.Manifest, err = fleet.ReadManifest(line); err != nil {
		c.stop()
		return nil, err
	}
	go c.follow(r)
	return c, nil
}

func (c *fleetChild) follow(r *bufio.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 || f[0] != "events" {
			continue
		}
		if ns, err := strconv.ParseInt(f[2], 10, 64); err == nil {
			c.opens.add(f[1], time.Unix(0, ns))
		}
	}
}

func (c *fleetChild) stop() {
	c.stdin.Close()
	_ = c.cmd.Wait()
	os.RemoveAll(c.dir)
}
