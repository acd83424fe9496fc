package transport

import (
	"fmt"

	"palisade/cluster/wire"
)

// validate checks what can be checked without touching the network.
func (cfg *Config) validate() error {
	switch {
	case len(cfg.Cluster) == 0 || len(cfg.Cluster) > wire.MaxClusterName:
		return fmt.Errorf("cluster name %q must be 1..%d bytes", cfg.Cluster, wire.MaxClusterName)
	case cfg.Node == 0:
		return fmt.Errorf("own node id must be > 0")
	case cfg.Generation == 0:
		return fmt.Errorf("generation must be > 0")
	case cfg.Keys == nil:
		return fmt.Errorf("no keys")
	case len(cfg.Links) == 0 || len(cfg.Links) > 255:
		return fmt.Errorf("%d links: want 1..255", len(cfg.Links))
	}
	seen := map[uint32]bool{}
	for _, n := range cfg.Nodes {
		if n == 0 || seen[n] {
			return fmt.Errorf("node id %d is zero or listed twice", n)
		}
		seen[n] = true
	}
	for i := range cfg.Links {
		l := &cfg.Links[i]
		if l.Name == "" {
			l.Name = fmt.Sprintf("link%d", i)
		}
		if err := l.validate(seen); err != nil {
			return fmt.Errorf("link %s: %w", l.Name, err)
		}
	}
	if cfg.QueueLen == 0 {
		cfg.QueueLen = 1024
	}
	if cfg.ReplayWindow == 0 {
		cfg.ReplayWindow = 1024
	}
	cfg.ReplayWindow = (cfg.ReplayWindow + 63) / 64 * 64
	return nil
}

func (l *Link) validate(nodes map[uint32]bool) error {
	switch l.Kind {
	case Unicast:
		// No peers is valid: a one-node cluster (or the first node of a
		// cluster built up node by node) sends to nobody.
		for _, p := range l.Peers {
			if !nodes[p.Node] {
				return fmt.Errorf("peer %s is node %d, which is not a configured node", p.Addr, p.Node)
			}
			if !p.Addr.Addr().IsValid() || p.Addr.Addr().IsUnspecified() || p.Addr.Addr().IsMulticast() {
				return fmt.Errorf("peer of node %d: %q is not a unicast address", p.Node, p.Addr)
			}
		}
	case Multicast:
		if !l.Group.IsMulticast() {
			return fmt.Errorf("multicast group %q is not a multicast address", l.Group)
		}
		if l.Interface == "" {
			return fmt.Errorf("multicast link needs an interface")
		}
		if l.TTL < 0 || l.TTL > 255 {
			return fmt.Errorf("multicast TTL %d not in 0..255", l.TTL)
		}
	case Broadcast:
		if l.Interface == "" {
			return fmt.Errorf("broadcast link needs an interface")
		}
		if l.BroadcastAddr.IsValid() && !l.BroadcastAddr.Is4() {
			return fmt.Errorf("broadcast address %s: only IPv4 has broadcast (use multicast for IPv6)", l.BroadcastAddr)
		}
	default:
		return fmt.Errorf("kind %d: want Unicast, Multicast or Broadcast", l.Kind)
	}
	if l.Local.IsValid() && l.Kind != Unicast {
		return fmt.Errorf("local address is for unicast links; %s links bind their group/broadcast address", l.Kind)
	}
	return nil
}
