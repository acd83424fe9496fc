package hwtests

// Randomised partitions with the arbiter (issue 13): a lab of 3 to 5
// nodes and a palisade-arbiter at a third site (ffsplit or lms, by seed)
// is split at random many times, into 2 or 3 groups of random members;
// each split is held until the winning partition (if any) has fenced
// every node outside it and the client gets its VIP from the winner, then
// the network heals, the fenced nodes (reboot fencing: their BMC turns
// them on again) boot, and the cluster settles with every node a member
// before the next split. Every run is checked from the merged event logs
// of all nodes:
//
//   - quorumClashes: never two nodes quorate at once in disjoint
//     partitions (the rule of cluster/sim's RuleDisjointQuorum);
//   - doubleOwners: never a resource active on two powered-on nodes;
//   - recovery.Verify (checkRule): nothing of a lost node started before
//     it was confirmed fenced; and the client never got the VIP from two
//     MACs at once.
//
// -qrand-runs, -qrand-splits and -qrand-seed bound and replay it: run r
// uses seed -qrand-seed + r (logged), so a failing run replays with
// -qrand-seed SEED -qrand-runs 1, e.g.
//
//	go test ./hw-tests -run TestQuorumRandomSplits -qrand-runs 15 -v

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"palisade/cluster/api"
	"palisade/cluster/eventlog"
	"palisade/hw-tests/failover"
)

var (
	qrandRuns   = flag.Int("qrand-runs", 3, "how many randomised lab runs TestQuorumRandomSplits makes")
	qrandSplits = flag.Int("qrand-splits", 4, "how many random splits and heals each run of TestQuorumRandomSplits makes")
	qrandSeed   = flag.Uint64("qrand-seed", 13, "seed of TestQuorumRandomSplits' first run (run r uses seed+r)")
)

// qrandTotals are the figures of one test invocation, for the README.
type qrandTotals struct {
	runs, splits, threeWay, won, noWinner, fenced int
	clashes, doubles                              int
}

func TestQuorumRandomSplits(t *testing.T) {
	start := time.Now()
	var tot qrandTotals
	for r := range *qrandRuns {
		seed := *qrandSeed + uint64(r)
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) { qrandRun(t, seed, &tot) })
	}
	t.Logf("figures: %d runs, %d splits (%d three-way): %d with a winner that fenced %d nodes, %d where no partition was quorate; %d quorum clashes, %d double owners; wall time %s",
		tot.runs, tot.splits, tot.threeWay, tot.won, tot.fenced, tot.noWinner, tot.clashes, tot.doubles, time.Since(start).Round(time.Second))
}

// qrandRun is one run: one lab, several splits.
func qrandRun(t *testing.T, seed uint64, tot *qrandTotals) {
	rng := rand.New(rand.NewPCG(seed, 0x13))
	n := 3 + rng.IntN(3)
	alg := "ffsplit"
	if seed%2 == 1 {
		alg = "lms"
	}
	t.Logf("seed %d: %d nodes, arbiter algorithm %s, %d splits (replay: -qrand-seed %d -qrand-runs 1 -qrand-splits %d)", seed, n, alg, *qrandSplits, seed, *qrandSplits)
	prefix := labPrefix("pr")
	h := quorumLabN(t, n, prefix, qdResources(""), "action: reboot\nretry: {initial: 500ms, max: 2s}\nattempt_timeout: 15s",
		func(h *failover.Harness) func(int, string) string {
			_, device := startArbiter(t, h)
			device = strings.Replace(device, "    model: arbiter\n", "    model: arbiter\n    algorithm: "+alg+"\n", 1)
			return func(i int, cfg string) string { return withQuorum(cfg, device) }
		})
	runStart := eventlog.Mono()
	booted := make([]time.Duration, n) // when each node was last booted
	waitStarted(t, h)
	qrandSettle(t, h, booted)
	tot.runs++
	var marks []qrandMark
	for s := range *qrandSplits {
		groups := randomGroups(rng, n)
		if len(groups) == 3 {
			tot.threeWay++
		}
		holder, _ := h.WaitHolder(t.Context(), 10*time.Second)
		fault, err := h.Partition(groups...)
		if err != nil {
			t.Fatal(err)
		}
		marks = append(marks, qrandMark{fault, fmt.Sprintf("split %d %s", s+1, fmtGroups(groups))})
		winner, fenced := qrandHold(t, h, groups, fault)
		tot.splits++
		switch {
		case winner < 0:
			tot.noWinner++
			t.Logf("split %d %s (VIP on n%d): no partition quorate, nobody fenced", s+1, fmtGroups(groups), holder+1)
		default:
			tot.won++
			tot.fenced += len(fenced)
			t.Logf("split %d %s (VIP on n%d): partition %s won, fenced %s", s+1, fmtGroups(groups), holder+1, fmtGroup(groups[winner]), fmtGroup(fenced))
			if slices.Contains(fenced, holder) {
				// The holder lost: the one rule, and the VIP answered by
				// nobody else before its fence and by one node after.
				checkRule(t, h, holder, fault)
				break
			}
			// The holder won and kept the VIP: the one rule, and nobody
			// else answered for the VIP meanwhile.
			if vs, err := h.Violations(); err != nil || len(vs) > 0 {
				t.Errorf("one rule: %v %v", vs, err)
			}
			if owners := h.OwnersAfter(fault); len(owners) > 1 {
				t.Errorf("the VIP stayed with n%d in the winning partition, yet was answered by %v", holder+1, owners)
			}
		}
		heal := eventlog.Mono()
		if err := h.HealCluster(); err != nil {
			t.Fatal(err)
		}
		marks = append(marks, qrandMark{heal, fmt.Sprintf("heal %d", s+1)})
		qrandSettle(t, h, booted)
		t.Logf("split %d: held %s, healed and settled (every node booted, one agreed quorate view of %d) in %s", s+1, ms(heal-fault), n, ms(eventlog.Mono()-heal))
		if t.Failed() {
			break
		}
	}
	es, err := h.Entries()
	if err != nil {
		t.Fatal(err)
	}
	clashes, doubles := quorumClashes(es), doubleOwners(es)
	verdicts := 0
	for _, e := range es {
		if e.Event == eventlog.QuorumChanged && e.Detail == "quorate" {
			verdicts++
		}
	}
	stale, longest := splitViews(es)
	t.Logf("seed %d: checked %d entries (%d quorate verdicts); %d windows, the longest %s, where quorate nodes held different (overlapping) partitions: a node still quorate in the view before a split",
		seed, len(es), verdicts, stale, ms(longest))
	tot.clashes += len(clashes)
	tot.doubles += len(doubles)
	for _, c := range clashes {
		t.Errorf("seed %d: quorum clash: %s (%s)", seed, c, qrandWhen(marks, c.At))
	}
	for _, d := range doubles {
		t.Errorf("seed %d: double owner: %s (%s)", seed, d, qrandWhen(marks, d.At))
	}
	if len(clashes)+len(doubles) > 0 {
		for _, m := range marks {
			t.Logf("%s at mono %d ms", m.what, m.at/time.Millisecond)
		}
	}
	if ds := h.Overlaps(runStart, 0); len(ds) > 0 {
		t.Errorf("seed %d: two MACs answered for the VIP at once: %v", seed, ds)
	}
}

// qrandMark names a moment of the run (a split or a heal) for reports.
type qrandMark struct {
	at   time.Duration
	what string
}

// qrandWhen says in which split or heal a moment fell.
func qrandWhen(marks []qrandMark, at int64) string {
	out := "before the first split"
	for _, m := range marks {
		if int64(m.at) <= at {
			out = fmt.Sprintf("%+.0f ms after %s", float64(at-int64(m.at))/1e6, m.what)
		}
	}
	return out
}

// randomGroups splits nodes 0..n-1 into 2 groups, or 3 about one time in
// three, of random non-empty membership.
func randomGroups(rng *rand.Rand, n int) [][]int {
	k := 2
	if rng.IntN(3) == 0 {
		k = 3
	}
	perm := rng.Perm(n)
	// k-1 distinct cut points in 1..n-1.
	cuts := rng.Perm(n - 1)[:k-1]
	for i := range cuts {
		cuts[i]++
	}
	slices.Sort(cuts)
	var groups [][]int
	prev := 0
	for _, c := range append(cuts, n) {
		g := slices.Clone(perm[prev:c])
		slices.Sort(g)
		groups = append(groups, g)
		prev = c
	}
	return groups
}

func fmtGroup(g []int) string {
	var names []string
	for _, i := range g {
		names = append(names, fmt.Sprintf("n%d", i+1))
	}
	return "{" + strings.Join(names, ",") + "}"
}

func fmtGroups(gs [][]int) string {
	var out []string
	for _, g := range gs {
		out = append(out, fmtGroup(g))
	}
	return strings.Join(out, "|")
}

// Bounds of the waits (liveness, not speed: a run that misses them is
// stuck). qrandQuiet is how long a split without any fence request is
// held before it counts as one where no partition is quorate: deadtime
// (1s) plus the arbiter's lease (3s) plus slack.
const (
	qrandHoldMax   = 60 * time.Second
	qrandSettleMax = 90 * time.Second
	qrandQuiet     = 8 * time.Second
)

// qrandHold holds a split until it has played out: a partition won
// (every node outside it confirmed fenced, and the client gets the VIP
// from a node inside it), or no fence was asked for qrandQuiet and no
// node is quorate. It returns the winning group's index (-1: none) and
// the fenced nodes.
func qrandHold(t *testing.T, h *failover.Harness, groups [][]int, fault time.Duration) (int, []int) {
	t.Helper()
	deadline := time.Now().Add(qrandHoldMax)
	for {
		es, err := h.Entries()
		if err != nil {
			t.Fatal(err)
		}
		var confirmed []int
		var lastConf time.Duration
		requested := false
		for _, e := range es {
			if time.Duration(e.MonoNS) <= fault {
				continue
			}
			switch e.Event {
			case eventlog.FenceRequested:
				requested = true
			case eventlog.FenceConfirmed:
				if i := nodeIndex(e.Target); i >= 0 && !slices.Contains(confirmed, i) {
					confirmed = append(confirmed, i)
					lastConf = time.Duration(e.MonoNS)
				}
			}
		}
		slices.Sort(confirmed)
		for gi, g := range groups {
			var outside []int
			for i := range h.Lab.Nodes {
				if !slices.Contains(g, i) {
					outside = append(outside, i)
				}
			}
			if !slices.Equal(outside, confirmed) {
				continue
			}
			if vipFrom(h, g, max(lastConf, fault)) {
				return gi, confirmed
			}
		}
		if !requested && eventlog.Mono()-fault > qrandQuiet && len(quorateNow(es)) == 0 {
			return -1, nil
		}
		if time.Now().After(deadline) {
			t.Fatalf("split %s did not play out within %s: fenced %s, fence requested %v, quorate now %v", fmtGroups(groups), qrandHoldMax,
				fmtGroup(confirmed), requested, quorateNow(es))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// vipFrom: the client got a solicited answer for the VIP from a node of
// group g after since.
func vipFrom(h *failover.Harness, g []int, since time.Duration) bool {
	for _, r := range h.Replies() {
		if r.Mono > since && r.Solicited {
			if i := slices.Index(h.MACs, r.MAC); i >= 0 && slices.Contains(g, i) {
				return true
			}
		}
	}
	return false
}

// qrandSettle boots every node fenced since its last boot once its BMC
// has turned it on again (reboot fencing), and waits until every node is
// a member of one agreed quorate view of all nodes, nothing is being
// fenced, and the client gets the VIP from a live node.
func qrandSettle(t *testing.T, h *failover.Harness, booted []time.Duration) {
	t.Helper()
	n := len(h.Lab.Nodes)
	deadline := time.Now().Add(qrandSettleMax)
	var why string
	for {
		es, err := h.Entries()
		if err != nil {
			t.Fatal(err)
		}
		down := map[int]bool{}
		for _, e := range es {
			if i := nodeIndex(e.Target); e.Event == eventlog.FenceConfirmed && i >= 0 && time.Duration(e.MonoNS) > booted[i] {
				down[i] = true
			}
		}
		for i := range down {
			on, err := h.Sims[i].Power()
			if err != nil || !on {
				continue // the reboot has not turned it on yet
			}
			if err := h.Boot(i); err != nil {
				t.Fatal(err)
			}
			booted[i] = eventlog.Mono()
		}
		why = settledWhy(h, n, down)
		if why == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the cluster did not settle within %s: %s", qrandSettleMax, why)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// settledWhy says why the cluster is not settled yet ("" once it is).
func settledWhy(h *failover.Harness, n int, down map[int]bool) string {
	if len(down) > 0 {
		return fmt.Sprintf("nodes %v fenced and not booted yet", down)
	}
	var view uint64
	for i := range n {
		st, err := dcStatusOf(h, i)
		if err != nil {
			return err.Error()
		}
		switch {
		case !st.Quorate || !st.Agreed || len(st.Members) != n:
			return fmt.Sprintf("n%d: quorate %v, agreed %v, members %v", i+1, st.Quorate, st.Agreed, st.Members)
		case len(st.FenceOps) > 0:
			return fmt.Sprintf("n%d: fence operations %+v", i+1, st.FenceOps)
		case i > 0 && st.View != view:
			return fmt.Sprintf("n%d in view %d, n1 in view %d", i+1, st.View, view)
		}
		view = st.View
	}
	// The VIP answered lately (the prober asks every 10ms).
	rs := h.Replies()
	if len(rs) == 0 || eventlog.Mono()-rs[len(rs)-1].Mono > 500*time.Millisecond {
		return "no recent answer for the VIP"
	}
	return ""
}

// dcStatusOf reads node i's DC section.
func dcStatusOf(h *failover.Harness, i int) (*api.DCStatus, error) {
	out, err := h.Palisade(i, "status", "--json")
	if err != nil {
		return nil, fmt.Errorf("palisade status on n%d: %v: %s", i+1, err, out)
	}
	var st api.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		return nil, fmt.Errorf("palisade status --json on n%d: %w", i+1, err)
	}
	if st.DC == nil {
		return nil, fmt.Errorf("n%d's status has no DC section", i+1)
	}
	return st.DC, nil
}

// nodeIndex maps "n3" to 2 (-1 for anything else).
func nodeIndex(name string) int {
	var i int
	if _, err := fmt.Sscanf(name, "n%d", &i); err != nil || i < 1 {
		return -1
	}
	return i - 1
}

// ---- the checkers, over a merged, time-ordered event log ----

// qrandFinding is one breach a checker found.
type qrandFinding struct {
	At   int64 // mono ns
	What string
}

func (f qrandFinding) String() string { return fmt.Sprintf("at mono %d ms: %s", f.At/1e6, f.What) }

// quorumTracker follows each node's quorum verdict and the partition it
// speaks for from quorum_changed entries (Detail and Members, written by
// the recovery gate whenever the verdict changes; every change of a
// quorate node's members passes through a not-agreed, inquorate view
// first, since a view with peers is agreed only once they advertise it).
// A node's verdict ends when it is confirmed fenced (it is off) and when
// its daemon starts again (a new incarnation logs its own).
type quorumTracker struct {
	quorate map[string][]string // writer → members of its quorate partition
}

// step applies e and, when e made its writer quorate, returns the other
// quorate nodes whose partitions share no member with the writer's.
func (q *quorumTracker) step(e eventlog.Entry) []string {
	if q.quorate == nil {
		q.quorate = map[string][]string{}
	}
	switch e.Event {
	case eventlog.DaemonStarted:
		delete(q.quorate, e.Writer)
	case eventlog.FenceConfirmed:
		delete(q.quorate, e.Target)
	case eventlog.QuorumChanged:
		if e.Detail != "quorate" {
			delete(q.quorate, e.Writer)
			return nil
		}
		members := e.Members
		if len(members) == 0 {
			// Cannot be judged: say so rather than pass.
			return []string{fmt.Sprintf("%s's quorum_changed names no members (an older daemon?)", e.Writer)}
		}
		q.quorate[e.Writer] = members
		var out []string
		for _, o := range slices.Sorted(mapKeys(q.quorate)) {
			theirs := q.quorate[o]
			if o == e.Writer || slices.ContainsFunc(members, func(m string) bool { return slices.Contains(theirs, m) }) {
				continue
			}
			out = append(out, fmt.Sprintf("%s quorate with %v while %s quorate with %v", e.Writer, members, o, theirs))
		}
		return out
	}
	return nil
}

// now lists the nodes quorate at the end of what was stepped.
func (q *quorumTracker) now() []string { return slices.Sorted(mapKeys(q.quorate)) }

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// quorumClashes: at no instant are two nodes quorate in partitions that
// share no member (two partitions quorate at once). A node still quorate
// in the view it had before a split (it has not noticed yet, and decides
// nothing on it: see DESIGN.md, agreement before authority) shares
// members with every part of that split and is not a clash; two disjoint
// quorate partitions are, however briefly.
func quorumClashes(es []eventlog.Entry) []qrandFinding {
	var q quorumTracker
	var out []qrandFinding
	for _, e := range es {
		for _, c := range q.step(e) {
			out = append(out, qrandFinding{e.MonoNS, c})
		}
	}
	return out
}

// splitViews counts the windows during which quorate nodes held more
// than one partition (necessarily overlapping ones, else quorumClashes
// reports them) and the longest: the time a node takes to notice a split
// while the other side already formed its view. Figures only: DESIGN.md
// makes such a stale node harmless (it decides nothing once it notices,
// and its peers fence before they take anything over).
func splitViews(es []eventlog.Entry) (int, time.Duration) {
	var q quorumTracker
	var n int
	var longest, since time.Duration
	open := false
	for _, e := range es {
		q.step(e)
		var first []string
		mixed := false
		for _, w := range q.now() {
			if first == nil {
				first = q.quorate[w]
			} else if !slices.Equal(first, q.quorate[w]) {
				mixed = true
			}
		}
		at := time.Duration(e.MonoNS)
		switch {
		case mixed && !open:
			open, since = true, at
			n++
		case !mixed && open:
			open = false
			longest = max(longest, at-since)
		}
	}
	return n, longest
}

// quorateNow is the set of nodes quorate at the end of es.
func quorateNow(es []eventlog.Entry) []string {
	var q quorumTracker
	for _, e := range es {
		q.step(e)
	}
	return q.now()
}

// doubleOwners: at no instant is a resource active on two powered-on
// nodes. A resource is active on a node from its start (whatever the
// result: a failed start may leave it half running), its VIP being
// configured there (vip_added) or a probe there finding it running, until
// a successful stop there, a probe there finding it not running, or the
// node's confirmed fence (it is off). Only the executing node's own
// records count (Writer == Node).
func doubleOwners(es []eventlog.Entry) []qrandFinding {
	active := map[string]map[string]bool{} // resource → nodes it is active on
	set := func(rsc, node string, on bool) []string {
		if active[rsc] == nil {
			active[rsc] = map[string]bool{}
		}
		was := active[rsc][node]
		active[rsc][node] = on
		if !on || was {
			return nil
		}
		var others []string
		for _, o := range slices.Sorted(mapKeys(active[rsc])) {
			if o != node && active[rsc][o] {
				others = append(others, o)
			}
		}
		return others
	}
	var out []qrandFinding
	for _, e := range es {
		var others []string
		own := e.Writer != "" && e.Writer == e.Node && e.Resource != ""
		switch {
		case e.Event == eventlog.FenceConfirmed:
			for _, nodes := range active {
				nodes[e.Target] = false
			}
		case !own:
		case e.Event == eventlog.ActionResult && e.Action == "start",
			e.Event == eventlog.VIPAdded:
			others = set(e.Resource, e.Node, true)
		case e.Event == eventlog.ActionResult && e.Action == "stop" && e.OK != nil && *e.OK:
			set(e.Resource, e.Node, false)
		case e.Event == eventlog.Probed && e.OK != nil:
			others = set(e.Resource, e.Node, *e.OK)
		}
		if len(others) > 0 {
			out = append(out, qrandFinding{e.MonoNS, fmt.Sprintf("%s active on %s (%s) while active on %v", e.Resource, e.Node, e.Event, others)})
		}
	}
	return out
}

// TestQuorumClashChecker proves the checkers able to fail, on synthetic
// logs: a clean split and heal, two disjoint quorate partitions, a
// resource started while it still runs elsewhere, and an ownership that
// ends with a confirmed fence.
func TestQuorumClashChecker(t *testing.T) {
	all := []string{"n1", "n2", "n3", "n4", "n5"}
	qc := func(ms int64, w, detail string, members ...string) eventlog.Entry {
		return eventlog.Entry{MonoNS: ms * 1e6, Writer: w, Event: eventlog.QuorumChanged, Detail: detail, Members: members}
	}
	res := func(ms int64, node, action, rsc string, ok bool) eventlog.Entry {
		return eventlog.Entry{MonoNS: ms * 1e6, Writer: node, Event: eventlog.ActionResult, Node: node, Action: action, Resource: rsc, OK: eventlog.Bool(ok)}
	}
	confirmed := func(ms int64, w, target string) eventlog.Entry {
		return eventlog.Entry{MonoNS: ms * 1e6, Writer: w, Event: eventlog.FenceConfirmed, Target: target, By: "device:bmc-" + target}
	}
	var start []eventlog.Entry
	for _, n := range all {
		start = append(start, qc(1, n, "quorate", all...))
	}
	start = append(start, res(2, "n2", "start", "vip", true), eventlog.Entry{MonoNS: 2e6, Writer: "n2", Event: eventlog.VIPAdded, Node: "n2", Resource: "vip"})
	// A clean split {n1,n2,n3}|{n4,n5}: n4 and n5 stay quorate in the old
	// view for a while (not a clash: it shares members with the winner),
	// then lose quorum; the winner fences them; the VIP stays on n2, in
	// the winning partition. Then n4 boots and everybody is quorate in
	// one view again.
	clean := append(slices.Clone(start),
		qc(1000, "n1", "inquorate", "n1", "n2", "n3"),
		qc(1000, "n2", "inquorate", "n1", "n2", "n3"),
		qc(1010, "n1", "quorate", "n1", "n2", "n3"), // n4, n5 still quorate in the old view
		qc(1020, "n4", "inquorate", "n4", "n5"),
		qc(1020, "n5", "inquorate", "n4", "n5"),
		qc(1030, "n2", "quorate", "n1", "n2", "n3"),
		qc(1030, "n3", "quorate", "n1", "n2", "n3"),
		confirmed(3000, "n1", "n4"), confirmed(3100, "n1", "n5"),
		eventlog.Entry{MonoNS: 9e9, Writer: "n4", Event: eventlog.DaemonStarted},
		qc(9001, "n4", "inquorate", "n4"),
		qc(9500, "n4", "quorate", all...),
		res(9600, "n4", "stop", "dummy", true),
	)
	if cs := quorumClashes(clean); len(cs) > 0 {
		t.Errorf("clean log: clashes %v", cs)
	}
	if ds := doubleOwners(clean); len(ds) > 0 {
		t.Errorf("clean log: double owners %v", ds)
	}

	// {n4,n5} became quorate while {n1,n2,n3} still was.
	clash := append(slices.Clone(clean[:len(start)+6]), qc(1035, "n4", "quorate", "n4", "n5"))
	if cs := quorumClashes(clash); len(cs) != 2 || !strings.Contains(cs[0].What, "n4 quorate with [n4 n5] while n1 quorate with [n1 n2 n3]") {
		t.Errorf("clash: want n4 against n1 and n2, got %v", cs)
	}
	// The same, but n1 and n2 were confirmed fenced (off) before n4
	// became quorate, and n3 is still quorate only in the old view of all
	// five: no clash.
	fencedFirst := append(slices.Clone(clean[:len(start)+4]), confirmed(1022, "n4", "n1"), confirmed(1023, "n4", "n2"), qc(1025, "n4", "quorate", "n4", "n5"))
	if cs := quorumClashes(fencedFirst); len(cs) != 0 {
		t.Errorf("a fenced node's verdict ends with it: %v", cs)
	}
	// A verdict that names no partition cannot be judged.
	if cs := quorumClashes([]eventlog.Entry{qc(1, "n1", "quorate")}); len(cs) != 1 {
		t.Errorf("quorum_changed without members: want a finding, got %v", cs)
	}

	// The VIP started on n1 while n2 (not fenced, not stopped) ran it.
	double := append(slices.Clone(start), res(3000, "n1", "start", "vip", true))
	if ds := doubleOwners(double); len(ds) != 1 || !strings.Contains(ds[0].What, "vip active on n1 (action_result) while active on [n2]") {
		t.Errorf("two owners: want one finding, got %v", ds)
	}
	// A failed stop leaves it running; a probe finding it running counts.
	failedStop := append(slices.Clone(start), res(2500, "n2", "stop", "vip", false),
		eventlog.Entry{MonoNS: 3e9, Writer: "n3", Event: eventlog.Probed, Node: "n3", Resource: "vip", OK: eventlog.Bool(true)})
	if ds := doubleOwners(failedStop); len(ds) != 1 {
		t.Errorf("failed stop, then running on n3: want one finding, got %v", ds)
	}
	// Another node's record of n2's start (a DC's) does not make n3 an
	// owner; n2's fence ends its ownership, so n1 may start it.
	fenced := append(slices.Clone(start),
		eventlog.Entry{MonoNS: 2.5e9, Writer: "n1", Event: eventlog.ActionResult, Node: "n2", Action: "start", Resource: "vip", OK: eventlog.Bool(true)},
		confirmed(2900, "n1", "n2"), res(3000, "n1", "start", "vip", true))
	if ds := doubleOwners(fenced); len(ds) != 0 {
		t.Errorf("ownership ended by the fence: %v", ds)
	}
	// ...but not before it.
	early := append(slices.Clone(start), res(2800, "n1", "start", "vip", true), confirmed(2900, "n1", "n2"))
	if ds := doubleOwners(early); len(ds) != 1 {
		t.Errorf("start before the fence: want one finding, got %v", ds)
	}
	// A stop, then a start elsewhere: clean.
	moved := append(slices.Clone(start), res(2800, "n2", "stop", "vip", true), res(2900, "n3", "start", "vip", true))
	if ds := doubleOwners(moved); len(ds) != 0 {
		t.Errorf("stopped, then started elsewhere: %v", ds)
	}
}
