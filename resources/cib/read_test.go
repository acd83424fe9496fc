package cib

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"palisade/resources/model"
	"palisade/resources/scheduler"
)

func readFile(t *testing.T, path string) (*model.Document, *Report) {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	doc, rep, err := Read(fh)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return doc, rep
}

// TestHeartbeat2 reads a Heartbeat 2 cib.xml (the seed 003 set-up) and
// schedules it.
func TestHeartbeat2(t *testing.T) {
	doc, rep := readFile(t, "testdata/heartbeat2.xml")
	c := doc.Config
	if c.Options.StonithEnabled == nil || *c.Options.StonithEnabled {
		t.Errorf("stonith_enabled=false not read: %+v", c.Options)
	}
	if c.RscDefaults["resource-stickiness"] != "100" {
		t.Errorf("default-resource-stickiness not mapped to rsc_defaults: %v", c.RscDefaults)
	}
	if len(c.Resources) != 2 || c.Resources[0].KindOf() != model.KindGroup || len(c.Resources[0].Members) != 2 {
		t.Fatalf("resources: %+v", c.Resources)
	}
	if got := c.Resources[0].Meta["resource-stickiness"]; got != "100" {
		t.Errorf("group meta resource_stickiness = %q", got)
	}
	if ip := c.Resources[0].Members[0]; ip.Params["ip"] != "198.18.0.50" || len(ip.Ops) != 1 || time.Duration(ip.Ops[0].Interval) != 10*time.Second {
		t.Errorf("ipaddr: %+v", ip)
	}
	if len(c.Constraints.Locations) != 1 || len(c.Constraints.Locations[0].Rules) != 2 {
		t.Errorf("locations: %+v", c.Constraints.Locations)
	}
	if cc := c.Constraints.Colocations; len(cc) != 1 || cc[0].Rsc != "mailto" || cc[0].With != "group_mysql" {
		t.Errorf("colocation from/to: %+v", cc)
	}
	if o := c.Constraints.Orders; len(o) != 1 || o[0].First != "group_mysql" || o[0].Then != "mailto" {
		t.Errorf("order from/type=after/to: %+v", o)
	}
	if !strings.Contains(strings.Join(rep.Unsupported, "\n"), "resource-failure-stickiness") {
		t.Errorf("failure stickiness not reported: %v", rep.Unsupported)
	}
	st := doc.Status
	if st.NoQuorum {
		t.Error("have_quorum=true read as no quorum")
	}
	var failed bool
	for _, r := range st.Resources {
		if r.Rsc == "mysql_db" && r.Node == "mysql1" && r.Failed {
			failed = true
		}
	}
	if !failed || len(st.Failures) != 1 || st.Failures[0].Count != 1 {
		t.Errorf("status: %+v", st)
	}
	out := scheduler.Schedule(scheduler.Input{Config: &doc.Config, Status: &doc.Status, Now: time.Unix(1767268900, 0)})
	want := "ipaddr mysql1 Started\nmailto mysql1 Started\nmysql_db mysql1 Started\n"
	if got := scheduler.FormatPlacement(out); got != want {
		t.Errorf("placement:\n%s\nwant:\n%s", got, want)
	}
	if !strings.Contains(strings.Join(out.Summary, "\n"), "Recover mysql_db ( mysql1 )") {
		t.Errorf("failed monitor should recover in place: %v", out.Summary)
	}
}

// TestUnsupportedNamed checks every unsupported feature is reported by
// name, read for scheduling (as palisade simulate --cib does) and read as
// configuration (as palisade config import does).
func TestUnsupportedNamed(t *testing.T) {
	data, err := os.ReadFile("testdata/unsupported.xml")
	if err != nil {
		t.Fatal(err)
	}
	doc, rep, err := ReadBytesWith(data, Options{Scheduling: true})
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(rep.Unsupported, "\n")
	for _, want := range []string{"no-quorum-policy=suicide", "remote node r1", "bundle web-bundle",
		"rsc-pattern in location l1"} {
		if !strings.Contains(all, want) {
			t.Errorf("unsupported report lacks %q:\n%s", want, all)
		}
	}
	// Read and modelled: not reported. Fencing topology, ACLs and
	// alerts cannot change placement: not reported either.
	for _, not := range []string{"template", "rsc_ticket", "resource_set", "fencing-topology", "tags"} {
		if strings.Contains(all, not) {
			t.Errorf("unsupported report names %q, which is read:\n%s", not, all)
		}
	}
	if len(doc.Config.Constraints.Tickets) != 1 || len(doc.Config.Constraints.Orders) != 0 {
		t.Errorf("ticket t1 and the one-resource order set o1: %+v", doc.Config.Constraints)
	}
	if !doc.Status.NoQuorum {
		t.Error("have-quorum=0 not read")
	}
	states := map[string]string{}
	for _, n := range doc.Status.Nodes {
		states[n.Name] = n.State
	}
	if states["n2"] != model.NodeUnclean {
		t.Errorf("n2 left without notice must be unclean with stonith enabled: %v", states)
	}
	// Fence devices are placed like Pacemaker places them.
	if doc.Config.Primitive("fence1") == nil || doc.Config.Nodes[0].ID != "1" {
		t.Errorf("read for scheduling: stonith resource fence1 and node ids: %+v", doc.Config)
	}

	// Read as configuration, fencing is the fence topology's: the fence
	// device is noted and left out, fencing-topology is named.
	doc, rep = readFile(t, "testdata/unsupported.xml")
	if doc.Config.Primitive("fence1") != nil || doc.Config.Nodes[0].ID != "" || doc.Config.NoFenceDevice {
		t.Errorf("read as configuration: fence1 kept, node ids or no fence device: %+v", doc.Config)
	}
	if !strings.Contains(strings.Join(rep.Notes, "\n"), "stonith resource fence1") {
		t.Errorf("stonith resource not noted: %v", rep.Notes)
	}
	if !strings.Contains(strings.Join(rep.Unsupported, "\n"), "fencing-topology") {
		t.Errorf("fencing-topology not named: %v", rep.Unsupported)
	}
}

func TestScanErrors(t *testing.T) {
	for _, in := range []string{"", "<cib>", "<cib></cob>", "<cib a=b/>", "<cib a=\"&bogus;\"/>", "<a/><b/>", "<cib><x y=\"1\"></cib>", "<notcib/>", "<cib/>"} {
		if _, _, err := Read(strings.NewReader(in)); err == nil {
			t.Errorf("Read(%q) succeeded, want an error", in)
		}
	}
}

// TestMultipleActive reads the multiple-active meta attribute (and its
// Heartbeat 2 spelling) from resources and rsc_defaults, and the scheduler
// applies it: the default stop_start restarts a resource active on both
// nodes, stop_only stops it everywhere.
func TestMultipleActive(t *testing.T) {
	const xml = `<cib have-quorum="1"><configuration>
<crm_config><cluster_property_set id="o"><nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
<nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
<resources>
  <primitive id="a" class="ocf" provider="heartbeat" type="Dummy"/>
  <primitive id="b" class="ocf" provider="heartbeat" type="Dummy">
    <meta_attributes id="b-m"><nvpair id="b-m1" name="multiple_active" value="stop_start"/></meta_attributes>
  </primitive>
</resources>
<constraints/>
<rsc_defaults><meta_attributes id="d"><nvpair id="d1" name="multiple-active" value="stop_only"/></meta_attributes></rsc_defaults>
</configuration>
<status>
  <node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member"><lrm id="1"><lrm_resources>
    <lrm_resource id="a" class="ocf" provider="heartbeat" type="Dummy"><lrm_rsc_op id="a1" operation_key="a_start_0" operation="start" call-id="1" rc-code="0" op-status="0" interval="0"/></lrm_resource>
    <lrm_resource id="b" class="ocf" provider="heartbeat" type="Dummy"><lrm_rsc_op id="b1" operation_key="b_start_0" operation="start" call-id="2" rc-code="0" op-status="0" interval="0"/></lrm_resource>
  </lrm_resources></lrm></node_state>
  <node_state id="2" uname="n2" in_ccm="true" crmd="online" join="member" expected="member"><lrm id="2"><lrm_resources>
    <lrm_resource id="a" class="ocf" provider="heartbeat" type="Dummy"><lrm_rsc_op id="a2" operation_key="a_start_0" operation="start" call-id="1" rc-code="0" op-status="0" interval="0"/></lrm_resource>
    <lrm_resource id="b" class="ocf" provider="heartbeat" type="Dummy"><lrm_rsc_op id="b2" operation_key="b_start_0" operation="start" call-id="2" rc-code="0" op-status="0" interval="0"/></lrm_resource>
  </lrm_resources></lrm></node_state>
</status></cib>`
	doc, _, err := Read(strings.NewReader(xml))
	if err != nil {
		t.Fatal(err)
	}
	if got := doc.Config.RscDefaults["multiple-active"]; got != "stop_only" {
		t.Errorf("rsc_defaults multiple-active = %q", got)
	}
	if got := doc.Config.Resources[1].Meta["multiple-active"]; got != "stop_start" {
		t.Errorf("b meta multiple_active not normalized: %v", doc.Config.Resources[1].Meta)
	}
	out := scheduler.Schedule(scheduler.Input{Config: &doc.Config, Status: &doc.Status})
	want := "a Stopped\nb n1 Started\n"
	if got := scheduler.FormatPlacement(out); got != want {
		t.Errorf("placement:\n%s\nwant:\n%s", got, want)
	}
	if got, want := strings.Join(out.Summary, "\n"), "Stop a ( n1 n2 )\nRestart b ( n1 )"; got != want {
		t.Errorf("summary:\n%s\nwant:\n%s", got, want)
	}
}

// TestHistoryMeanings reads probe and operation results as Pacemaker
// does: a probe finding the resource promoted (8) is not a failure; a
// probe finding the agent not installed (5) means not running there and
// bans the node; not configured (6) bans every node; a failure whose
// on-fail is ignore bans nothing.
func TestHistoryMeanings(t *testing.T) {
	op := func(rsc, name string, interval, rc, expected, call int) string {
		return fmt.Sprintf(`<lrm_rsc_op id="%s_%s_%d" operation="%s" interval="%d" rc-code="%d" op-status="0" call-id="%d" transition-key="1:1:%d:x"/>`, rsc, name, interval, name, interval, rc, call, expected)
	}
	cibText := `<cib have-quorum="1" crm_feature_set="3.16.1"><configuration><crm_config/><nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
<resources><clone id="pc"><meta_attributes id="m"><nvpair id="m1" name="promotable" value="true"/></meta_attributes><primitive id="p" class="ocf" provider="pacemaker" type="Stateful"/></clone>
<primitive id="ni" class="ocf" provider="heartbeat" type="Dummy"/><primitive id="nc" class="ocf" provider="heartbeat" type="Dummy"/>
<primitive id="ig" class="ocf" provider="heartbeat" type="Dummy"><operations><op id="ig-m" name="monitor" interval="10s" on-fail="ignore"/></operations></primitive></resources><constraints/></configuration>
<status><node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member"><lrm id="1"><lrm_resources>
<lrm_resource id="p" class="ocf" provider="pacemaker" type="Stateful">` + op("p", "monitor", 0, 8, 7, 1) + `</lrm_resource>
<lrm_resource id="ni" class="ocf" provider="heartbeat" type="Dummy">` + op("ni", "monitor", 0, 5, 7, 2) + `</lrm_resource>
<lrm_resource id="nc" class="ocf" provider="heartbeat" type="Dummy">` + op("nc", "monitor", 0, 6, 7, 3) + `</lrm_resource>
<lrm_resource id="ig" class="ocf" provider="heartbeat" type="Dummy">` + op("ig", "start", 0, 0, 0, 4) + op("ig", "monitor", 10000, 5, 0, 5) + `</lrm_resource>
</lrm_resources></lrm></node_state><node_state id="2" uname="n2" in_ccm="true" crmd="online" join="member" expected="member"/></status></cib>`
	doc, _, err := Read(strings.NewReader(cibText))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]model.ResourceStatus{}
	for _, r := range doc.Status.Resources {
		got[r.Rsc] = r
	}
	if r := got["p"]; r.Role != model.RolePromoted || r.Failed {
		t.Errorf("probe rc 8: %+v, want promoted and not failed", r)
	}
	if _, ok := got["ni"]; ok {
		t.Errorf("probe rc 5 must mean not running: %+v", got["ni"])
	}
	bans := map[string]string{}
	for _, h := range doc.Status.HardErrors {
		bans[h.Rsc] = h.Node
	}
	if n, ok := bans["ni"]; !ok || n != "n1" {
		t.Errorf("rc 5 must ban n1: %+v", doc.Status.HardErrors)
	}
	if n, ok := bans["nc"]; !ok || n != "" {
		t.Errorf("rc 6 must ban every node: %+v", doc.Status.HardErrors)
	}
	if _, ok := bans["ig"]; ok {
		t.Errorf("on-fail=ignore must ban nothing: %+v", doc.Status.HardErrors)
	}
	out := scheduler.Schedule(scheduler.Input{Config: &doc.Config, Status: &doc.Status, Now: time.Unix(1767268800, 0)})
	place := scheduler.FormatPlacement(out)
	for _, want := range []string{"ni n2 Started", "nc Stopped", "ig n1 Started"} {
		if !strings.Contains(place, want) {
			t.Errorf("placement lacks %q:\n%s", want, place)
		}
	}
}
