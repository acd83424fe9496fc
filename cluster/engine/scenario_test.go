package engine

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"palisade/cluster/dcmsg"
	"palisade/cluster/eventlog"
	"palisade/cluster/recovery"
	"palisade/cluster/replica"
	"palisade/resources/model"
)

// TestScenarios replays testdata/*.txt (datadriven; -rewrite regenerates)
// through Coordinators of a simulated cluster (resources/scheduler; members
// execute actions at once). Each directive prints what it caused.
// Directives:
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
//	force-push ON CONFIG      push, accepted even if it drops operator state
//	edit ON OP [RSC] [NODE]   an operator's edit (standby n2, move grp n2...)
//	                          typed on ON
//	ran NODE                  the probes, starts, stops and reloads NODE ran
//	                          since the last "ran", with their parameters
//
// Output: fence requests, actions sent, refused starts, and the state.
func TestScenarios(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txt")
	if len(files) == 0 {
		t.Fatal("no testdata")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			datadriven.RunTest(t, f, new(script).run)
		})
	}
}

// script is the state of one testdata file: the simulated cluster of its
// last nodes directive and how much of its event log was printed.
type script struct {
	s    *sim
	seen int
}

func (sc *script) run(t *testing.T, d *datadriven.TestData) string {
	// The directive's words as written (view 2 n1 n3, running vip=n2).
	f := strings.Fields(d.FullCmd())
	var got []string
	s := sc.s
	collect := func() {
		if s == nil {
			return
		}
		for _, e := range s.log[sc.seen:] {
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
		sc.seen = len(s.log)
	}
	if d.Cmd != "nodes" && s == nil {
		d.Fatalf(t, "%s before nodes", d.Cmd)
	}
	switch d.Cmd {
	case "nodes":
		s = newSim(t, f[1:]...)
		for _, c := range s.nodes {
			c.c.SetScheduler(PackageScheduler) // the real scheduler
		}
		sc.s, sc.seen = s, 0
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
		dur, err := time.ParseDuration(f[1])
		if err != nil {
			d.Fatalf(t, "%v", err)
		}
		s.now = dur
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
		s.nodes[f[2]].Request(dcmsg.OpRequest{ID: "c", Op: dcmsg.OpConfirm, Node: f[1], By: f[3]}, s.now)
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
	case "force-push":
		cfg, admin := s.loadConfig(f[2])
		_, line := s.proposeWith(f[1], dcmsg.Proposal{Config: cfg, AdminEpoch: admin, Force: true}, "force-push "+f[2])
		collect()
		got = append(got, line)
	case "edit":
		// edit ON OP [RESOURCE] [NODE] [; OP ...]: operator edits typed
		// on ON, made on the running configuration as one change (as
		// EditConfig does for one, a Heartbeat verb for several).
		var edits []replica.Edit
		var words []string
		for _, part := range strings.Split(strings.Join(f[2:], " "), ";") {
			w := strings.Fields(part)
			e := replica.Edit{Op: w[0], By: "op"}
			switch w[0] {
			case replica.EditMove, replica.EditBan, replica.EditClear:
				e.Resource = w[1]
				if len(w) > 2 {
					e.Node = w[2]
				}
			default:
				e.Node = w[1]
			}
			edits = append(edits, e)
			words = append(words, e.String())
		}
		cib := s.nodes[f[1]].c.CIB()
		b, _ := json.Marshal(cib.Config)
		var cfg model.Config
		if err := json.Unmarshal(b, &cfg); err != nil {
			d.Fatalf(t, "%v", err)
		}
		for _, e := range edits {
			if err := replica.ApplyEdit(&cfg, e, s.names()); err != nil {
				return "error: " + err.Error()
			}
		}
		_, line := s.proposeWith(f[1], dcmsg.Proposal{Config: &cfg, AdminEpoch: cib.Version.AdminEpoch, BaseDigest: cib.Digest, Edits: edits}, strings.Join(words, ", "))
		collect()
		got = append(got, line)
	case "ran":
		// What NODE's executor ran since the last "ran": probes, starts,
		// stops and reloads with their parameters.
		for _, op := range s.ops[f[1]] {
			if op.Interval > 0 {
				continue
			}
			what := string(op.Action)
			if op.Probe {
				what = "probe"
			}
			var ps []string
			for _, k := range model.SortedKeys(op.Instance.Params) {
				ps = append(ps, k+"="+op.Instance.Params[k])
			}
			got = append(got, strings.TrimSpace(fmt.Sprintf("%s %s %s %s", f[1], what, op.Instance.ID, strings.Join(ps, " "))))
		}
		s.ops[f[1]] = nil
		return scriptOutput(got)
	case "version":
		return scriptOutput(append(got, s.versions()...))
	case "file":
		s.cfgInit()
		s.cfgs.files[f[1]], s.cfgs.admins[f[1]] = s.loadConfig(f[2])
		return ""
	case "restart":
		if s.restart(f[1]) {
			got = append(got, f[1]+": its file was edited since it last saw it: proposing it after joining")
		}
		return scriptOutput(got)
	case "wipe":
		s.cfgInit()
		delete(s.cfgs.persisted, f[1])
		return ""
	case "where":
		var rs []string
		for r, n := range s.running {
			rs = append(rs, r+"="+n)
		}
		slices.Sort(rs)
		return "running: " + strings.Join(rs, " ")
	case "verify":
		vs := recovery.Verify(s.log)
		if len(vs) == 0 {
			got = append(got, "clean")
		}
		for _, v := range vs {
			got = append(got, "violation: "+v.Reason)
		}
		return scriptOutput(got)
	default:
		if !s.deviceCommand(f, &got) { // device_test.go
			d.Fatalf(t, "unknown directive %q", d.Cmd)
		}
	}
	collect()
	return scriptOutput(got)
}

func scriptOutput(ls []string) string { return strings.Join(ls, "\n") }
