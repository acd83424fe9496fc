package quorum

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
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
// order: the first is the default tie-breaker). file names
// the configuration in errors; a nil node means all defaults.
func Decode(file string, n *yaml.Node, nodes []string) (*Section, error) {
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
	var errs []string
	errf := func(at *yaml.Node, key, msg string) {
		errs = append(errs, fmt.Sprintf("%s:%d: quorum.%s: %s", file, at.Line, key, msg))
	}
	if n != nil {
		if n.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("%s:%d: quorum: want a mapping", file, n.Line)
		}
		valid := []string{"expected_votes", "votes", "two_node", "wait_for_all", "last_man_standing", "last_man_standing_window", "no_quorum_policy", "auto_tie_breaker", "auto_tie_breaker_node", "device", "heuristics", "watchdog"}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			var err error
			switch k.Value {
			case "expected_votes":
				err = v.Decode(&s.Config.ExpectedVotes)
			case "two_node":
				err = v.Decode(&s.Config.TwoNode)
			case "wait_for_all":
				err = v.Decode(&s.Config.WaitForAll)
				s.Config.WaitForAllSet = true
			case "last_man_standing":
				err = v.Decode(&s.Config.LastManStanding)
			case "last_man_standing_window":
				s.Config.LastManStandingWindow, err = time.ParseDuration(v.Value)
			case "auto_tie_breaker":
				err = v.Decode(&s.Config.AutoTieBreaker)
			case "auto_tie_breaker_node":
				s.Config.TieBreaker = v.Value
			case "device":
				dev, derr := DecodeDevice(file, v, nodes)
				if derr != nil {
					errs = append(errs, strings.Split(derr.Error(), "\n")...)
					continue
				}
				s.Device = dev
				s.Config.Device = Device{Model: dev.Model, Algorithm: dev.Algorithm, Votes: dev.Votes}
			case "heuristics":
				h, herr := DecodeHeuristics(file, v)
				if herr != nil {
					errs = append(errs, strings.Split(herr.Error(), "\n")...)
					continue
				}
				s.Heuristics = h
			case "watchdog":
				w, werr := DecodeWatchdog(file, v)
				if werr != nil {
					errs = append(errs, strings.Split(werr.Error(), "\n")...)
					continue
				}
				s.Watchdog = w
			case "no_quorum_policy":
				s.Policy, err = ParsePolicy(v.Value)
				s.PolicySet = true
			case "votes":
				var votes map[string]int
				if err = v.Decode(&votes); err == nil {
					// Sorted, not map order: the same file gives the same error text.
					for _, name := range slices.Sorted(maps.Keys(votes)) {
						vv := votes[name]
						if _, ok := s.Config.Nodes[name]; !ok {
							errf(v, "votes."+name, "not a configured node (nodes: "+strings.Join(nodes, ", ")+")")
							continue
						}
						s.Config.Nodes[name] = vv
					}
				}
			default:
				sort.Strings(valid)
				errf(k, k.Value, "unknown key; valid keys: "+strings.Join(valid, ", "))
				continue
			}
			if err != nil {
				errf(v, k.Value, fmt.Sprintf("bad value %q: %v", v.Value, err))
			}
		}
	}
	if len(errs) == 0 {
		if _, err := New(s.Config); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", file, err))
		}
		errs = append(errs, s.checkSelfFencing(file, n)...)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return s, nil
}
