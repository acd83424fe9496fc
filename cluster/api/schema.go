package api

import "time"

// StatusSchema names the JSON form of Status that `palisade status --json`
// prints and monitoring tools read. Fields are only ever added under this
// name; a rename or a change of meaning gets a new name (v2).
//
// palisade.status/v1, top level (Status):
//
//	schema        "palisade.status/v1"
//	cluster       cluster name
//	node          {id, name}: the node that answered
//	generation    its incarnation; uptime_ms since it started
//	timing        {keepalive_ms, warntime_ms, deadtime_ms, initdead_ms}
//	view          {id, agreed, dc {id, name}, members [{id, name, generation}]}: membership
//	nodes         [{id, name, self, state (up|warn|dead|pending), generation,
//	               last_heard_ms, links [{name, state, last_heard_ms}]}]: heartbeat
//	              liveness per node and link (link health)
//	links         [{name, kind, rx_packets, rx_bytes, tx_packets, tx_bytes, tx_errors,
//	               duplicates, dropped {reason: n}}]: this node's traffic per link
//	delivered, dropped {reason: n}: packets accepted / dropped by reason
//	health        {state (healthy|degraded|unknown), problems [..], warnings [..]}
//	dc            the DC layer (below); absent on a daemon without it
//
// dc (DCStatus):
//
//	self, dc, view, agreed, quorate, members   the partition as the DC layer sees it
//	cib_version {admin_epoch, epoch, num_updates}, cib_digest
//	quorum        {quorate, votes, expected, needed, reason, pending, policies [..],
//	               sources [{name, kind (node|device), votes, max_votes, healthy, state, detail}],
//	               state, no_quorum_policy, self_fenced,
//	               device {model, algorithm, votes, voting, lease_left_ms, pending, problem,
//	                       address, connected, server, verdict, reason (arbiter),
//	                       paths, reached, disks, master, slots [{node, slot, alive, state, role, score, view}] (disk)},
//	               heuristics {attribute, score, groups [{name, up, weight, answering}]},
//	               watchdog {device, timeout_ms, feeding, why}}
//	node_states   [{name, id, state, detail, member, standby, dc, self, fence_state}]
//	              state: online | standby | shutting-down | pending | unclean |
//	              fenced | offline | lost (see ClusterNode)
//	resources     [{id, kind (primitive|group|clone), agent, promotable, target_role,
//	               state, instances [{node, role, failed, unclean, pending}],
//	               fail_counts [{node, op, count, last_failure}], members [...]}]
//	fence_ops     [{target, state (pending|failed), attempts, failures, reason}]
//	fence_action  off | reboot
//	left          nodes that left cleanly
//	status        the scheduler's input status (model.Status: nodes, resources,
//	              failures); fencing: the recovery gate's records; inflight: actions
//	              sent and not answered; standby: nodes in standby
//
// Durations are integers in milliseconds (suffix _ms) or nanoseconds
// (suffix _ns); times are RFC 3339. A fail count of 1000000 is INFINITY.
const StatusSchema = "palisade.status/v1"

// QuorumStatus is the partition's quorum and every source of votes.
type QuorumStatus struct {
	Quorate  bool   `json:"quorate"`
	Votes    int    `json:"votes"`
	Expected int    `json:"expected"`
	Needed   int    `json:"needed"`
	Reason   string `json:"reason,omitempty"`
	// Pending: the quorum device has not answered for this view yet.
	Pending bool `json:"pending,omitempty"`
	// Policies are the quorum options in force (two_node, wait_for_all,
	// last_man_standing, auto_tie_breaker).
	Policies []string       `json:"policies,omitempty"`
	Sources  []QuorumSource `json:"sources"`

	// State is quorate, inquorate, "inquorate (view not agreed)" or
	// undecided (the quorum device has not answered for this view yet:
	// nothing is decided meanwhile).
	State string `json:"state,omitempty"`
	// Policy is the no-quorum-policy in force.
	Policy string `json:"no_quorum_policy,omitempty"`
	// The quorum device, the ping heuristics and the self-fencing
	// watchdog, when configured.
	Device     *QuorumDeviceStatus  `json:"device,omitempty"`
	Heuristics *HeuristicsStatus    `json:"heuristics,omitempty"`
	Watchdog   *SelfFencingWatchdog `json:"watchdog,omitempty"`
	// SelfFenced says why this node fenced itself, if it did.
	SelfFenced string `json:"self_fenced,omitempty"`
}

// Quorum source kinds.
const (
	SourceNode   = "node"
	SourceDevice = "device"
)

// QuorumSource is one source of votes: a node, or the quorum device.
type QuorumSource struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Votes it gives this partition now; MaxVotes it can give.
	Votes    int  `json:"votes"`
	MaxVotes int  `json:"max_votes"`
	Healthy  bool `json:"healthy"`
	// State: a node's membership (member, lost, pending); the device's
	// verdict (voting, not voting, pending).
	State  string `json:"state"`
	Detail string `json:"detail,omitempty"`
}

// Node states of ClusterNode (crm_mon's words in brackets).
const (
	NodeOnline       = "online"        // member of the agreed view (Online)
	NodeStandby      = "standby"       // member, configured in standby (standby)
	NodeShuttingDown = "shutting-down" // member leaving cleanly (shutting down)
	NodePending      = "pending"       // not heard yet, initdead running (pending)
	NodeUnclean      = "unclean"       // lost, must be fenced first (UNCLEAN)
	NodeFenced       = "fenced"        // confirmed off (OFFLINE, fenced)
	NodeOffline      = "offline"       // not a member, runs nothing: left cleanly or never started (OFFLINE)
	NodeLost         = "lost"          // out of the view, not yet judged by the DC
)

// ClusterNode is one configured node's cluster state: membership joined
// with the recovery gate's fence lifecycle and the configuration.
type ClusterNode struct {
	Name  string `json:"name"`
	ID    uint32 `json:"id,omitempty"`
	State string `json:"state"`
	// Detail says more ("UNCLEAN (online): a stop failed", "left cleanly").
	Detail  string `json:"detail,omitempty"`
	Member  bool   `json:"member"`
	Standby bool   `json:"standby,omitempty"`
	DC      bool   `json:"dc,omitempty"`
	Self    bool   `json:"self,omitempty"`
	// FenceState is the recovery gate's state (member, unclean, fencing,
	// fenced, down, unknown).
	FenceState string `json:"fence_state,omitempty"`
}

// Resource roles and states beyond model's Started/Promoted/Unpromoted.
const (
	RoleStopped = "Stopped"
	RoleFailed  = "FAILED"
)

// Resource is one configured resource with its members (a group's
// primitives, a clone's primitive or group) and, for a primitive, where
// it runs.
type Resource struct {
	ID         string `json:"id"`
	Kind       string `json:"kind"`
	Agent      string `json:"agent,omitempty"` // class:provider:type
	Promotable bool   `json:"promotable,omitempty"`
	TargetRole string `json:"target_role,omitempty"`
	// State sums it up: Started, Stopped, FAILED, Promoted, ..., or for a
	// group or clone "Started" only when every member or instance is.
	State      string      `json:"state"`
	Instances  []Instance  `json:"instances,omitempty"`
	FailCounts []FailCount `json:"fail_counts,omitempty"`
	Members    []Resource  `json:"members,omitempty"`
}

// Instance is a primitive (or a clone instance) active, or being started,
// on a node.
type Instance struct {
	Node string `json:"node"`
	Role string `json:"role"`
	// Failed: its last monitor failed (it is being recovered).
	Failed bool `json:"failed,omitempty"`
	// Unclean: its node is lost and not yet fenced; it may still run there.
	Unclean bool `json:"unclean,omitempty"`
	// Pending is an action sent and not answered (start, stop, ...).
	Pending string `json:"pending,omitempty"`
	// Instance is the clone instance number of a globally-unique clone.
	Instance string `json:"instance,omitempty"`
}

// FailCount is a resource's fail count on a node.
type FailCount struct {
	Node        string    `json:"node"`
	Op          string    `json:"op,omitempty"`
	Count       int64     `json:"count"`
	LastFailure time.Time `json:"last_failure,omitzero"`
}

// Fence operation states.
const (
	FencePending = "pending" // must be fenced, request scheduled or running
	FenceFailed  = "failed"  // attempts failed; retried until it succeeds
)

// FenceOp is a node whose fencing is not settled.
type FenceOp struct {
	Target   string `json:"target"`
	State    string `json:"state"`
	Attempts int    `json:"attempts"`
	Failures int    `json:"failures"`
	Reason   string `json:"reason,omitempty"`
}
