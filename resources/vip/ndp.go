package vip

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/mdlayher/ndp"
)

// allNodes is the IPv6 all-nodes multicast group unsolicited
// advertisements go to.
var allNodes = netip.MustParseAddr("ff02::1")

// ndpConn sends unsolicited neighbour advertisements for one address.
type ndpConn struct {
	ifi *net.Interface
	c   *ndp.Conn
}

// dialNDP binds to the VIP itself, so the advertisement's source is the
// address being announced (it must no longer be tentative).
func dialNDP(ifi *net.Interface, ip netip.Addr) (*ndpConn, error) {
	c, _, err := ndp.Listen(ifi, ndp.Addr(ip.String()))
	if err != nil {
		return nil, fmt.Errorf("opening NDP socket on %s for %s: %w", ifi.Name, ip, err)
	}
	return &ndpConn{ifi: ifi, c: c}, nil
}

func (n *ndpConn) Close() error { return n.c.Close() }

// unsolicitedNA sends one unsolicited neighbour advertisement (RFC 4861
// 7.2.6) with the override flag, so neighbours replace a stale entry
// pointing at the previous owner.
func (n *ndpConn) unsolicitedNA(ip netip.Addr) error {
	na := &ndp.NeighborAdvertisement{
		Override:      true,
		TargetAddress: ip,
		Options:       []ndp.Option{&ndp.LinkLayerAddress{Direction: ndp.Target, Addr: n.ifi.HardwareAddr}},
	}
	if err := n.c.WriteTo(na, nil, allNodes); err != nil {
		return fmt.Errorf("sending unsolicited NA for %s on %s: %w", ip, n.ifi.Name, err)
	}
	return nil
}
