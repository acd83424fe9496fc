package replica

import (
	"fmt"
	"slices"
	"strings"

	"palisade/resources/model"
)

// OperatorState is what operators decided with edits rather than files:
// the nodes they put in standby or maintenance (palisade node standby,
// node maintenance). Together with the cli- location constraints (move,
// ban: their ids say so, as in Pacemaker) it survives a configuration
// proposed from a file (SIGHUP, config push, a start with an edited
// file), which knows nothing of them. It is replicated with the
// configuration and persisted with it.
type OperatorState struct {
	Standby     []string `json:"standby,omitempty"`
	Maintenance []string `json:"maintenance,omitempty"`
}

// Apply records an accepted edit.
func (o OperatorState) Apply(e Edit) OperatorState {
	set := func(list []string, node string, on bool) []string {
		list = slices.DeleteFunc(slices.Clone(list), func(n string) bool { return n == node })
		if on {
			list = append(list, node)
			slices.Sort(list)
		}
		return list
	}
	switch e.Op {
	case EditStandby, EditOnline:
		o.Standby = set(o.Standby, e.Node, e.Op == EditStandby)
	case EditMaintenance, EditReady:
		o.Maintenance = set(o.Maintenance, e.Node, e.Op == EditMaintenance)
	}
	return o
}

// KeepOperatorState carries the operator's decisions of the running
// configuration into next, a configuration proposed from a file: the cli-
// location constraints next does not define itself, and standby and
// maintenance of the nodes an operator put there. It returns the result
// (next is not modified), what it carried (kept) and what it could not
// carry (dropped: a cli- constraint of a resource that is no longer a
// top-level resource of next).
func KeepOperatorState(next, running *model.Config, op OperatorState) (out *model.Config, kept, dropped []string) {
	cp := *next
	out = &cp
	if running == nil {
		return out, nil, nil
	}
	out.Nodes = slices.Clone(next.Nodes)
	out.Constraints.Locations = slices.Clone(next.Constraints.Locations)
	for _, l := range running.Constraints.Locations {
		if !strings.HasPrefix(l.ID, cliPrefix) {
			continue
		}
		if slices.ContainsFunc(out.Constraints.Locations, func(x model.Location) bool { return x.ID == l.ID }) {
			continue // the file has its own
		}
		if err := topLevel(out, l.Rsc); err != nil {
			dropped = append(dropped, fmt.Sprintf("location %s (%s: %v)", l.ID, describeLocation(l), err))
			continue
		}
		out.Constraints.Locations = append(out.Constraints.Locations, l)
		kept = append(kept, fmt.Sprintf("location %s (%s)", l.ID, describeLocation(l)))
	}
	flag := func(node, what string, get func(model.Node) bool, set func(*model.Node)) {
		i := slices.IndexFunc(running.Nodes, func(n model.Node) bool { return n.Name == node })
		if i < 0 || !get(running.Nodes[i]) {
			return // not in force (the record is older than a file's change)
		}
		j := slices.IndexFunc(out.Nodes, func(n model.Node) bool { return n.Name == node })
		if j < 0 {
			out.Nodes = append(out.Nodes, model.Node{Name: node})
			j = len(out.Nodes) - 1
		}
		if !get(out.Nodes[j]) {
			set(&out.Nodes[j])
			kept = append(kept, what+" "+node)
		}
	}
	for _, n := range op.Standby {
		flag(n, "standby", func(x model.Node) bool { return x.Standby }, func(x *model.Node) { x.Standby = true })
	}
	for _, n := range op.Maintenance {
		flag(n, "maintenance", func(x model.Node) bool { return x.Maintenance }, func(x *model.Node) { x.Maintenance = true })
	}
	return out, kept, dropped
}

func describeLocation(l model.Location) string {
	return fmt.Sprintf("%s on %s at %s", l.Rsc, l.Node, l.Score)
}

// DropHint is the advice of a refusal that would drop operator state.
const DropHint = "clear them first (palisade resource clear RSC, palisade node online NODE) or push with --force to drop them"
