package transport

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// openLink binds the socket for one link and sets its multicast or
// broadcast options.
//
// Each socket is bound to the most specific address that still receives
// its link's traffic (the local unicast address, the broadcast address,
// the multicast group), so one link's socket does not also receive
// another's packets on a shared port; a packet signed for link i arriving
// on link j's socket then really is a replay.
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
	var conn *net.UDPConn
	if l.Kind == Multicast {
		conn, err = listenGroup(l, bind, ifi)
	} else {
		conn, err = listen(l, bind, network)
	}
	if err != nil {
		return nil, err
	}
	if l.Kind == Multicast {
		if err := joinGroup(conn, l, ifi); err != nil {
			conn.Close()
			return nil, err
		}
	}
	return conn, nil
}

// sockOpts applies the options every link socket gets before bind.
func sockOpts(fd int, l *Link) error {
	// Several links may share a port in one namespace (one per device),
	// and multicast/broadcast sockets bind the group/broadcast address,
	// which needs SO_REUSEADDR; a plain unicast socket does not get it, so
	// a port clash is an error rather than silently split traffic.
	if l.Kind != Unicast || l.Interface != "" {
		if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
			return fmt.Errorf("SO_REUSEADDR: %w", err)
		}
	}
	if l.Kind == Broadcast {
		if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_BROADCAST, 1); err != nil {
			return fmt.Errorf("SO_BROADCAST: %w", err)
		}
	}
	if l.Interface != "" {
		if err := syscall.SetsockoptString(fd, syscall.SOL_SOCKET, syscall.SO_BINDTODEVICE, l.Interface); err != nil {
			return fmt.Errorf("SO_BINDTODEVICE %s: %w", l.Interface, err)
		}
	}
	return nil
}

// listen opens a unicast or broadcast socket through the net package.
func listen(l *Link, bind netip.AddrPort, network string) (*net.UDPConn, error) {
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) { serr = sockOpts(int(fd), l) }); err != nil {
			return err
		}
		return serr
	}}
	pc, err := lc.ListenPacket(context.Background(), network, bind.String())
	if err != nil {
		return nil, err
	}
	return pc.(*net.UDPConn), nil
}

// listenGroup opens a multicast socket bound to the group address itself.
// The net package would bind the wildcard instead (its choice for
// multicast listeners), and such a socket also receives the broadcasts
// and unicast packets of other links on the same port, plus every group
// anyone on the host joined (IP_MULTICAST_ALL).
func listenGroup(l *Link, bind netip.AddrPort, ifi *net.Interface) (*net.UDPConn, error) {
	var family int
	var sa syscall.Sockaddr
	if bind.Addr().Is4() {
		family, sa = syscall.AF_INET, &syscall.SockaddrInet4{Port: int(bind.Port()), Addr: bind.Addr().As4()}
	} else {
		sa6 := &syscall.SockaddrInet6{Port: int(bind.Port()), Addr: bind.Addr().As16()}
		if ifi != nil && bind.Addr().Zone() != "" {
			sa6.ZoneId = uint32(ifi.Index)
		}
		family, sa = syscall.AF_INET6, sa6
	}
	fd, err := syscall.Socket(family, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC|syscall.SOCK_NONBLOCK, syscall.IPPROTO_UDP)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	f := os.NewFile(uintptr(fd), "mcast "+bind.String()) // owns fd from here
	defer f.Close()
	if err := sockOpts(fd, l); err != nil {
		return nil, err
	}
	if family == syscall.AF_INET6 {
		if err := syscall.SetsockoptInt(fd, syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY, 1); err != nil {
			return nil, fmt.Errorf("IPV6_V6ONLY: %w", err)
		}
	}
	if err := syscall.Bind(fd, sa); err != nil {
		return nil, fmt.Errorf("bind %s: %w", bind, err)
	}
	pc, err := net.FilePacketConn(f) // a dup: f's own descriptor closes on return
	if err != nil {
		return nil, fmt.Errorf("socket %s: %w", bind, err)
	}
	return pc.(*net.UDPConn), nil
}

func bindAddr(l *Link, ifi *net.Interface) (netip.AddrPort, string, error) {
	port := l.port()
	switch l.Kind {
	case Multicast:
		// Binding the group keeps unicast, broadcast and other groups on
		// this port out of this socket; Linux still picks a unicast
		// source address when sending.
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
		local := l.Local.Unmap()
		return netip.AddrPortFrom(local, port), network(local), nil
	}
	// Wildcard of the peers' family.
	if len(l.Peers) > 0 && !l.Peers[0].Addr.Addr().Unmap().Is4() {
		return netip.AddrPortFrom(netip.IPv6Unspecified(), port), "udp6", nil
	}
	return netip.AddrPortFrom(netip.IPv4Unspecified(), port), "udp4", nil
}

func network(a netip.Addr) string {
	if a.Is4() {
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
