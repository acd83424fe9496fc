package ping

import (
	"net/netip"
	"testing"
	"time"

	"palisade/resources/model"
	"palisade/resources/scheduler"
)

// The package documentation's location rules, with the attribute this
// package publishes, run through the real scheduler: the VIP goes to the
// node that reaches the uplink, and leaves a node that lost it (ipfail).
func TestAttributeInLocationRules(t *testing.T) {
	const doc = `
config:
  options: {stonith-enabled: false}
  resources:
    - {id: vip, type: IPaddr2}
  constraints:
    locations:
      - id: vip-needs-uplink
        rsc: vip
        rules:
          - score: -INFINITY
            boolean-op: or
            expressions: [{attribute: pingd, operation: not_defined},
                          {attribute: pingd, operation: lt, value: "100"}]
      - {id: prefer-connected, rsc: vip, rules: [{score-attribute: pingd, expressions: [{attribute: pingd, operation: defined}]}]}
status:
  nodes: [{name: n1}, {name: n2}]
  resources: [{rsc: vip, node: n1}]
`
	d, err := model.DecodeYAML([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Interval: time.Second, Timeout: 3 * time.Second, Attribute: "pingd",
		Groups: []Group{{Name: "uplink", Weight: 100, Addresses: []netip.Addr{netip.MustParseAddr("198.18.0.254")}},
			{Name: "peer", Weight: 10, Addresses: []netip.Addr{netip.MustParseAddr("198.18.0.2")}}}}
	attrs := func(replies ...string) map[string]string {
		tr, _ := NewTracker(cfg)
		for _, a := range replies {
			tr.Reply(netip.MustParseAddr(a), time.Second)
		}
		k, v := tr.Status(time.Second).NodeAttribute()
		return map[string]string{k: v}
	}
	place := func(n1, n2 map[string]string) string {
		st := d.Status
		st.Nodes = []model.NodeState{{Name: "n1", Attributes: n1}, {Name: "n2", Attributes: n2}}
		out := scheduler.Schedule(scheduler.Input{Config: &d.Config, Status: &st, Now: time.Unix(0, 0)})
		return scheduler.FormatPlacement(out)
	}
	both := attrs("198.18.0.254", "198.18.0.2")
	lost := attrs("198.18.0.2")
	if got := place(both, both); got != "vip n1 Started\n" {
		t.Errorf("both connected: %q (stays where it runs)", got)
	}
	if got := place(lost, both); got != "vip n2 Started\n" {
		t.Errorf("n1 lost its uplink: %q, want vip on n2", got)
	}
	if got := place(lost, lost); got != "vip Stopped\n" {
		t.Errorf("nobody reaches the uplink: %q, want stopped", got)
	}
}
