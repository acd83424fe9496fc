package quorum

import (
	"fmt"
	"slices"
	"sort"
	"time"
)

// Config is the quorum section of the cluster configuration.
type Config struct {
	// Nodes maps every configured node to its votes (0 votes is allowed:
	// the node counts as a member but not as a voter).
	Nodes map[string]int
	// ExpectedVotes overrides the sum of the node votes when > 0.
	ExpectedVotes int
	// TwoNode lets one vote be quorum in a two-node cluster (needs fencing).
	TwoNode bool
	// WaitForAll withholds quorum after start-up until all nodes have been
	// seen together once. Defaults to true when TwoNode is set; set
	// WaitForAllSet to force false.
	WaitForAll    bool
	WaitForAllSet bool
	// LastManStanding lowers expected votes to the current votes after the
	// membership has been stable for LastManStandingWindow.
	LastManStanding       bool
	LastManStandingWindow time.Duration
	// AutoTieBreaker settles an exact half split (votes*2 == expected):
	// the half that contains TieBreaker is quorate, the other is not.
	AutoTieBreaker bool
	TieBreaker     string
	// Device is the quorum device (a quorum disk or an arbiter node), if
	// any: its votes count for the partition it votes for (UpdateWithDevice).
	Device Device
}

// State is the quorum verdict for one membership.
type State struct {
	Quorate bool
	// Votes is the sum of the votes of the current members.
	Votes int
	// Expected is the expected votes in force (after last_man_standing).
	Expected int
	// Needed is the number of votes that makes quorum.
	Needed int
	// Reason explains the verdict in a few words, for logs and status.
	Reason string
	// DeviceVotes is the part of Votes that came from the quorum device
	// (0 when it does not vote for this partition or none is configured).
	DeviceVotes int
	// Pending: not quorate on the nodes' votes alone, and the quorum
	// device has not answered for this view yet (DeviceVote.Pending): the
	// view is undecided. Treat it as transitional: no fencing, no starts,
	// and no no-quorum-policy until the device answers.
	Pending bool
	// DeviceProblem is the device's health problem, if any ("arbiter
	// unreachable: ..."): a warning for status, not by itself a loss of
	// quorum while the nodes' own votes hold it.
	DeviceProblem string
}

func (s State) String() string {
	q := "quorate"
	switch {
	case s.Pending:
		q = "undecided"
	case !s.Quorate:
		q = "inquorate"
	}
	out := fmt.Sprintf("%s votes=%d expected=%d needed=%d (%s)", q, s.Votes, s.Expected, s.Needed, s.Reason)
	if s.DeviceProblem != "" {
		out += "; quorum device: " + s.DeviceProblem
	}
	return out
}

// Calculator keeps the little history quorum needs (whether all nodes have
// been seen, last_man_standing's lowered expectation).
type Calculator struct {
	cfg        Config
	devVotes   int // the device's votes (resolved default), 0 without one
	waitForAll bool
	seenAll    bool
	expected   int // in force; lowered by last_man_standing

	lastMembers []string
	stableSince time.Duration
}

// New validates cfg and returns a Calculator.
func New(cfg Config) (*Calculator, error) {
	if len(cfg.Nodes) == 0 {
		return nil, fmt.Errorf("quorum: no nodes configured")
	}
	total := 0
	for n, v := range cfg.Nodes {
		if v < 0 {
			return nil, fmt.Errorf("quorum: node %q: votes %d: want >= 0", n, v)
		}
		total += v
	}
	if total == 0 {
		return nil, fmt.Errorf("quorum: all nodes have 0 votes")
	}
	if cfg.TwoNode && (len(cfg.Nodes) != 2 || total != 2) {
		return nil, fmt.Errorf("quorum: two_node needs exactly two nodes with one vote each (have %d nodes, %d votes)", len(cfg.Nodes), total)
	}
	if cfg.AutoTieBreaker {
		if _, ok := cfg.Nodes[cfg.TieBreaker]; !ok {
			return nil, fmt.Errorf("quorum: auto_tie_breaker node %q is not a configured node", cfg.TieBreaker)
		}
	}
	if cfg.ExpectedVotes < 0 {
		return nil, fmt.Errorf("quorum: expected_votes %d: want >= 0", cfg.ExpectedVotes)
	}
	devVotes, err := cfg.Device.resolve(total)
	if err != nil {
		return nil, err
	}
	if devVotes > 0 {
		// The device is the tie-breaker: the other tie-breaking rules
		// would let a partition claim quorum the device gave elsewhere.
		switch {
		case cfg.TwoNode:
			return nil, fmt.Errorf("quorum: two_node cannot be combined with a quorum device (%s): the device already breaks the tie; remove two_node", cfg.Device.Model)
		case cfg.AutoTieBreaker:
			return nil, fmt.Errorf("quorum: auto_tie_breaker cannot be combined with a quorum device (%s): the device breaks ties; remove auto_tie_breaker", cfg.Device.Model)
		case cfg.LastManStanding:
			return nil, fmt.Errorf("quorum: last_man_standing cannot be combined with a quorum device (%s); use the device's lms algorithm instead", cfg.Device.Model)
		}
	}
	total += devVotes
	exp := total
	if cfg.ExpectedVotes > 0 {
		exp = cfg.ExpectedVotes
	}
	wfa := cfg.WaitForAll
	if cfg.TwoNode && !cfg.WaitForAllSet {
		wfa = true
	}
	return &Calculator{cfg: cfg, devVotes: devVotes, waitForAll: wfa, expected: exp}, nil
}

// Update computes the quorum state of the partition made of members at
// monotonic time now. Unknown member names carry no votes. A configured
// quorum device counts as not voting; use UpdateWithDevice to feed it.
func (c *Calculator) Update(members []string, now time.Duration) State {
	return c.UpdateWithDevice(members, DeviceVote{}, now)
}

// UpdateWithDevice is Update with the quorum device's current verdict for
// this partition's view: when dev.Voting, the device's votes are added to
// the members' votes.
func (c *Calculator) UpdateWithDevice(members []string, dev DeviceVote, now time.Duration) State {
	ms := slices.Clone(members)
	sort.Strings(ms)
	ms = slices.Compact(ms)
	if !slices.Equal(ms, c.lastMembers) {
		c.lastMembers = ms
		c.stableSince = now
	}
	votes, known := 0, 0
	for _, m := range ms {
		if v, ok := c.cfg.Nodes[m]; ok {
			votes += v
			known++
		}
	}
	if known == len(c.cfg.Nodes) {
		c.seenAll = true
	}
	devVotes := 0
	if dev.Voting && c.devVotes > 0 {
		devVotes = c.devVotes
		votes += devVotes
	}
	// last_man_standing only lowers expectations from a quorate, stable
	// membership, and never below 2 (a single node could otherwise claim
	// quorum in an even split it cannot see).
	if c.cfg.LastManStanding && now-c.stableSince >= c.cfg.LastManStandingWindow &&
		votes < c.expected && votes >= c.needed(c.expected) && votes >= 2 {
		c.expected = votes
	}
	// Expected votes never drop below what we actually see.
	if votes > c.expected {
		c.expected = votes
	}
	st := State{Votes: votes, Expected: c.expected, Needed: c.needed(c.expected), DeviceVotes: devVotes, DeviceProblem: dev.Problem}
	switch {
	case c.waitForAll && !c.seenAll:
		st.Reason = "wait_for_all: not all nodes seen yet"
	case c.cfg.TwoNode && votes >= 1:
		st.Quorate, st.Reason = true, "two_node"
	case votes >= st.Needed && devVotes > 0:
		st.Quorate, st.Reason = true, "majority with the "+string(c.cfg.Device.Model)+"'s votes"
	case votes >= st.Needed:
		st.Quorate, st.Reason = true, "majority"
	case c.cfg.AutoTieBreaker && votes*2 == c.expected && slices.Contains(ms, c.cfg.TieBreaker):
		st.Quorate, st.Reason = true, "auto_tie_breaker: this half holds "+c.cfg.TieBreaker
	case dev.Pending && c.devVotes > 0 && votes+c.devVotes >= st.Needed:
		st.Pending, st.Reason = true, "undecided: waiting for the "+string(c.cfg.Device.Model)+"'s verdict on this view"
	default:
		st.Reason = "no majority"
	}
	return st
}

// DeviceVotes is the number of votes the quorum device carries (0 without
// one): the configured value or the algorithm's default.
func (c *Calculator) DeviceVotes() int { return c.devVotes }

func (c *Calculator) needed(expected int) int {
	if c.cfg.TwoNode {
		return 1
	}
	return expected/2 + 1
}
