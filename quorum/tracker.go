package quorum

import (
	"slices"
	"time"
)

// ViewVote is the quorum device's verdict on one view (a quorum disk's
// master or a palisade-arbiter), as the runtime reads it from the device
// (quorum/disk.Runner, quorum/arbiter.Client) and feeds it to the DC layer
// (engine.Engine.SetDeviceVote): at every view change, whenever the
// device's verdict changes, and often enough to renew the lease.
type ViewVote struct {
	// View and Members name the view the verdict is about. A device votes
	// for one view: a verdict about another view (an old one, or the
	// runtime has not told the device about a new one yet) counts as "not
	// answered yet" (Pending), never as a vote.
	View    uint64   `json:"view"`
	Members []string `json:"members"`
	DeviceVote
	// Until is when a vote (Voting) stops counting, on the engine's clock:
	// the device's lease. The tracker drops the vote then by itself, so a
	// late or lost update never stretches it.
	Until time.Duration `json:"until_ns"`
}

// Info is the quorum verdict of the current view, for status and for the
// runtime's quorum-device loop.
type Info struct {
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

// State is the verdict in the calculator's terms (Quorate is ViewQuorate:
// the votes' verdict, not whether this node may decide).
func (q Info) State() State {
	return State{Quorate: q.ViewQuorate, Votes: q.Votes, Expected: q.Expected, Needed: q.Needed, Reason: q.Reason,
		DeviceVotes: q.DeviceVotes, Pending: q.Pending, DeviceProblem: q.DeviceProblem}
}

// Tracker follows the quorum of one node's current view for the DC layer:
// the members' votes with the device's verdict about this very view (and
// its lease), the verdict kept for status, and the epochs of quorate
// partitions that tell which outside nodes may have held the device's
// votes meanwhile (Suspect). Pure: time is passed in. Not safe for
// concurrent use.
type Tracker struct {
	calc    *Calculator
	view    uint64
	members []string
	// vote is the device's last verdict (SetVote), last what it meant at
	// the last evaluation; info the verdict for status.
	vote ViewVote
	last DeviceVote
	info Info
	// quorate and pending are the verdict for decisions: the view's
	// votes, counted only while acting (agreed view, fresh node).
	quorate, pending bool
	// epoch counts the times this node's partition became quorate;
	// known[n] is the epoch in which n was last seen a member or fenced;
	// deviceOnly: quorate only with the device's votes.
	epoch       uint64
	known       map[string]uint64
	deviceOnly  bool
	viewQuorate bool
}

// NewTracker returns a tracker counting votes with calc (nil: no quorum
// configured, which only a test does).
func NewTracker(calc *Calculator) *Tracker {
	return &Tracker{calc: calc, known: map[string]uint64{}}
}

// SetView names the view whose quorum is tracked (members sorted).
func (t *Tracker) SetView(id uint64, members []string) { t.view, t.members = id, members }

// SetVote records the device's verdict; the next Evaluate counts it.
func (t *Tracker) SetVote(v ViewVote) {
	v.Members = slices.Clone(v.Members)
	slices.Sort(v.Members)
	t.vote = v
}

func (t *Tracker) hasDevice() bool { return t.calc != nil && t.calc.DeviceVotes() > 0 }

// deviceVote is what the device's verdict means for the current view at
// now.
func (t *Tracker) deviceVote(now time.Duration) DeviceVote {
	if !t.hasDevice() {
		return DeviceVote{}
	}
	d := t.vote
	if d.View != t.view || !slices.Equal(d.Members, t.members) {
		return DeviceVote{Pending: true, Problem: d.Problem}
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

// DeviceChanged reports whether what the device's verdict means changed
// since the last evaluation (a new verdict, or its lease ran out): then
// quorum must be evaluated again. A new health text alone only updates
// the status.
func (t *Tracker) DeviceChanged(now time.Duration) bool {
	if !t.hasDevice() {
		return false
	}
	dv := t.deviceVote(now)
	if dv.Voting == t.last.Voting && dv.Pending == t.last.Pending {
		t.last.Problem, t.info.DeviceProblem = dv.Problem, dv.Problem
		return false
	}
	return true
}

// At computes the quorum of the current members with the device's verdict
// at now.
func (t *Tracker) At(now time.Duration) State {
	dv := t.deviceVote(now)
	t.last = dv
	return t.calc.UpdateWithDevice(t.members, dv, now)
}

// Evaluate computes the verdict at now; acting says whether this node may
// decide (agreed view, fresh membership): only then is it quorate or
// pending. It returns the votes' verdict and whether the device's part in
// it changed (worth a log line).
func (t *Tracker) Evaluate(now time.Duration, acting bool) (st State, deviceChanged bool) {
	st = t.At(now)
	t.quorate, t.pending = st.Quorate && acting, st.Pending && acting
	info := Info{ViewQuorate: st.Quorate, Votes: st.Votes, Expected: st.Expected, Needed: st.Needed, Reason: st.Reason, Pending: t.pending,
		DeviceVotes: st.DeviceVotes, DeviceProblem: st.DeviceProblem}
	deviceChanged = t.hasDevice() && acting &&
		(info.DeviceVotes != t.info.DeviceVotes || info.Pending != t.info.Pending || (info.DeviceProblem == "") != (t.info.DeviceProblem == ""))
	t.info = info
	t.trackEpoch(st)
	return st, deviceChanged
}

// Quorate reports whether this node may decide as quorate (last Evaluate).
func (t *Tracker) Quorate() bool { return t.quorate }

// Pending reports whether the agreed view waits for the device's verdict
// (no decisions until it comes).
func (t *Tracker) Pending() bool { return t.pending }

// Info returns the verdict of the current view.
func (t *Tracker) Info() Info { return t.info }

// QuorateAt reports whether this node acts as quorate at now: Quorate,
// unless its quorum rests on a device vote whose lease has ended by now
// (the engine re-evaluates before it takes its next decision, so nothing
// is decided on such a vote).
func (t *Tracker) QuorateAt(now time.Duration) bool {
	if !t.quorate {
		return false
	}
	if t.info.DeviceVotes > 0 && now >= t.vote.Until {
		return t.info.Votes-t.info.DeviceVotes >= t.info.Needed
	}
	return true
}

// trackEpoch follows the partition's quorum for Suspect: a new epoch
// starts whenever the view's own verdict becomes quorate (the device's
// vote came, or came back), and the members are known in it. A pause of
// this node's decisions (half a deadtime of silence) is no new epoch: the
// device's votes stayed with the view meanwhile.
func (t *Tracker) trackEpoch(st State) {
	if st.Quorate && !t.viewQuorate {
		t.epoch++
	}
	t.viewQuorate = st.Quorate
	t.deviceOnly = t.quorate && st.DeviceVotes > 0 && st.Votes-st.DeviceVotes < st.Needed
	if t.quorate {
		for _, m := range t.members {
			t.known[m] = t.epoch
		}
	}
}

// NoteOff records that node was confirmed off while this partition is
// quorate: it cannot have come back with quorum of its own since (the
// device's votes are ours).
func (t *Tracker) NoteOff(node string) {
	if t.quorate {
		t.known[node] = t.epoch
	}
}

// Suspect reports whether node may run anything for all this node knows:
// the partition is quorate only with the quorum device's votes (a disk or
// arbiter lets a minority, even one node, be quorate: lms, or ffsplit's
// half), and node, outside it, was neither a member nor confirmed off
// since the partition last became quorate. While another partition held
// the device's votes it was quorate too, and the two never met: whatever
// the replicated records say about node ("fenced", "left", a status
// without resources) may be older than what it did then. Without the
// device a quorate partition always shares a member with the previous
// one, whose records carry that history.
func (t *Tracker) Suspect(node string) bool {
	return t.deviceOnly && !slices.Contains(t.members, node) && t.known[node] != t.epoch
}
