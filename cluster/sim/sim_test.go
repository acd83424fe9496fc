package sim

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user + system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var (
	seedFlag   = flag.Uint64("seed", 0, "run only this seed (with -v: its trace)")
	seedsFlag  = flag.Int("seeds", 16, "how many seeds TestSeeds runs (make test runs 400, make soak 4000)")
	firstFlag  = flag.Uint64("first", 1, "first seed of TestSeeds")
	faultsFlag = flag.Duration("faults", 60*time.Second, "simulated time under faults per seed")
	traceFlag  = flag.Bool("simtrace", false, "print the trace of -seed")
)

func replay(seed uint64) string {
	return fmt.Sprintf("go test ./cluster/sim -run 'TestSeeds$' -seed %d -faults %v -simtrace -v", seed, *faultsFlag)
}

// TestSeeds runs -seeds random seeds (in parallel, each single-threaded and
// deterministic) with random faults for -faults each, and fails with the
// command that replays a failing seed.
func TestSeeds(t *testing.T) {
	first, count := *firstFlag, *seedsFlag
	if *seedFlag != 0 {
		first, count = *seedFlag, 1
	}
	type out struct {
		res Result
		dur time.Duration
	}
	results := make([]out, count)
	cpu0 := cpuTime()
	wall0 := time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i := range count {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			opts := Options{Seed: first + uint64(i), Faults: *faultsFlag}
			if *traceFlag && count == 1 {
				opts.Trace = os.Stdout
			}
			start := time.Now()
			results[i] = out{Run(opts), time.Since(start)}
		}()
	}
	wg.Wait()
	cpu, wall := cpuTime()-cpu0, time.Since(wall0)
	var steps uint64
	var nodeSec float64
	devSeeds, splits, devSplits := 0, 0, 0
	for _, o := range results {
		r := o.res
		steps += r.Steps
		nodeSec += r.NodeSeconds
		splits += r.Splits
		if r.Device != "" {
			devSeeds++
			devSplits += r.Splits
		}
		if len(r.Violations) > 0 {
			dev := ""
			if r.Device != "" {
				dev = ", quorum device " + r.Device
			}
			t.Errorf("seed %d (%d nodes, %d links, fence action %s%s): %d violation(s):", r.Seed, r.Nodes, r.Links, r.Action, dev, len(r.Violations))
			for _, v := range r.Violations {
				t.Errorf("  %v", v)
			}
			t.Errorf("  replay: %s", replay(r.Seed))
		}
	}
	t.Logf("%d seeds, %d steps, %.0f simulated node-seconds under faults in %v of CPU, %v wall (%.0fx real time per CPU second, %.0fx on the clock)",
		count, steps, nodeSec, cpu.Round(time.Millisecond), wall.Round(time.Millisecond), nodeSec/cpu.Seconds(), nodeSec/wall.Seconds())
	t.Logf("%d network splits; %d seeds ran with a quorum device (arbiter or disk) through %d of them", splits, devSeeds, devSplits)
}

// TestDeterministic: a seed replays exactly.
func TestDeterministic(t *testing.T) {
	for _, seed := range []uint64{7, 8} {
		a := Run(Options{Seed: seed, Faults: 20 * time.Second})
		b := Run(Options{Seed: seed, Faults: 20 * time.Second})
		if a.Trace != b.Trace || a.Steps != b.Steps {
			t.Errorf("seed %d: two runs differ: trace %x/%x, steps %d/%d", seed, a.Trace, b.Trace, a.Steps, b.Steps)
		}
	}
}
