// Command bench-scheduler times `palisade simulate --cib` against
// Pacemaker's `crm_simulate -R -x FILE -Q` on the same generated CIBs
// (16 nodes x 1,000 resources, 32 x 5,000, 100 x 10,000: groups, location
// rules, colocations, orders, stickiness, fail counts, 80 % running) and
// prints median wall time, peak RSS (wait4 rusage) and the ratio.
//
//	go run ./hw-tests/cmd/bench-scheduler [-runs 5] [-big-runs 1] [-sizes 16x1000,32x5000,100x10000]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"palisade/resources/cib/cibtest"
)

type size struct{ nodes, rscs int }

func main() {
	runs := flag.Int("runs", 5, "runs per tool and size (median reported)")
	bigRuns := flag.Int("big-runs", 1, "crm_simulate runs for sizes of 10,000 resources or more (it takes ~20 s each)")
	sizes := flag.String("sizes", "16x1000,32x5000,100x10000", "comma-separated NODESxRESOURCES")
	keep := flag.String("keep", "", "directory to keep the generated CIB files in")
	palisadeBin := flag.String("palisade", "", "palisade binary (default: build ./cmd/palisade into a temp dir)")
	flag.Parse()

	dir, err := os.MkdirTemp("", "bench-scheduler-")
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(dir)
	bin := *palisadeBin
	if bin == "" {
		bin = filepath.Join(dir, "palisade")
		build := exec.Command("go", "build", "-o", bin, "./cmd/palisade")
		build.Stderr = os.Stderr
		if err := build.Run(); err != nil {
			fatal(fmt.Errorf("building palisade: %w", err))
		}
	}
	crm, crmErr := exec.LookPath("crm_simulate")
	if crmErr != nil {
		fmt.Println("crm_simulate not found (install pacemaker-cli-utils): timing palisade only")
	}
	fmt.Printf("%-12s %12s %10s %12s %10s %8s\n", "size", "palisade", "RSS", "crm_simulate", "RSS", "ratio")
	for _, spec := range strings.Split(*sizes, ",") {
		sz, err := parseSize(spec)
		if err != nil {
			fatal(err)
		}
		doc := cibtest.Generate(sz.nodes, sz.rscs, 1, time.Now())
		path := filepath.Join(dir, fmt.Sprintf("cib-%dx%d.xml", sz.nodes, sz.rscs))
		if *keep != "" {
			if err := os.MkdirAll(*keep, 0o755); err != nil {
				fatal(err)
			}
			path = filepath.Join(*keep, filepath.Base(path))
		}
		var buf bytes.Buffer
		if err := cibtest.Write(&buf, doc, time.Now()); err != nil {
			fatal(err)
		}
		// Without probe history crm_simulate schedules a probe of every
		// resource on every node (160,000 at 32 x 5,000) and takes minutes;
		// a running cluster has that history, so switch startup probes off
		// to compare placement work. Palisade never probes from here.
		xml := bytes.Replace(buf.Bytes(), []byte(`<cluster_property_set id="cib-bootstrap-options">`),
			[]byte(`<cluster_property_set id="cib-bootstrap-options">
    <nvpair id="opt-enable-startup-probes" name="enable-startup-probes" value="false"/>`), 1)
		if err := os.WriteFile(path, xml, 0o644); err != nil {
			fatal(err)
		}
		pt, prss, err := measure(*runs, bin, "simulate", "--cib", path)
		if err != nil {
			fatal(fmt.Errorf("palisade simulate on %s: %w", spec, err))
		}
		line := fmt.Sprintf("%-12s %10.1fms %8.1fMB", spec, ms(pt), mb(prss))
		if crmErr == nil {
			n := *runs
			if sz.rscs >= 10000 {
				n = *bigRuns
			}
			ct, crss, err := measure(n, crm, "-R", "-x", path, "-Q")
			if err != nil {
				fatal(fmt.Errorf("crm_simulate on %s: %w", spec, err))
			}
			line += fmt.Sprintf(" %10.1fms %8.1fMB %7.1fx", ms(ct), mb(crss), float64(ct)/float64(pt))
		}
		fmt.Println(line)
	}
}

func parseSize(s string) (size, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "x")
	if !ok {
		return size{}, fmt.Errorf("size %q: want NODESxRESOURCES", s)
	}
	n, err1 := strconv.Atoi(a)
	r, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || n < 1 || r < 1 {
		return size{}, fmt.Errorf("size %q: want NODESxRESOURCES", s)
	}
	return size{n, r}, nil
}

// measure runs a command n times and returns the median wall time and the
// largest peak RSS (bytes).
func measure(n int, name string, args ...string) (time.Duration, int64, error) {
	if n < 1 {
		n = 1
	}
	var times []time.Duration
	var peak int64
	for i := 0; i < n; i++ {
		cmd := exec.Command(name, args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		start := time.Now()
		if err := cmd.Run(); err != nil {
			return 0, 0, fmt.Errorf("%w: %s", err, lastLine(stderr.String()))
		}
		times = append(times, time.Since(start))
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && ru.Maxrss*1024 > peak {
			peak = ru.Maxrss * 1024 // Linux reports KiB
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	return times[len(times)/2], peak, nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
func mb(b int64) float64         { return float64(b) / (1 << 20) }

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench-scheduler:", err)
	os.Exit(1)
}
