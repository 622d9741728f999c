package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/deckhand/deckhand/internal/fleet"
)

// TestMeasureFleetTiny runs the fleet measurements on an in-process fleet:
// steady cycles open no connection, and the naive baseline opens one per
// command (ps and inspect) of every host it collects.
func TestMeasureFleetTiny(t *testing.T) {
	f, err := fleet.Start(fleet.Config{Hosts: 4, Containers: 3, RTT: time.Millisecond}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	got, err := measureFleet(context.Background(), f.Manifest, 4, 2, 3, fleetHooks{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Handshakes != 0 {
		t.Errorf("%.1f handshakes per steady cycle, want 0", got.Handshakes)
	}
	if got.Containers != 12 || got.FailedHosts != 0 {
		t.Errorf("steady cycle collected %d containers with %d failed hosts, want 12 and 0", got.Containers, got.FailedHosts)
	}
	if got.NaiveHosts != 3 || got.NaiveDials != 6 || got.NaiveFailed != 0 {
		t.Errorf("naive: %d hosts, %d dials, %d failed; want 3, 6, 0", got.NaiveHosts, got.NaiveDials, got.NaiveFailed)
	}
	// Server side: 4 connections of deckhand's collector, 6 of the baseline.
	if n := f.ServerHandshakes(); n != 10 {
		t.Errorf("servers saw %d handshakes, want 10", n)
	}
	if got.SteadyHWMKB <= 0 || got.RSSKB <= 0 || got.FileKB <= 0 || got.StartFileKB <= 0 {
		t.Errorf("memory not read: rss %d kB, hwm %d kB, file %d kB", got.RSSKB, got.SteadyHWMKB, got.FileKB)
	}
	// Closing the collector frees its connections, and the snapshot is
	// still held: both parts of the live heap are there.
	if got.ConnKB() <= 0 || got.SnapKB() <= 0 {
		t.Errorf("heap: connections %d kB, snapshot %d kB; want both > 0", got.ConnKB(), got.SnapKB())
	}
	if got.AllocPerCtr <= 0 {
		t.Errorf("allocation per container not measured: %.0f B", got.AllocPerCtr)
	}
	if got.FullCycle <= 0 {
		t.Errorf("full cycle not measured")
	}
}

// TestMeasureDaemonTiny runs the real binary on an in-process fleet: it
// collects every host, keeps collecting, and its memory is read.
func TestMeasureDaemonTiny(t *testing.T) {
	bin := buildDeckhand(t)
	f, err := fleet.Start(fleet.Config{Hosts: 3, Containers: 2, RTT: time.Millisecond}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	var logs bytes.Buffer
	got, err := measureDaemon(context.Background(), bin, f.Manifest, time.Second, 2*time.Second, 2500*time.Millisecond, &logs)
	if err != nil {
		t.Fatalf("%v\n%s", err, logs.String())
	}
	// Two polls at least in the window, of three hosts each.
	if got.FirstCollection <= 0 || got.Collects < 6 {
		t.Errorf("first collection after %v, %v host collections in %v; want > 0 and ≥ 6", got.FirstCollection, got.Collects, got.Window)
	}
	if got.RSSKB <= 0 || got.HWMKB < got.RSSKB || got.CPU <= 0 {
		t.Errorf("rss %d kB, hwm %d kB, cpu %v", got.RSSKB, got.HWMKB, got.CPU)
	}
	if f.ServerHandshakes() != 3 {
		t.Errorf("the daemon opened %d connections to 3 hosts, want 3", f.ServerHandshakes())
	}
}

func TestReportGoalsAndCheck(t *testing.T) {
	var r benchReport
	r.goal("fleet", "ratio", 1.5, "×", true, 2, true)
	r.goal("fleet", "speed-up", 49, "×", false, 50, true)
	r.goal("page", "p99", 30, "ms", true, 25, false) // missed but not checked
	r.add("page", "size", 10, "KiB")
	r.unchecked("fleet", "rss", 60, "MB", true, 40, "the binary alone is 20 MB")
	missed := r.missed()
	if len(missed) != 1 || !strings.Contains(missed[0], "speed-up = 49.0×, goal ≥ 50.0×") {
		t.Fatalf("missed = %q, want only the speed-up", missed)
	}
	var out bytes.Buffer
	r.print(&out)
	for _, want := range []string{"PASS", "FAIL", "FAIL (not checked)", "≤ 2.00×", "10.0 KiB", "FAIL (not checked: the binary alone is 20 MB)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}

func TestBenchFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	err := cmdBench(context.Background(), []string{"-fail", "1"}, &out, &errOut)
	var ue usageError
	if !errors.As(err, &ue) {
		t.Fatalf("-fail 1: %v, want a usage error", err)
	}
	if err := cmdBench(context.Background(), []string{"-serve-fleet"}, &out, &errOut); !errors.As(err, &ue) {
		t.Fatalf("-serve-fleet without -dir: %v, want a usage error", err)
	}
}

func TestPercentile(t *testing.T) {
	d := []time.Duration{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	if p := percentile(d, 0.5); p != 5 {
		t.Errorf("p50 = %d, want 5", p)
	}
	if p := percentile(d, 0.95); p != 10 {
		t.Errorf("p95 = %d, want 10", p)
	}
	if p := percentile(nil, 0.5); p != 0 {
		t.Errorf("p50 of nothing = %d", p)
	}
}
