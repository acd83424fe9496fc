package node

import (
	"time"

	"palisade/cluster/membership"
)

// Status is the answer to the control command "status" (JSON field names
// are part of the CLI contract; add fields, do not rename them).
type Status struct {
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
	// Extra holds sections added by later stages (AddStatus).
	Extra map[string]any `json:"extra,omitempty"`
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

func ms(d time.Duration) int64 { return d.Milliseconds() }

func agePtr(now, at time.Duration) *int64 {
	v := ms(now - at)
	return &v
}

// buildStatus runs on the loop goroutine.
func (n *Node) buildStatus() Status {
	c := n.cfg
	now := n.now()
	t := c.Timing
	v := n.mem.View()
	st := Status{
		Cluster:    c.Name,
		Node:       n.ref(n.self.ID),
		Generation: n.gen,
		UptimeMS:   ms(now),
		Timing:     TimingStatus{ms(t.Keepalive), ms(t.Warntime), ms(t.Deadtime), ms(t.Initdead)},
		View:       ViewStatus{ID: v.ID, DC: n.ref(uint32(v.DC)), Agreed: v.Agreed},
	}
	for _, m := range v.Members {
		st.View.Members = append(st.View.Members, MemberStatus{n.ref(uint32(m.ID)), m.Generation})
	}
	peers := map[uint32]membership.PeerStatus{}
	for _, p := range n.mem.Peers() {
		peers[uint32(p.ID)] = p
	}
	for _, cn := range c.Nodes {
		if cn.ID == n.self.ID {
			st.Nodes = append(st.Nodes, NodeStatus{NodeRef: n.ref(cn.ID), Self: true, State: "up", Generation: n.gen})
			continue
		}
		p := peers[cn.ID]
		ns := NodeStatus{NodeRef: n.ref(cn.ID), State: p.State.String(), Generation: p.Generation}
		if p.Heard {
			ns.LastHeardMS = agePtr(now, p.LastHeard)
		}
		for i, l := range p.Links {
			ls := LinkStatus{Name: c.Links[i].Name, State: l.State.String()}
			if l.Heard {
				ls.LastHeardMS = agePtr(now, l.LastHeard)
			}
			ns.Links = append(ns.Links, ls)
		}
		st.Nodes = append(st.Nodes, ns)
	}
	tc := n.tr.Counters()
	st.Delivered, st.Dropped = tc.Delivered, tc.Dropped
	// Heartbeats refused by membership (rare: the transport filters first).
	for reason, cnt := range n.memDrops {
		st.Dropped[reason] += cnt
	}
	for i, l := range tc.Links {
		st.Links = append(st.Links, LinkTraffic{
			Name: l.Name, Kind: c.Links[i].Kind, RxPackets: l.RxPackets, RxBytes: l.RxBytes,
			TxPackets: l.TxPackets, TxBytes: l.TxBytes, TxErrors: l.TxErrors, Duplicates: l.Duplicates, Dropped: l.Dropped,
		})
	}
	return st
}

func (n *Node) ref(id uint32) NodeRef {
	if cn, ok := n.cfg.Node(id); ok {
		return NodeRef{id, cn.Name}
	}
	return NodeRef{ID: id}
}
