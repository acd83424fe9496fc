package node

import (
	"fmt"
	"net/netip"

	"palisade/cluster/config"
	"palisade/cluster/transport"
)

// transportLinks turns the configured links into transport links as seen
// from node self.
func transportLinks(c *config.Cluster, self config.Node) ([]transport.Link, error) {
	var out []transport.Link
	for _, l := range c.Links {
		tl := transport.Link{Name: l.Name, Interface: c.LinkInterface(self, l), Port: l.Port}
		switch l.Kind {
		case config.KindUnicast:
			tl.Kind = transport.Unicast
			local, ok := self.Addresses[l.Name]
			if !ok {
				return nil, fmt.Errorf("link %s: node %s has no address on it", l.Name, self.Name)
			}
			tl.Local = local
			for _, n := range c.Nodes {
				if n.ID == self.ID {
					continue
				}
				tl.Peers = append(tl.Peers, transport.Peer{Node: n.ID, Addr: netip.AddrPortFrom(n.Addresses[l.Name], l.Port)})
			}
		case config.KindMulticast:
			// Bound to the wildcard (pinned to the interface): a socket
			// bound to a unicast address would not receive the group.
			tl.Kind = transport.Multicast
			tl.Group, tl.TTL, tl.Loop = l.Group, l.TTL, l.Loop
		case config.KindBroadcast:
			tl.Kind = transport.Broadcast
		default:
			return nil, fmt.Errorf("link %s: unknown kind %q", l.Name, l.Kind)
		}
		out = append(out, tl)
	}
	return out, nil
}
