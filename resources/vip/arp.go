package vip

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"github.com/mdlayher/packet"
)

// ErrDuplicate means another host already uses the address.
var ErrDuplicate = errors.New("address already in use on the network")

var zeroMAC = net.HardwareAddr{0, 0, 0, 0, 0, 0}

// arpConn is a raw ARP socket on one interface. We build frames with
// mdlayher/arp's Packet rather than its Client because the Client needs an
// IPv4 address on the interface, and the duplicate check runs before the
// VIP is added (possibly on an interface with no IPv4 address at all).
type arpConn struct {
	ifi *net.Interface
	pc  *packet.Conn
}

func dialARP(ifi *net.Interface) (*arpConn, error) {
	pc, err := packet.Listen(ifi, packet.Raw, int(ethernet.EtherTypeARP), nil)
	if err != nil {
		return nil, fmt.Errorf("opening ARP socket on %s: %w", ifi.Name, err)
	}
	return &arpConn{ifi: ifi, pc: pc}, nil
}

func (c *arpConn) Close() error { return c.pc.Close() }

func (c *arpConn) send(op arp.Operation, srcIP netip.Addr, dstHW net.HardwareAddr, dstIP netip.Addr) error {
	p, err := arp.NewPacket(op, c.ifi.HardwareAddr, srcIP, dstHW, dstIP)
	if err != nil {
		return fmt.Errorf("assembling ARP %s for %s on %s: %w", op, dstIP, c.ifi.Name, err)
	}
	pb, err := p.MarshalBinary()
	if err != nil {
		return fmt.Errorf("assembling ARP %s for %s on %s: %w", op, dstIP, c.ifi.Name, err)
	}
	f := &ethernet.Frame{Destination: ethernet.Broadcast, Source: c.ifi.HardwareAddr,
		EtherType: ethernet.EtherTypeARP, Payload: pb}
	fb, err := f.MarshalBinary()
	if err != nil {
		return fmt.Errorf("assembling ARP frame for %s on %s: %w", dstIP, c.ifi.Name, err)
	}
	if _, err := c.pc.WriteTo(fb, &packet.Addr{HardwareAddr: ethernet.Broadcast}); err != nil {
		return fmt.Errorf("sending ARP %s for %s on %s: %w", op, dstIP, c.ifi.Name, err)
	}
	return nil
}

// garp sends one gratuitous ARP pair for ip: a request (what Linux and
// most switches learn from) and a reply (what some older stacks and
// routers only accept), both broadcast, sender and target IP = ip.
func (c *arpConn) garp(ip netip.Addr) error {
	if err := c.send(arp.OperationRequest, ip, zeroMAC, ip); err != nil {
		return err
	}
	return c.send(arp.OperationReply, ip, ethernet.Broadcast, ip)
}

// probe is an RFC 5227 ARP probe: sender IP 0.0.0.0, so no neighbour
// cache learns anything from it, target IP = the address in question.
func (c *arpConn) probe(ip netip.Addr) error {
	return c.send(arp.OperationRequest, netip.IPv4Unspecified(), zeroMAC, ip)
}

// duplicateIPv4 probes for ip and listens until timeout for any other
// host that claims it (a reply to our probe, or its own announcement or
// probe). It returns the other host's MAC, or nil.
func duplicateIPv4(ctx context.Context, ifi *net.Interface, ip netip.Addr, timeout time.Duration) (net.HardwareAddr, error) {
	c, err := dialARP(ifi)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := c.pc.SetReadDeadline(deadline); err != nil {
		return nil, fmt.Errorf("ARP probe for %s on %s: %w", ip, ifi.Name, err)
	}
	// Two probes, the second half-way, in case the first is lost while a
	// bridge port is still learning.
	if err := c.probe(ip); err != nil {
		return nil, err
	}
	second := time.AfterFunc(timeout/2, func() { _ = c.probe(ip) })
	defer second.Stop()
	buf := make([]byte, 1500)
	for {
		n, _, err := c.pc.ReadFrom(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("ARP probe for %s on %s: reading: %w", ip, ifi.Name, err)
		}
		if mac := claims(buf[:n], ip, ifi.HardwareAddr); mac != nil {
			return mac, nil
		}
	}
}

// claims returns the sender MAC if frame is an ARP packet from another
// host that uses ip (as sender) or probes for it (RFC 5227 conflict).
func claims(frame []byte, ip netip.Addr, self net.HardwareAddr) net.HardwareAddr {
	var f ethernet.Frame
	if f.UnmarshalBinary(frame) != nil || f.EtherType != ethernet.EtherTypeARP {
		return nil
	}
	var p arp.Packet
	if p.UnmarshalBinary(f.Payload) != nil || bytes.Equal(p.SenderHardwareAddr, self) {
		return nil
	}
	if p.SenderIP == ip {
		return p.SenderHardwareAddr
	}
	if p.Operation == arp.OperationRequest && p.SenderIP.IsUnspecified() && p.TargetIP == ip {
		return p.SenderHardwareAddr
	}
	return nil
}
