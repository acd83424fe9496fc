// Package cib reads and writes Pacemaker CIB XML (Heartbeat v2 cib.xml and
// Pacemaker 1.x/2.x), converting to and from the scheduler's model.
//
//	doc, report, err := cib.Read(r)   // configuration + status
//	// report.Unsupported names every CIB feature that was not converted
//	err = cib.Write(w, doc, now)       // for crm_simulate comparisons
//
// Read never drops a feature silently: anything it does not understand is
// named in Report.Unsupported (for example "rsc_ticket t1",
// "date_expression in location l3", "bundle b1").
package cib

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"palisade/resources/model"
)

type elem struct {
	name  string
	attrs []attr
	kids  []*elem
	line  int
}

type attr struct{ k, v string }

func (e *elem) attr(k string) string {
	for _, a := range e.attrs {
		if a.k == k {
			return a.v
		}
	}
	return ""
}

func (e *elem) children(name string) []*elem {
	var out []*elem
	for _, k := range e.kids {
		if k.name == name {
			out = append(out, k)
		}
	}
	return out
}

func (e *elem) child(name string) *elem {
	for _, k := range e.kids {
		if k.name == name {
			return k
		}
	}
	return nil
}

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 64

// Report lists what Read could not convert.
type Report struct {
	Unsupported []string
	Notes       []string
}

func (rep *Report) unsupported(format string, args ...any) {
	rep.Unsupported = append(rep.Unsupported, fmt.Sprintf(format, args...))
}

type reader struct {
	rep      Report
	doc      model.Document
	nodeByID map[string]string
	prims    map[string]*model.Resource
	stonith  map[string]bool
}

// Read converts a CIB document. An error means the XML is not a CIB at
// all; anything convertible but unsupported is listed in the report.
func Read(r io.Reader) (*model.Document, *Report, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, fmt.Errorf("reading CIB: %w", err)
	}
	return ReadBytes(data)
}

// ReadBytes is Read on a buffer, which it keeps: the returned document
// refers to it, so the caller must not modify it afterwards.
func ReadBytes(data []byte) (*model.Document, *Report, error) {
	root, err := scan(data)
	if err != nil {
		return nil, nil, err
	}
	if root.name != "cib" {
		return nil, nil, fmt.Errorf("CIB XML line %d: root element <%s>, want <cib>", root.line, root.name)
	}
	rd := &reader{nodeByID: map[string]string{}, prims: map[string]*model.Resource{}, stonith: map[string]bool{}}
	conf := root.child("configuration")
	if conf == nil {
		return nil, nil, fmt.Errorf("CIB XML: no <configuration> section")
	}
	rd.config(conf)
	// Pacemaker's regression cases carry the time they are evaluated at.
	if ed := root.attr("execution-date"); ed != "" {
		if sec, err := strconv.ParseInt(ed, 10, 64); err == nil {
			rd.doc.Now = time.Unix(sec, 0).UTC()
		}
	}
	if st := root.child("status"); st != nil {
		rd.status(st)
	}
	if dc := root.attr("dc-uuid"); dc != "" {
		rd.doc.Status.DC = rd.nodeByID[dc]
	}
	// Like Pacemaker, a CIB that does not say it has quorum has none.
	rd.doc.Status.NoQuorum = true
	if q := first(root, "have-quorum", "have_quorum"); q != "" {
		if b, ok := model.ParseBool(q); ok {
			rd.doc.Status.NoQuorum = !b
		}
	} else {
		rd.rep.Notes = append(rd.rep.Notes, "no have-quorum attribute on <cib>: no quorum, as in Pacemaker")
	}
	if err := rd.doc.Config.Validate(); err != nil {
		return nil, nil, fmt.Errorf("CIB configuration: %w", err)
	}
	sort.Strings(rd.rep.Unsupported)
	return &rd.doc, &rd.rep, nil
}

// nvpairs collects name/value pairs from a *_attributes set, including the
// Heartbeat v2 <attributes> wrapper. Rules on sets are reported.
func (rd *reader) nvpairs(set *elem, where string) map[string]string {
	out := map[string]string{}
	var walk func(e *elem)
	walk = func(e *elem) {
		for _, k := range e.kids {
			switch k.name {
			case "nvpair":
				out[normName(k.attr("name"))] = k.attr("value")
			case "attributes":
				walk(k)
			case "rule":
				rd.rep.unsupported("rule inside %s %s (conditional attributes)", where, set.attr("id"))
			}
		}
	}
	walk(set)
	return out
}

// normName maps Heartbeat v2 underscore spellings to today's names.
func normName(n string) string {
	switch n {
	case "resource_stickiness", "default_resource_stickiness", "default-resource-stickiness":
		return "resource-stickiness"
	case "resource_failure_stickiness", "default-resource-failure-stickiness", "default_resource_failure_stickiness":
		return "resource-failure-stickiness"
	case "migration_threshold":
		return "migration-threshold"
	case "failure_timeout":
		return "failure-timeout"
	case "target_role":
		return "target-role"
	case "multiple_active":
		return "multiple-active"
	case "is_managed":
		return "is-managed"
	case "globally_unique":
		return "globally-unique"
	case "clone_max", "clone_node_max", "master_max", "master_node_max":
		return strings.ReplaceAll(n, "_", "-")
	case "symmetric_cluster", "stonith_enabled", "no_quorum_policy", "stonith_action":
		return strings.ReplaceAll(n, "_", "-")
	}
	return n
}

func (rd *reader) mergeSets(e *elem, setName, where string) map[string]string {
	out := map[string]string{}
	for _, set := range e.children(setName) {
		for k, v := range rd.nvpairs(set, where) {
			out[k] = v
		}
	}
	return out
}

var harmlessProps = map[string]bool{
	"dc-version": true, "cluster-infrastructure": true, "cluster-name": true, "have-watchdog": true,
	"last-lrm-refresh": true, "cluster-recheck-interval": true, "dc-deadtime": true, "election-timeout": true,
	"shutdown-escalation": true, "stonith-timeout": true, "batch-limit": true, "pe-error-series-max": true,
	"pe-warn-series-max": true, "pe-input-series-max": true, "startup-fencing": true, "stonith-watchdog-timeout": true,
	"concurrent-fencing": true, "priority-fencing-delay": true, "transition-delay": true,
	"join-integration-timeout": true, "join-finalization-timeout": true, "crmd-transition-delay": true,
	"enable-startup-probes": true, "stop-orphan-actions": true, "remove-after-stop": true,
	"default-action-timeout": true, "cluster-delay": true, "fence-reaction": true, "migration-limit": true,
	"load-threshold": true, "node-action-limit": true, "stonith-max-attempts": true, "cluster-ipc-limit": true,
	"enable-acl": true, "is-managed-default": true,
	"no-quorum-policy": true, "symmetric-cluster": true, "stonith-enabled": true, "placement-strategy": true,
	"maintenance-mode": true, "stop-all-resources": true, "start-failure-is-fatal": true, "stonith-action": true,
	"resource-stickiness": true, "resource-failure-stickiness": true, "expected-quorum-votes": true,
	"default-action-timeout-ms": true, "stop-orphan-resources-default": true, 
	"symmetric_cluster": true,
}

func (rd *reader) config(conf *elem) {
	c := &rd.doc.Config
	for _, sec := range conf.kids {
		switch sec.name {
		case "crm_config":
			props := rd.mergeSets(sec, "cluster_property_set", "crm_config")
			rd.options(props)
		case "nodes":
			for _, n := range sec.children("node") {
				rd.node(n)
			}
		case "resources":
			for _, r := range sec.kids {
				if res := rd.resource(r, nil); res != nil {
					c.Resources = append(c.Resources, res)
				}
			}
		case "constraints":
			for _, k := range sec.kids {
				rd.constraint(k)
			}
		case "rsc_defaults":
			m := rd.mergeSets(sec, "meta_attributes", "rsc_defaults")
			if len(m) > 0 {
				if c.RscDefaults == nil {
					c.RscDefaults = map[string]string{}
				}
				for k, v := range m {
					c.RscDefaults[k] = v
				}
			}
		case "op_defaults":
			rd.rep.Notes = append(rd.rep.Notes, "op_defaults: operation timeouts do not affect placement; ignored")
		case "fencing-topology":
			rd.rep.unsupported("fencing-topology (configure fencing in Palisade's fence topology)")
		default:
			rd.rep.unsupported("configuration section <%s>", sec.name)
		}
	}
}

func (rd *reader) options(props map[string]string) {
	o := &rd.doc.Config.Options
	b := func(v string) *bool {
		x, ok := model.ParseBool(v)
		if !ok {
			return nil
		}
		return &x
	}
	for _, k := range model.SortedKeys(props) {
		v := props[k]
		switch k {
		case "stonith-enabled":
			o.StonithEnabled = b(v)
		case "symmetric-cluster":
			o.SymmetricCluster = b(v)
		case "no-quorum-policy":
			o.NoQuorumPolicy = v
			if v == "suicide" {
				rd.rep.unsupported("no-quorum-policy=suicide")
			}
		case "placement-strategy":
			o.PlacementStrategy = v
		case "maintenance-mode":
			x, _ := model.ParseBool(v)
			o.MaintenanceMode = x
		case "stop-all-resources":
			x, _ := model.ParseBool(v)
			o.StopAllResources = x
		case "start-failure-is-fatal":
			o.StartFailureIsFatal = b(v)
		case "stonith-action":
			o.StonithAction = v
		case "node-health-strategy":
			o.NodeHealthStrategy = v
		case "node-health-base":
			o.NodeHealthBase = v
		case "node-health-red":
			o.NodeHealthRed = v
		case "node-health-yellow":
			o.NodeHealthYellow = v
		case "node-health-green":
			o.NodeHealthGreen = v
		case "stop-orphan-resources":
			o.StopOrphanResources = b(v)
		case "shutdown-lock":
			o.ShutdownLock, _ = model.ParseBool(v)
		case "shutdown-lock-limit":
			if d, err := model.ParseDuration(v); err == nil {
				o.ShutdownLockLimit = model.Duration(d)
			} else {
				rd.rep.unsupported("shutdown-lock-limit %q", v)
			}
		case "resource-stickiness":
			if rd.doc.Config.RscDefaults == nil {
				rd.doc.Config.RscDefaults = map[string]string{}
			}
			if _, set := rd.doc.Config.RscDefaults[k]; !set {
				rd.doc.Config.RscDefaults[k] = v
			}
		case "resource-failure-stickiness":
			rd.rep.unsupported("default-resource-failure-stickiness (Heartbeat 2; use migration-threshold)")
		default:
			if !harmlessProps[k] {
				rd.rep.unsupported("cluster option %s", k)
			}
		}
	}
}

func (rd *reader) node(n *elem) {
	name := n.attr("uname")
	if name == "" {
		name = n.attr("id")
	}
	rd.nodeByID[n.attr("id")] = name
	if t := n.attr("type"); t == "remote" || t == "ping" {
		rd.rep.unsupported("%s node %s", t, name)
		return
	}
	nd := model.Node{Name: name}
	if id := n.attr("id"); id != name {
		nd.ID = id
	}
	attrs := rd.mergeSets(n, "instance_attributes", "node")
	for k, v := range attrs {
		switch k {
		case "standby":
			nd.Standby, _ = model.ParseBool(v)
		case "maintenance":
			nd.Maintenance, _ = model.ParseBool(v)
		default:
			if nd.Attributes == nil {
				nd.Attributes = map[string]string{}
			}
			nd.Attributes[k] = v
		}
	}
	nd.Utilization = rd.utilization(n)
	rd.doc.Config.Nodes = append(rd.doc.Config.Nodes, nd)
}

func (rd *reader) utilization(e *elem) map[string]int {
	u := rd.mergeSets(e, "utilization", "utilization")
	if len(u) == 0 {
		return nil
	}
	out := map[string]int{}
	for k, v := range u {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			rd.rep.unsupported("non-integer utilization %s=%q on %s", k, v, e.attr("id"))
			continue
		}
		out[k] = n
	}
	return out
}

func (rd *reader) resource(e *elem, parent *model.Resource) *model.Resource {
	id := e.attr("id")
	switch e.name {
	case "primitive":
		if id == FenceDeviceID {
			return nil // Write's stand-in fence device, not the user's
		}
		if e.attr("class") == "stonith" {
			// Pacemaker places fence devices like any resource, and they
			// count in its fewest-resources tie-break between equal nodes:
			// they are scheduled, so the rest lands where Pacemaker puts it.
			rd.stonith[id] = true
		}
		if e.attr("template") != "" {
			rd.rep.unsupported("resource template reference in primitive %s", id)
		}
		r := &model.Resource{ID: id, Class: e.attr("class"), Provider: e.attr("provider"), Type: e.attr("type")}
		if p := rd.mergeSets(e, "instance_attributes", "primitive"); len(p) > 0 {
			r.Params = p
		}
		if m := rd.mergeSets(e, "meta_attributes", "primitive"); len(m) > 0 {
			r.Meta = m
		}
		r.Utilization = rd.utilization(e)
		if ops := e.child("operations"); ops != nil {
			for _, op := range ops.children("op") {
				o := model.Op{Name: op.attr("name"), OnFail: op.attr("on-fail"), Role: model.NormalizeRole(op.attr("role"))}
				if d, err := model.ParseDuration(op.attr("interval")); err == nil {
					o.Interval = model.Duration(d)
				} else {
					rd.rep.unsupported("op %s interval %q", op.attr("id"), op.attr("interval"))
				}
				if d, err := model.ParseDuration(op.attr("timeout")); err == nil {
					o.Timeout = model.Duration(d)
				}
				r.Ops = append(r.Ops, o)
			}
		}
		rd.prims[id] = r
		return r
	case "group":
		g := &model.Resource{ID: id, Kind: model.KindGroup}
		if m := rd.mergeSets(e, "meta_attributes", "group"); len(m) > 0 {
			g.Meta = m
		}
		for _, k := range e.kids {
			if k.name == "primitive" {
				if m := rd.resource(k, g); m != nil {
					g.Members = append(g.Members, m)
				}
			} else if k.name != "meta_attributes" && k.name != "instance_attributes" && k.name != "utilization" {
				rd.rep.unsupported("<%s> inside group %s", k.name, id)
			}
		}
		return g
	case "clone", "master":
		c := &model.Resource{ID: id, Kind: model.KindClone}
		m := rd.mergeSets(e, "meta_attributes", "clone")
		if e.name == "master" {
			m["promotable"] = "true"
		}
		if len(m) > 0 {
			c.Meta = m
		}
		for _, k := range e.kids {
			if k.name == "primitive" || k.name == "group" {
				if mm := rd.resource(k, c); mm != nil {
					c.Members = append(c.Members, mm)
				}
			} else if k.name != "meta_attributes" && k.name != "instance_attributes" {
				rd.rep.unsupported("<%s> inside clone %s", k.name, id)
			}
		}
		if len(c.Members) != 1 {
			rd.rep.unsupported("clone %s without a usable member", id)
			return nil
		}
		return c
	case "bundle", "template":
		rd.rep.unsupported("%s %s", e.name, id)
	default:
		rd.rep.unsupported("resource element <%s> %s", e.name, id)
	}
	return nil
}

func scoreAttr(e *elem, names ...string) (model.Score, bool) {
	for _, n := range names {
		if v := e.attr(n); v != "" {
			s, err := model.ParseScore(v)
			if err != nil {
				return 0, false
			}
			return s, true
		}
	}
	return 0, false
}

func (rd *reader) constraint(k *elem) {
	c := &rd.doc.Config.Constraints
	id := k.attr("id")
	if k.child("resource_set") != nil {
		rd.rep.unsupported("resource_set in %s %s", k.name, id)
		return
	}
	switch k.name {
	case "rsc_location":
		if k.attr("rsc-pattern") != "" {
			rd.rep.unsupported("rsc-pattern in location %s", id)
			return
		}
		l := model.Location{ID: id, Rsc: k.attr("rsc"), Node: k.attr("node"), Role: model.NormalizeRole(k.attr("role"))}
		if l.Node != "" {
			s, ok := scoreAttr(k, "score")
			if !ok {
				rd.rep.unsupported("location %s without a valid score", id)
				return
			}
			l.Score = s
		}
		for _, r := range k.children("rule") {
			if rule, ok := rd.rule(r, id); ok {
				l.Rules = append(l.Rules, rule)
			}
		}
		if l.Node == "" && len(l.Rules) == 0 {
			return
		}
		c.Locations = append(c.Locations, l)
	case "rsc_colocation":
		cc := model.Colocation{ID: id, Rsc: first(k, "rsc", "from"), With: first(k, "with-rsc", "to"),
			RscRole: model.NormalizeRole(first(k, "rsc-role", "from_role")), WithRole: model.NormalizeRole(first(k, "with-rsc-role", "to_role")),
			NodeAttribute: k.attr("node-attribute")}
		s, ok := scoreAttr(k, "score")
		if !ok {
			rd.rep.unsupported("colocation %s without a valid score", id)
			return
		}
		cc.Score = s
		if v := k.attr("influence"); v != "" {
			b, _ := model.ParseBool(v)
			cc.Influence = &b
		}
		c.Colocations = append(c.Colocations, cc)
	case "rsc_order":
		o := model.Order{ID: id, First: k.attr("first"), Then: k.attr("then"), FirstAction: k.attr("first-action"), ThenAction: k.attr("then-action"), Kind: k.attr("kind")}
		if o.First == "" && k.attr("from") != "" {
			// Heartbeat v2: <rsc_order from=A type=after to=B action=start>
			from, to := k.attr("from"), k.attr("to")
			if k.attr("type") == "before" {
				o.First, o.Then = from, to
			} else {
				o.First, o.Then = to, from
			}
			o.FirstAction = k.attr("action")
			o.ThenAction = k.attr("action")
		}
		if o.Kind == "" {
			if s, ok := scoreAttr(k, "score"); ok && s == 0 {
				o.Kind = "Optional"
			}
		}
		if v := k.attr("symmetrical"); v != "" {
			b, _ := model.ParseBool(v)
			o.Symmetrical = &b
		}
		c.Orders = append(c.Orders, o)
	case "rsc_ticket":
		rd.rep.unsupported("rsc_ticket %s", id)
	default:
		rd.rep.unsupported("constraint <%s> %s", k.name, id)
	}
}

func first(e *elem, names ...string) string {
	for _, n := range names {
		if v := e.attr(n); v != "" {
			return v
		}
	}
	return ""
}

func (rd *reader) rule(r *elem, where string) (model.Rule, bool) {
	rule := model.Rule{ID: r.attr("id"), ScoreAttribute: r.attr("score-attribute"), BooleanOp: r.attr("boolean-op"), Role: model.NormalizeRole(r.attr("role"))}
	if rule.ScoreAttribute == "" {
		s, ok := scoreAttr(r, "score")
		if !ok {
			rd.rep.unsupported("rule %s in %s without a valid score", rule.ID, where)
			return rule, false
		}
		rule.Score = s
	}
	for _, x := range r.kids {
		switch x.name {
		case "expression":
			if x.attr("value-source") != "" && x.attr("value-source") != "literal" {
				rd.rep.unsupported("expression value-source=%s in %s", x.attr("value-source"), where)
				return rule, false
			}
			rule.Expressions = append(rule.Expressions, model.Expression{Attribute: x.attr("attribute"), Operation: x.attr("operation"), Value: x.attr("value"), Type: x.attr("type")})
		default:
			rd.rep.unsupported("%s in location %s", x.name, where)
			return rule, false
		}
	}
	return rule, true
}

func (rd *reader) status(st *elem) {
	stonith := rd.doc.Config.Options.StonithEnabled == nil || *rd.doc.Config.Options.StonithEnabled
	for _, ns := range st.children("node_state") {
		name := ns.attr("uname")
		if name == "" {
			name = rd.nodeByID[ns.attr("id")]
		}
		if name == "" {
			continue
		}
		var attrs map[string]string
		if ta := ns.child("transient_attributes"); ta != nil {
			attrs = rd.mergeSets(ta, "instance_attributes", "transient_attributes")
		}
		state, pending, shutdown := nodeState(ns, attrs, stonith)
		n := model.NodeState{Name: name, State: state, Shutdown: shutdown && state == model.NodeOnline}
		rd.transient(name, attrs, &n)
		if pending {
			// Joining, not yet able to run resources: Pacemaker marks it
			// standby.
			n.Standby = true
		}
		rd.doc.Status.Nodes = append(rd.doc.Status.Nodes, n)
		if lrm := ns.child("lrm"); lrm != nil {
			if lr := lrm.child("lrm_resources"); lr != nil {
				for _, res := range lr.children("lrm_resource") {
					rd.lrmResource(name, res)
				}
			}
		}
	}
}

func truthy(v string) bool {
	if b, ok := model.ParseBool(v); ok {
		return b
	}
	// Pacemaker 2.1.7+ writes join/membership timestamps instead of true.
	n, err := strconv.ParseInt(v, 10, 64)
	return err == nil && n > 0
}

// nodeState decides a node's state from its node_state entry and
// transient attributes as Pacemaker 2.1's determine_online_status does:
// a node shutting down is online while its controller runs; without
// fencing, a node is online only as a joined member and unclean only when
// expected up but gone; with fencing, every way of being lost makes it
// unclean, and a node still joining (pending) is online but runs nothing.
func nodeState(ns *elem, attrs map[string]string, stonith bool) (state string, pending, shutdown bool) {
	inCluster := ns.attr("in_ccm")
	inCCM := truthy(inCluster)
	crmd := ns.attr("crmd")
	crmdOnline := crmd == "online" || truthy(crmd)
	join := ns.attr("join")
	exp := ns.attr("expected")
	if v, ok := attrs["shutdown"]; ok && v != "0" {
		shutdown = true
	}
	expectedUp := !shutdown && exp == "member"
	if !stonith {
		switch {
		case !inCCM:
			return model.NodeOffline, false, shutdown
		case crmdOnline:
			if join == "member" {
				return model.NodeOnline, false, shutdown
			}
			return model.NodeOffline, false, shutdown
		case !expectedUp:
			return model.NodeOffline, false, shutdown
		}
		return model.NodeUnclean, false, shutdown
	}
	terminate := false
	if t := attrs["terminate"]; t != "" {
		if b, ok := model.ParseBool(t); ok {
			terminate = b
		} else {
			terminate = t[0] != '0' && t[0] >= '0' && t[0] <= '9'
		}
	}
	online := inCCM
	if exp == "" {
		exp = "down"
	}
	unclean := false
	switch {
	case shutdown:
		online = crmdOnline
	case inCluster == "":
		unclean = true // not seen by the cluster
	case join == "nack":
		unclean = true
	case !terminate && exp == "down":
		if inCCM || crmdOnline {
			pending = true
		}
	case terminate && join == "down" && !inCCM && !crmdOnline:
		online = false // just shot
	case !inCCM, !crmdOnline, terminate:
		unclean = true
	case join == "member":
	case join == "pending" || join == "down":
		pending = true
	default:
		unclean = true
	}
	switch {
	case unclean:
		return model.NodeUnclean, pending, shutdown
	case online:
		return model.NodeOnline, pending, shutdown
	}
	return model.NodeOffline, pending, shutdown
}

func (rd *reader) transient(node string, attrs map[string]string, n *model.NodeState) {
	type fc struct {
		count model.Score
		last  time.Time
	}
	fails := map[string]*fc{}
	get := func(k string) *fc {
		if fails[k] == nil {
			fails[k] = &fc{}
		}
		return fails[k]
	}
	for _, k := range model.SortedKeys(attrs) {
		v := attrs[k]
		switch {
		case strings.HasPrefix(k, "fail-count-"):
			s, err := model.ParseScore(v)
			if err != nil {
				rd.rep.unsupported("transient attribute %s=%q on %s", k, v, node)
				continue
			}
			get(strings.TrimPrefix(k, "fail-count-")).count = s
		case strings.HasPrefix(k, "last-failure-"):
			t, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				continue
			}
			get(strings.TrimPrefix(k, "last-failure-")).last = time.Unix(t, 0).UTC()
		case k == "standby":
			n.Standby, _ = model.ParseBool(v)
		case k == "maintenance":
			n.Maintenance, _ = model.ParseBool(v)
		case k == "shutdown" || k == "terminate" || k == "probe_complete" || strings.HasPrefix(k, "last-rc-change"):
		default:
			if n.Attributes == nil {
				n.Attributes = map[string]string{}
			}
			n.Attributes[k] = v
		}
	}
	for _, k := range model.SortedKeys(fails) {
		f := fails[k]
		if f.count <= 0 {
			continue
		}
		rsc, op := k, ""
		if i := strings.LastIndexByte(k, '#'); i >= 0 {
			rsc, op = k[:i], k[i+1:]
			if j := strings.LastIndexByte(op, '_'); j > 0 {
				op = op[:j]
			}
		}
		rd.doc.Status.Failures = append(rd.doc.Status.Failures, model.Failure{Rsc: rsc, Node: node, Op: op, Count: f.count, LastFailure: f.last})
	}
}

type lrmOp struct {
	op       string
	interval int64
	rc       int
	expected int
	status   int
	callID   int
}

// lrmResource replays the operation history of one resource on one node.
func (rd *reader) lrmResource(node string, res *elem) {
	id := res.attr("id")
	if id == FenceDeviceID {
		return
	}
	var ops []lrmOp
	for _, o := range res.children("lrm_rsc_op") {
		op := lrmOp{op: o.attr("operation"), rc: atoi(o.attr("rc-code")), status: atoi(o.attr("op-status")), callID: atoi(o.attr("call-id"))}
		op.interval = int64(atoi(o.attr("interval")))
		op.expected = 0
		if tk := strings.Split(o.attr("transition-key"), ":"); len(tk) >= 3 {
			op.expected = atoi(tk[2])
		} else if op.op == "monitor" && op.interval == 0 {
			op.expected = 7
		}
		if op.status == -1 || op.callID < 0 {
			continue // pending
		}
		ops = append(ops, op)
	}
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].callID < ops[j].callID })
	state := model.RoleStopped
	failed := false
	for _, op := range ops {
		ok := op.status == 0 && op.rc == op.expected
		switch op.op {
		case "start", "migrate_from":
			if ok {
				state, failed = model.RoleStarted, false
			} else {
				state, failed = model.RoleStarted, true
			}
		case "stop", "migrate_to":
			if ok || op.op == "migrate_to" && op.rc == 0 {
				state, failed = model.RoleStopped, false
			} else {
				state, failed = model.RoleStarted, true
			}
		case "promote":
			state = model.RolePromoted
			failed = !ok
		case "demote":
			state = model.RoleUnpromoted
			failed = failed || !ok
		case "monitor":
			switch {
			case op.status == 0 && op.rc == 7 && op.expected == 7:
				if op.interval == 0 {
					state = model.RoleStopped
				}
			case op.status == 0 && op.rc == 0 && op.interval == 0:
				if state == model.RoleStopped {
					state = model.RoleStarted
				}
			case op.status == 0 && op.rc == 8:
				state = model.RolePromoted
				if op.expected != 8 && op.expected != 0 {
					failed = true
				}
			case ok:
			default:
				if state == model.RoleStopped && op.interval == 0 && op.rc == 7 {
					break
				}
				if state == model.RoleStopped {
					state = model.RoleStarted
				}
				failed = true
			}
		}
	}
	if state == model.RoleStopped {
		return
	}
	role := state
	if role == model.RoleStarted {
		role = ""
	}
	rd.doc.Status.Resources = append(rd.doc.Status.Resources, model.ResourceStatus{Rsc: id, Node: node, Role: role, Failed: failed})
}

func atoi(s string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(s))
	return n
}
