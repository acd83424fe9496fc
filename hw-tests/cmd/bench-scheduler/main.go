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
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"palisade/resources/cib"
	"palisade/resources/model"
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
		doc := generate(sz.nodes, sz.rscs, 1)
		path := filepath.Join(dir, fmt.Sprintf("cib-%dx%d.xml", sz.nodes, sz.rscs))
		if *keep != "" {
			if err := os.MkdirAll(*keep, 0o755); err != nil {
				fatal(err)
			}
			path = filepath.Join(*keep, filepath.Base(path))
		}
		var buf bytes.Buffer
		if err := cib.Write(&buf, doc, time.Now()); err != nil {
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

// generate builds a cluster: 30 % of resources in groups of three, the
// rest primitives; half of the top-level resources prefer a node, a tenth
// carry attribute rules, 5 % colocations and 5 % orders between top-level
// resources, stickiness 100, migration-threshold 3, 2 % with fail counts,
// 80 % already running. The seed makes it reproducible.
func generate(nNodes, nRscs int, seed int64) *model.Document {
	rng := rand.New(rand.NewSource(seed))
	doc := &model.Document{}
	c := &doc.Config
	off := false
	c.Options.StonithEnabled = &off
	c.RscDefaults = map[string]string{"resource-stickiness": "100", "migration-threshold": "3"}
	node := func(i int) string { return fmt.Sprintf("node%03d", i+1) }
	for i := 0; i < nNodes; i++ {
		c.Nodes = append(c.Nodes, model.Node{Name: node(i), Attributes: map[string]string{"rack": fmt.Sprintf("r%d", i%4)}})
		doc.Status.Nodes = append(doc.Status.Nodes, model.NodeState{Name: node(i), State: model.NodeOnline})
	}
	type top struct {
		id    string
		prims []string
	}
	var tops []top
	grouped := nRscs * 3 / 10 / 3
	made := 0
	for g := 0; g < grouped; g++ {
		grp := &model.Resource{ID: fmt.Sprintf("grp%05d", g), Kind: model.KindGroup}
		var ids []string
		for m := 0; m < 3; m++ {
			id := fmt.Sprintf("grp%05d-m%d", g, m)
			grp.Members = append(grp.Members, &model.Resource{ID: id, Class: "ocf", Provider: "heartbeat", Type: "Dummy"})
			ids = append(ids, id)
			made++
		}
		c.Resources = append(c.Resources, grp)
		tops = append(tops, top{grp.ID, ids})
	}
	for i := 0; made < nRscs; i++ {
		id := fmt.Sprintf("rsc%05d", i)
		c.Resources = append(c.Resources, &model.Resource{ID: id, Class: "ocf", Provider: "heartbeat", Type: "Dummy"})
		tops = append(tops, top{id, []string{id}})
		made++
	}
	// Shuffle so groups and primitives interleave in the configuration.
	rng.Shuffle(len(c.Resources), func(i, j int) {
		c.Resources[i], c.Resources[j] = c.Resources[j], c.Resources[i]
		tops[i], tops[j] = tops[j], tops[i]
	})
	for i, t := range tops {
		switch r := rng.Intn(20); {
		case r < 10:
			c.Constraints.Locations = append(c.Constraints.Locations, model.Location{ID: fmt.Sprintf("loc-%d", i), Rsc: t.id, Node: node(rng.Intn(nNodes)), Score: model.Score(rng.Intn(200))})
		case r < 12:
			c.Constraints.Locations = append(c.Constraints.Locations, model.Location{ID: fmt.Sprintf("rule-%d", i), Rsc: t.id, Rules: []model.Rule{{
				Score: model.Score(25 + rng.Intn(50)), Expressions: []model.Expression{{Attribute: "rack", Operation: "eq", Value: fmt.Sprintf("r%d", rng.Intn(4))}}}}})
		case r < 13:
			c.Constraints.Locations = append(c.Constraints.Locations, model.Location{ID: fmt.Sprintf("ban-%d", i), Rsc: t.id, Rules: []model.Rule{{
				Score: -model.Infinity, Expressions: []model.Expression{{Attribute: "#uname", Operation: "eq", Value: node(rng.Intn(nNodes))}}}}})
		}
		if i > 0 && rng.Intn(20) == 0 {
			score := model.Score(model.Infinity)
			if rng.Intn(2) == 0 {
				score = 100
			}
			c.Constraints.Colocations = append(c.Constraints.Colocations, model.Colocation{ID: fmt.Sprintf("col-%d", i), Rsc: t.id, With: tops[rng.Intn(i)].id, Score: score})
		}
		if i > 0 && rng.Intn(20) == 0 {
			c.Constraints.Orders = append(c.Constraints.Orders, model.Order{ID: fmt.Sprintf("ord-%d", i), First: tops[rng.Intn(i)].id, Then: t.id})
		}
		if rng.Intn(10) < 8 {
			n := node(rng.Intn(nNodes))
			for _, p := range t.prims {
				doc.Status.Resources = append(doc.Status.Resources, model.ResourceStatus{Rsc: p, Node: n})
			}
			if rng.Intn(50) == 0 {
				doc.Status.Failures = append(doc.Status.Failures, model.Failure{Rsc: t.prims[0], Node: n, Op: "monitor", Count: model.Score(1 + rng.Intn(3)), LastFailure: time.Now().Add(-time.Minute)})
			}
		}
	}
	return doc
}
