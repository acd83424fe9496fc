package engine

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"palisade/cluster/dc"
	"palisade/resources/cib"
	"palisade/resources/scheduler"
	"palisade/resources/scheduler/scenario"
)

// TestFlattenKeepsOrder is the property the executor relies on: for every
// case of both corpora (the project's resources/scheduler/testdata and Pacemaker's
// own regression cases in ../shared/pacemaker-cts), every ordering between
// two real actions of the scheduler's graph — direct, or through any chain
// of actions — is kept by the flattened plan the DC executes, directly or
// transitively.
func TestFlattenKeepsOrder(t *testing.T) {
	var graphs []namedGraph
	for _, c := range scenario.LoadAll(t, "../../resources/scheduler/testdata") {
		out, _ := c.Run()
		graphs = append(graphs, namedGraph{filepath.Base(c.Path), out.Actions})
	}
	pcmk, _ := filepath.Glob("../../../shared/pacemaker-cts/xml/*.xml")
	if len(pcmk) == 0 {
		t.Log("../shared/pacemaker-cts is absent: only the project's corpus is checked")
	}
	unread := 0
	for _, f := range pcmk {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		doc, _, err := cib.ReadBytes(data)
		if err != nil {
			unread++ // the scheduler conformance test reports reader failures
			continue
		}
		out := scheduler.Schedule(scheduler.Input{Config: &doc.Config, Status: &doc.Status, Now: scenario.DefaultNow})
		graphs = append(graphs, namedGraph{filepath.Base(f), out.Actions})
	}
	edges := 0
	for _, g := range graphs {
		n, err := checkFlatten(g.acts)
		if err != nil {
			t.Errorf("%s: %v", g.name, err)
		}
		edges += n
	}
	t.Logf("%d graphs (%d Pacemaker cases not readable), %d orderings between real actions checked", len(graphs), unread, edges)
}

type namedGraph struct {
	name string
	acts []scheduler.Action
}

// checkFlatten returns how many real-to-real orderings it checked.
func checkFlatten(acts []scheduler.Action) (int, error) {
	byID := map[int]scheduler.Action{}
	for _, a := range acts {
		byID[a.ID] = a
	}
	// ancestors over the whole graph (any path).
	anc := map[int]map[int]bool{}
	var walk func(id int) map[int]bool
	walk = func(id int) map[int]bool {
		if s, ok := anc[id]; ok {
			return s
		}
		s := map[int]bool{}
		anc[id] = s
		for _, d := range byID[id].After {
			if _, ok := byID[d]; !ok {
				continue
			}
			s[d] = true
			for x := range walk(d) {
				s[x] = true
			}
		}
		return s
	}
	plan := flatten(acts)
	pb := map[string]dc.PlannedAction{}
	for _, p := range plan {
		pb[p.ID] = p
	}
	panc := map[string]map[string]bool{}
	var pwalk func(id string) map[string]bool
	pwalk = func(id string) map[string]bool {
		if s, ok := panc[id]; ok {
			return s
		}
		s := map[string]bool{}
		panc[id] = s
		for _, d := range pb[id].After {
			s[d] = true
			for x := range pwalk(d) {
				s[x] = true
			}
		}
		return s
	}
	n := 0
	for _, a := range acts {
		if a.Pseudo {
			continue
		}
		for d := range walk(a.ID) {
			if byID[d].Pseudo {
				continue
			}
			n++
			if !pwalk(strconv.Itoa(a.ID))[strconv.Itoa(d)] {
				return n, errOrder(byID[d], a)
			}
		}
	}
	return n, nil
}

type orderErr struct{ first, then scheduler.Action }

func errOrder(first, then scheduler.Action) error { return orderErr{first, then} }

func (e orderErr) Error() string {
	return "ordering lost: " + e.first.Key + " must run before " + e.then.Key
}
