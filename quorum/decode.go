package quorum

import (
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"palisade/cluster/config/strict"
)

// Section is the decoded `quorum:` section of cluster.yaml:
//
//	quorum:
//	  expected_votes: 0            # 0: sum of node votes
//	  votes: {n1: 1, n2: 1}        # default 1 per node
//	  two_node: false
//	  wait_for_all: false          # default true with two_node
//	  last_man_standing: false
//	  last_man_standing_window: 10s
//	  auto_tie_breaker: false      # even split: the half with the tie-breaker node wins
//	  auto_tie_breaker_node: n1    # default: the first (lowest id) node
//	  no_quorum_policy: stop       # stop | freeze | ignore | demote | suicide
//	  device: {...}                # a quorum disk or an arbiter, see DeviceSection
//	  heuristics: {...}            # ping groups, see HeuristicsSection
//	  watchdog: {...}              # this node's self-fencing, see WatchdogSection
type Section struct {
	Config Config
	Policy NoQuorumPolicy
	// PolicySet is true when the section set no_quorum_policy (otherwise
	// the resources section's no-quorum-policy option applies).
	PolicySet bool
	// Device is the quorum device, nil without one; Config.Device holds
	// its votes for the arithmetic.
	Device *DeviceSection `json:",omitempty"`
	// Heuristics are the ping groups, nil without any.
	Heuristics *HeuristicsSection `json:",omitempty"`
	// Watchdog is the node's self-fencing watchdog, nil without one.
	Watchdog *WatchdogSection `json:",omitempty"`
}

// Decode validates the quorum section for the given node names (in id
// order: the first is the default tie-breaker). file names the
// configuration in errors; a nil node means all defaults. Every problem is
// reported at once, as strict.Errors (cluster/config decodes the section
// with the rest of the file through DecodeWith).
func Decode(file string, n *yaml.Node, nodes []string) (*Section, error) {
	c := strict.New(file)
	s := DecodeWith(c, n, nodes)
	if err := c.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

// DecodeWith decodes the quorum section into c, the collector of the
// whole file. The section is only meaningful when c gained no error.
func DecodeWith(c *strict.Collector, n *yaml.Node, nodes []string) *Section {
	s := &Section{Config: Config{Nodes: map[string]int{}, LastManStandingWindow: 10 * time.Second}, Policy: PolicyStop}
	for _, name := range nodes {
		s.Config.Nodes[name] = 1
	}
	if len(nodes) > 0 {
		s.Config.TieBreaker = nodes[0] // nodes come in id order: the lowest id
	}
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n == nil || n.ShortTag() == "!!null" {
		return s
	}
	before := c.Len()
	d := &sectionDecoder{c: c}
	c.Fields(n, "quorum", map[string]func(*yaml.Node, string){
		"expected_votes": func(v *yaml.Node, key string) { c.DecodeStrict(v, key, &s.Config.ExpectedVotes) },
		"two_node":       func(v *yaml.Node, key string) { c.DecodeStrict(v, key, &s.Config.TwoNode) },
		"wait_for_all": func(v *yaml.Node, key string) {
			c.DecodeStrict(v, key, &s.Config.WaitForAll)
			s.Config.WaitForAllSet = true
		},
		"last_man_standing": func(v *yaml.Node, key string) { c.DecodeStrict(v, key, &s.Config.LastManStanding) },
		"last_man_standing_window": func(v *yaml.Node, key string) {
			if w, ok := c.Scalar(v, key); ok {
				d, err := time.ParseDuration(w)
				if err != nil {
					c.Errorf(v, key, "%s: want a duration such as 10s", strict.Quote(w))
					return
				}
				s.Config.LastManStandingWindow = d
			}
		},
		"auto_tie_breaker": func(v *yaml.Node, key string) { c.DecodeStrict(v, key, &s.Config.AutoTieBreaker) },
		"auto_tie_breaker_node": func(v *yaml.Node, key string) {
			if name, ok := c.Scalar(v, key); ok {
				s.Config.TieBreaker = name
			}
		},
		"device": func(v *yaml.Node, _ string) {
			if dev := d.device(v, nodes); dev != nil {
				s.Device = dev
				s.Config.Device = Device{Model: dev.Model, Algorithm: dev.Algorithm, Votes: dev.Votes}
			}
		},
		"heuristics": func(v *yaml.Node, _ string) { s.Heuristics = d.heuristics(v) },
		"watchdog":   func(v *yaml.Node, _ string) { s.Watchdog = d.watchdog(v) },
		"no_quorum_policy": func(v *yaml.Node, key string) {
			w, ok := c.Scalar(v, key)
			if !ok {
				return
			}
			p, err := ParsePolicy(w)
			if err != nil {
				c.Errorf(v, key, "%s: %v", strict.Quote(w), err)
				return
			}
			s.Policy, s.PolicySet = p, true
		},
		"votes": func(v *yaml.Node, key string) {
			c.Map(v, key, func(name string, vv *yaml.Node, key string) {
				if _, ok := s.Config.Nodes[name]; !ok {
					c.Errorf(vv, key, "not a configured node (nodes: %s)", strings.Join(nodes, ", "))
					return
				}
				var votes int
				if c.DecodeStrict(vv, key, &votes) {
					s.Config.Nodes[name] = votes
				}
			})
		},
	})
	if c.Len() == before {
		// The arithmetic's own rules (two_node with 2 nodes, a
		// tie-breaker that exists, ...), once every value was read.
		if _, err := New(s.Config); err != nil {
			c.AddAt(n, "quorum", err)
		}
		s.checkSelfFencing(c, n)
	}
	return s
}
