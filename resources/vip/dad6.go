package vip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/mdlayher/ndp"
)

// errNoLinkLocal means the interface cannot send neighbour solicitations
// itself; the kernel's own (slower) DAD is used instead.
var errNoLinkLocal = errors.New("no IPv6 link-local address")

// duplicateIPv6 asks the link who has ip (a neighbour solicitation to its
// solicited-node group) and waits up to timeout for an advertisement from
// another host. It returns that host's MAC (or its address, if it sent no
// link-layer option) and "" when no one answered.
//
// Why not only the kernel's DAD: it takes a full retransmit timer (1 s by
// default) on every start, which would dominate failover time; this check
// takes dad_timeout, and the address is then added with IFA_F_NODAD.
func duplicateIPv6(ctx context.Context, ifi *net.Interface, ip netip.Addr, timeout time.Duration) (string, error) {
	c, _, err := ndp.Listen(ifi, ndp.LinkLocal)
	if err != nil {
		return "", fmt.Errorf("%w on %s: %v", errNoLinkLocal, ifi.Name, err)
	}
	defer c.Close()
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := c.SetReadDeadline(deadline); err != nil {
		return "", fmt.Errorf("NS probe for %s on %s: %w", ip, ifi.Name, err)
	}
	snm, err := ndp.SolicitedNodeMulticast(ip)
	if err != nil {
		return "", fmt.Errorf("NS probe for %s: %w", ip, err)
	}
	ns := &ndp.NeighborSolicitation{TargetAddress: ip,
		Options: []ndp.Option{&ndp.LinkLayerAddress{Direction: ndp.Source, Addr: ifi.HardwareAddr}}}
	send := func() error {
		if err := c.WriteTo(ns, nil, snm); err != nil {
			return fmt.Errorf("NS probe for %s on %s: %w", ip, ifi.Name, err)
		}
		return nil
	}
	if err := send(); err != nil {
		return "", err
	}
	second := time.AfterFunc(timeout/2, func() { _ = send() })
	defer second.Stop()
	for {
		m, _, from, err := c.ReadFrom()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return "", nil
		}
		if err != nil {
			return "", fmt.Errorf("NS probe for %s on %s: reading: %w", ip, ifi.Name, err)
		}
		na, ok := m.(*ndp.NeighborAdvertisement)
		if !ok || na.TargetAddress != ip {
			continue
		}
		for _, o := range na.Options {
			if lla, ok := o.(*ndp.LinkLayerAddress); ok && lla.Direction == ndp.Target {
				if lla.Addr.String() == ifi.HardwareAddr.String() {
					break // our own advertisement
				}
				return lla.Addr.String(), nil
			}
		}
		return from.String(), nil
	}
}
