package main

import (
	"slices"
	"sort"
	"strings"

	"palisade/cluster/api"
	"palisade/cluster/config"
	"palisade/cluster/engine"
	"palisade/cluster/recovery"
	"palisade/quorum"
	"palisade/resources/model"
)

// quorumInfo is what the status needs of the quorum section: each node's
// votes, the options in force and the device.
type quorumInfo struct {
	Votes       map[string]int `json:"votes"`
	Policies    []string       `json:"policies,omitempty"`
	Device      string         `json:"device,omitempty"` // disk, arbiter; "" none
	DeviceVotes int            `json:"device_votes,omitempty"`
}

func newQuorumInfo(c *config.Cluster, names []string) (quorumInfo, error) {
	qs := c.Quorum
	qi := quorumInfo{Votes: qs.Config.Nodes, Device: string(qs.Config.Device.Model)}
	if qs.Config.Device.Model != "" {
		if calc, err := quorum.New(qs.Config); err == nil {
			qi.DeviceVotes = calc.DeviceVotes()
		}
	}
	cfg := qs.Config
	if cfg.TwoNode {
		qi.Policies = append(qi.Policies, "two_node")
	}
	if cfg.WaitForAll || cfg.TwoNode && !cfg.WaitForAllSet {
		qi.Policies = append(qi.Policies, "wait_for_all")
	}
	if cfg.LastManStanding {
		qi.Policies = append(qi.Policies, "last_man_standing")
	}
	if cfg.AutoTieBreaker {
		qi.Policies = append(qi.Policies, "auto_tie_breaker:"+cfg.TieBreaker)
	}
	qi.Policies = append(qi.Policies, "no_quorum_policy:"+string(qs.Policy))
	return qi, nil
}

// statusView completes a status answer with the DC layer, in one
// snapshot: the plain DC part plus the crm_mon view, and the health.
func (op *operator) statusView(st *api.Status, s engine.Snapshot) {
	d := dcStatus(s)
	crmView(viewInput{Nodes: st.Nodes, Config: s.Config, Quorum: s.Quorum.State(), Left: s.Left, QInfo: op.quorum,
		FenceAction: op.fenceAction(s.Config)}, d)
	if fill := op.quorumDetail.Load(); fill != nil && d.Quorum != nil {
		(*fill)(s, d.Quorum)
	}
	st.DC = d
	h := st.Assess()
	st.Health = &h
}

// viewInput is what crmView joins besides the plain DC status.
type viewInput struct {
	// Nodes is membership's view of every configured node (api.Status.Nodes).
	Nodes       []api.NodeStatus `json:"nodes"`
	Config      *model.Config    `json:"config,omitempty"`
	Quorum      quorum.State     `json:"quorum"`
	Left        []string         `json:"left,omitempty"`
	QInfo       quorumInfo       `json:"qinfo"`
	FenceAction string           `json:"fence_action"`
}

// crmView fills d's crm_mon fields: quorum sources, node states, the
// resource tree and the unsettled fence operations.
func crmView(in viewInput, d *api.DCStatus) {
	d.Left, d.FenceAction = in.Left, in.FenceAction
	gate := map[string]api.FenceNode{}
	for _, f := range d.Fencing {
		gate[f.Node] = f
	}
	d.NodeStates = nodeStates(in, d, gate)
	d.Quorum = quorumView(in, d)
	unclean := map[string]bool{}
	for _, n := range d.NodeStates {
		if n.State == api.NodeUnclean {
			unclean[n.Name] = true
		}
	}
	d.Resources = resourceTree(in.Config, d.Status, d.Inflight, unclean)
	for _, f := range d.Fencing {
		if f.State != string(recovery.StateUnclean) && f.State != string(recovery.StateFencing) {
			continue
		}
		op := api.FenceOp{Target: f.Node, State: api.FencePending, Attempts: f.Attempts, Failures: f.Failures, Reason: f.Reason}
		if f.Failures > 0 {
			op.State = api.FenceFailed
		}
		d.FenceOps = append(d.FenceOps, op)
	}
}

func nodeStates(in viewInput, d *api.DCStatus, gate map[string]api.FenceNode) []api.ClusterNode {
	leaving := map[string]bool{}
	for _, n := range d.Status.Nodes {
		if n.Standby {
			leaving[n.Name] = true
		}
	}
	var out []api.ClusterNode
	for _, m := range in.Nodes {
		g := gate[m.Name]
		member := slices.Contains(d.Members, m.Name)
		cn := api.ClusterNode{Name: m.Name, ID: m.ID, Member: member, Self: m.Self || m.Name == d.Self, DC: m.Name == d.DC,
			Standby: slices.Contains(d.Standby, m.Name), FenceState: g.State}
		switch {
		case g.State == string(recovery.StateUnclean) || g.State == string(recovery.StateFencing):
			cn.State = api.NodeUnclean
			where := "offline"
			if member {
				where = "online"
			}
			cn.Detail = "UNCLEAN (" + where + "): " + orDash(g.Reason)
			if g.State == string(recovery.StateFencing) {
				cn.Detail += "; being fenced"
			}
		case g.State == string(recovery.StateFenced) && !member:
			cn.State, cn.Detail = api.NodeFenced, "OFFLINE: fenced by "+orDash(g.By)
		case member && cn.Standby:
			cn.State = api.NodeStandby
		case member && leaving[m.Name]:
			cn.State, cn.Detail = api.NodeShuttingDown, "leaving cleanly: its resources move away"
		case member:
			cn.State = api.NodeOnline
		case m.State == "pending" || g.State == string(recovery.StateUnknown) && m.State != "dead":
			cn.State, cn.Detail = api.NodePending, "not heard yet (initdead)"
		case slices.Contains(in.Left, m.Name):
			cn.State, cn.Detail = api.NodeOffline, "OFFLINE: left cleanly"
		case g.State == string(recovery.StateDown):
			cn.State, cn.Detail = api.NodeOffline, "OFFLINE: runs nothing"
		case g.State == string(recovery.StateMember) && (m.State == "dead" || m.State == "warn" || m.State == "up"):
			// Out of the DC layer's view, not yet judged (the view is
			// changing, or this partition has no DC).
			cn.State, cn.Detail = api.NodeLost, "not in this partition's view; not yet judged"
		default:
			cn.State, cn.Detail = api.NodeOffline, "OFFLINE"
		}
		out = append(out, cn)
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func quorumView(in viewInput, d *api.DCStatus) *api.QuorumStatus {
	q := in.Quorum
	out := &api.QuorumStatus{Quorate: d.Quorate, Votes: q.Votes, Expected: q.Expected, Needed: q.Needed, Reason: q.Reason,
		Pending: q.Pending, Policies: in.QInfo.Policies}
	if d.Quorate != q.Quorate && q.Quorate {
		out.Reason += "; but the view is not agreed (or this node paused): no decisions"
	}
	for _, n := range d.NodeStates {
		max := in.QInfo.Votes[n.Name]
		src := api.QuorumSource{Name: n.Name, Kind: api.SourceNode, MaxVotes: max, Healthy: n.Member}
		switch {
		case n.Member:
			src.State, src.Votes = "member", max
		case n.State == api.NodePending:
			src.State = "pending"
		default:
			src.State = "not a member (" + n.State + ")"
		}
		out.Sources = append(out.Sources, src)
	}
	if in.QInfo.Device != "" {
		src := api.QuorumSource{Name: in.QInfo.Device, Kind: api.SourceDevice, Votes: q.DeviceVotes, MaxVotes: in.QInfo.DeviceVotes,
			Healthy: q.DeviceProblem == "", Detail: q.DeviceProblem}
		switch {
		case q.DeviceVotes > 0:
			src.State = "voting for this partition"
		case q.Pending:
			src.State = "pending"
		default:
			src.State = "not voting for this partition"
		}
		out.Sources = append(out.Sources, src)
	}
	return out
}

// resourceTree is cfg's resources with where each primitive runs (from
// status), its pending actions and fail counts.
func resourceTree(cfg *model.Config, st model.Status, inflight []api.Action, unclean map[string]bool) []api.Resource {
	if cfg == nil {
		return nil
	}
	b := treeBuilder{cfg: cfg, st: st, inflight: inflight, unclean: unclean}
	var out []api.Resource
	for _, r := range cfg.Resources {
		out = append(out, b.build(r, ""))
	}
	return out
}

type treeBuilder struct {
	cfg      *model.Config
	st       model.Status
	inflight []api.Action
	unclean  map[string]bool
}

// instanceOf matches a status entry to primitive id: the id itself, or a
// globally-unique clone's instance "id:N".
func instanceOf(rsc, id string) (string, bool) {
	if rsc == id {
		return "", true
	}
	if n, ok := strings.CutPrefix(rsc, id+":"); ok {
		return n, true
	}
	return "", false
}

func (b treeBuilder) targetRole(r *model.Resource, inherited string) string {
	if b.cfg.Options.StopAllResources {
		return api.RoleStopped
	}
	if v := r.Meta["target-role"]; v != "" {
		return v
	}
	if inherited != "" {
		return inherited
	}
	return b.cfg.RscDefaults["target-role"]
}

func (b treeBuilder) build(r *model.Resource, inheritedRole string) api.Resource {
	out := api.Resource{ID: r.ID, Kind: r.KindOf(), TargetRole: b.targetRole(r, inheritedRole)}
	switch r.KindOf() {
	case model.KindGroup, model.KindClone:
		out.Promotable = r.Meta["promotable"] == "true"
		for _, m := range r.Members {
			out.Members = append(out.Members, b.build(m, out.TargetRole))
		}
		out.State = summary(out.Members)
		return out
	}
	out.Agent = r.Class
	if r.Provider != "" {
		out.Agent += ":" + r.Provider
	}
	if r.Type != "" {
		out.Agent += ":" + r.Type
	}
	for _, s := range b.st.Resources {
		inst, ok := instanceOf(s.Rsc, r.ID)
		if !ok {
			continue
		}
		role := s.Role
		if role == "" {
			role = model.RoleStarted
		}
		out.Instances = append(out.Instances, api.Instance{Node: s.Node, Role: role, Failed: s.Failed, Unclean: b.unclean[s.Node], Instance: inst})
	}
	for _, a := range b.inflight {
		inst, ok := instanceOf(a.Resource, r.ID)
		if !ok {
			continue
		}
		i := slices.IndexFunc(out.Instances, func(in api.Instance) bool { return in.Node == a.Node && in.Instance == inst })
		if i >= 0 {
			out.Instances[i].Pending = a.Op
			continue
		}
		if a.Op == "start" || a.Op == "promote" {
			out.Instances = append(out.Instances, api.Instance{Node: a.Node, Role: "Starting", Pending: a.Op, Instance: inst})
		}
	}
	sort.SliceStable(out.Instances, func(i, j int) bool { return out.Instances[i].Node < out.Instances[j].Node })
	for _, f := range b.st.Failures {
		if _, ok := instanceOf(f.Rsc, r.ID); ok && f.Count > 0 {
			out.FailCounts = append(out.FailCounts, api.FailCount{Node: f.Node, Op: f.Op, Count: int64(f.Count), LastFailure: f.LastFailure})
		}
	}
	switch {
	case slices.ContainsFunc(out.Instances, func(in api.Instance) bool { return in.Failed }):
		out.State = api.RoleFailed
	case len(out.Instances) == 0:
		out.State = api.RoleStopped
	default:
		out.State = out.Instances[0].Role
	}
	return out
}

// summary is a group's or clone's state from its members'.
func summary(ms []api.Resource) string {
	if len(ms) == 0 {
		return api.RoleStopped
	}
	stopped, failed := 0, 0
	for _, m := range ms {
		switch m.State {
		case api.RoleStopped:
			stopped++
		case api.RoleFailed:
			failed++
		}
	}
	switch {
	case failed > 0:
		return api.RoleFailed
	case stopped == len(ms):
		return api.RoleStopped
	case stopped > 0:
		return "Partially started"
	}
	return model.RoleStarted
}
