package api

import "palisade/resources/model"

// Status is the answer to CmdStatus (JSON field names are part of the CLI
// contract; add fields, do not rename them). Its JSON form is the schema
// named by StatusSchema, documented field by field in schema.go.
type Status struct {
	// Schema is StatusSchema ("palisade.status/v1"); a daemon older than
	// the schema leaves it empty.
	Schema     string            `json:"schema"`
	Cluster    string            `json:"cluster"`
	Node       NodeRef           `json:"node"`
	Generation uint64            `json:"generation"`
	UptimeMS   int64             `json:"uptime_ms"`
	Timing     TimingStatus      `json:"timing"`
	View       ViewStatus        `json:"view"`
	Nodes      []NodeStatus      `json:"nodes"`
	Links      []LinkTraffic     `json:"links"`
	Delivered  uint64            `json:"delivered"`
	Dropped    map[string]uint64 `json:"dropped"`
	// DC is the DC layer's part: partition, replicated status, fencing
	// (absent on a daemon without it).
	DC *DCStatus `json:"dc,omitempty"`
	// Health is the verdict `palisade status` exits with (see Health).
	Health *Health `json:"health,omitempty"`
}

// NodeRef names a node.
type NodeRef struct {
	ID   uint32 `json:"id"`
	Name string `json:"name"`
}

// TimingStatus is the configured timing in milliseconds.
type TimingStatus struct {
	KeepaliveMS int64 `json:"keepalive_ms"`
	WarntimeMS  int64 `json:"warntime_ms"`
	DeadtimeMS  int64 `json:"deadtime_ms"`
	InitdeadMS  int64 `json:"initdead_ms"`
}

// ViewStatus is the current membership view.
type ViewStatus struct {
	ID      uint64         `json:"id"` // 0: first view still forming (initdead)
	Members []MemberStatus `json:"members"`
	DC      NodeRef        `json:"dc"`
	Agreed  bool           `json:"agreed"`
}

// MemberStatus is one member of the view.
type MemberStatus struct {
	NodeRef
	Generation uint64 `json:"generation"`
}

// NodeStatus is one configured node as this node sees it.
type NodeStatus struct {
	NodeRef
	Self       bool   `json:"self,omitempty"`
	State      string `json:"state"` // up, warn, dead, pending (self: up)
	Generation uint64 `json:"generation"`
	// LastHeardMS is the age of the newest heartbeat; absent if never heard.
	LastHeardMS *int64       `json:"last_heard_ms,omitempty"`
	Links       []LinkStatus `json:"links,omitempty"`
}

// LinkStatus is one link to one peer.
type LinkStatus struct {
	Name        string `json:"name"`
	State       string `json:"state"`
	LastHeardMS *int64 `json:"last_heard_ms,omitempty"`
}

// LinkTraffic is one local link's counters.
type LinkTraffic struct {
	Name       string            `json:"name"`
	Kind       string            `json:"kind"`
	RxPackets  uint64            `json:"rx_packets"`
	RxBytes    uint64            `json:"rx_bytes"`
	TxPackets  uint64            `json:"tx_packets"`
	TxBytes    uint64            `json:"tx_bytes"`
	TxErrors   uint64            `json:"tx_errors"`
	Duplicates uint64            `json:"duplicates"`
	Dropped    map[string]uint64 `json:"dropped,omitempty"`
}

// DCStatus is what the DC layer of a node knows: the partition it is in,
// the replicated status (live on the DC) and every node's fence state.
type DCStatus struct {
	Self    string   `json:"self"`
	View    uint64   `json:"view"`
	Agreed  bool     `json:"agreed"`
	DC      string   `json:"dc"`
	Quorate bool     `json:"quorate"`
	Members []string `json:"members"`
	CIB     Version  `json:"cib_version"`
	Digest  string   `json:"cib_digest,omitempty"`
	// Status is the scheduler's view: nodes, where resources run, fail
	// counts.
	Status   model.Status `json:"status"`
	Fencing  []FenceNode  `json:"fencing"`
	Inflight []Action     `json:"inflight,omitempty"`
	// Standby lists the nodes the configuration puts in standby.
	Standby []string `json:"standby,omitempty"`

	// The crm_mon view (schema palisade.status/v1, see schema.go); absent
	// from older daemons.
	Quorum *QuorumStatus `json:"quorum,omitempty"`
	// NodeStates is every configured node's cluster state.
	NodeStates []ClusterNode `json:"node_states,omitempty"`
	// Resources is the configuration's resource tree with where each
	// primitive runs, its role, fail counts and last failure.
	Resources []Resource `json:"resources,omitempty"`
	// FenceOps are the fence operations pending or failed.
	FenceOps []FenceOp `json:"fence_ops,omitempty"`
	// Left lists the nodes that left cleanly (recorded by the DC).
	Left []string `json:"left,omitempty"`
	// FenceAction is what a fence does here: off or reboot.
	FenceAction string `json:"fence_action,omitempty"`
}

// QuorumDeviceStatus is the quorum disk or arbiter as this node sees it.
type QuorumDeviceStatus struct {
	Model     string `json:"model"` // disk or arbiter
	Algorithm string `json:"algorithm"`
	// Votes the device carries; Voting: they count for this view now,
	// for LeaseLeftMS more unless renewed.
	Votes       int   `json:"votes"`
	Voting      bool  `json:"voting"`
	LeaseLeftMS int64 `json:"lease_left_ms,omitempty"`
	// Pending: no verdict on this view yet.
	Pending bool `json:"pending,omitempty"`
	// Problem is a health problem ("" when healthy); it costs quorum only
	// when the nodes' own votes do not hold it.
	Problem string `json:"problem,omitempty"`
	// Arbiter: its address, the connection, the last verdict.
	Address   string `json:"address,omitempty"`
	Connected bool   `json:"connected,omitempty"`
	Server    string `json:"server,omitempty"`
	Verdict   string `json:"verdict,omitempty"`
	Reason    string `json:"reason,omitempty"`
	// Disk: the paths, how many were read and written in the last loop,
	// the master and every slot.
	Paths   []string         `json:"paths,omitempty"`
	Reached int              `json:"reached,omitempty"`
	Disks   int              `json:"disks,omitempty"`
	Master  string           `json:"master,omitempty"`
	Slots   []DiskSlotStatus `json:"slots,omitempty"`
}

// DiskSlotStatus is one node's slot on the quorum disk.
type DiskSlotStatus struct {
	Node  string `json:"node"`
	Slot  int    `json:"slot"`
	Alive bool   `json:"alive"`
	State string `json:"state"`
	Role  string `json:"role,omitempty"`
	Score int    `json:"score"`
	View  uint64 `json:"view"`
}

// HeuristicsStatus is the ping groups' verdict: the node's score, published
// as the node attribute Attribute.
type HeuristicsStatus struct {
	Attribute string            `json:"attribute"`
	Score     int               `json:"score"`
	Groups    []PingGroupStatus `json:"groups"`
}

// PingGroupStatus is one ping group.
type PingGroupStatus struct {
	Name      string   `json:"name"`
	Up        bool     `json:"up"`
	Weight    int      `json:"weight"`
	Answering []string `json:"answering,omitempty"`
}

// SelfFencingWatchdog is the node's watchdog (quorum.watchdog).
type SelfFencingWatchdog struct {
	Device    string `json:"device"`
	TimeoutMS int64  `json:"timeout_ms"`
	Feeding   bool   `json:"feeding"`
	Why       string `json:"why,omitempty"`
}

// Action is a resource action the DC has sent and not yet heard back.
type Action struct {
	ID       uint64 `json:"id"`
	Op       string `json:"op"`
	Resource string `json:"resource"`
	Node     string `json:"node"`
}
