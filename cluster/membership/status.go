package membership

import "time"

// LinkStatus is the state of one link to a peer.
type LinkStatus struct {
	State     State
	Heard     bool
	LastHeard time.Duration // valid if Heard
}

// PeerStatus is a snapshot of one peer for status displays.
type PeerStatus struct {
	ID         NodeID
	State      State
	Generation uint64
	Heard      bool
	LastHeard  time.Duration // valid if Heard
	Advert     Advert
	Links      []LinkStatus
}

// Peers returns a snapshot of every peer, sorted by id.
func (m *Membership) Peers() []PeerStatus {
	out := make([]PeerStatus, 0, len(m.peers))
	for _, p := range m.peers {
		ps := PeerStatus{ID: p.id, State: p.state, Generation: p.gen, Heard: p.heard, LastHeard: p.lastHeard, Advert: p.advert}
		for _, l := range p.links {
			ps.Links = append(ps.Links, LinkStatus{State: l.state, Heard: l.heard, LastHeard: l.lastHeard})
		}
		out = append(out, ps)
	}
	return out
}

// PeerAdvert is the last advert heard from peer id (false for an unknown
// peer). The node loop asks it for every heartbeat it steps, so unlike
// Peers it builds nothing.
func (m *Membership) PeerAdvert(id NodeID) (Advert, bool) {
	p := m.peer(id)
	if p == nil {
		return Advert{}, false
	}
	return p.advert, true
}

// Quiet is how long ago, at now, this node last heard the member of its
// current view it heard least recently (0 when it is alone). The DC layer
// acts on a view only while Quiet stays under half the deadtime: an
// isolated node stops deciding well before the rest of the cluster can
// declare it dead (after a whole deadtime) and act on that, so the two
// sides never act at once.
func (m *Membership) Quiet(now time.Duration) time.Duration {
	var quiet time.Duration
	for _, vm := range m.view.Members {
		for _, p := range m.peers {
			if p.id != vm.ID {
				continue
			}
			q := now // never heard: as old as the clock
			if p.heard {
				q = now - p.lastHeard
			}
			quiet = max(quiet, q)
		}
	}
	return quiet
}
