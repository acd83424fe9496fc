package dc

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"palisade/cluster/api"
	"palisade/cluster/dcmsg"
	"palisade/cluster/recovery"
	"palisade/cluster/replica"
)

// Request decides an operator command typed on this node when this node
// is the DC, or answers "retry" when there is no DC to ask yet; forward
// reports that it must go to the DC instead (the Engine sends it as
// KindRequest and waits for the KindAnswer).
func (c *Coordinator) Request(req dcmsg.OpRequest, now time.Duration) (a dcmsg.OpAnswer, forward bool) {
	switch {
	case c.isDC():
		return c.decide(req, c.cfg.Self, now), false
	case c.view.DC == "" || c.view.DC == c.cfg.Self || !c.acting():
		return dcmsg.OpAnswer{ID: req.ID, Retry: true, Code: string(api.Retry), Error: c.notDCError().Error()}, false
	}
	return dcmsg.OpAnswer{}, true
}

// onRequest is the DC side of KindRequest.
func (c *Coordinator) onRequest(m dcmsg.Message, now time.Duration) {
	var a dcmsg.OpAnswer
	if !c.isDC() || m.View != c.view.ID {
		a = dcmsg.OpAnswer{ID: m.Request.ID, DC: c.view.DC, Retry: true, Code: string(api.Retry), Error: fmt.Sprintf("%s is not the DC of view %d", c.cfg.Self, m.View)}
	} else {
		a = c.decide(*m.Request, m.From, now)
	}
	c.send(m.From, dcmsg.Message{Kind: dcmsg.KindAnswer, Answer: &a})
}

// decide carries out an operator command on the DC; from is the node it
// was typed on.
func (c *Coordinator) decide(req dcmsg.OpRequest, from string, now time.Duration) dcmsg.OpAnswer {
	a := dcmsg.OpAnswer{ID: req.ID, DC: c.cfg.Self}
	if err := c.notDCError(); err != nil {
		a.Error, a.Retry, a.Code = err.Error(), true, string(api.Retry)
		return a
	}
	switch req.Op {
	case dcmsg.OpConfirm:
		if err := c.Confirm(req.Node, req.By, now); err != nil {
			a.Error, a.Code = err.Error(), string(api.Invalid)
			switch {
			case errors.Is(err, recovery.ErrUnknownNode):
				a.Code = string(api.UnknownNode)
			case errors.Is(err, recovery.ErrNotActive), errors.Is(err, dcmsg.ErrRetry):
				a.Code, a.Retry = string(api.Retry), true
			}
			return a
		}
		a.Result = "confirmed by the DC " + c.cfg.Self
	case dcmsg.OpCleanup:
		if len(replica.PrimitivesOf(c.cib.Config, req.Resource)) == 0 {
			a.Error, a.Code = fmt.Sprintf("cleanup %s: no such resource in the running configuration", req.Resource), string(api.UnknownResource)
			return a
		}
		targets := c.members
		if req.Node != "" {
			if !slices.Contains(c.cfg.Nodes, req.Node) {
				a.Error, a.Code = fmt.Sprintf("cleanup %s on %s: not a configured node (nodes: %v)", req.Resource, req.Node, c.cfg.Nodes), string(api.UnknownNode)
				return a
			}
			if !slices.Contains(c.members, req.Node) {
				a.Error, a.Code = fmt.Sprintf("cleanup %s on %s: %s is not a member of this partition (members: %v)", req.Resource, req.Node, req.Node, c.members), string(api.Invalid)
				return a
			}
			targets = []string{req.Node}
		}
		for _, t := range targets {
			c.send(t, dcmsg.Message{Kind: dcmsg.KindCleanup, Target: t, Resource: req.Resource, Reason: req.By + " (via " + from + ")"})
		}
		a.Nodes = slices.Clone(targets)
		a.Result = "fail counts cleared; the nodes probe it again"
	default:
		a.Error, a.Code = fmt.Sprintf("unknown operator command %q", req.Op), string(api.BadRequest)
	}
	return a
}
