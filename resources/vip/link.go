package vip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// target is a Config resolved against this host: the link and prefix.
type target struct {
	Config
	link   netlink.Link
	ifi    *net.Interface
	prefix netip.Prefix // the address with its prefix length
}

func family(ip netip.Addr) int {
	if ip.Is4() {
		return netlink.FAMILY_V4
	}
	return netlink.FAMILY_V6
}

// resolve finds the interface (given, or by route lookup as IPaddr2's
// findif does) and the prefix length (given, or that of the interface
// subnet containing the address, else a host route).
func resolve(c Config) (*target, error) {
	var link netlink.Link
	var err error
	if c.NIC != "" {
		link, err = netlink.LinkByName(c.NIC)
		if err != nil {
			return nil, fmt.Errorf("interface %s for %s: %w", c.NIC, c.IP, err)
		}
	} else if link = linkHolding(c.IP); link == nil {
		// Not configured yet: the route lookup says where it belongs.
		// (Once added, the lookup answers "local" via lo, hence the
		// check above.)
		link, err = linkByRoute(c.IP)
		if err != nil {
			return nil, err
		}
	}
	ifi, err := net.InterfaceByIndex(link.Attrs().Index)
	if err != nil {
		return nil, fmt.Errorf("interface %s for %s: %w", link.Attrs().Name, c.IP, err)
	}
	bits := c.Prefix
	if bits < 0 {
		bits = c.IP.BitLen()
		if p, ok := subnetOn(link, c.IP); ok {
			bits = p.Bits()
		}
	}
	return &target{Config: c, link: link, ifi: ifi, prefix: netip.PrefixFrom(c.IP, bits)}, nil
}

// linkByRoute picks the interface whose connected route covers ip; a
// route through a gateway would put the address on the wrong segment.
func linkByRoute(ip netip.Addr) (netlink.Link, error) {
	routes, err := netlink.RouteGet(ip.AsSlice())
	if err != nil {
		return nil, fmt.Errorf("route lookup for %s (set nic to choose the interface): %w", ip, err)
	}
	for _, r := range routes {
		if r.Gw != nil || r.LinkIndex == 0 {
			continue
		}
		link, err := netlink.LinkByIndex(r.LinkIndex)
		if err != nil {
			return nil, fmt.Errorf("route lookup for %s: interface %d: %w", ip, r.LinkIndex, err)
		}
		if link.Attrs().Name == "lo" {
			continue
		}
		return link, nil
	}
	return nil, fmt.Errorf("route lookup for %s: no directly connected interface (set nic)", ip)
}

// linkHolding returns the link that already has ip, or nil.
func linkHolding(ip netip.Addr) netlink.Link {
	addrs, err := netlink.AddrList(nil, family(ip))
	if err != nil {
		return nil
	}
	for _, a := range addrs {
		if p, ok := toPrefix(a); ok && p.Addr() == ip {
			if link, err := netlink.LinkByIndex(a.LinkIndex); err == nil {
				return link
			}
		}
	}
	return nil
}

// subnetOn returns the prefix of a non-VIP address on link whose subnet
// contains ip.
func subnetOn(link netlink.Link, ip netip.Addr) (netip.Prefix, bool) {
	addrs, err := netlink.AddrList(link, family(ip))
	if err != nil {
		return netip.Prefix{}, false
	}
	for _, a := range addrs {
		p, ok := toPrefix(a)
		if ok && p.Addr() != ip && p.Masked().Contains(ip) {
			return p, true
		}
	}
	return netip.Prefix{}, false
}

func toPrefix(a netlink.Addr) (netip.Prefix, bool) {
	if a.IPNet == nil {
		return netip.Prefix{}, false
	}
	ip, ok := netip.AddrFromSlice(a.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := a.Mask.Size()
	return netip.PrefixFrom(ip.Unmap(), ones), true
}

// present returns the address as configured on the link, if it is.
func (t *target) present() (*netlink.Addr, error) {
	addrs, err := netlink.AddrList(t.link, family(t.IP))
	if err != nil {
		return nil, fmt.Errorf("listing addresses of %s: %w", t.ifi.Name, err)
	}
	for _, a := range addrs {
		if p, ok := toPrefix(a); ok && p.Addr() == t.IP {
			return &a, nil
		}
	}
	return nil, nil
}

func (t *target) nlAddr() *netlink.Addr {
	return &netlink.Addr{
		IPNet: &net.IPNet{IP: t.IP.AsSlice(), Mask: net.CIDRMask(t.prefix.Bits(), t.IP.BitLen())},
		Label: t.label(t.ifi.Name),
	}
}

// add puts the address on the link. An IPv6 address is added without
// kernel DAD (we probed ourselves) unless kernelDAD is set; then add waits
// for the kernel's DAD and fails if it found a duplicate.
func (t *target) add(ctx context.Context, kernelDAD bool) error {
	a := t.nlAddr()
	if t.IP.Is6() && !kernelDAD {
		a.Flags = unix.IFA_F_NODAD
	}
	if err := netlink.AddrAdd(t.link, a); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("adding %s to %s: %w", t.prefix, t.ifi.Name, err)
	}
	if t.IP.Is4() {
		return nil
	}
	for {
		a, err := t.present()
		if err != nil {
			return err
		}
		switch {
		case a == nil:
			return fmt.Errorf("adding %s to %s: address vanished during DAD", t.prefix, t.ifi.Name)
		case a.Flags&unix.IFA_F_DADFAILED != 0:
			t.remove()
			return fmt.Errorf("%w: %s on %s (kernel DAD failed)", ErrDuplicate, t.IP, t.ifi.Name)
		case a.Flags&unix.IFA_F_TENTATIVE == 0:
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("adding %s to %s: waiting for DAD: %w", t.prefix, t.ifi.Name, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// remove deletes the address; an absent address is not an error.
func (t *target) remove() error {
	a, err := t.present()
	if err != nil || a == nil {
		return err
	}
	if err := netlink.AddrDel(t.link, a); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
		return fmt.Errorf("removing %s from %s: %w", t.prefix, t.ifi.Name, err)
	}
	return nil
}
