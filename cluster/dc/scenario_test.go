package dc

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"palisade/cluster/eventlog"
	"palisade/cluster/recovery"
)

var update = flag.Bool("update", false, "rewrite testdata expectations with the actual output")

// TestScenarios replays testdata/*.txt through Coordinators of a simulated
// cluster (resources/scheduler; members execute actions at once). Lines starting
// with "> " after a command are its expected output. Commands:
//
//	nodes n1 n2 n3            start a cluster (every node has the group grp = vip, dummy)
//	running vip=n2 dummy=n2   what the members run before the first view
//	view ID n1 n3             deliver a view to the listed members; others are down
//	at DURATION               advance the clock (and tick every coordinator)
//	fence-result n2 ok|fail   the DC's fencer answers the last request for n2
//	confirm NODE ON BY        operator confirmation on node ON
//	leave NODE                NODE shuts down cleanly (asks the DC to move its resources)
//	where                     print what runs where
//	verify                    run recovery.Verify over the log so far
//	push ON CONFIG            node ON proposes testdata/config/CONFIG.yaml
//	                          (a resources section) to the DC
//	version                   every node's CIB version and configuration
//	file NODE CONFIG          NODE's configuration file now holds CONFIG
//	restart NODE              NODE's daemon restarts: persisted CIB + file
//	                          (StartCIB); an edited file is proposed after
//	                          its next view
//	wipe NODE                 remove NODE's persisted CIB (state_dir)
//
// Output: fence requests, actions sent, refused starts, and the state.
func TestScenarios(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txt")
	if len(files) == 0 {
		t.Fatal("no testdata")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) { runScenario(t, f) })
	}
}

func runScenario(t *testing.T, path string) {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s *sim
	var out strings.Builder
	var cmd string
	var want, got []string
	seen := 0
	flush := func() {
		if cmd == "" {
			return
		}
		if !*update && strings.Join(want, "\n") != strings.Join(got, "\n") {
			t.Errorf("%s: %s\n got:\n  %s\n want:\n  %s", path, cmd, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		}
		for _, g := range got {
			out.WriteString("> " + g + "\n")
		}
		cmd, want, got = "", nil, nil
	}
	collect := func() {
		if s == nil {
			return
		}
		for _, e := range s.log[seen:] {
			switch e.Event {
			case eventlog.ActionSent:
				got = append(got, fmt.Sprintf("%s sends %s %s to %s", e.Writer, e.Action, e.Resource, e.Node))
			case eventlog.StartDenied:
				got = append(got, fmt.Sprintf("%s denies start of %s on %s: %s", e.Writer, e.Resource, e.Node, e.Detail))
			case eventlog.FenceRequested:
				got = append(got, fmt.Sprintf("%s requests fencing of %s (attempt %d)", e.Writer, e.Target, e.Attempt))
			case eventlog.FenceConfirmed:
				got = append(got, fmt.Sprintf("%s: %s confirmed fenced by %s", e.Writer, e.Target, e.By))
			case eventlog.NodeLeaving, eventlog.NodeLeft:
				got = append(got, fmt.Sprintf("%s: %s %s", e.Writer, e.Event, e.Target))
			case eventlog.DCElected:
				got = append(got, fmt.Sprintf("%s is DC (%s)", e.Writer, e.Detail))
			}
		}
		seen = len(s.log)
	}
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	for ln := 1; sc.Scan(); ln++ {
		line := sc.Text()
		if strings.HasPrefix(line, "> ") {
			want = append(want, strings.TrimPrefix(line, "> "))
			continue
		}
		flush()
		out.WriteString(line + "\n")
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		cmd = fmt.Sprintf("line %d: %s", ln, line)
		switch f[0] {
		case "nodes":
			s = newSim(t, f[1:]...)
			for _, c := range s.nodes {
				c.c.cfg.Schedule = PackageScheduler // the real scheduler
			}
			seen = 0
		case "running":
			for _, kv := range f[1:] {
				r, n, _ := strings.Cut(kv, "=")
				s.running[r] = n
			}
		case "view":
			id, _ := strconv.ParseUint(f[1], 10, 64)
			for n := range s.up {
				s.up[n] = slices.Contains(f[2:], n)
			}
			s.view(id, f[2:]...)
			collect()
			got = append(got, s.proposePending()...)
		case "at":
			d, err := time.ParseDuration(f[1])
			if err != nil {
				t.Fatalf("%s:%d: %v", path, ln, err)
			}
			s.now = d
			s.tick()
		case "fence-result":
			s.fenceResult(f[1], f[2] == "ok")
		case "leave":
			s.nodes[f[1]].Leave(s.now)
			s.pump()
			if s.nodes[f[1]].Left() {
				got = append(got, f[1]+" may leave (its replica lists it as left)")
			}
		case "confirm":
			s.nodes[f[2]].Request(OpRequest{ID: "c", Op: OpConfirm, Node: f[1], By: f[3]}, s.now)
			s.pump()
			for _, a := range s.answers {
				if a.Error != "" {
					got = append(got, "error: "+a.Error)
				}
			}
			s.answers = nil
		case "push":
			cfg, admin := s.loadConfig(f[2])
			_, line := s.propose(f[1], cfg, admin, "push "+f[2])
			collect()
			got = append(got, line)
		case "version":
			got = append(got, s.versions()...)
			continue
		case "file":
			s.cfgInit()
			s.cfgs.files[f[1]], s.cfgs.admins[f[1]] = s.loadConfig(f[2])
			continue
		case "restart":
			if s.restart(f[1]) {
				got = append(got, f[1]+": its file was edited since it last saw it: proposing it after joining")
			}
			continue
		case "wipe":
			s.cfgInit()
			delete(s.cfgs.persisted, f[1])
			continue
		case "where":
			var rs []string
			for r, n := range s.running {
				rs = append(rs, r+"="+n)
			}
			slices.Sort(rs)
			got = append(got, "running: "+strings.Join(rs, " "))
			continue
		case "verify":
			vs := recovery.Verify(s.log)
			if len(vs) == 0 {
				got = append(got, "clean")
			}
			for _, v := range vs {
				got = append(got, "violation: "+v.Reason)
			}
			continue
		default:
			if !s.deviceCommand(f, &got) { // device_test.go
				t.Fatalf("%s:%d: unknown command %q", path, ln, f[0])
			}
		}
		collect()
	}
	flush()
	if *update {
		if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
