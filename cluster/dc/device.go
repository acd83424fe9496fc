package dc

import (
	"maps"
	"slices"
	"time"

	"palisade/cluster/eventlog"
	"palisade/quorum"
	"palisade/resources/model"
)

// EventQuorumDevice is logged when the quorum device's part in this
// node's quorum changes: its votes, an undecided view, a health problem.
const EventQuorumDevice = "quorum_device"

// DeviceVote is the quorum device's verdict on one view (a quorum disk's
// master or a palisade-arbiter), as the runtime reads it from the device
// (quorum/disk.Runner, quorum/arbiter.Client) and feeds it with
// Engine.SetDeviceVote: at every view change, whenever the device's
// verdict changes, and often enough to renew the lease.
type DeviceVote struct {
	// View and Members name the view the verdict is about. A device votes
	// for one view: a verdict about another view (an old one, or the
	// runtime has not told the device about a new one yet) counts as "not
	// answered yet" (Pending), never as a vote.
	View    uint64   `json:"view"`
	Members []string `json:"members"`
	quorum.DeviceVote
	// Until is when a vote (Voting) stops counting, on the engine's clock:
	// the device's lease. The engine drops the vote then by itself, so a
	// late or lost update never stretches it.
	Until time.Duration `json:"until_ns"`
}

// QuorumInfo is the quorum verdict of the current view, for status and for
// the runtime's quorum-device loop.
type QuorumInfo struct {
	// ViewQuorate is the verdict of the view's votes alone, whether or
	// not the view is agreed and this node fresh (Snapshot.Quorate says
	// whether the node may decide): a quorum disk keeps feeding the
	// watchdog of a node whose view holds quorum through a brief silence.
	ViewQuorate bool   `json:"view_quorate"`
	Votes       int    `json:"votes"`
	Expected    int    `json:"expected"`
	Needed      int    `json:"needed"`
	Reason      string `json:"reason,omitempty"`
	// Pending: not quorate on the nodes' votes alone and the quorum
	// device has not answered for this view yet: no decision is taken and
	// no no-quorum-policy applied until it does.
	Pending bool `json:"pending,omitempty"`
	// DeviceVotes are the votes the device gives this partition now (0
	// when it votes elsewhere, not at all, or there is none).
	DeviceVotes int `json:"device_votes,omitempty"`
	// DeviceProblem is the device's health problem, if any.
	DeviceProblem string `json:"device_problem,omitempty"`
}

// State is the verdict in the quorum calculator's terms (Quorate is
// ViewQuorate: the votes' verdict, not whether this node may decide).
func (q QuorumInfo) State() quorum.State {
	return quorum.State{Quorate: q.ViewQuorate, Votes: q.Votes, Expected: q.Expected, Needed: q.Needed, Reason: q.Reason,
		DeviceVotes: q.DeviceVotes, Pending: q.Pending, DeviceProblem: q.DeviceProblem}
}

// SetDeviceVote records the quorum device's verdict; the next Advance
// (every input of the Engine) evaluates it.
func (c *Coordinator) SetDeviceVote(v DeviceVote) {
	v.Members = slices.Clone(v.Members)
	slices.Sort(v.Members)
	c.dev = v
}

// deviceVote is what the device's verdict means for the current view at
// now.
func (c *Coordinator) deviceVote(now time.Duration) quorum.DeviceVote {
	if c.cfg.Quorum == nil || c.cfg.Quorum.DeviceVotes() == 0 {
		return quorum.DeviceVote{}
	}
	d := c.dev
	if d.View != c.view.ID || !slices.Equal(d.Members, c.members) {
		return quorum.DeviceVote{Pending: true, Problem: d.Problem}
	}
	v := d.DeviceVote
	if v.Voting && now >= d.Until {
		v.Voting = false
	}
	if v.Voting {
		v.Pending = false
	}
	return v
}

// checkDevice re-evaluates quorum when what the device's verdict means
// changed since the last evaluation (a new verdict, or its lease ran out).
func (c *Coordinator) checkDevice(now time.Duration) {
	if c.cfg.Quorum == nil || c.cfg.Quorum.DeviceVotes() == 0 {
		return
	}
	dv := c.deviceVote(now)
	if dv.Voting == c.lastDev.Voting && dv.Pending == c.lastDev.Pending {
		// Only the health text may have changed: no new verdict.
		c.lastDev.Problem, c.qinfo.DeviceProblem = dv.Problem, dv.Problem
		return
	}
	c.evaluate(now, c.isDC(), false)
}

// quorumNow computes the quorum of the current members with the device's
// verdict at now.
func (c *Coordinator) quorumNow(now time.Duration) quorum.State {
	dv := c.deviceVote(now)
	c.lastDev = dv
	return c.cfg.Quorum.UpdateWithDevice(c.members, dv, now)
}

// noteQuorum keeps the verdict for status and logs a change of the device's
// part in it.
func (c *Coordinator) noteQuorum(st quorum.State, now time.Duration) {
	info := QuorumInfo{ViewQuorate: st.Quorate, Votes: st.Votes, Expected: st.Expected, Needed: st.Needed, Reason: st.Reason, Pending: st.Pending && c.acting(),
		DeviceVotes: st.DeviceVotes, DeviceProblem: st.DeviceProblem}
	if c.cfg.Quorum != nil && c.cfg.Quorum.DeviceVotes() > 0 && c.acting() &&
		(info.DeviceVotes != c.qinfo.DeviceVotes || info.Pending != c.qinfo.Pending || (info.DeviceProblem == "") != (c.qinfo.DeviceProblem == "")) {
		c.log(now, eventlog.Entry{Event: EventQuorumDevice, Detail: st.String()})
	}
	c.qinfo = info
}

// Pending reports whether this node's agreed view waits for the quorum
// device's verdict (no decisions until it comes).
func (c *Coordinator) Pending() bool { return c.pending }

// Quorum returns the quorum verdict of the current view.
func (c *Coordinator) Quorum() QuorumInfo { return c.qinfo }

// attributesOf is what a member reported in this view (nil for a node
// that did not report: its transient attributes are unknown).
func (c *Coordinator) attributesOf(n string) map[string]string {
	if ni := c.nodes[n]; ni != nil && ni.reported && len(ni.attrs) > 0 {
		return maps.Clone(ni.attrs)
	}
	return nil
}

// scheduled applies Config.NoQuorumPolicy to the configuration the
// scheduler gets: the quorum section's policy wins over the resources'
// option when it is set, and suicide schedules like stop (each node
// fences itself on top of it, outside the scheduler).
func (c *Coordinator) scheduled(cfg *model.Config) *model.Config {
	return WithPolicy(cfg, c.cfg.NoQuorumPolicy)
}

// WithPolicy is cfg as the scheduler sees it under the quorum section's
// no-quorum-policy p ("" : cfg's own option): suicide schedules like stop.
// cfg itself is never written (the replica is shared).
func WithPolicy(cfg *model.Config, p quorum.NoQuorumPolicy) *model.Config {
	if p == "" || cfg == nil {
		return cfg
	}
	if p == quorum.PolicySuicide {
		p = quorum.PolicyStop
	}
	if cfg.Options.NoQuorumPolicy == string(p) {
		return cfg
	}
	cc := *cfg // the replica is shared: never write into it
	cc.Options.NoQuorumPolicy = string(p)
	return &cc
}

// QuorateAt reports whether this node acts as quorate at now: Quorate,
// unless its quorum rests on a device vote whose lease has ended by now
// (the engine re-evaluates before it takes its next decision, so nothing
// is decided on such a vote).
func (c *Coordinator) QuorateAt(now time.Duration) bool {
	if !c.quorate {
		return false
	}
	if c.qinfo.DeviceVotes > 0 && now >= c.dev.Until {
		return c.qinfo.Votes-c.qinfo.DeviceVotes >= c.qinfo.Needed
	}
	return true
}

// Agreed reports whether the current view is agreed (every member
// advertises it).
func (c *Coordinator) Agreed() bool { return c.view.Agreed }

// dropHeld forgets the starts held for replication when the quorum verdict
// changed within a view (a quorum device's vote came or went): they were
// allowed under the old verdict, and the scheduler decides them again.
// Without a device only a view change moves quorum, and SetView already
// drops them.
func (c *Coordinator) dropHeld(wasQuorate, wasPending bool, now time.Duration) {
	if len(c.held) == 0 || wasQuorate == c.quorate && wasPending == c.pending {
		return
	}
	c.held = nil
	c.publish(now) // the replicas no longer list them as pending
}

// trackEpoch follows the partition's quorum for suspect: a new epoch
// starts whenever the view's own verdict becomes quorate (the device's
// vote came, or came back), and the members are known in it. A pause of
// this node's decisions (half a deadtime of silence) is no new epoch: the
// device's votes stayed with the view meanwhile.
func (c *Coordinator) trackEpoch(st quorum.State) {
	if c.known == nil {
		c.known = map[string]uint64{}
	}
	if st.Quorate && !c.viewQuorate {
		c.epoch++
	}
	c.viewQuorate = st.Quorate
	c.deviceOnly = c.quorate && st.DeviceVotes > 0 && st.Votes-st.DeviceVotes < st.Needed
	if c.quorate {
		for _, m := range c.members {
			c.known[m] = c.epoch
		}
	}
}

// noteOff records that node was confirmed off while this partition is
// quorate: it cannot have come back with quorum of its own since (the
// device's votes are ours).
func (c *Coordinator) noteOff(node string) {
	if c.quorate && c.known != nil {
		c.known[node] = c.epoch
	}
}

// suspect reports whether node may run anything for all this node knows:
// the partition is quorate only with the quorum device's votes (a disk or
// arbiter lets a minority, even one node, be quorate: lms, or ffsplit's
// half), and node, outside it, was neither a member nor confirmed off
// since the partition last became quorate. While another partition held
// the device's votes it was quorate too, and the two never met: whatever
// the replicated records say about node ("fenced", "left", a status
// without resources) may be older than what it did then. Without the
// device a quorate partition always shares a member with the previous
// one, whose records carry that history.
func (c *Coordinator) suspect(node string) bool {
	return c.deviceOnly && !slices.Contains(c.members, node) && c.known[node] != c.epoch
}

// fenceSuspects asks the gate to fence every suspect node (DC only): its
// resources, whatever they are, move only once it is confirmed off.
func (c *Coordinator) fenceSuspects(now time.Duration) {
	for _, n := range c.cfg.Nodes {
		if !c.suspect(n) || c.gate().Blocked(n) {
			continue
		}
		if err := c.requestFence(n, "quorate only with the quorum device's votes: "+n+" may have held them meanwhile", now); err != nil {
			c.ready.Errors = append(c.ready.Errors, err)
		}
		c.drainGate(now)
	}
}
