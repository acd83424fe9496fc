package membership

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Config describes the cluster as this node sees it at start-up.
type Config struct {
	Self       NodeID
	Generation uint64        // this node's generation (incarnation)
	Nodes      []NodeID      // every configured node, including Self
	Links      int           // number of links; heartbeats name a link 0..Links-1
	Timing     Timing        // validated by New
	Start      time.Duration // logical time of start-up; initdead runs from here
}

// Heartbeat is one authenticated heartbeat as received on one link.
type Heartbeat struct {
	From       NodeID
	Link       int
	Generation uint64
	At         time.Duration // receive time on the caller's clock
	Advert     Advert        // the sender's view, from the payload
}

// Errors returned by Step; the caller counts them and drops the heartbeat.
var (
	ErrUnknownNode     = errors.New("unknown node")
	ErrUnknownLink     = errors.New("unknown link")
	ErrStaleGeneration = errors.New("older generation")
	ErrSelf            = errors.New("heartbeat from self")
)

type linkState struct {
	state     State
	heard     bool
	lastHeard time.Duration
}

type peer struct {
	id        NodeID
	gen       uint64
	heard     bool
	state     State
	lastHeard time.Duration
	links     []linkState
	advert    Advert
}

// Membership is the state machine. It is not safe for concurrent use: the
// caller serialises Step, Tick and the accessors.
type Membership struct {
	cfg      Config
	peers    []*peer // sorted by id, without self
	now      time.Duration
	view     View
	hash     uint64
	maxSeen  uint64 // highest view id seen anywhere
	events   []Event
	bootDone time.Duration // Start + Initdead
	scratch  []Member      // reused by update
	// due and dueOK are NextDeadline as of the last update: until then
	// the clock alone changes nothing, so moving it needs no update.
	// Heartbeats only push deadlines later, so the cached one is at
	// worst early (one update that finds nothing).
	due   time.Duration
	dueOK bool
	// full disables the shortcuts (tests compare against it).
	full bool
}

// New validates cfg and returns a machine at time cfg.Start.
func New(cfg Config) (*Membership, error) {
	if err := cfg.Timing.Validate(); err != nil {
		return nil, fmt.Errorf("membership timing: %w", err)
	}
	if cfg.Links < 1 {
		return nil, fmt.Errorf("membership: %d links, need at least one", cfg.Links)
	}
	m := &Membership{cfg: cfg, now: cfg.Start, bootDone: cfg.Start + cfg.Timing.Initdead}
	seen := map[NodeID]bool{}
	selfListed := false
	for _, id := range cfg.Nodes {
		if seen[id] {
			return nil, fmt.Errorf("membership: node %d listed twice", id)
		}
		seen[id] = true
		if id == cfg.Self {
			selfListed = true
			continue
		}
		m.peers = append(m.peers, &peer{id: id, links: make([]linkState, cfg.Links)})
	}
	if !selfListed {
		return nil, fmt.Errorf("membership: self %d is not among the configured nodes", cfg.Self)
	}
	slices.SortFunc(m.peers, func(a, b *peer) int { return int(int64(a.id) - int64(b.id)) })
	m.view = View{Members: []Member{{cfg.Self, cfg.Generation}}, DC: cfg.Self}
	m.update()
	return m, nil
}

func (m *Membership) peer(id NodeID) *peer {
	i, ok := slices.BinarySearchFunc(m.peers, id, func(p *peer, id NodeID) int { return int(int64(p.id) - int64(id)) })
	if !ok {
		return nil
	}
	return m.peers[i]
}

// Step feeds one received heartbeat. Time moves to hb.At first (never
// backwards), so deadlines that passed before it are applied before it.
func (m *Membership) Step(hb Heartbeat) error {
	if hb.From == m.cfg.Self {
		return ErrSelf
	}
	p := m.peer(hb.From)
	if p == nil {
		return fmt.Errorf("heartbeat from node %d: %w", hb.From, ErrUnknownNode)
	}
	if hb.Link < 0 || hb.Link >= m.cfg.Links {
		return fmt.Errorf("heartbeat from node %d on link %d: %w", hb.From, hb.Link, ErrUnknownLink)
	}
	if p.heard && hb.Generation < p.gen {
		return fmt.Errorf("heartbeat from node %d generation %d < %d: %w", hb.From, hb.Generation, p.gen, ErrStaleGeneration)
	}
	m.advance(hb.At)
	l := &p.links[hb.Link]
	// The common case, a live peer on a live link saying what it said
	// before, changes no state: only the times move (later), so the
	// states, the view and the cached deadline all stay right.
	same := !m.full && p.heard && hb.Generation == p.gen && p.state == StateUp && l.state == StateUp &&
		hb.Advert == p.advert && hb.Advert.ViewID <= m.maxSeen
	if p.heard && hb.Generation > p.gen {
		m.emit(Event{Kind: EventRestart, Node: p.id, OldGeneration: p.gen, Generation: hb.Generation})
	}
	p.gen = hb.Generation
	p.heard = true
	p.lastHeard = m.now
	p.advert = hb.Advert
	l.heard = true
	l.lastHeard = m.now
	if same {
		return nil
	}
	if hb.Advert.ViewID > m.maxSeen {
		m.maxSeen = hb.Advert.ViewID
	}
	m.update()
	return nil
}

// Tick moves the clock to now (never backwards) and applies deadlines.
func (m *Membership) Tick(now time.Duration) {
	m.advance(now)
	m.update()
}

func (m *Membership) advance(now time.Duration) {
	if now > m.now {
		m.now = now
		if m.full || (m.dueOK && now >= m.due) {
			m.update()
		}
	}
}

// RaiseViewFloor makes every later view id higher than floor. A node
// passes the highest view id it persisted before a restart: view ids then
// keep growing across restarts of the whole cluster, so records stamped
// with the view they were decided in (recovery.Record) stay ordered.
func (m *Membership) RaiseViewFloor(floor uint64) {
	if floor > m.maxSeen {
		m.maxSeen = floor
	}
}

// Ready returns the events produced since the previous call.
func (m *Membership) Ready() []Event {
	ev := m.events
	m.events = nil
	return ev
}

// View returns the current view (ID 0 while the first view is forming).
func (m *Membership) View() View {
	v := m.view
	v.Members = slices.Clone(v.Members)
	return v
}

// Advert returns what this node's heartbeats should carry.
func (m *Membership) Advert() Advert { return Advert{ViewID: m.view.ID, Hash: m.hash} }

// Now returns the machine's logical time.
func (m *Membership) Now() time.Duration { return m.now }

func (m *Membership) emit(e Event) {
	e.At = m.now
	m.events = append(m.events, e)
}

// update recomputes every state at m.now, emits the differences and
// caches the next deadline.
func (m *Membership) update() {
	m.updateStates()
	m.due, m.dueOK = m.NextDeadline()
}

func (m *Membership) updateStates() {
	t := m.cfg.Timing
	members := append(m.scratch[:0], Member{m.cfg.Self, m.cfg.Generation})
	allHeard := true
	for _, p := range m.peers {
		for i := range p.links {
			l := &p.links[i]
			s := stateAt(l.heard, l.lastHeard, m.now, m.bootDone, t)
			if s != l.state {
				m.emit(Event{Kind: EventLink, Node: p.id, Link: i, From: l.state, To: s})
				l.state = s
			}
		}
		s := stateAt(p.heard, p.lastHeard, m.now, m.bootDone, t)
		if s != p.state {
			m.emit(Event{Kind: EventNode, Node: p.id, From: p.state, To: s, Generation: p.gen})
			p.state = s
		}
		if s.Alive() {
			members = append(members, Member{p.id, p.gen})
		} else {
			allHeard = false
		}
	}
	m.scratch = members
	slices.SortFunc(members, func(a, b Member) int { return int(int64(a.ID) - int64(b.ID)) })
	h := membersHash(members)
	forming := m.view.ID == 0
	if forming && !allHeard && m.now < m.bootDone {
		if h != m.hash || m.view.Members == nil {
			m.hash = h
			m.view.Members = slices.Clone(members)
			m.view.DC = members[0].ID
		}
		return
	}
	if forming || h != m.hash {
		m.view = View{ID: max(m.view.ID, m.maxSeen) + 1, Members: slices.Clone(members), DC: members[0].ID}
		m.hash = h
		m.maxSeen = m.view.ID
		m.emit(Event{Kind: EventView, View: m.View()})
	}
	// Converge: adopt a higher id advertised by a member for the same set.
	for _, p := range m.peers {
		if p.state.Alive() && p.advert.Hash == m.hash && p.advert.ViewID > m.view.ID {
			m.view.ID = p.advert.ViewID
			m.view.Agreed = false
			m.emit(Event{Kind: EventView, View: m.View()})
		}
	}
	agreed := true
	for _, p := range m.peers {
		if p.state.Alive() && p.advert != (Advert{m.view.ID, m.hash}) {
			agreed = false
		}
	}
	switch {
	case agreed && !m.view.Agreed:
		m.view.Agreed = true
		m.emit(Event{Kind: EventViewAgreed, View: m.View()})
	case !agreed && m.view.Agreed:
		// A member now advertises another view (it lost or gained a
		// peer): until all agree again this view confers no authority.
		m.view.Agreed = false
		m.emit(Event{Kind: EventViewDisagreed, View: m.View()})
	}
}
