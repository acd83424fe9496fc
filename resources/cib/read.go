// Package cib reads Pacemaker CIB XML (Heartbeat v2 cib.xml and
// Pacemaker 1.x/2.x) into the scheduler's model.
//
//	doc, report, err := cib.Read(r)   // configuration + status, for import
//	doc, report, err = cib.ReadBytesWith(data, cib.Options{Scheduling: true})
//	                                   // as Pacemaker schedules it (simulate)
//	// report.Unsupported names every CIB feature that was not converted
//
// Read never drops a feature that can change placement silently: anything
// it does not model is named in Report.Unsupported (for example "bundle
// b1", "guest node g1 (remote-node of vm1)", "rsc-pattern in location
// l3"); what cannot change placement (alerts, ACLs, timeouts) is not.
//
// Writing a document as CIB (for crm_simulate comparisons) is test
// support, in package cibtest.
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

// FenceDeviceID names the stopped placeholder stonith resource that
// cibtest.Write adds when fencing is enabled (Pacemaker leaves every
// resource unmanaged when stonith-enabled=true and no fence device is
// configured, and Palisade configures devices outside the resource model).
// The reader counts it as a fence device but not as a resource, so a CIB
// written that way, or crm_simulate's result of it, reads back the same.
const FenceDeviceID = "palisade-fence-placeholder"

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
	sched    bool // Options.Scheduling
	rep      Report
	doc      model.Document
	nodeByID map[string]string
	prims    map[string]*model.Resource
	stonith  map[string]bool
	// ids are every resource read (primitives, groups, clones);
	// templates maps a template to the primitives made from it; tags a
	// tag to what it names; bundles are read but not scheduled.
	ids      map[string]bool
	res      map[string]*model.Resource
	parentOf map[string]*model.Resource
	// rscDefaults is the rsc_defaults section, whose sets may hold for
	// some resources only; now is when rules are evaluated.
	rscDefaults *elem
	// quorate and nodeOnline (the node whose history is being read) decide
	// whether Pacemaker could fence, which changes what a stop that found
	// the agent not installed means.
	quorate, nodeOnline bool
	// legacyFailCounts: the CIB predates feature set 3.0.13, whose fail
	// counts are per resource rather than per operation.
	legacyFailCounts bool
	now              time.Time
	templates        map[string][]string
	tmplElems        map[string]*elem
	tags             map[string][]string
	bundles          map[string]bool
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

// ReadBytes is Read on a buffer (the document does not refer to it).
//
// It reads a CIB as configuration for Palisade (what `palisade config
// import` converts): fencing is left to Palisade's fence topology, so
// stonith resources, and constraints naming them, are noted and left
// out. ReadBytesWith with Options.Scheduling reads it as Pacemaker
// schedules it.
func ReadBytes(data []byte) (*model.Document, *Report, error) {
	return ReadBytesWith(data, Options{})
}

// Options change how a CIB is read.
type Options struct {
	// Scheduling reads the CIB as Pacemaker's scheduler sees it, for
	// `palisade simulate --cib` and comparisons with crm_simulate: fence
	// devices are resources (placed, and counted in the fewest-resources
	// tie-break), a CIB without one cannot fence, nodes keep their ids
	// (rules' #id), and fencing-topology is not reported.
	Scheduling bool
	// At is when rules in attribute sets (conditional defaults, options,
	// meta attributes) are evaluated; zero means the CIB's
	// execution-date, else the current time.
	At time.Time
}

// ReadBytesWith is ReadBytes with options.
func ReadBytesWith(data []byte, opts Options) (*model.Document, *Report, error) {
	at := opts.At
	root, err := scan(data)
	if err != nil {
		return nil, nil, err
	}
	if root.name != "cib" {
		return nil, nil, fmt.Errorf("CIB XML line %d: root element <%s>, want <cib>", root.line, root.name)
	}
	rd := &reader{sched: opts.Scheduling, nodeByID: map[string]string{}, prims: map[string]*model.Resource{}, stonith: map[string]bool{},
		ids: map[string]bool{}, res: map[string]*model.Resource{}, parentOf: map[string]*model.Resource{}, templates: map[string][]string{}, tmplElems: map[string]*elem{}, tags: map[string][]string{}, bundles: map[string]bool{}}
	conf := root.child("configuration")
	if conf == nil {
		return nil, nil, fmt.Errorf("CIB XML: no <configuration> section")
	}
	// Rules in attribute sets are evaluated at the time the CIB says it
	// is evaluated at (Pacemaker's regression cases carry one), else now.
	rd.legacyFailCounts = compareVersion(root.attr("crm_feature_set"), "3.0.13") < 0
	rd.now = at
	if ed := root.attr("execution-date"); ed != "" {
		if sec, err := strconv.ParseInt(ed, 10, 64); err == nil {
			rd.doc.Now = time.Unix(sec, 0).UTC()
			rd.now = rd.doc.Now
		}
	}
	if rd.now.IsZero() {
		rd.now = time.Now().UTC()
	}
	rd.config(conf)
	rd.conditionalDefaults()
	rd.containers()
	rd.quorate = false
	if q := first(root, "have-quorum", "have_quorum"); q != "" {
		rd.quorate, _ = model.ParseBool(q)
	}
	if st := root.child("status"); st != nil {
		rd.status(st)
	}
	// Read for scheduling, a CIB without a fence device cannot fence; read
	// as configuration, fencing is Palisade's fence topology's.
	rd.doc.Config.NoFenceDevice = rd.sched && len(rd.stonith) == 0
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
// Heartbeat v2 <attributes> wrapper. A set whose rule does not hold (for
// ctx: the evaluation time and the resource it is read for) adds nothing.
func (rd *reader) nvpairs(set *elem, where string, ctx *setCtx) map[string]string {
	out := map[string]string{}
	for _, r := range set.children("rule") {
		if !rd.setRule(r, where+" "+set.attr("id"), ctx) {
			return out
		}
	}
	var walk func(e *elem)
	walk = func(e *elem) {
		for _, k := range e.kids {
			switch k.name {
			case "nvpair":
				out[normName(k.attr("name"))] = k.attr("value")
			case "attributes":
				walk(k)
			}
		}
	}
	walk(set)
	return out
}

// setCtx is what a rule in an attribute set is evaluated against.
type setCtx struct {
	class, provider, typ string
}

// setRule evaluates a rule inside an attribute set as Pacemaker does
// when it unpacks meta attributes and defaults: dates at the evaluation
// time, rsc_expression against the resource, no node (so node attribute
// expressions see no value) and no operation.
func (rd *reader) setRule(r *elem, where string, ctx *setCtx) bool {
	or := strings.EqualFold(r.attr("boolean-op"), "or")
	var results []bool
	for _, x := range r.kids {
		var ok bool
		switch x.name {
		case "rule":
			ok = rd.setRule(x, where, ctx)
		case "date_expression":
			d := model.DateExpression{Operation: x.attr("operation"), Start: x.attr("start"), End: x.attr("end")}
			if sp := x.child("date_spec"); sp != nil {
				d.Spec = attrMap(sp)
			}
			if du := x.child("duration"); du != nil {
				d.Duration = attrMap(du)
			}
			var err error
			ok, err = d.Match(rd.now)
			if err != nil {
				rd.rep.unsupported("date_expression %s in %s: %v", x.attr("id"), where, err)
			}
		case "rsc_expression":
			ok = ctx != nil
			if ctx != nil {
				for _, f := range []struct{ want, have string }{{x.attr("class"), ctx.class}, {x.attr("provider"), ctx.provider}, {x.attr("type"), ctx.typ}} {
					if f.want != "" && f.want != f.have {
						ok = false
					}
				}
			}
		case "op_expression":
			// Only operation defaults have an operation to match; they
			// set timeouts, which do not change placement.
			ok = false
		case "expression":
			switch strings.ToLower(x.attr("operation")) {
			case "not_defined", "ne":
				ok = true
			}
		default:
			continue
		}
		results = append(results, ok)
	}
	if len(results) == 0 {
		return true
	}
	for _, ok := range results {
		if or && ok {
			return true
		}
		if !or && !ok {
			return false
		}
	}
	return !or
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
	return rd.mergeSetsFor(e, setName, where, nil)
}

// mergeSetsFor merges attribute sets as Pacemaker does: by their score,
// highest first (ties in document order), the first set to name an
// attribute winning; sets whose rule does not hold are skipped.
func (rd *reader) mergeSetsFor(e *elem, setName, where string, ctx *setCtx) map[string]string {
	sets := e.children(setName)
	score := func(s *elem) model.Score {
		v, err := model.ParseScore(s.attr("score"))
		if err != nil {
			return 0
		}
		return v
	}
	sort.SliceStable(sets, func(i, j int) bool { return score(sets[i]) > score(sets[j]) })
	out := map[string]string{}
	for _, set := range sets {
		for k, v := range rd.nvpairs(set, where, ctx) {
			if _, seen := out[k]; !seen {
				out[k] = v
			}
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
	"enable-acl":       true,
	"no-quorum-policy": true, "symmetric-cluster": true, "stonith-enabled": true, "placement-strategy": true,
	"maintenance-mode": true, "stop-all-resources": true, "start-failure-is-fatal": true, "stonith-action": true,
	"resource-stickiness": true, "resource-failure-stickiness": true, "expected-quorum-votes": true,
	"default-action-timeout-ms": true, "stop-orphan-resources-default": true,
	"symmetric_cluster": true,
}

func (rd *reader) config(conf *elem) {
	c := &rd.doc.Config
	// Templates and tags may come after what refers to them.
	for _, sec := range conf.kids {
		switch sec.name {
		case "resources":
			for _, r := range sec.kids {
				if r.name == "template" {
					rd.tmplElems[r.attr("id")] = r
					rd.templates[r.attr("id")] = nil
				}
			}
		case "tags":
			for _, t := range sec.children("tag") {
				for _, o := range t.children("obj_ref") {
					rd.tags[t.attr("id")] = append(rd.tags[t.attr("id")], o.attr("id"))
				}
			}
		}
	}
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
			rd.rscDefaults = sec
			m := rd.mergeSetsFor(sec, "meta_attributes", "rsc_defaults", &setCtx{})
			if len(m) > 0 {
				if c.RscDefaults == nil {
					c.RscDefaults = map[string]string{}
				}
				for k, v := range m {
					c.RscDefaults[k] = v
				}
			}
		case "op_defaults":
			// Timeouts and the like do not affect placement; an operation
			// default that does is named.
			for _, set := range sec.children("meta_attributes") {
				for _, nv := range set.children("nvpair") {
					switch n := normName(nv.attr("name")); n {
					case "on-fail", "requires", "enabled", "role":
						rd.rep.unsupported("op_defaults %s=%s", n, nv.attr("value"))
					}
				}
			}
			rd.rep.Notes = append(rd.rep.Notes, "op_defaults: operation timeouts do not affect placement; ignored")
		case "fencing-topology":
			if !rd.sched {
				rd.rep.unsupported("fencing-topology (configure fencing in Palisade's fence topology)")
			}
		case "acls", "alerts", "tags":
			// Who may fence whom, who may edit what and whom to tell do
			// not change placement; tags were expanded above.
		default:
			rd.rep.unsupported("configuration section <%s>", sec.name)
		}
	}
}

// conditionalDefaults applies the rsc_defaults that hold for some
// resources only (rsc_expression, dates): each primitive gets, in its own
// meta attributes, the defaults evaluated for it that neither it nor its
// parents set, unless they are the defaults every resource gets anyway.
func (rd *reader) conditionalDefaults() {
	if rd.rscDefaults == nil {
		return
	}
	common := rd.doc.Config.RscDefaults
	var walk func(r *model.Resource, parents []*model.Resource)
	walk = func(r *model.Resource, parents []*model.Resource) {
		if r.KindOf() == model.KindPrimitive {
			own := rd.mergeSetsFor(rd.rscDefaults, "meta_attributes", "rsc_defaults", &setCtx{r.Class, r.Provider, r.Type})
			for _, k := range model.SortedKeys(own) {
				v := own[k]
				if _, set := r.Meta[k]; set {
					continue
				}
				inherited := false
				for _, p := range parents {
					_, inherited = p.Meta[k]
					if inherited {
						break
					}
				}
				// A parent's defaults (the common ones) come before the
				// primitive's own.
				if cv, ok := common[k]; inherited || ok && (len(parents) > 0 || cv == v) {
					continue
				}
				if r.Meta == nil {
					r.Meta = map[string]string{}
				}
				r.Meta[k] = v
			}
		}
		for _, m := range r.Members {
			walk(m, append(parents, r))
		}
	}
	for _, r := range rd.doc.Config.Resources {
		walk(r, nil)
	}
}

// containers turns the container meta attribute into what Pacemaker
// makes of it: the resource runs with its container (mandatory
// colocation) and starts after it. (Recovering the container when the
// resource fails is not modelled.)
func (rd *reader) containers() {
	c := &rd.doc.Config
	for _, id := range model.SortedKeys(rd.res) {
		r := rd.res[id]
		ctr := r.Meta["container"]
		if ctr == "" {
			continue
		}
		if _, ok := rd.res[ctr]; !ok {
			rd.rep.Notes = append(rd.rep.Notes, fmt.Sprintf("resource %s: container %s is not a resource: ignored", id, ctr))
			continue
		}
		c.Constraints.Colocations = append(c.Constraints.Colocations, model.Colocation{ID: id + "-with-container", Rsc: id, With: ctr, Score: model.Infinity})
		c.Constraints.Orders = append(c.Constraints.Orders, model.Order{ID: id + "-after-container", First: ctr, Then: id})
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
		case "is-managed-default":
			if rd.doc.Config.RscDefaults == nil {
				rd.doc.Config.RscDefaults = map[string]string{}
			}
			if _, set := rd.doc.Config.RscDefaults["is-managed"]; !set {
				rd.doc.Config.RscDefaults["is-managed"] = v
			}
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
	if id := n.attr("id"); id != name && rd.sched {
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
	if parent != nil {
		rd.parentOf[id] = parent
	}
	switch e.name {
	case "primitive":
		if id == FenceDeviceID {
			// Write's stand-in for Palisade's own fencing: fencing is
			// possible, but it is not a resource of the user's.
			rd.stonith[id] = true
			return nil
		}
		if e.attr("class") == "stonith" {
			rd.stonith[id] = true
			if !rd.sched {
				rd.rep.Notes = append(rd.rep.Notes, fmt.Sprintf("stonith resource %s: fence devices come from Palisade's fence topology; not scheduled", id))
				return nil
			}
			// Read for scheduling, fence devices are placed like any
			// resource and count in Pacemaker's fewest-resources
			// tie-break, so the rest lands where Pacemaker puts it.
		}
		r := &model.Resource{ID: id, Class: e.attr("class"), Provider: e.attr("provider"), Type: e.attr("type")}
		// A primitive made from a template takes the template's agent,
		// attributes and operations; its own win.
		var tmpl *elem
		if t := e.attr("template"); t != "" {
			tmpl = rd.tmplElems[t]
			if tmpl == nil {
				rd.rep.unsupported("primitive %s: template %s does not exist", id, t)
			} else {
				rd.templates[t] = append(rd.templates[t], id)
				r.Class, r.Provider, r.Type = or(r.Class, tmpl.attr("class")), or(r.Provider, tmpl.attr("provider")), or(r.Type, tmpl.attr("type"))
				if r.Class == "stonith" {
					rd.stonith[id] = true
					if !rd.sched {
						rd.rep.Notes = append(rd.rep.Notes, fmt.Sprintf("stonith resource %s: fence devices come from Palisade's fence topology; not scheduled", id))
						return nil
					}
				}
			}
		}
		merge := func(set string) map[string]string {
			out := map[string]string{}
			if tmpl != nil {
				for k, v := range rd.mergeSetsFor(tmpl, set, "template", &setCtx{r.Class, r.Provider, r.Type}) {
					out[k] = v
				}
			}
			for k, v := range rd.mergeSetsFor(e, set, "primitive", &setCtx{r.Class, r.Provider, r.Type}) {
				out[k] = v
			}
			return out
		}
		if p := merge("instance_attributes"); len(p) > 0 {
			r.Params = p
		}
		if m := merge("meta_attributes"); len(m) > 0 {
			r.Meta = m
		}
		if g := r.Meta["remote-node"]; g != "" {
			rd.rep.unsupported("guest node %s (remote-node of %s): Pacemaker Remote nodes are not scheduled", g, id)
		}
		if r.Class == "ocf" && r.Provider == "pacemaker" && r.Type == "remote" {
			rd.rep.unsupported("Pacemaker Remote connection %s: remote nodes are not scheduled", id)
		}
		r.Utilization = rd.utilization(e)
		if r.Utilization == nil && tmpl != nil {
			r.Utilization = rd.utilization(tmpl)
		}
		var opElems []*elem
		if ops := e.child("operations"); ops != nil {
			opElems = ops.children("op")
		}
		if tmpl != nil {
			if ops := tmpl.child("operations"); ops != nil {
				for _, op := range ops.children("op") {
					dup := false
					for _, o := range opElems {
						dup = dup || o.attr("name") == op.attr("name") && o.attr("interval") == op.attr("interval")
					}
					if !dup {
						opElems = append(opElems, op)
					}
				}
			}
		}
		rd.ids[id] = true
		{
			for _, op := range opElems {
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
		rd.res[id] = r
		return r
	case "group":
		rd.ids[id] = true
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
		if len(g.Members) == 0 && rd.fenceOnly(e) {
			rd.stonith[id] = true
		}
		rd.res[id] = g
		return g
	case "clone", "master":
		rd.ids[id] = true
		c := &model.Resource{ID: id, Kind: model.KindClone}
		m := rd.mergeSets(e, "meta_attributes", "clone")
		if e.name == "master" {
			m["promotable"] = "true"
		}
		if _, ok := m["clone-min"]; ok {
			rd.rep.unsupported("clone-min on %s (what is ordered after the clone waits for that many instances)", id)
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
			if rd.fenceOnly(e) {
				rd.stonith[id] = true // a cloned fence device
			}
			rd.rep.unsupported("clone %s without a usable member", id)
			return nil
		}
		rd.res[id] = c
		return c
	case "template":
		// Read up front; its primitives carry what it defines.
	case "bundle":
		rd.bundles[id] = true
		rd.rep.unsupported("bundle %s (containers are not scheduled)", id)
	default:
		rd.rep.unsupported("resource element <%s> %s", e.name, id)
	}
	return nil
}

// fenceOnly: every primitive inside e is a fence device.
func (rd *reader) fenceOnly(e *elem) bool {
	any := false
	var walk func(x *elem) bool
	walk = func(x *elem) bool {
		for _, k := range x.kids {
			switch k.name {
			case "primitive":
				any = true
				if !rd.stonith[k.attr("id")] {
					return false
				}
			case "group":
				if !walk(k) {
					return false
				}
			}
		}
		return true
	}
	return walk(e) && any
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

// refs expands a constraint's reference: a resource is itself, a
// template every primitive made from it, a tag what it tags. Anything
// else is not scheduled (a bundle) or does not exist: Pacemaker ignores
// the constraint then, and so does the reader, saying so.
func (rd *reader) refs(id, where string) ([]string, bool) {
	if !rd.sched && rd.stonith[id] {
		return nil, false // fencing is the fence topology's
	}
	if _, ok := rd.res[id]; ok {
		return []string{id}, true
	}
	if prims, ok := rd.templates[id]; ok {
		var out []string
		for _, p := range prims {
			if _, ok := rd.res[p]; ok {
				out = append(out, p)
			}
		}
		return out, len(out) > 0
	}
	if objs, ok := rd.tags[id]; ok {
		var out []string
		for _, o := range objs {
			if x, ok := rd.refs(o, where); ok {
				out = append(out, x...)
			}
		}
		return out, len(out) > 0
	}
	if rd.bundles[id] {
		rd.rep.unsupported("%s names bundle %s: ignored", where, id)
	} else {
		rd.rep.Notes = append(rd.rep.Notes, fmt.Sprintf("%s names %s, which is not a resource: ignored, as Pacemaker does", where, id))
	}
	return nil, false
}

// rscSet is a resource_set (or a plain reference made into one).
type rscSet struct {
	ids        []string
	sequential bool
	role       string
	action     string
	requireAll bool
	score      string
}

func (rd *reader) sets(k *elem, where string) ([]rscSet, bool) {
	var out []rscSet
	for _, set := range k.children("resource_set") {
		rs := rscSet{sequential: true, requireAll: true, role: model.NormalizeRole(set.attr("role")), action: set.attr("action"), score: set.attr("score")}
		if v, ok := model.ParseBool(set.attr("sequential")); ok {
			rs.sequential = v
		}
		if v, ok := model.ParseBool(set.attr("require-all")); ok {
			rs.requireAll = v
		}
		for _, ref := range set.children("resource_ref") {
			ids, ok := rd.refs(ref.attr("id"), where)
			if !ok {
				return nil, false
			}
			rs.ids = append(rs.ids, ids...)
		}
		out = append(out, rs)
	}
	return out, true
}

// ref1 resolves a plain constraint attribute: one resource, or a template
// or tag taken as a set of its members that are not ordered or colocated
// among themselves (Pacemaker makes it a non-sequential resource_set).
func (rd *reader) ref1(id, where string) (rscSet, bool) {
	ids, ok := rd.refs(id, where)
	if !ok {
		return rscSet{}, false
	}
	_, plain := rd.res[id]
	return rscSet{ids: ids, sequential: plain, requireAll: true}, true
}

func (rd *reader) constraint(k *elem) {
	id := k.attr("id")
	switch k.name {
	case "rsc_location":
		rd.location(k, id)
	case "rsc_colocation":
		rd.colocation(k, id)
	case "rsc_order":
		rd.order(k, id)
	case "rsc_ticket":
		rd.ticket(k, id)
	default:
		rd.rep.unsupported("constraint <%s> %s", k.name, id)
	}
}

func (rd *reader) location(k *elem, id string) {
	c := &rd.doc.Config.Constraints
	where := "location " + id
	var targets []rscSet
	if k.child("resource_set") != nil {
		sets, ok := rd.sets(k, where)
		if !ok {
			return
		}
		targets = sets
	} else if pat := k.attr("rsc-pattern"); pat != "" {
		rd.rep.unsupported("rsc-pattern in location %s", id)
		return
	} else {
		t, ok := rd.ref1(k.attr("rsc"), where)
		if !ok {
			return
		}
		t.role = model.NormalizeRole(k.attr("role"))
		targets = []rscSet{t}
	}
	if rdisc := k.attr("resource-discovery"); rdisc == "exclusive" {
		rd.rep.unsupported("resource-discovery=exclusive in location %s", id)
	}
	base := model.Location{ID: id, Node: k.attr("node")}
	if base.Node != "" {
		s, ok := scoreAttr(k, "score")
		if !ok {
			rd.rep.unsupported("location %s without a valid score", id)
			return
		}
		base.Score = s
	}
	for _, r := range k.children("rule") {
		if rule, ok := rd.rule(r, id); ok {
			base.Rules = append(base.Rules, rule)
		}
	}
	if base.Node == "" && len(base.Rules) == 0 {
		return
	}
	for _, t := range targets {
		for _, rsc := range t.ids {
			l := base
			l.Rsc, l.Role = rsc, t.role
			l.Rules = rd.withValueSource(base.Rules, rsc)
			if len(targets) > 1 || len(t.ids) > 1 {
				l.ID = id + "/" + rsc
			}
			c.Locations = append(c.Locations, l)
		}
	}
}

func (rd *reader) colocation(k *elem, id string) {
	c := &rd.doc.Config.Constraints
	where := "colocation " + id
	s, ok := scoreAttr(k, "score")
	if !ok && k.attr("score") != "" {
		rd.rep.unsupported("colocation %s without a valid score", id)
		return
	}
	var influence *bool
	if v := k.attr("influence"); v != "" {
		b, _ := model.ParseBool(v)
		influence = &b
	}
	n := 0
	add := func(dep, pri, depRole, priRole string, score model.Score, attr string) {
		if score == 0 {
			return
		}
		n++
		cid := id
		if n > 1 {
			cid = fmt.Sprintf("%s#%d", id, n)
		}
		c.Colocations = append(c.Colocations, model.Colocation{ID: cid, Rsc: dep, With: pri, Score: score,
			RscRole: depRole, WithRole: priRole, NodeAttribute: attr, Influence: influence})
	}
	if k.child("resource_set") == nil {
		dep, ok1 := rd.ref1(first(k, "rsc", "from"), where)
		pri, ok2 := rd.ref1(first(k, "with-rsc", "to"), where)
		if !ok1 || !ok2 {
			return
		}
		if !ok {
			// No score is score 0, which Pacemaker ignores.
			rd.rep.Notes = append(rd.rep.Notes, fmt.Sprintf("colocation %s has no score: ignored, as Pacemaker does", id))
			return
		}
		depRole := model.NormalizeRole(first(k, "rsc-role", "from_role"))
		priRole := model.NormalizeRole(first(k, "with-rsc-role", "to_role"))
		// A template or tag on either side is a non-sequential set:
		// every member with the other side.
		for _, d := range dep.ids {
			for _, p := range pri.ids {
				add(d, p, depRole, priRole, s, k.attr("node-attribute"))
			}
		}
		return
	}
	sets, okSets := rd.sets(k, where)
	if !okSets {
		return
	}
	var last *rscSet
	for i := range sets {
		set := &sets[i]
		local := s
		if set.score != "" {
			if v, err := model.ParseScore(set.score); err == nil {
				local = v
			}
		}
		switch {
		case !set.sequential || local == 0:
		case local > 0:
			// Each member with the one before it, like a group.
			for j := 1; j < len(set.ids); j++ {
				add(set.ids[j], set.ids[j-1], set.role, set.role, local, "")
			}
		default:
			// Anti-colocated with every member before it.
			for j := range set.ids {
				for m := 0; m < j; m++ {
					add(set.ids[j], set.ids[m], set.role, set.role, local, "")
				}
			}
		}
		if last != nil && len(last.ids) > 0 && len(set.ids) > 0 {
			// The earlier set depends on the later: its first member (or
			// all of it) with the later set's last member (or all).
			deps, pris := last.ids, set.ids
			if last.sequential {
				deps = last.ids[:1]
			}
			if set.sequential {
				pris = set.ids[len(set.ids)-1:]
			}
			for _, d := range deps {
				for _, p := range pris {
					add(d, p, last.role, set.role, s, "")
				}
			}
		}
		last = set
	}
}

func (rd *reader) order(k *elem, id string) {
	c := &rd.doc.Config.Constraints
	where := "order " + id
	kind := k.attr("kind")
	if kind == "" {
		if s, ok := scoreAttr(k, "score"); ok && s == 0 {
			kind = "Optional"
		}
	}
	var sym *bool
	if v := k.attr("symmetrical"); v != "" {
		b, _ := model.ParseBool(v)
		sym = &b
	}
	n := 0
	add := func(first, fa, then, ta string) {
		n++
		oid := id
		if n > 1 {
			oid = fmt.Sprintf("%s#%d", id, n)
		}
		c.Orders = append(c.Orders, model.Order{ID: oid, First: first, FirstAction: fa, Then: then, ThenAction: ta, Kind: kind, Symmetrical: sym})
	}
	if k.child("resource_set") == nil {
		if v, ok := model.ParseBool(k.attr("require-all")); ok && !v {
			rd.rep.unsupported("require-all=false in order %s (one instance of the first clone suffices)", id)
		}
		fs, ts := k.attr("first"), k.attr("then")
		fa, ta := k.attr("first-action"), k.attr("then-action")
		if fs == "" && k.attr("from") != "" {
			// Heartbeat v2: <rsc_order from=A type=after to=B action=start>
			from, to := k.attr("from"), k.attr("to")
			if k.attr("type") == "before" {
				fs, ts = from, to
			} else {
				fs, ts = to, from
			}
			fa, ta = k.attr("action"), k.attr("action")
		}
		f, ok1 := rd.ref1(fs, where)
		t, ok2 := rd.ref1(ts, where)
		if !ok1 || !ok2 {
			return
		}
		for _, a := range f.ids {
			for _, b := range t.ids {
				add(a, fa, b, ta)
			}
		}
		return
	}
	sets, ok := rd.sets(k, where)
	if !ok {
		return
	}
	var last *rscSet
	for i := range sets {
		set := &sets[i]
		if !set.requireAll {
			rd.rep.unsupported("require-all=false in order %s (one of a set suffices)", id)
			return
		}
		if set.sequential {
			for j := 1; j < len(set.ids); j++ {
				add(set.ids[j-1], set.action, set.ids[j], set.action)
			}
		}
		if last != nil && len(last.ids) > 0 && len(set.ids) > 0 {
			// The later set waits for the earlier: its first member (or
			// all) after the earlier set's last member (or all).
			befores, afters := last.ids, set.ids
			if last.sequential {
				befores = last.ids[len(last.ids)-1:]
			}
			if set.sequential {
				afters = set.ids[:1]
			}
			for _, a := range befores {
				for _, b := range afters {
					add(a, last.action, b, set.action)
				}
			}
		}
		last = set
	}
}

func (rd *reader) ticket(k *elem, id string) {
	c := &rd.doc.Config.Constraints
	where := "ticket " + id
	tk := k.attr("ticket")
	if tk == "" {
		rd.rep.Notes = append(rd.rep.Notes, fmt.Sprintf("ticket constraint %s names no ticket: ignored, as Pacemaker does", id))
		return
	}
	var targets []rscSet
	if k.child("resource_set") != nil {
		sets, ok := rd.sets(k, where)
		if !ok {
			return
		}
		targets = sets
	} else {
		t, ok := rd.ref1(k.attr("rsc"), where)
		if !ok {
			return
		}
		t.role = model.NormalizeRole(k.attr("rsc-role"))
		targets = []rscSet{t}
	}
	n := 0
	for _, t := range targets {
		for _, rsc := range t.ids {
			n++
			tid := id
			if n > 1 {
				tid = fmt.Sprintf("%s#%d", id, n)
			}
			c.Tickets = append(c.Tickets, model.Ticket{ID: tid, Ticket: tk, Rsc: rsc, RscRole: t.role, LossPolicy: k.attr("loss-policy")})
		}
	}
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
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
			vs := x.attr("value-source")
			if vs == "literal" {
				vs = ""
			}
			if vs != "" && vs != "param" && vs != "meta" {
				rd.rep.unsupported("expression value-source=%s in %s", vs, where)
				return rule, false
			}
			rule.Expressions = append(rule.Expressions, model.Expression{Attribute: x.attr("attribute"), Operation: x.attr("operation"), Value: x.attr("value"), Type: x.attr("type"), ValueSource: vs})
		case "date_expression":
			d := model.DateExpression{Operation: x.attr("operation"), Start: x.attr("start"), End: x.attr("end")}
			if sp := x.child("date_spec"); sp != nil {
				d.Spec = attrMap(sp)
			}
			if du := x.child("duration"); du != nil {
				d.Duration = attrMap(du)
			}
			if _, err := d.Match(time.Unix(0, 0)); err != nil {
				rd.rep.unsupported("date_expression %s in %s: %v", x.attr("id"), where, err)
				return rule, false
			}
			rule.Dates = append(rule.Dates, d)
		case "rule":
			nested, ok := rd.rule(x, where)
			if !ok {
				return rule, false
			}
			rule.Rules = append(rule.Rules, nested)
		default:
			rd.rep.unsupported("%s in location %s", x.name, where)
			return rule, false
		}
	}
	return rule, true
}

// attrMap is an element's attributes less its id.
func attrMap(e *elem) map[string]string {
	out := map[string]string{}
	for _, a := range e.attrs {
		if a.k != "id" {
			out[a.k] = a.v
		}
	}
	return out
}

// withValueSource resolves value-source=param/meta against the
// constrained resource.
func (rd *reader) withValueSource(rules []model.Rule, rsc string) []model.Rule {
	var params, meta map[string]string
	if r := rd.res[rsc]; r != nil {
		params, meta = r.Params, r.Meta
	}
	return model.ResolveValueSource(rules, params, meta)
}

func (rd *reader) status(st *elem) {
	stonith := rd.doc.Config.Options.StonithEnabled == nil || *rd.doc.Config.Options.StonithEnabled
	if tk := st.child("tickets"); tk != nil {
		for _, t := range tk.children("ticket_state") {
			g, _ := model.ParseBool(t.attr("granted"))
			sb, _ := model.ParseBool(t.attr("standby"))
			rd.doc.Status.Tickets = append(rd.doc.Status.Tickets, model.TicketState{ID: t.attr("id"), Granted: g, Standby: sb})
		}
	}
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
					rd.nodeOnline = n.State == model.NodeOnline
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
		case strings.HasPrefix(k, "fail-count-") && strings.Contains(k, "#") == rd.legacyFailCounts:
			// Pacemaker reads one form only: fail-count-RSC before feature
			// set 3.0.13 (or without one), fail-count-RSC#OP_INTERVAL since.
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
	changed  int64 // last-rc-change, Unix seconds
	// lastFailure: the *_last_failure_0 record, a copy of a failed
	// result that the operation's own record may have superseded.
	lastFailure bool
}

// lrmResource replays the operation history of one resource on one node.
func (rd *reader) lrmResource(node string, res *elem) {
	id := res.attr("id")
	if id == FenceDeviceID || !rd.sched && (res.attr("class") == "stonith" || rd.stonith[id]) {
		return
	}
	if l := res.attr("shutdown-lock"); l != "" {
		if sec, err := strconv.ParseInt(l, 10, 64); err == nil {
			rd.doc.Status.Locks = append(rd.doc.Status.Locks, model.ShutdownLock{Rsc: id, Node: node, Since: unixTime(sec)})
		}
	}
	var ops []lrmOp
	migrated := false
	defer func() {
		if migrated {
			rd.rep.unsupported("live migration of %s on %s in the history (replayed as a stop and a start)", id, node)
		}
	}()
	for _, o := range res.children("lrm_rsc_op") {
		op := lrmOp{op: o.attr("operation"), rc: atoi(o.attr("rc-code")), status: atoi(o.attr("op-status")), callID: atoi(o.attr("call-id"))}
		op.interval = int64(atoi(o.attr("interval")))
		op.changed, _ = strconv.ParseInt(o.attr("last-rc-change"), 10, 64)
		op.lastFailure = strings.HasSuffix(o.attr("id"), "_last_failure_0")
		op.expected = 0
		if tk := strings.Split(o.attr("transition-key"), ":"); len(tk) >= 3 {
			op.expected = atoi(tk[2])
		} else if op.op == "monitor" && op.interval == 0 {
			op.expected = 7
		}
		if op.status == -1 || op.callID < 0 {
			// In flight: Pacemaker counts a pending start or promote as
			// done (the resource is active there) and a pending stop as
			// not yet done.
			switch op.op {
			case "start", "promote", "demote":
				op.rc, op.status, op.expected = 0, 0, 0
				op.callID = 1 << 30
			default:
				continue
			}
		}
		if op.op == "migrate_to" || op.op == "migrate_from" {
			migrated = true
		}
		ops = append(ops, op)
	}
	sort.SliceStable(ops, func(i, j int) bool {
		if ops[i].callID != ops[j].callID {
			return ops[i].callID < ops[j].callID
		}
		// A recurring monitor keeps its call id: of its own record and
		// the failure copied aside, the later result is the current one.
		if ops[i].changed != ops[j].changed {
			return ops[i].changed < ops[j].changed
		}
		return ops[i].lastFailure && !ops[j].lastFailure
	})
	state := model.RoleStopped
	failed, stopFailed := false, false
	for _, op := range ops {
		// Pacemaker's hard errors: the agent is not installed (5), or the
		// parameters are invalid (2), unimplemented (3), or not permitted
		// (4) here; not configured (6) is fatal everywhere.
		// (op-status 5, 6 and 7 are the executor's own hard, fatal and
		// not-installed verdicts.)
		hard := op.status == 5 || op.status == 7 || op.status == 0 && op.rc != op.expected && op.rc >= 2 && op.rc <= 5
		fatal := op.status == 6 || op.status == 0 && op.rc != op.expected && op.rc == 6
		if (hard || fatal) && !rd.ignored(id, op) {
			h := model.HardError{Rsc: id, Reason: fmt.Sprintf("%s returned %d (status %d)", op.op, op.rc, op.status), LastFailure: unixTime(op.changed)}
			if !fatal {
				h.Node = node
			}
			rd.doc.Status.HardErrors = append(rd.doc.Status.HardErrors, h)
		}
		if op.op == "monitor" && op.interval == 0 && (op.status == 0 && op.rc == 5 || op.status == 7) {
			// A probe finding the agent not installed: not running here.
			state, failed = model.RoleStopped, false
			continue
		}
		ok := op.status == 0 && op.rc == op.expected
		switch op.op {
		case "start", "migrate_from":
			stopFailed = false
			if ok {
				state, failed = model.RoleStarted, false
			} else {
				state, failed = model.RoleStarted, true
			}
		case "stop", "migrate_to":
			// A stop that finds the agent not installed: with fencing
			// possible Pacemaker fences (a failed stop), otherwise there
			// is nothing else to do and it takes the resource as stopped.
			notInstalled := op.op == "stop" && (op.status == 0 && op.rc == 5 || op.status == 7) && !rd.canFence()
			if ok || notInstalled || op.op == "migrate_to" && op.rc == 0 {
				state, failed, stopFailed = model.RoleStopped, false, false
			} else {
				state, failed = model.RoleStarted, true
				if op.op == "stop" {
					stopFailed = true
				}
			}
		case "promote":
			state = model.RolePromoted
			failed = !ok
		case "demote":
			state = model.RoleUnpromoted
			failed = failed || !ok
		case "monitor":
			switch {
			case op.status == 0 && op.rc == 7 && !stopFailed && rd.unmanaged(id):
				// Pacemaker takes "not running" from a resource it does
				// not manage as the truth, not as a failure.
				state, failed = model.RoleStopped, false
			case op.status == 0 && op.rc == 7 && op.expected == 7:
				// After a failed stop the resource's state is unknown
				// until a stop or start succeeds: it stays failed here.
				if op.interval == 0 && !stopFailed {
					state = model.RoleStopped
				}
			case op.status == 0 && op.rc == 0 && op.interval == 0:
				if state == model.RoleStopped {
					state = model.RoleStarted
				}
			case op.status == 0 && op.rc == 8:
				// A probe finding it promoted is news, not a failure.
				state = model.RolePromoted
				if op.interval != 0 && op.expected != 8 && op.expected != 0 {
					failed = true
				}
			case ok:
				// A recurring monitor that succeeds again: recovered.
				if op.interval != 0 && !stopFailed {
					failed = false
				}
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
	if stopFailed && !rd.hasFailure(id, node, "stop") {
		// The failed stop decides the recovery (fence, or block without
		// fencing) even when no fail count was recorded for it.
		rd.doc.Status.Failures = append(rd.doc.Status.Failures, model.Failure{Rsc: id, Node: node, Op: "stop", Count: 1})
	}
	role := state
	if role == model.RoleStarted {
		role = ""
	}
	rd.doc.Status.Resources = append(rd.doc.Status.Resources, model.ResourceStatus{Rsc: id, Node: node, Role: role, Failed: failed})
}

// canFence is Pacemaker's pe_can_fence for the node being read.
func (rd *reader) canFence() bool {
	o := rd.doc.Config.Options
	stonith := o.StonithEnabled == nil || *o.StonithEnabled
	return stonith && len(rd.stonith) > 0 && (rd.quorate || strings.EqualFold(o.NoQuorumPolicy, "ignore") || rd.nodeOnline)
}

func (rd *reader) hasFailure(rsc, node, op string) bool {
	for _, f := range rd.doc.Status.Failures {
		if f.Rsc == rsc && f.Node == node && f.Op == op {
			return true
		}
	}
	return false
}

// unmanaged: is-managed=false (or maintenance) on the resource, a
// parent, rsc_defaults, or maintenance-mode.
func (rd *reader) unmanaged(id string) bool {
	if rd.doc.Config.Options.MaintenanceMode {
		return true
	}
	off := func(m map[string]string) (bool, bool) {
		if v, ok := m["maintenance"]; ok {
			if b, _ := model.ParseBool(v); b {
				return true, true
			}
		}
		if v, ok := m["is-managed"]; ok {
			b, _ := model.ParseBool(v)
			return !b, true
		}
		return false, false
	}
	base, _ := splitClone(id)
	for r := rd.res[base]; r != nil; r = rd.parentOf[r.ID] {
		if u, ok := off(r.Meta); ok {
			return u
		}
	}
	u, _ := off(rd.doc.Config.RscDefaults)
	return u
}

func splitClone(id string) (string, bool) {
	if i := strings.LastIndexByte(id, ':'); i >= 0 {
		if _, err := strconv.Atoi(id[i+1:]); err == nil {
			return id[:i], true
		}
	}
	return id, false
}

// ignored: the operation's on-fail is ignore, so Pacemaker takes its
// failure as success (no ban, no recovery).
func (rd *reader) ignored(rsc string, op lrmOp) bool {
	r := rd.prims[rsc]
	if r == nil {
		return false
	}
	for _, o := range r.Ops {
		if o.Name == op.op && int64(time.Duration(o.Interval)/time.Millisecond) == op.interval {
			return strings.EqualFold(o.OnFail, "ignore")
		}
	}
	return false
}

// compareVersion compares dotted versions numerically; an empty one is
// the oldest.
func compareVersion(a, b string) int {
	if a == "" {
		return -1
	}
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			x = atoi(pa[i])
		}
		if i < len(pb) {
			y = atoi(pb[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func unixTime(sec int64) time.Time {
	if sec <= 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0).UTC()
}

func atoi(s string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(s))
	return n
}
