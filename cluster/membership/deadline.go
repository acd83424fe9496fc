package membership

import "time"

// NextDeadline is the earliest time after Now at which Tick would change
// something without any new heartbeat: a peer or a link turning warn or
// dead, a pending peer turning dead, or the first view forming at
// initdead. ok is false when nothing is due (every peer is dead, or there
// are none): only a heartbeat changes anything then.
//
// A driver sleeps until the deadline instead of ticking on a fixed
// period: Tick(at) before it changes nothing, Tick(at) at it reports the
// change. Heartbeats stepped in between move it, so the driver asks again
// after every Step.
func (m *Membership) NextDeadline() (at time.Duration, ok bool) {
	t := m.cfg.Timing
	consider := func(d time.Duration) {
		if d > m.now && (!ok || d < at) {
			at, ok = d, true
		}
	}
	due := func(heard bool, last time.Duration, s State) {
		switch {
		case !heard && s == StatePending:
			consider(m.bootDone)
		case heard && s == StateUp:
			consider(last + t.Warntime)
		case heard && s == StateWarn:
			consider(last + t.Deadtime)
		}
	}
	for _, p := range m.peers {
		due(p.heard, p.lastHeard, p.state)
		for i := range p.links {
			l := &p.links[i]
			due(l.heard, l.lastHeard, l.state)
		}
	}
	if m.view.ID == 0 {
		// The first view forms at initdead at the latest, even when the
		// peers not heard are dead rather than pending.
		consider(m.bootDone)
	}
	return at, ok
}
