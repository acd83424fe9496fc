package transport

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// openLink binds the socket for one link and sets its multicast or
// broadcast options.
func openLink(l *Link) (*net.UDPConn, error) {
	var ifi *net.Interface
	if l.Interface != "" {
		var err error
		if ifi, err = net.InterfaceByName(l.Interface); err != nil {
			return nil, fmt.Errorf("interface %q: %w", l.Interface, err)
		}
	}
	bind, network, err := bindAddr(l, ifi)
	if err != nil {
		return nil, err
	}
	// Several links may share a port in one namespace (one per device),
	// and multicast/broadcast sockets bind the group/broadcast address,
	// which needs SO_REUSEADDR; a plain unicast socket does not get it, so
	// a port clash is an error rather than silently split traffic.
	reuse := l.Kind != Unicast || l.Interface != ""
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			if reuse {
				if serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); serr != nil {
					return
				}
			}
			if l.Kind == Broadcast {
				if serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_BROADCAST, 1); serr != nil {
					return
				}
			}
			if l.Interface != "" {
				if serr = syscall.SetsockoptString(int(fd), syscall.SOL_SOCKET, syscall.SO_BINDTODEVICE, l.Interface); serr != nil {
					serr = fmt.Errorf("SO_BINDTODEVICE %s: %w", l.Interface, serr)
				}
			}
		})
		if err != nil {
			return err
		}
		return serr
	}}
	pc, err := lc.ListenPacket(context.Background(), network, bind.String())
	if err != nil {
		return nil, err
	}
	conn := pc.(*net.UDPConn)
	if l.Kind == Multicast {
		if err := joinGroup(conn, l, ifi); err != nil {
			conn.Close()
			return nil, err
		}
	}
	return conn, nil
}

func bindAddr(l *Link, ifi *net.Interface) (netip.AddrPort, string, error) {
	port := l.port()
	switch l.Kind {
	case Multicast:
		// Binding the group keeps unicast and other groups on this port
		// out of this socket; Linux still picks a unicast source address.
		g := l.Group
		if g.Is6() && g.IsLinkLocalMulticast() {
			g = g.WithZone(l.Interface)
		}
		return netip.AddrPortFrom(g, port), network(g), nil
	case Broadcast:
		b, err := l.broadcastAddr(ifi)
		if err != nil {
			return netip.AddrPort{}, "", err
		}
		return netip.AddrPortFrom(b, port), "udp4", nil
	}
	if l.Local.IsValid() {
		return netip.AddrPortFrom(l.Local, port), network(l.Local), nil
	}
	// Wildcard of the peers' family.
	if len(l.Peers) > 0 && !l.Peers[0].Addr.Addr().Is4() {
		return netip.AddrPortFrom(netip.IPv6Unspecified(), port), "udp6", nil
	}
	return netip.AddrPortFrom(netip.IPv4Unspecified(), port), "udp4", nil
}

func network(a netip.Addr) string {
	if a.Is4() || a.Is4In6() {
		return "udp4"
	}
	return "udp6"
}

func (l *Link) port() uint16 {
	if l.Port == 0 {
		return DefaultPort
	}
	return l.Port
}

// broadcastAddr is the configured address or the interface's first IPv4
// subnet broadcast.
func (l *Link) broadcastAddr(ifi *net.Interface) (netip.Addr, error) {
	if l.BroadcastAddr.IsValid() {
		return l.BroadcastAddr, nil
	}
	if ifi == nil {
		return netip.Addr{}, fmt.Errorf("broadcast link needs an interface")
	}
	addrs, err := ifi.Addrs()
	if err != nil {
		return netip.Addr{}, fmt.Errorf("addresses of %s: %w", ifi.Name, err)
	}
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.To4() == nil {
			continue
		}
		ip, mask := ipn.IP.To4(), ipn.Mask
		if len(mask) == 16 {
			mask = mask[12:]
		}
		var b [4]byte
		for i := range b {
			b[i] = ip[i] | ^mask[i]
		}
		return netip.AddrFrom4(b), nil
	}
	return netip.Addr{}, fmt.Errorf("interface %s has no IPv4 address to derive a broadcast address from", ifi.Name)
}

func joinGroup(conn *net.UDPConn, l *Link, ifi *net.Interface) error {
	ttl := l.TTL
	if ttl == 0 {
		ttl = 1
	}
	group := &net.UDPAddr{IP: l.Group.AsSlice()}
	if l.Group.Is4() {
		p := ipv4.NewPacketConn(conn)
		if err := p.JoinGroup(ifi, group); err != nil {
			return fmt.Errorf("join %s: %w", l.Group, err)
		}
		if err := p.SetMulticastInterface(ifi); err != nil {
			return fmt.Errorf("multicast interface: %w", err)
		}
		if err := p.SetMulticastTTL(ttl); err != nil {
			return fmt.Errorf("multicast TTL %d: %w", ttl, err)
		}
		return p.SetMulticastLoopback(l.Loop)
	}
	p := ipv6.NewPacketConn(conn)
	if err := p.JoinGroup(ifi, group); err != nil {
		return fmt.Errorf("join %s: %w", l.Group, err)
	}
	if err := p.SetMulticastInterface(ifi); err != nil {
		return fmt.Errorf("multicast interface: %w", err)
	}
	if err := p.SetMulticastHopLimit(ttl); err != nil {
		return fmt.Errorf("multicast hop limit %d: %w", ttl, err)
	}
	return p.SetMulticastLoopback(l.Loop)
}
