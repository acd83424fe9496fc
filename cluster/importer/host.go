package importer

import (
	"context"
	"net"
	"net/netip"
	"os"
	"time"
)

// Host answers the questions an import asks about the machine it runs on,
// so that `palisade config import --heartbeat /etc/ha.d` run on a cluster
// node can fill in what ha.cf leaves out (its ucast lines name only the
// peers' addresses). Tests use a fixed Host; nil asks nothing.
type Host interface {
	// Hostname is `uname -n`, which Heartbeat matches against ha.cf's
	// node names.
	Hostname() (string, error)
	// InterfacePrefixes lists the addresses configured on an interface.
	InterfacePrefixes(ifname string) ([]netip.Prefix, error)
	// LookupHost resolves a node name (/etc/hosts, then DNS), as Heartbeat
	// users are told to list every node in /etc/hosts.
	LookupHost(name string) ([]netip.Addr, error)
}

// OSHost is the Host of the running machine.
type OSHost struct{}

// Hostname implements Host.
func (OSHost) Hostname() (string, error) { return os.Hostname() }

// InterfacePrefixes implements Host.
func (OSHost) InterfacePrefixes(ifname string) ([]netip.Prefix, error) {
	ifc, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, err
	}
	addrs, err := ifc.Addrs()
	if err != nil {
		return nil, err
	}
	var out []netip.Prefix
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			ip, ok := netip.AddrFromSlice(n.IP)
			if !ok {
				continue
			}
			ones, _ := n.Mask.Size()
			out = append(out, netip.PrefixFrom(ip.Unmap(), ones))
		}
	}
	return out, nil
}

// LookupHost implements Host, bounded so an unreachable DNS server does
// not hang the import.
func (OSHost) LookupHost(name string) ([]netip.Addr, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", name)
	for i := range addrs {
		addrs[i] = addrs[i].Unmap()
	}
	return addrs, err
}
