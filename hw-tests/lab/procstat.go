package lab

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ClockTicks is USER_HZ on Linux, the unit of the times in /proc/PID/stat.
const ClockTicks = 100

// ProcCPU is what a process has used so far, as the benchmarks read it
// at both ends of a window.
type ProcCPU struct {
	CPUTicks               // utime+stime, cutime+cstime
	OnCPU    time.Duration // schedstat of its live threads
	Wakeups  uint64        // voluntary context switches of its live threads
}

// ReadProcCPU reads ReadCPUTicks and ThreadStats of a process.
func ReadProcCPU(pid int) (ProcCPU, error) {
	c, err := ReadCPUTicks(pid)
	if err != nil {
		return ProcCPU{}, err
	}
	on, w, err := ThreadStats(pid)
	if err != nil {
		return ProcCPU{}, err
	}
	return ProcCPU{CPUTicks: c, OnCPU: on, Wakeups: w}, nil
}

// CPUTicks is what /proc/PID/stat says a process used, in clock ticks:
// its own utime+stime (all its threads, exited ones included) and its
// waited-for children's cutime+cstime.
type CPUTicks struct{ Self, Children uint64 }

// ReadCPUTicks reads fields 14-17 of /proc/PID/stat.
func ReadCPUTicks(pid int) (CPUTicks, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return CPUTicks{}, err
	}
	// Fields after the parenthesised command name, which may hold spaces.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 15 {
		return CPUTicks{}, fmt.Errorf("/proc/%d/stat: %d fields after the command name, want at least 15", pid, len(f))
	}
	var v [4]uint64
	for i := range v {
		if v[i], err = strconv.ParseUint(f[11+i], 10, 64); err != nil {
			return CPUTicks{}, fmt.Errorf("/proc/%d/stat field %d: %w", pid, 14+i, err)
		}
	}
	return CPUTicks{Self: v[0] + v[1], Children: v[2] + v[3]}, nil
}

// ThreadStats sums, over the live threads of a process, the time on a
// CPU (schedstat: exact, where utime+stime come in 10 ms ticks) and the
// voluntary context switches (the thread slept and was woken: a daemon
// that waits for packets and timers pays per wake-up). Threads that
// exited are not counted; a daemon's threads live as long as it does.
func ThreadStats(pid int) (onCPU time.Duration, wakeups uint64, err error) {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0, 0, err
	}
	for _, t := range tasks {
		b, err := os.ReadFile(filepath.Join(dir, t.Name(), "schedstat"))
		if err != nil {
			continue // the thread exited
		}
		if f := strings.Fields(string(b)); len(f) > 0 {
			ns, _ := strconv.ParseInt(f[0], 10, 64)
			onCPU += time.Duration(ns)
		}
		b, err = os.ReadFile(filepath.Join(dir, t.Name(), "status"))
		if err != nil {
			continue
		}
		for line := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(line, "voluntary_ctxt_switches:"); ok {
				n, _ := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
				wakeups += n
			}
		}
	}
	return onCPU, wakeups, nil
}
