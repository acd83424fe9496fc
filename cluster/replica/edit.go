package replica

import (
	"fmt"
	"slices"
	"strings"

	"palisade/cluster/api"
	"palisade/resources/model"
)

// Edit is one operator change of the replicated configuration that the
// CLI makes without a file, with Pacemaker's meanings:
//
//	standby NODE         node standby (hb_standby, crm node standby): its resources move away
//	online NODE          node out of standby
//	move RSC NODE        location cli-prefer-RSC: RSC on NODE at INFINITY (crm_resource --move)
//	ban RSC NODE         location cli-ban-RSC-on-NODE: -INFINITY (crm_resource --ban)
//	clear RSC            remove the cli-prefer / cli-ban constraints of RSC (crm_resource --clear)
//	maintenance NODE     node maintenance (crm node maintenance): its resources are left alone
//	ready NODE           node out of maintenance (crm node ready)
//
// The change is made on the configuration the cluster runs and proposed
// with that version's digest, so it never undoes a change made meanwhile.
type Edit = api.Edit

// Edit operations.
const (
	EditStandby = api.EditStandby
	EditOnline  = api.EditOnline
	EditMove    = api.EditMove
	EditBan     = api.EditBan
	EditClear   = api.EditClear
	// EditMaintenance and EditReady put a node in and out of maintenance.
	EditMaintenance = api.EditMaintenance
	EditReady       = api.EditReady
)

// cliPrefix is the constraint id prefix of CLI edits (Pacemaker's).
const cliPrefix = "cli-"

// ApplyEdit changes cfg in place. nodes are the cluster's configured nodes.
func ApplyEdit(cfg *model.Config, e Edit, nodes []string) error {
	needNode := func() error {
		if e.Node == "" {
			return fmt.Errorf("%s: a node is needed", e.Op)
		}
		if !slices.Contains(nodes, e.Node) {
			return fmt.Errorf("%s: unknown node %q (cluster nodes: %s)", e.Op, e.Node, strings.Join(nodes, ", "))
		}
		return nil
	}
	switch e.Op {
	case EditStandby, EditOnline:
		if err := needNode(); err != nil {
			return err
		}
		standby := e.Op == EditStandby
		for i := range cfg.Nodes {
			if cfg.Nodes[i].Name == e.Node {
				cfg.Nodes[i].Standby = standby
				return nil
			}
		}
		if standby {
			cfg.Nodes = append(cfg.Nodes, model.Node{Name: e.Node, Standby: true})
		}
		return nil
	case EditMaintenance, EditReady:
		if err := needNode(); err != nil {
			return err
		}
		on := e.Op == EditMaintenance
		for i := range cfg.Nodes {
			if cfg.Nodes[i].Name == e.Node {
				cfg.Nodes[i].Maintenance = on
				return nil
			}
		}
		if on {
			cfg.Nodes = append(cfg.Nodes, model.Node{Name: e.Node, Maintenance: true})
		}
		return nil
	case EditMove, EditBan, EditClear:
		if err := topLevel(cfg, e.Resource); err != nil {
			return fmt.Errorf("%s: %w", e.Op, err)
		}
	default:
		return fmt.Errorf("unknown edit %q: want standby, online, maintenance, ready, move, ban or clear", e.Op)
	}
	locs := cfg.Constraints.Locations
	switch e.Op {
	case EditMove:
		if err := needNode(); err != nil {
			return err
		}
		id := cliPrefix + "prefer-" + e.Resource
		locs = slices.DeleteFunc(locs, func(l model.Location) bool { return l.ID == id })
		locs = append(locs, model.Location{ID: id, Rsc: e.Resource, Node: e.Node, Score: model.Infinity})
	case EditBan:
		if err := needNode(); err != nil {
			return err
		}
		id := cliPrefix + "ban-" + e.Resource + "-on-" + e.Node
		locs = slices.DeleteFunc(locs, func(l model.Location) bool { return l.ID == id })
		locs = append(locs, model.Location{ID: id, Rsc: e.Resource, Node: e.Node, Score: -model.Infinity})
	case EditClear:
		locs = slices.DeleteFunc(locs, func(l model.Location) bool {
			return l.Rsc == e.Resource && (l.ID == cliPrefix+"prefer-"+e.Resource || strings.HasPrefix(l.ID, cliPrefix+"ban-"+e.Resource+"-on-"))
		})
	}
	cfg.Constraints.Locations = locs
	return nil
}

// topLevel checks that id is a configured resource that is not inside a
// group or clone: a member is moved with its group (a constraint on the
// member alone would pull the whole group, or split nothing and surprise).
func topLevel(cfg *model.Config, id string) error {
	if id == "" {
		return fmt.Errorf("a resource is needed")
	}
	var ids []string
	for _, r := range cfg.Resources {
		if r.ID == id {
			return nil
		}
		ids = append(ids, r.ID)
		for _, p := range Primitives(&model.Config{Resources: r.Members}) {
			if p.ID == id {
				return fmt.Errorf("%s is a member of %s: move, ban or clear %s instead", id, r.ID, r.ID)
			}
		}
	}
	return fmt.Errorf("unknown resource %q (resources: %s)", id, strings.Join(ids, ", "))
}
