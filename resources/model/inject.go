package model

import (
	"fmt"
	"strings"
	"time"
)

// Clone returns a deep enough copy of the status for injections.
func (st *Status) Clone() *Status {
	c := &Status{NoQuorum: st.NoQuorum, DC: st.DC}
	for _, n := range st.Nodes {
		n2 := n
		if n.Attributes != nil {
			n2.Attributes = map[string]string{}
			for k, v := range n.Attributes {
				n2.Attributes[k] = v
			}
		}
		c.Nodes = append(c.Nodes, n2)
	}
	c.Resources = append(c.Resources, st.Resources...)
	c.Failures = append(c.Failures, st.Failures...)
	c.Tickets = append(c.Tickets, st.Tickets...)
	c.HardErrors = append(c.HardErrors, st.HardErrors...)
	c.Locks = append(c.Locks, st.Locks...)
	return c
}

func (st *Status) node(name string) *NodeState {
	for i := range st.Nodes {
		if st.Nodes[i].Name == name {
			return &st.Nodes[i]
		}
	}
	st.Nodes = append(st.Nodes, NodeState{Name: name, State: NodeOnline})
	return &st.Nodes[len(st.Nodes)-1]
}

// FailNode marks a node lost and not yet fenced (crm_simulate --node-fail).
func (st *Status) FailNode(name string) { st.node(name).State = NodeUnclean }

// SetStandby puts a node in standby.
func (st *Status) SetStandby(name string) { st.node(name).Standby = true }

// FailOp records a failed operation "RSC:OP:NODE" (OP is start, stop,
// monitor, promote or demote; a monitor may carry an interval suffix,
// "monitor_10000", which is ignored). A failed start counts INFINITY when
// startFatal (start-failure-is-fatal), otherwise 1.
func (st *Status) FailOp(spec string, now time.Time, startFatal bool) error {
	parts := strings.Split(spec, ":")
	if len(parts) < 3 {
		return fmt.Errorf("op failure %q: want RSC:OP:NODE", spec)
	}
	node := parts[len(parts)-1]
	op := parts[len(parts)-2]
	rsc := strings.Join(parts[:len(parts)-2], ":")
	if i := strings.IndexByte(op, '_'); i > 0 {
		op = op[:i]
	}
	switch op {
	case "start", "stop", "monitor", "promote", "demote":
	default:
		return fmt.Errorf("op failure %q: operation %q: want start, stop, monitor, promote or demote", spec, op)
	}
	count := Score(1)
	if op == "start" && startFatal {
		count = Infinity
	}
	st.Failures = append(st.Failures, Failure{Rsc: rsc, Node: node, Op: op, Count: count, LastFailure: now})
	found := false
	for i := range st.Resources {
		if st.Resources[i].Rsc == rsc && st.Resources[i].Node == node {
			st.Resources[i].Failed = true
			if op == "promote" {
				st.Resources[i].Role = RoleUnpromoted
			}
			found = true
		}
	}
	if !found && op != "stop" {
		st.Resources = append(st.Resources, ResourceStatus{Rsc: rsc, Node: node, Failed: true})
	}
	return nil
}
