package scheduler

import (
	"strings"

	"palisade/resources/model"
)

type ticketDep struct {
	id      string
	ticket  string
	rsc     *rsc
	role    string // "" (any) or Promoted/Unpromoted
	loss    string // stop, demote, fence, freeze
	granted bool
	standby bool
}

// tickets resolves the ticket constraints against the tickets' states,
// with Pacemaker's defaults: loss-policy demote for a Promoted role, else
// stop; fence only with fencing enabled.
func (s *sched) tickets() []ticketDep {
	state := map[string]model.TicketState{}
	for _, t := range s.st.Tickets {
		state[t.ID] = t
	}
	var out []ticketDep
	for _, tc := range s.cfg.Constraints.Tickets {
		r := s.byID[tc.Rsc]
		if r == nil {
			continue
		}
		role := model.NormalizeRole(tc.RscRole)
		if role == model.RoleStarted {
			role = ""
		}
		loss := strings.ToLower(tc.LossPolicy)
		switch loss {
		case "fence":
			if !s.stonith {
				s.warnf("ticket constraint %s: loss-policy=fence without fencing: using stop", tc.ID)
				loss = "stop"
			}
		case "freeze", "demote", "stop":
		default:
			if loss != "" {
				s.warnf("ticket constraint %s: loss-policy=%s is not known", tc.ID, tc.LossPolicy)
			}
			loss = "stop"
			if role == model.RolePromoted {
				loss = "demote"
			}
		}
		st := state[tc.Ticket]
		out = append(out, ticketDep{id: tc.ID, ticket: tc.Ticket, rsc: r, role: role, loss: loss, granted: st.Granted, standby: st.Standby})
	}
	return out
}

// applyTickets bans, fences or freezes what depends on a ticket this site
// does not hold (Pacemaker's rsc_ticket): runs after the status is known
// and before fencing and pinning are decided.
func (s *sched) applyTickets() {
	s.ticketDeps = s.tickets()
	for _, t := range s.ticketDeps {
		if t.granted && !t.standby {
			continue
		}
		for _, p := range leaves(t.rsc, nil) {
			s.ticketPrimitive(p, t)
		}
	}
}

func (s *sched) ticketPrimitive(p *rsc, t ticketDep) {
	ban := func() { resourceLocation(p, -1, -model.Infinity) }
	roleMatches := func() bool {
		if t.role == "" {
			return true
		}
		for _, a := range p.running {
			r := a.role
			if r == "" || r == model.RoleStarted {
				if s.promotableParent(p) != nil {
					r = model.RoleUnpromoted
				} else {
					r = model.RoleStarted
				}
			}
			if r == t.role {
				return true
			}
		}
		return false
	}
	switch {
	case !t.granted && len(p.running) > 0:
		switch t.loss {
		case "stop":
			ban()
		case "demote":
			if t.role != model.RolePromoted {
				ban()
			}
		case "fence":
			if !roleMatches() {
				return
			}
			ban()
			for _, a := range p.running {
				n := s.nodes[a.node]
				if !n.unclean {
					n.unclean = true
					n.fenceReason = "deadman ticket was lost"
					s.warnf("node %s: ticket %s was lost (loss-policy=fence of %s): node must be fenced", n.name, t.ticket, t.id)
				}
			}
		case "freeze":
			if roleMatches() {
				p.managed = false
				s.warnf("resource %s: ticket %s is not granted (loss-policy=freeze): left as it is", p.id, t.ticket)
			}
		}
	case t.role != model.RolePromoted || t.loss == "stop":
		ban()
	}
}

// ticketForbidsPromotion: a ticket the Promoted role of c depends on is
// not granted or in standby, so no instance may be promoted.
func (s *sched) ticketForbidsPromotion(c *rsc) bool {
	for _, t := range s.ticketDeps {
		if t.role != model.RolePromoted || t.granted && !t.standby {
			continue
		}
		for r := t.rsc; r != nil; r = r.parent {
			if r == c {
				return true
			}
		}
	}
	return false
}
