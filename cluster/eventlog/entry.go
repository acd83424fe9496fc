package eventlog

// Event names. Keep them stable: tests and the demo timeline match on them.
const (
	HeartbeatLost  = "heartbeat_lost"  // first missed heartbeat (warn)
	NodeLost       = "node_lost"       // membership declared Target dead; Resources lists what it ran
	NodeReturned   = "node_returned"   // Target is a member again
	NodeLeaving    = "node_leaving"    // Target asked to leave: its resources move away
	NodeLeft       = "node_left"       // Target left cleanly (ran nothing): no fencing
	QuorumChanged  = "quorum_changed"  // Detail = quorum state; Members = the partition's members, View its view
	FenceNeeded    = "fence_needed"    // Target became unclean (lost, stop failure, ...)
	FenceScheduled = "fence_scheduled" // fence of Target will be requested after Delay
	FenceRequested = "fence_requested" // request handed to the fencer (Attempt)
	FenceDevice    = "fence_device"    // one device step result (Device, OK, Detail)
	FenceFailed    = "fence_failed"    // attempt failed; retry after Delay
	FenceConfirmed = "fence_confirmed" // Target confirmed down (By = device:NAME or operator:WHO)
	// FenceWithdrawn: a request handed out is aborted because its
	// partition lost quorum, agreement or the DC role (Attempt).
	FenceWithdrawn = "fence_withdrawn"
	// FenceAdopted: a member took a node's fence state from the DC's
	// replicated records (Detail: old → new state).
	FenceAdopted = "fence_adopted"
	// FenceDelegated: the DC must be fenced (a stop of its own failed) and
	// asked Node to do it (Attempt).
	FenceDelegated = "fence_delegated"
	// Probed: Writer probed Resource on itself (OK: it runs there).
	Probed = "probed"
	// DaemonStarted: palisaded started on Writer (Detail: its generation);
	// what its previous incarnation decided lives on only through the
	// replicated records.
	DaemonStarted = "daemon_started"
	// ViewStale: this node's membership was not evaluated for a while (the
	// process was paused): it takes no decision until it is again.
	ViewStale     = "view_stale"
	Alert         = "alert"          // something needs a human (repeated fence failures)
	StartAllowed  = "start_allowed"  // gate allowed starting Resource on Node
	StartDenied   = "start_denied"   // gate refused; Detail says why
	ActionSent    = "action_sent"    // DC sent Action for Resource to Node (View)
	ActionRefused = "action_refused" // node refused an action (stale view, ...)
	ActionResult  = "action_result"  // executor finished Action for Resource on Node
	VIPAdded      = "vip_added"
	GARPSent      = "garp_sent"
	DCElected     = "dc_elected" // this node became DC of View
	// FailuresCleared: Resource's fail count on Node was reset (Detail:
	// failure-timeout expired, or an operator's cleanup and by whom).
	FailuresCleared = "failures_cleared"
)

// Entry is one line of the log. Fields that do not apply are omitted.
type Entry struct {
	// MonoNS is CLOCK_MONOTONIC in nanoseconds; filled by Append if zero.
	MonoNS int64 `json:"mono_ns"`
	// Wall is RFC 3339 with nanoseconds; filled by Append if empty.
	Wall string `json:"wall,omitempty"`
	// Writer is the node whose daemon wrote the entry.
	Writer string `json:"writer,omitempty"`
	Event  string `json:"event"`
	// Target is the node a membership or fencing entry is about.
	Target string `json:"target,omitempty"`
	// Node is where an action runs.
	Node      string   `json:"node,omitempty"`
	Resource  string   `json:"resource,omitempty"`
	Resources []string `json:"resources,omitempty"`
	// Members is the writer's partition (its view's members) on a
	// quorum_changed entry: which nodes a quorate verdict speaks for, so
	// a log alone shows whether two quorate nodes were in one partition.
	Members []string `json:"members,omitempty"`
	Action  string   `json:"action,omitempty"`
	View    uint64   `json:"view,omitempty"`
	Attempt int      `json:"attempt,omitempty"`
	Device  string   `json:"device,omitempty"`
	By      string   `json:"by,omitempty"`
	OK      *bool    `json:"ok,omitempty"`
	DelayMS int64    `json:"delay_ms,omitempty"`
	Detail  string   `json:"detail,omitempty"`
}

// Bool returns a pointer for Entry.OK.
func Bool(b bool) *bool { return &b }
