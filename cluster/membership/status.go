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
