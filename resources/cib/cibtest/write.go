// Package cibtest is test support for package cib: it writes a
// model.Document as CIB XML that crm_simulate accepts (for the
// crm_simulate comparisons in hw-tests, the CIB round-trip and fuzz tests)
// and generates the large clusters of the scheduler benchmarks. Nothing
// in the daemon or the CLI imports it.
package cibtest

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"palisade/resources/cib"
	"palisade/resources/model"
)

// FenceDeviceID names the stopped placeholder stonith resource Write adds
// when fencing is enabled (cib.FenceDeviceID, which the reader leaves out).
const FenceDeviceID = cib.FenceDeviceID

type writer struct {
	w       *bufio.Writer
	ids     map[string]int
	nodeIDs map[string]string
}

// nodeID is a node's cluster id: the configured one, else its name (so
// rules on #id read back the same).
func (w *writer) nodeID(name string) string {
	if id := w.nodeIDs[name]; id != "" {
		return id
	}
	return name
}

func hasFenceDevice(rs []*model.Resource) bool {
	for _, r := range rs {
		if r.KindOf() == model.KindPrimitive && strings.EqualFold(r.Class, "stonith") || hasFenceDevice(r.Members) {
			return true
		}
	}
	return false
}

func (w *writer) id(base string) string {
	w.ids[base]++
	if n := w.ids[base]; n > 1 {
		return base + "-" + strconv.Itoa(n)
	}
	return base
}

// optAttr renders an optional XML attribute: nothing when v is empty.
func optAttr(name, v string) string {
	if v == "" {
		return ""
	}
	return fmt.Sprintf(" %s=\"%s\"", name, esc(v))
}

// optBoolAttr renders an optional boolean attribute: nothing when unset.
func optBoolAttr(name string, v *bool) string {
	if v == nil {
		return ""
	}
	return fmt.Sprintf(" %s=\"%t\"", name, *v)
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return strings.ReplaceAll(b.String(), `"`, "&quot;")
}

func (w *writer) printf(format string, args ...any) { fmt.Fprintf(w.w, format, args...) }

func (w *writer) nvset(tag, owner string, m map[string]string, indent string) {
	if len(m) == 0 {
		return
	}
	setID := w.id(owner + "-" + strings.TrimSuffix(tag, "_attributes"))
	w.printf("%s<%s id=\"%s\">\n", indent, tag, esc(setID))
	for _, k := range model.SortedKeys(m) {
		w.printf("%s  <nvpair id=\"%s\" name=\"%s\" value=\"%s\"/>\n", indent, esc(w.id(setID+"-"+k)), esc(k), esc(m[k]))
	}
	w.printf("%s</%s>\n", indent, tag)
}

func intMap(m map[string]int) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := map[string]string{}
	for k, v := range m {
		out[k] = strconv.Itoa(v)
	}
	return out
}

// Write renders a document as a CIB that crm_simulate accepts. Status is
// written as operation history: a successful start (and promote) for each
// active resource, a failed recurring monitor for failed ones, and
// fail-count/last-failure transient attributes.
func Write(out io.Writer, doc *model.Document, now time.Time) error {
	w := &writer{w: bufio.NewWriter(out), ids: map[string]int{}}
	c := &doc.Config
	quorum := "1"
	if doc.Status.NoQuorum {
		quorum = "0"
	}
	nodes := allNodes(doc)
	w.nodeIDs = map[string]string{}
	for _, n := range c.Nodes {
		if n.ID != "" {
			w.nodeIDs[n.Name] = n.ID
		}
	}
	dc := ""
	if doc.Status.DC != "" {
		dc = fmt.Sprintf(" dc-uuid=\"%s\"", esc(w.nodeID(doc.Status.DC)))
	}
	w.printf("<cib crm_feature_set=\"3.16.1\" validate-with=\"pacemaker-3.9\" epoch=\"1\" num_updates=\"0\" admin_epoch=\"0\" have-quorum=\"%s\"%s>\n", quorum, dc)
	w.printf(" <configuration>\n  <crm_config>\n")
	props := map[string]string{}
	o := c.Options
	stonith := o.StonithEnabled == nil || *o.StonithEnabled
	props["stonith-enabled"] = strconv.FormatBool(stonith)
	if o.SymmetricCluster != nil {
		props["symmetric-cluster"] = strconv.FormatBool(*o.SymmetricCluster)
	}
	if o.NoQuorumPolicy != "" {
		props["no-quorum-policy"] = o.NoQuorumPolicy
	}
	if o.PlacementStrategy != "" {
		props["placement-strategy"] = o.PlacementStrategy
	}
	if o.MaintenanceMode {
		props["maintenance-mode"] = "true"
	}
	if o.StopAllResources {
		props["stop-all-resources"] = "true"
	}
	if o.StartFailureIsFatal != nil {
		props["start-failure-is-fatal"] = strconv.FormatBool(*o.StartFailureIsFatal)
	}
	if o.StonithAction != "" {
		props["stonith-action"] = o.StonithAction
	}
	for k, v := range map[string]string{"node-health-strategy": o.NodeHealthStrategy, "node-health-base": o.NodeHealthBase,
		"node-health-red": o.NodeHealthRed, "node-health-yellow": o.NodeHealthYellow, "node-health-green": o.NodeHealthGreen} {
		if v != "" {
			props[k] = v
		}
	}
	if o.StopOrphanResources != nil {
		props["stop-orphan-resources"] = strconv.FormatBool(*o.StopOrphanResources)
	}
	if o.ShutdownLock {
		props["shutdown-lock"] = "true"
	}
	if o.ShutdownLockLimit != 0 {
		props["shutdown-lock-limit"] = strconv.FormatInt(int64(time.Duration(o.ShutdownLockLimit)/time.Second), 10) + "s"
	}
	w.printf("   <cluster_property_set id=\"cib-bootstrap-options\">\n")
	for _, k := range model.SortedKeys(props) {
		w.printf("    <nvpair id=\"opt-%s\" name=\"%s\" value=\"%s\"/>\n", esc(k), esc(k), esc(props[k]))
	}
	w.printf("   </cluster_property_set>\n  </crm_config>\n  <nodes>\n")
	cfgNode := map[string]model.Node{}
	for _, n := range c.Nodes {
		cfgNode[n.Name] = n
	}
	for _, name := range nodes {
		n := cfgNode[name]
		w.printf("   <node id=\"%s\" uname=\"%s\">\n", esc(w.nodeID(name)), esc(name))
		attrs := map[string]string{}
		for k, v := range n.Attributes {
			attrs[k] = v
		}
		if n.Standby {
			attrs["standby"] = "on"
		}
		if n.Maintenance {
			attrs["maintenance"] = "true"
		}
		w.nvset("instance_attributes", "nodes-"+name, attrs, "    ")
		w.nvset("utilization", "nodes-"+name, intMap(n.Utilization), "    ")
		w.printf("   </node>\n")
	}
	w.printf("  </nodes>\n  <resources>\n")
	for _, r := range c.Resources {
		w.resource(r, "   ")
	}
	if stonith && !c.NoFenceDevice && !hasFenceDevice(c.Resources) {
		w.printf("   <primitive id=\"%s\" class=\"stonith\" type=\"fence_dummy\">\n", FenceDeviceID)
		w.nvset("meta_attributes", FenceDeviceID, map[string]string{"target-role": "Stopped"}, "    ")
		w.printf("   </primitive>\n")
	}
	w.printf("  </resources>\n  <constraints>\n")
	w.constraints(&c.Constraints)
	w.printf("  </constraints>\n")
	if len(c.RscDefaults) > 0 {
		w.printf("  <rsc_defaults>\n")
		w.nvset("meta_attributes", "rsc_defaults", c.RscDefaults, "   ")
		w.printf("  </rsc_defaults>\n")
	}
	w.printf(" </configuration>\n <status>\n")
	w.status(doc, nodes, now)
	w.printf(" </status>\n</cib>\n")
	return w.w.Flush()
}

func allNodes(doc *model.Document) []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range doc.Config.Nodes {
		if !seen[n.Name] {
			seen[n.Name] = true
			out = append(out, n.Name)
		}
	}
	for _, n := range doc.Status.Nodes {
		if !seen[n.Name] {
			seen[n.Name] = true
			out = append(out, n.Name)
		}
	}
	return out
}

func (w *writer) resource(r *model.Resource, in string) {
	switch r.KindOf() {
	case model.KindGroup:
		w.printf("%s<group id=\"%s\">\n", in, esc(r.ID))
		w.nvset("meta_attributes", r.ID, r.Meta, in+" ")
		for _, m := range r.Members {
			w.resource(m, in+" ")
		}
		w.printf("%s</group>\n", in)
	case model.KindClone:
		w.printf("%s<clone id=\"%s\">\n", in, esc(r.ID))
		w.nvset("meta_attributes", r.ID, r.Meta, in+" ")
		for _, m := range r.Members {
			w.resource(m, in+" ")
		}
		w.printf("%s</clone>\n", in)
	default:
		class, typ := r.Class, r.Type
		if class == "" {
			class = "ocf"
		}
		if typ == "" {
			typ = "Dummy"
		}
		prov := ""
		if class == "ocf" {
			p := r.Provider
			if p == "" {
				p = "heartbeat"
			}
			prov = fmt.Sprintf(" provider=\"%s\"", esc(p))
		}
		w.printf("%s<primitive id=\"%s\" class=\"%s\"%s type=\"%s\">\n", in, esc(r.ID), esc(class), prov, esc(typ))
		w.nvset("instance_attributes", r.ID, r.Params, in+" ")
		w.nvset("meta_attributes", r.ID, r.Meta, in+" ")
		w.nvset("utilization", r.ID, intMap(r.Utilization), in+" ")
		if len(r.Ops) > 0 {
			w.printf("%s <operations>\n", in)
			for _, op := range r.Ops {
				iv := time.Duration(op.Interval)
				extra := ""
				if op.Timeout > 0 {
					extra += fmt.Sprintf(" timeout=\"%ds\"", int(time.Duration(op.Timeout).Seconds()))
				}
				extra += optAttr("on-fail", op.OnFail)
				extra += optAttr("role", op.Role)
				w.printf("%s  <op id=\"%s\" name=\"%s\" interval=\"%ds\"%s/>\n", in, esc(w.id(r.ID+"-"+op.Name)), esc(op.Name), int(iv.Seconds()), extra)
			}
			w.printf("%s </operations>\n", in)
		}
		w.printf("%s</primitive>\n", in)
	}
}

// rule writes a location rule with its expressions, date expressions and
// nested rules (whose scores do not count, so they get none).
func (w *writer) rule(r model.Rule, rid, in string, top bool) {
	attrs := ""
	if top {
		attrs = fmt.Sprintf(" score=\"%s\"", r.Score)
		if r.ScoreAttribute != "" {
			attrs = fmt.Sprintf(" score-attribute=\"%s\"", esc(r.ScoreAttribute))
		}
	}
	attrs += optAttr("boolean-op", r.BooleanOp) + optAttr("role", r.Role)
	w.printf("%s<rule id=\"%s\"%s>\n", in, esc(rid), attrs)
	for j, e := range r.Expressions {
		val := ""
		if e.Operation != "defined" && e.Operation != "not_defined" {
			val = fmt.Sprintf(" value=\"%s\"", esc(e.Value))
		}
		w.printf("%s <expression id=\"%s-e%d\" attribute=\"%s\" operation=\"%s\"%s%s%s/>\n", in, esc(rid), j, esc(e.Attribute), esc(e.Operation), val, optAttr("type", e.Type), optAttr("value-source", e.ValueSource))
	}
	for j, d := range r.Dates {
		did := fmt.Sprintf("%s-d%d", rid, j)
		head := fmt.Sprintf("%s <date_expression id=\"%s\"%s%s%s", in, esc(did), optAttr("operation", d.Operation), optAttr("start", d.Start), optAttr("end", d.End))
		if len(d.Spec) == 0 && len(d.Duration) == 0 {
			w.printf("%s/>\n", head)
			continue
		}
		w.printf("%s>\n", head)
		for _, part := range []struct {
			tag string
			m   map[string]string
		}{{"date_spec", d.Spec}, {"duration", d.Duration}} {
			if len(part.m) == 0 {
				continue
			}
			w.printf("%s  <%s id=\"%s-%s\"", in, part.tag, esc(did), part.tag)
			for _, k := range model.SortedKeys(part.m) {
				w.printf(" %s=\"%s\"", esc(k), esc(part.m[k]))
			}
			w.printf("/>\n")
		}
		w.printf("%s </date_expression>\n", in)
	}
	for j, nested := range r.Rules {
		nid := nested.ID
		if nid == "" {
			nid = fmt.Sprintf("%s-r%d", rid, j)
		}
		w.rule(nested, w.id(nid), in+" ", false)
	}
	w.printf("%s</rule>\n", in)
}

func (w *writer) constraints(c *model.Constraints) {
	for _, l := range c.Locations {
		role := ""
		if l.Role != "" {
			role = fmt.Sprintf(" role=\"%s\"", esc(l.Role))
		}
		if l.Node != "" {
			w.printf("   <rsc_location id=\"%s\" rsc=\"%s\" node=\"%s\" score=\"%s\"%s/>\n", esc(l.ID), esc(l.Rsc), esc(l.Node), l.Score, role)
			continue
		}
		w.printf("   <rsc_location id=\"%s\" rsc=\"%s\"%s>\n", esc(l.ID), esc(l.Rsc), role)
		for i, r := range l.Rules {
			rid := r.ID
			if rid == "" {
				rid = fmt.Sprintf("%s-rule-%d", l.ID, i)
			}
			w.rule(r, w.id(rid), "    ", true)
		}
		w.printf("   </rsc_location>\n")
	}
	for _, cc := range c.Colocations {
		extra := ""
		extra += optAttr("rsc-role", cc.RscRole)
		extra += optAttr("with-rsc-role", cc.WithRole)
		extra += optAttr("node-attribute", cc.NodeAttribute)
		extra += optBoolAttr("influence", cc.Influence)
		w.printf("   <rsc_colocation id=\"%s\" rsc=\"%s\" with-rsc=\"%s\" score=\"%s\"%s/>\n", esc(cc.ID), esc(cc.Rsc), esc(cc.With), cc.Score, extra)
	}
	for _, o := range c.Orders {
		extra := ""
		extra += optAttr("first-action", o.FirstAction)
		extra += optAttr("then-action", o.ThenAction)
		extra += optAttr("kind", o.Kind)
		extra += optBoolAttr("symmetrical", o.Symmetrical)
		w.printf("   <rsc_order id=\"%s\" first=\"%s\" then=\"%s\"%s/>\n", esc(o.ID), esc(o.First), esc(o.Then), extra)
	}
	for _, t := range c.Tickets {
		w.printf("   <rsc_ticket id=\"%s\" ticket=\"%s\" rsc=\"%s\"%s%s/>\n", esc(t.ID), esc(t.Ticket), esc(t.Rsc), optAttr("rsc-role", t.RscRole), optAttr("loss-policy", t.LossPolicy))
	}
}

func (w *writer) status(doc *model.Document, nodes []string, now time.Time) {
	if len(doc.Status.Tickets) > 0 {
		w.printf("  <tickets>\n")
		for _, t := range doc.Status.Tickets {
			w.printf("   <ticket_state id=\"%s\" granted=\"%t\" standby=\"%t\"/>\n", esc(t.ID), t.Granted, t.Standby)
		}
		w.printf("  </tickets>\n")
	}
	state := map[string]model.NodeState{}
	for _, n := range doc.Status.Nodes {
		state[n.Name] = n
	}
	prims := map[string]*model.Resource{}
	var walk func(r *model.Resource)
	walk = func(r *model.Resource) {
		if r.KindOf() == model.KindPrimitive {
			prims[r.ID] = r
		}
		for _, m := range r.Members {
			walk(m)
		}
	}
	for _, r := range doc.Config.Resources {
		walk(r)
	}
	call := 0
	for i, name := range nodes {
		ns, ok := state[name]
		st := ns.State
		if !ok {
			st = model.NodeOffline
		}
		attrs := `in_ccm="true" crmd="online" join="member" expected="member"`
		switch st {
		case model.NodeOffline:
			attrs = `in_ccm="false" crmd="offline" join="down" expected="down"`
		case model.NodeUnclean:
			attrs = `in_ccm="false" crmd="offline" join="down" expected="member"`
		}
		w.printf("  <node_state id=\"%s\" uname=\"%s\" %s crm-debug-origin=\"palisade\">\n", esc(w.nodeID(name)), esc(name), attrs)
		ta := map[string]string{}
		for k, v := range ns.Attributes {
			ta[k] = v
		}
		if ns.Standby {
			ta["standby"] = "on"
		}
		if ns.Maintenance {
			ta["maintenance"] = "true"
		}
		if ns.Shutdown {
			ta["shutdown"] = strconv.FormatInt(now.Unix(), 10)
		}
		for _, f := range doc.Status.Failures {
			if f.Node != name {
				continue
			}
			op := f.Op
			if op == "" {
				op = "monitor"
			}
			iv := "0"
			if op == "monitor" {
				iv = strconv.FormatInt(monitorInterval(prims[baseID(f.Rsc)]), 10)
			}
			k := fmt.Sprintf("%s#%s_%s", f.Rsc, op, iv)
			ta["fail-count-"+k] = f.Count.String()
			if !f.LastFailure.IsZero() {
				ta["last-failure-"+k] = strconv.FormatInt(f.LastFailure.Unix(), 10)
			}
		}
		if len(ta) > 0 {
			w.printf("   <transient_attributes id=\"%d\">\n", i+1)
			w.nvset("instance_attributes", "status-"+strconv.Itoa(i+1), ta, "    ")
			w.printf("   </transient_attributes>\n")
		}
		w.printf("   <lrm id=\"%d\">\n    <lrm_resources>\n", i+1)
		for _, rs := range doc.Status.Resources {
			if rs.Node != name {
				continue
			}
			p := prims[baseID(rs.Rsc)]
			class, prov, typ := "ocf", "heartbeat", "Dummy"
			if p != nil {
				if p.Class != "" {
					class = p.Class
				}
				if p.Provider != "" {
					prov = p.Provider
				}
				if p.Type != "" {
					typ = p.Type
				}
			}
			provAttr := ""
			if class == "ocf" {
				provAttr = fmt.Sprintf(" provider=\"%s\"", esc(prov))
			}
			w.printf("     <lrm_resource id=\"%s\" class=\"%s\"%s type=\"%s\">\n", esc(rs.Rsc), esc(class), provAttr, esc(typ))
			// Pacemaker restarts a resource whose parameter digest changed;
			// this is its digest of an empty parameter set (feature set
			// 3.16.1). Resources with parameters get none and would restart.
			digest := ""
			if p == nil || len(p.Params) == 0 {
				digest = ` op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"`
			}
			op := func(name string, interval int64, rc, expected int) {
				call++
				w.printf("      <lrm_rsc_op id=\"%s_%s_%d\" operation_key=\"%s_%s_%d\" operation=\"%s\" crm-debug-origin=\"palisade\" crm_feature_set=\"3.16.1\" transition-key=\"%d:1:%d:00000000-0000-0000-0000-000000000000\" transition-magic=\"0:%d;%d:1:%d:00000000-0000-0000-0000-000000000000\" call-id=\"%d\" rc-code=\"%d\" op-status=\"0\" interval=\"%d\" last-rc-change=\"%d\" exec-time=\"0\" queue-time=\"0\"%s/>\n",
					esc(rs.Rsc), name, interval, esc(rs.Rsc), name, interval, name, call, expected, rc, call, expected, call, rc, interval, now.Unix(), digest)
			}
			role := model.NormalizeRole(rs.Role)
			failedOp := ""
			if rs.Failed {
				failedOp = "monitor"
				for _, f := range doc.Status.Failures {
					if f.Rsc == rs.Rsc && f.Node == name && f.Op != "" {
						failedOp = f.Op
					}
				}
			}
			if role != model.RoleStopped {
				// The failed operation is written as it happened so that
				// its on-fail policy applies: a failed start or stop
				// returns a generic error (1), a failed monitor "not
				// running" (7).
				if failedOp == "start" {
					op("start", 0, 1, 0)
				} else {
					op("start", 0, 0, 0)
				}
				if role == model.RolePromoted {
					op("promote", 0, 0, 0)
				}
				switch failedOp {
				case "monitor":
					op("monitor", monitorInterval(p), 7, 0)
				case "stop":
					op("stop", 0, 1, 0)
				case "promote", "demote":
					op(failedOp, 0, 1, 0)
				}
			}
			w.printf("     </lrm_resource>\n")
		}
		// Shutdown locks are written as Pacemaker records them: on the
		// stopped resource's history on the node it is locked to.
		for _, l := range doc.Status.Locks {
			if l.Node != name {
				continue
			}
			call++
			w.printf("     <lrm_resource id=\"%s\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\" shutdown-lock=\"%d\">\n", esc(l.Rsc), l.Since.Unix())
			w.printf("      <lrm_rsc_op id=\"%s_last_0\" operation_key=\"%s_stop_0\" operation=\"stop\" crm-debug-origin=\"palisade\" crm_feature_set=\"3.16.1\" transition-key=\"%d:1:0:00000000-0000-0000-0000-000000000000\" transition-magic=\"0:0;%d:1:0:00000000-0000-0000-0000-000000000000\" call-id=\"%d\" rc-code=\"0\" op-status=\"0\" interval=\"0\" last-rc-change=\"%d\" exec-time=\"0\" queue-time=\"0\" op-digest=\"f2317cad3d54cec5d7d7aa7d0bf35cf8\"/>\n",
				esc(l.Rsc), esc(l.Rsc), call, call, call, l.Since.Unix())
			w.printf("     </lrm_resource>\n")
		}
		// Hard errors are written as the probe that found them: the agent
		// not installed (5) on this node, or not configured (6).
		for _, h := range doc.Status.HardErrors {
			if h.Node != name && (h.Node != "" || i != 0) {
				continue
			}
			rc := 5
			if h.Node == "" {
				rc = 6
			}
			changed := now.Unix()
			if !h.LastFailure.IsZero() {
				changed = h.LastFailure.Unix()
			}
			call++
			w.printf("     <lrm_resource id=\"%s\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\">\n", esc(h.Rsc))
			w.printf("      <lrm_rsc_op id=\"%s_last_failure_0\" operation_key=\"%s_monitor_0\" operation=\"monitor\" crm-debug-origin=\"palisade\" crm_feature_set=\"3.16.1\" transition-key=\"%d:1:7:00000000-0000-0000-0000-000000000000\" transition-magic=\"0:%d;%d:1:7:00000000-0000-0000-0000-000000000000\" call-id=\"%d\" rc-code=\"%d\" op-status=\"0\" interval=\"0\" last-rc-change=\"%d\" exec-time=\"0\" queue-time=\"0\"/>\n",
				esc(h.Rsc), esc(h.Rsc), call, rc, call, call, rc, changed)
			w.printf("     </lrm_resource>\n")
		}
		w.printf("    </lrm_resources>\n   </lrm>\n  </node_state>\n")
	}
}

func baseID(id string) string {
	if i := strings.LastIndexByte(id, ':'); i >= 0 {
		if _, err := strconv.Atoi(id[i+1:]); err == nil {
			return id[:i]
		}
	}
	return id
}

func monitorInterval(p *model.Resource) int64 {
	if p != nil {
		for _, op := range p.Ops {
			if op.Name == "monitor" && op.Interval > 0 {
				return time.Duration(op.Interval).Milliseconds()
			}
		}
	}
	return 10000
}
