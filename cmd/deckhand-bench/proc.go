package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// procStat is what /proc/<pid>/stat says of a process's parent and CPU.
type procStat struct {
	ppid int
	// cpu is user and system time of the process and of its children it
	// has waited for: a finished `docker ps` child counts once, in its
	// parent, and a running one in itself.
	cpu time.Duration
}

func readStat(pid int) (procStat, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, false
	}
	// The command name may hold spaces and parentheses; the fields after
	// its last ")" do not.
	i := strings.LastIndex(string(b), ") ")
	if i < 0 {
		return procStat{}, false
	}
	f := strings.Fields(string(b)[i+2:])
	if len(f) < 15 {
		return procStat{}, false
	}
	var st procStat
	st.ppid, _ = strconv.Atoi(f[1])
	var ticks int64
	for _, s := range f[11:15] { // utime, stime, cutime, cstime
		n, _ := strconv.ParseInt(s, 10, 64)
		ticks += n
	}
	const userHZ = 100 // USER_HZ is 100 in the Linux user ABI
	st.cpu = time.Duration(ticks) * time.Second / userHZ
	return st, true
}

// procCPU is the CPU time process pid and its waited-for children used.
func procCPU(pid int) time.Duration {
	st, _ := readStat(pid)
	return st.cpu
}

// tree is pid and every live descendant of it.
func tree(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return []int{pid}
	}
	children := map[int][]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ok := readStat(p); ok {
			children[st.ppid] = append(children[st.ppid], p)
		}
	}
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// treeUsage is the summed RSS (kB) and CPU of a process tree, and how many
// processes it holds.
type treeUsage struct {
	RSSKB int64
	CPU   time.Duration
	Procs int
}

func treeNow(pid int) treeUsage {
	var u treeUsage
	for _, p := range tree(pid) {
		rss, _, _ := pidMemory(p)
		if rss < 0 {
			continue // ended meanwhile
		}
		u.RSSKB += rss
		u.CPU += procCPU(p)
		u.Procs++
	}
	return u
}

// procMemory reads VmRSS, VmHWM (peak RSS) and RssFile (the file-backed
// part of VmRSS: the executable's pages) of this process, in kB.
func procMemory() (rss, hwm, file int64) { return readMemory("/proc/self/status") }

// pidMemory is procMemory of process pid.
func pidMemory(pid int) (rss, hwm, file int64) {
	return readMemory(fmt.Sprintf("/proc/%d/status", pid))
}

// readMemory reads VmRSS, VmHWM and RssFile from a /proc/*/status file;
// all -1 when it cannot be read.
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

// resetPeakRSS resets VmHWM to the current RSS (Linux ≥ 4.0), so that the
// peak of one phase can be read apart from the earlier ones.
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// treePeak samples the summed RSS of a process tree until stop, and keeps
// the highest: the sum of each process's own VmHWM would overstate it,
// since children come and go.
type treePeak struct {
	stopc chan struct{}
	done  chan struct{}
	peak  treeUsage // RSSKB is the highest sum; Procs the most processes at once
}

func sampleTree(pid int, every time.Duration) *treePeak {
	t := &treePeak{stopc: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(t.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			u := treeNow(pid)
			t.peak.RSSKB = max(t.peak.RSSKB, u.RSSKB)
			t.peak.Procs = max(t.peak.Procs, u.Procs)
			select {
			case <-t.stopc:
				return
			case <-tick.C:
			}
		}
	}()
	return t
}

// stop ends the sampling and returns the peak.
func (t *treePeak) stop() treeUsage {
	select {
	case <-t.stopc:
	default:
		close(t.stopc)
	}
	<-t.done
	return t.peak
}
