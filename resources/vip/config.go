package vip

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"palisade/resources/agent"
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
//
// The error is the first problem; CheckParams lists them all.
func ParseParams(p map[string]string) (Config, error) {
	c, errs := parse(p)
	if len(errs) > 0 {
		return c, errs[0]
	}
	return c, nil
}

// CheckParams lists every problem with the parameters (no I/O: whether
// the interface exists is for validate-all on the nodes that may run it).
func CheckParams(p map[string]string) []agent.ParamError { _, errs := parse(p); return errs }

// CheckParams implements agent.ParamChecker.
func (a *Agent) CheckParams(p map[string]string) []agent.ParamError { return CheckParams(p) }

func parse(p map[string]string) (Config, []agent.ParamError) {
	c := Config{Prefix: -1, Count: DefaultCount, Interval: DefaultInterval, DADTimeout: DefaultDADTimeout}
	var errs []agent.ParamError
	bad := func(name, format string, args ...any) {
		errs = append(errs, agent.ParamError{Param: name, Msg: fmt.Sprintf(format, args...)})
	}
	ipStr, ok := p["ip"]
	ip, err := netip.ParseAddr(ipStr)
	switch {
	case !ok || ipStr == "":
		bad("ip", "required (an IPv4 or IPv6 address)")
	case err != nil || ip.Zone() != "" || ip.IsUnspecified() || ip.IsMulticast() || ip.IsLoopback():
		bad("ip", "%s: want a unicast IPv4 or IPv6 address", short(ipStr))
	default:
		c.IP = ip.Unmap()
	}
	maxBits := 128
	if c.IP.IsValid() {
		maxBits = c.IP.BitLen()
	}
	for _, name := range []string{"cidr_netmask", "prefix"} {
		if s, ok := p[name]; ok && s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > maxBits {
				bad(name, "%s: want a prefix length 1-%d", short(s), maxBits)
				continue
			}
			c.Prefix = n
		}
	}
	c.NIC = p["nic"]
	if c.NIC != "" && (len(c.NIC) > 15 || strings.ContainsAny(c.NIC, "/: \x00")) {
		bad("nic", "%s: want an interface name (at most 15 characters, no / or :)", short(c.NIC))
	}
	if l := p["label"]; l != "" {
		if c.IP.Is6() {
			bad("label", "%s: IPv6 addresses have no labels", short(l))
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
			bad(f.name, "%s: want an integer %d-3600000", short(s), f.min)
			continue
		}
		f.set(n)
	}
	switch p["dad"] {
	case "", "optimistic":
	case "strict":
		c.StrictDAD = true
	default:
		bad("dad", "%s: want optimistic or strict", short(p["dad"]))
	}
	var unknown []string
	for k := range p {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		bad(k, "unknown (want ip, cidr_netmask, nic, label, arp_count, arp_interval, dad_timeout, dad, reannounce_interval)")
	}
	return c, errs
}

// short quotes at most the first 40 bytes of a value: an error never
// echoes a huge value whole.
func short(v string) string {
	const limit = 40
	if len(v) <= limit {
		return strconv.Quote(v)
	}
	return fmt.Sprintf("%s... (%d bytes)", strconv.Quote(v[:limit]), len(v))
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
