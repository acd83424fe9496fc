// Package ping is Palisade's connectivity heuristics: Heartbeat's ping and
// ping_group directives (and what ipfail did with them). Every listed
// address gets an ICMP echo request every interval; a group is up while
// any of its addresses has answered within the timeout; the node's score
// is the sum of the weights of its groups that are up.
//
// The score feeds the quorum disk's master and the arbiter (the
// better-connected partition wins a tie), and is published as a node
// attribute (pingd-style, default name "pingd") that location rules can
// use, so the worse-connected node of a two-node cluster gives up its
// resources (ipfail), in the scheduler's rule syntax:
//
//	constraints:
//	  locations:
//	    - id: vip-needs-uplink
//	      rsc: vip
//	      rules:
//	        - score: -INFINITY
//	          boolean-op: or
//	          expressions: [{attribute: pingd, operation: not_defined},
//	                        {attribute: pingd, operation: lt, value: "100"}]
//	    - {id: prefer-connected, rsc: vip, rules: [{score-attribute: pingd, expressions: [{attribute: pingd, operation: defined}]}]}
//
// Tracker is the pure core (replies in, status out, a logical clock);
// Pinger is the edge (ICMP sockets through golang.org/x/net/icmp).
package ping

import (
	"fmt"
	"net/netip"
	"slices"
	"time"

	"palisade/quorum"
)

// Group is one ping group: up when any of its addresses answers.
type Group struct {
	Name      string
	Addresses []netip.Addr
	Weight    int
}

// Config configures the heuristics.
type Config struct {
	Interval  time.Duration
	Timeout   time.Duration
	Attribute string
	Groups    []Group
}

// FromSection converts the decoded quorum.heuristics section.
func FromSection(h *quorum.HeuristicsSection) Config {
	c := Config{Interval: h.Interval, Timeout: h.Timeout, Attribute: h.Attribute}
	for _, g := range h.PingGroups {
		c.Groups = append(c.Groups, Group{Name: g.Name, Addresses: slices.Clone(g.Addresses), Weight: g.Weight})
	}
	return c
}

func (c Config) validate() error {
	if c.Interval <= 0 || c.Timeout < 2*c.Interval {
		return fmt.Errorf("ping: interval %s / timeout %s: want a positive interval and a timeout of at least twice it", c.Interval, c.Timeout)
	}
	if len(c.Groups) == 0 {
		return fmt.Errorf("ping: no groups")
	}
	for _, g := range c.Groups {
		if len(g.Addresses) == 0 {
			return fmt.Errorf("ping: group %s has no addresses", g.Name)
		}
	}
	return nil
}

// GroupStatus is one group's state.
type GroupStatus struct {
	Name   string
	Up     bool
	Weight int
	// Answering lists the addresses that answered within the timeout.
	Answering []netip.Addr
}

// Status is the heuristics' verdict.
type Status struct {
	Score  int
	Groups []GroupStatus
	// Attribute is the node attribute name (pingd); its value is Score.
	Attribute string
}

// NodeAttribute is the node attribute the daemon publishes for location
// rules: name (pingd by default) and value (the score).
func (s Status) NodeAttribute() (name, value string) {
	return s.Attribute, fmt.Sprint(s.Score)
}

func (s Status) String() string {
	out := fmt.Sprintf("score %d:", s.Score)
	for _, g := range s.Groups {
		st := "down"
		if g.Up {
			st = fmt.Sprintf("up via %v", g.Answering)
		}
		out += fmt.Sprintf(" %s(%d) %s;", g.Name, g.Weight, st)
	}
	return out
}

// Tracker turns echo replies into group states and a score. It does no
// I/O and reads no clock.
type Tracker struct {
	cfg  Config
	last map[netip.Addr]time.Duration
}

// NewTracker validates cfg.
func NewTracker(cfg Config) (*Tracker, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Tracker{cfg: cfg, last: map[netip.Addr]time.Duration{}}, nil
}

// Addresses lists every address to ping, once each.
func (t *Tracker) Addresses() []netip.Addr {
	var out []netip.Addr
	for _, g := range t.cfg.Groups {
		for _, a := range g.Addresses {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}

// Reply records an echo reply from addr at now.
func (t *Tracker) Reply(addr netip.Addr, now time.Duration) {
	addr = addr.Unmap()
	for _, g := range t.cfg.Groups {
		if slices.Contains(g.Addresses, addr) {
			t.last[addr] = now
			return
		}
	}
}

// Status computes the groups and the score at now: an address is up if it
// answered in the last Timeout.
func (t *Tracker) Status(now time.Duration) Status {
	st := Status{Attribute: t.cfg.Attribute}
	for _, g := range t.cfg.Groups {
		gs := GroupStatus{Name: g.Name, Weight: g.Weight}
		for _, a := range g.Addresses {
			if at, ok := t.last[a]; ok && now-at <= t.cfg.Timeout {
				gs.Answering = append(gs.Answering, a)
			}
		}
		gs.Up = len(gs.Answering) > 0
		if gs.Up {
			st.Score += g.Weight
		}
		st.Groups = append(st.Groups, gs)
	}
	return st
}
