package sim

import (
	"container/heap"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"palisade/cluster/eventlog"
	"palisade/cluster/membership"
	"palisade/fence"
	"palisade/quorum"
	"palisade/resources/model"
)

// Options describe one simulated run. The zero value of a field lets the
// seed choose.
type Options struct {
	Seed uint64
	// Nodes in the cluster (2..7; 0: chosen by the seed). Two nodes run
	// with two_node.
	Nodes int
	// Links per node (1 or 2; 0: chosen by the seed).
	Links int
	// Action is the fence action: off or reboot (""; chosen by the seed).
	Action fence.Action
	// Faults is how long the fault phase lasts: random faults, or the
	// Script's (0: none). Everything heals at its end.
	Faults time.Duration
	// Settle is the liveness bound: after the last fault everything heals
	// and the cluster must have converged within Settle.
	Settle time.Duration
	// Script, if set, is called before the run to schedule faults with
	// World.At and the fault methods (Crash, Partition, ...).
	Script func(w *World)
	// Boot is how long a machine takes from power on to a running daemon
	// (0: 2 s).
	Boot time.Duration
	// Trace, if set, receives one line per notable event.
	Trace io.Writer
	// Device is the quorum device: arbiter, disk, or "none" ("": chosen
	// by the seed, from a random stream of its own, for random runs;
	// none for scripted ones; see device.go).
	Device quorum.DeviceModel
}

// Timing of the simulated daemons (fast, like the benchmark lab).
const (
	Keepalive   = 100 * time.Millisecond
	Warntime    = 300 * time.Millisecond
	Deadtime    = 500 * time.Millisecond
	Initdead    = time.Second
	memTick     = Keepalive / 5
	relTick     = 20 * time.Millisecond
	engineTick  = 50 * time.Millisecond
	staleAfter  = Deadtime / 2
	defaultBoot = 2 * time.Second // power on → daemon running
	socketQueue = 512             // datagrams a paused process's sockets hold
)

// DefaultSettle is the liveness bound used when Options.Settle is 0: the
// longest path back to a converged cluster after every fault is gone is a
// node booting (2 s) and joining (initdead 1 s), a fence retry backoff
// (at most 4 s), the two-node fence-race delay (5 s) and a few rounds of
// scheduling; 20 s leaves room for all of it at once.
const DefaultSettle = 20 * time.Second

// Violation is one breach of an invariant.
type Violation struct {
	At     time.Duration
	Node   string
	Rule   string
	Detail string
}

func (v Violation) String() string {
	return fmt.Sprintf("%v %s: %s: %s", v.At, v.Node, v.Rule, v.Detail)
}

// Result is what a run did.
type Result struct {
	Seed       uint64
	Nodes      int
	Links      int
	Action     fence.Action
	Violations []Violation
	// Steps is the number of events processed; NodeSeconds the
	// simulated node-time under faults.
	Steps       uint64
	NodeSeconds float64
	// Fences executed (device powered a node off) and failovers (a
	// resource started on another node after its holder was lost).
	Fences int
	Faults int
	// Trace is a hash of everything that happened: equal seeds give equal
	// traces.
	Trace uint64
	// Log is the merged event log of every node.
	Log []eventlog.Entry
	// Device describes the quorum device ("" without one).
	Device string
	// Splits counts the network partitions injected.
	Splits int
}

// event is one scheduled step.
type event struct {
	at  time.Duration
	seq uint64
	fn  func()
}

type queue []*event

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q queue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)   { *q = append(*q, x.(*event)) }
func (q *queue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// World is one simulated cluster.
type World struct {
	opts  Options
	rng   *rand.Rand
	now   time.Duration
	q     queue
	seq   uint64
	nodes []*node
	net   *network
	// active is the ground truth: resource → nodes where it runs.
	active map[string]map[string]bool
	config *model.Config
	// lastDisturb is, per node, the last time something could have made
	// its peers lose it (network fault on its links, pause, boot).
	lastDisturb map[string]time.Duration
	bmc         map[string]bmcState
	agentFaults map[agentKey]agentFault
	log         []eventlog.Entry
	res         Result
	hash        uint64
	faultsOn    bool
	netBusy     bool
	healedAt    time.Duration
	stopped     bool
	// violations seen per rule (only the first few are kept).
	seen map[string]int
	// answers to operator commands, in order.
	answers []Answer
	// dev is the quorum device (nil without one).
	dev *simDevice
}

func (w *World) trace(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	h := fnv.New64a()
	fmt.Fprintf(h, "%d %d %s", w.hash, w.now, line)
	w.hash = h.Sum64()
	if w.opts.Trace != nil {
		fmt.Fprintf(w.opts.Trace, "%12v %s\n", w.now, line)
	}
}

// Now is the simulated time.
func (w *World) Now() time.Duration { return w.now }

// wall maps logical time to a fixed wall clock (failure-timeout
// arithmetic, failure times).
func (w *World) wall() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(w.now) }

// At schedules fn at time t (scripts use it to inject faults).
func (w *World) At(t time.Duration, fn func()) {
	w.seq++
	heap.Push(&w.q, &event{at: t, seq: w.seq, fn: fn})
}

func (w *World) after(d time.Duration, fn func()) { w.At(w.now+d, fn) }

// Node returns the node named name (n1, n2, ...).
func (w *World) Node(name string) *node {
	for _, n := range w.nodes {
		if n.name == name {
			return n
		}
	}
	panic("sim: no node " + name)
}

func (w *World) names() []string {
	out := make([]string, len(w.nodes))
	for i, n := range w.nodes {
		out[i] = n.name
	}
	return out
}

func (w *World) violate(node, rule, format string, args ...any) {
	detail := fmt.Sprintf(format, args...)
	w.trace("VIOLATION %s %s: %s", node, rule, detail)
	w.seen[rule]++
	if w.seen[rule] <= 3 {
		w.res.Violations = append(w.res.Violations, Violation{At: w.now, Node: node, Rule: rule, Detail: detail})
	}
}

// New builds a world for opts (Run runs it).
func New(opts Options) *World {
	rng := rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15))
	devRng := chooseDevice(&opts)
	if opts.Nodes == 0 {
		// Two-node clusters (two_node, the fence race) as often as any
		// other size.
		opts.Nodes = 2 + rng.IntN(6)
	}
	if opts.Links == 0 {
		opts.Links = 1 + rng.IntN(2)
	}
	if opts.Action == "" {
		opts.Action = fence.ActionOff
		if rng.IntN(3) == 0 {
			opts.Action = fence.ActionReboot
		}
	}
	if opts.Settle == 0 {
		opts.Settle = DefaultSettle
	}
	if opts.Boot == 0 {
		opts.Boot = defaultBoot
	}
	w := &World{opts: opts, rng: rng, active: map[string]map[string]bool{}, lastDisturb: map[string]time.Duration{},
		bmc: map[string]bmcState{}, agentFaults: map[agentKey]agentFault{}, seen: map[string]int{}}
	w.res = Result{Seed: opts.Seed, Nodes: opts.Nodes, Links: opts.Links, Action: opts.Action}
	w.net = newNetwork(w, opts.Nodes, opts.Links)
	w.config = baseConfig()
	for i := range opts.Nodes {
		w.nodes = append(w.nodes, newNode(w, i))
	}
	if opts.Device != "none" {
		w.dev = newSimDevice(w, devRng)
		w.res.Device = w.dev.String()
	}
	for _, r := range primitiveIDs(w.config) {
		w.active[r] = map[string]bool{}
	}
	return w
}

// Run simulates opts and checks the invariants.
func Run(opts Options) Result {
	w := New(opts)
	return w.Run()
}

// Run runs the world: start every node, inject faults, heal, settle.
func (w *World) Run() Result {
	for _, n := range w.nodes {
		n.powerOn(0)
	}
	end := w.opts.Faults
	if w.opts.Script != nil {
		w.opts.Script(w)
	}
	if w.opts.Faults > 0 {
		w.faultsOn = true
		if w.opts.Script == nil {
			w.scheduleFaults(end)
			if w.dev != nil {
				w.dev.scheduleFaults(end)
			}
		}
	}
	w.At(end, w.heal)
	w.At(end+w.opts.Settle, func() {
		w.checkConverged()
		w.stopped = true
	})
	for w.q.Len() > 0 && !w.stopped {
		e := heap.Pop(&w.q).(*event)
		if e.at > w.now {
			w.now = e.at
		}
		e.fn()
		w.res.Steps++
	}
	w.res.NodeSeconds = float64(len(w.nodes)) * end.Seconds()
	w.checkLog()
	w.res.Trace = w.hash
	w.res.Log = w.log
	return w.res
}

// heal ends every fault: links, BMCs, agents, paused processes, powered
// off or crashed nodes come back, and an operator clears what the faults
// left (standby, moves, fail counts).
func (w *World) heal() {
	w.faultsOn, w.netBusy = false, false
	w.healedAt = w.now
	w.trace("heal: faults end")
	w.net.healAll()
	if w.dev != nil {
		w.dev.heal()
	}
	for _, n := range w.names() {
		w.bmc[n] = bmcOK
		w.disturb(n)
	}
	clear(w.agentFaults)
	for _, n := range w.nodes {
		switch {
		case n.paused:
			n.resume()
		case !n.powered:
			n.powerOn(0)
		case !n.alive:
			n.restart()
		}
	}
	// The operator puts things back once there is a DC, and again later
	// (a first attempt may meet a DC still collecting status).
	for _, d := range []time.Duration{4 * time.Second, 9 * time.Second} {
		w.after(d, w.operatorCleanup)
	}
}

func (w *World) disturb(node string) { w.lastDisturb[node] = w.now }

func (w *World) disturbAll() {
	for _, n := range w.nodes {
		w.disturb(n.name)
	}
}

// dc returns a live node that is DC of an agreed quorate view, or nil.
func (w *World) dc() *node {
	for _, n := range w.nodes {
		if n.running() && n.eng.Coordinator().IsDC() && n.eng.Coordinator().Quorate() {
			return n
		}
	}
	return nil
}

// operatorCleanup: the base configuration again (no standby, no moves)
// and a cleanup of every resource, typed on some live node.
func (w *World) operatorCleanup() {
	var on *node
	for _, n := range w.nodes {
		if n.running() {
			on = n
			break
		}
	}
	if on == nil {
		return
	}
	w.trace("operator on %s: base configuration and cleanup of everything", on.name)
	on.push(baseConfig(), "heal")
	for _, r := range w.config.Resources {
		on.request("cleanup", "", r.ID)
	}
}

func (w *World) setActive(rsc, node string, on bool) {
	if w.active[rsc] == nil {
		w.active[rsc] = map[string]bool{}
	}
	if w.active[rsc][node] == on {
		return
	}
	w.active[rsc][node] = on
	w.trace("world: %s %s on %s", rsc, map[bool]string{true: "active", false: "inactive"}[on], node)
	if on {
		w.checkSingleOwner(rsc)
	}
}

func (w *World) appendLog(writer string, es []eventlog.Entry) {
	for _, e := range es {
		e.Writer = writer
		e.MonoNS = int64(w.now)
		w.log = append(w.log, e)
		w.trace("%s log %s %s%s%s %s", writer, e.Event, e.Target, e.Resource, e.Node, firstLine(e.Detail))
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// ids maps names to membership ids (n1 → 1).
func nodeID(name string) membership.NodeID {
	var id membership.NodeID
	fmt.Sscanf(name, "n%d", &id)
	return id
}

func nodeName(id membership.NodeID) string { return fmt.Sprintf("n%d", id) }

func (w *World) pick(xs []string) string { return xs[w.rng.IntN(len(xs))] }

func (w *World) dur(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(w.rng.Int64N(int64(hi-lo)))
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Answer is the DC's answer to an operator command typed on Node.
type Answer struct {
	At     time.Duration
	Node   string
	Result string
	Error  string
}

// Answers lists the answers operator commands got, in order.
func (w *World) Answers() []Answer { return w.answers }
