package vip

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Defaults for the announcement and the duplicate-address check.
const (
	DefaultCount      = 5
	DefaultInterval   = 200 * time.Millisecond
	DefaultDADTimeout = 300 * time.Millisecond
)

// Config is one virtual IP, parsed from the resource's parameters.
type Config struct {
	IP         netip.Addr
	Prefix     int           // -1: take it from the interface's subnet, else /32 or /128
	NIC        string        // "" : choose by route lookup
	Label      string        // IPv4 label, always "NIC:..." when set
	Count      int           // announcements per burst (request+reply pairs for IPv4)
	Interval   time.Duration // between announcements
	DADTimeout time.Duration // how long to listen for a duplicate; 0 skips the check
	// StrictDAD: listen for a duplicate before adding the address (RFC
	// 5227 probing). Otherwise (the default) the address is added and
	// announced at once and the same check runs while the start is still
	// in progress: a VIP taken over after its old owner was fenced answers
	// within a millisecond instead of after dad_timeout, and a duplicate
	// still fails the start (the address is removed again).
	StrictDAD  bool
	Reannounce time.Duration // > 0: repeat the burst on this period while started
}

// ParseParams reads the palisade:vip parameters. Names follow IPaddr2
// where it has one:
//
//	ip                  address (required), IPv4 or IPv6
//	cidr_netmask        prefix length (alias: prefix); default from the subnet
//	nic                 interface; default chosen by route lookup
//	label               IPv4 address label (IPaddr2's iflabel)
//	arp_count           announcements per burst (default 5)
//	arp_interval        milliseconds between them (default 200)
//	dad_timeout         milliseconds to wait for a duplicate (default 300, 0 = off)
//	dad                 optimistic (default: add, announce, then check) or strict (check first)
//	reannounce_interval milliseconds between periodic bursts (default 0 = off)
func ParseParams(p map[string]string) (Config, error) {
	c := Config{Prefix: -1, Count: DefaultCount, Interval: DefaultInterval, DADTimeout: DefaultDADTimeout}
	ipStr, ok := p["ip"]
	if !ok || ipStr == "" {
		return c, fmt.Errorf("parameter ip: required (an IPv4 or IPv6 address)")
	}
	ip, err := netip.ParseAddr(ipStr)
	if err != nil || ip.Zone() != "" || ip.IsUnspecified() || ip.IsMulticast() || ip.IsLoopback() {
		return c, fmt.Errorf("parameter ip=%q: want a unicast IPv4 or IPv6 address", ipStr)
	}
	c.IP = ip.Unmap()
	maxBits := c.IP.BitLen()
	for _, name := range []string{"cidr_netmask", "prefix"} {
		if s, ok := p[name]; ok && s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > maxBits {
				return c, fmt.Errorf("parameter %s=%q: want a prefix length 1-%d", name, s, maxBits)
			}
			c.Prefix = n
		}
	}
	c.NIC = p["nic"]
	if c.NIC != "" && (len(c.NIC) > 15 || strings.ContainsAny(c.NIC, "/: \x00")) {
		return c, fmt.Errorf("parameter nic=%q: want an interface name", c.NIC)
	}
	if l := p["label"]; l != "" {
		if c.IP.Is6() {
			return c, fmt.Errorf("parameter label=%q: IPv6 addresses have no labels", l)
		}
		c.Label = l
	}
	ints := []struct {
		name string
		min  int
		set  func(int)
	}{
		{"arp_count", 1, func(n int) { c.Count = n }},
		{"arp_interval", 1, func(n int) { c.Interval = time.Duration(n) * time.Millisecond }},
		{"dad_timeout", 0, func(n int) { c.DADTimeout = time.Duration(n) * time.Millisecond }},
		{"reannounce_interval", 0, func(n int) { c.Reannounce = time.Duration(n) * time.Millisecond }},
	}
	for _, f := range ints {
		s, ok := p[f.name]
		if !ok || s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < f.min || n > 3600_000 {
			return c, fmt.Errorf("parameter %s=%q: want an integer %d-3600000", f.name, s, f.min)
		}
		f.set(n)
	}
	switch p["dad"] {
	case "", "optimistic":
	case "strict":
		c.StrictDAD = true
	default:
		return c, fmt.Errorf("parameter dad=%q: want optimistic or strict", p["dad"])
	}
	for k := range p {
		if !known[k] {
			return c, fmt.Errorf("parameter %s: unknown (want ip, cidr_netmask, nic, label, arp_count, arp_interval, dad_timeout, dad, reannounce_interval)", k)
		}
	}
	return c, nil
}

var known = map[string]bool{"ip": true, "cidr_netmask": true, "prefix": true, "nic": true, "label": true,
	"arp_count": true, "arp_interval": true, "dad_timeout": true, "dad": true, "reannounce_interval": true}

// label returns the kernel label: it must start with the interface name.
func (c Config) label(nic string) string {
	if c.Label == "" {
		return ""
	}
	l := c.Label
	if !strings.HasPrefix(l, nic+":") && l != nic {
		l = nic + ":" + l
	}
	if len(l) > 15 {
		l = l[:15]
	}
	return l
}
