package node

import (
	"time"

	"palisade/cluster/api"
	"palisade/cluster/membership"
)

func ms(d time.Duration) int64 { return d.Milliseconds() }

func agePtr(now, at time.Duration) *int64 {
	v := ms(now - at)
	return &v
}

// buildStatus runs on the loop goroutine.
func (n *Node) buildStatus() api.Status {
	c := n.cfg
	now := n.now()
	// Repeated heartbeats wait in the transport until the next tick:
	// show what was heard up to now.
	n.poll()
	n.mem.Tick(now)
	n.flush()
	t := c.Timing
	v := n.mem.View()
	st := api.Status{
		Schema:     api.StatusSchema,
		Cluster:    c.Name,
		Node:       n.ref(n.self.ID),
		Generation: n.gen,
		UptimeMS:   ms(now),
		Timing:     api.TimingStatus{KeepaliveMS: ms(t.Keepalive), WarntimeMS: ms(t.Warntime), DeadtimeMS: ms(t.Deadtime), InitdeadMS: ms(t.Initdead)},
		View:       api.ViewStatus{ID: v.ID, DC: n.ref(uint32(v.DC)), Agreed: v.Agreed},
	}
	for _, m := range v.Members {
		st.View.Members = append(st.View.Members, api.MemberStatus{NodeRef: n.ref(uint32(m.ID)), Generation: m.Generation})
	}
	peers := map[uint32]membership.PeerStatus{}
	for _, p := range n.mem.Peers() {
		peers[uint32(p.ID)] = p
	}
	for _, cn := range c.Nodes {
		if cn.ID == n.self.ID {
			st.Nodes = append(st.Nodes, api.NodeStatus{NodeRef: n.ref(cn.ID), Self: true, State: "up", Generation: n.gen})
			continue
		}
		p := peers[cn.ID]
		ns := api.NodeStatus{NodeRef: n.ref(cn.ID), State: p.State.String(), Generation: p.Generation}
		if p.Heard {
			ns.LastHeardMS = agePtr(now, p.LastHeard)
		}
		for i, l := range p.Links {
			ls := api.LinkStatus{Name: c.Links[i].Name, State: l.State.String()}
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
		st.Links = append(st.Links, api.LinkTraffic{
			Name: l.Name, Kind: c.Links[i].Kind, RxPackets: l.RxPackets, RxBytes: l.RxBytes,
			TxPackets: l.TxPackets, TxBytes: l.TxBytes, TxErrors: l.TxErrors, Duplicates: l.Duplicates, Dropped: l.Dropped,
		})
	}
	return st
}

func (n *Node) ref(id uint32) api.NodeRef {
	if cn, ok := n.cfg.Node(id); ok {
		return api.NodeRef{ID: id, Name: cn.Name}
	}
	return api.NodeRef{ID: id}
}
