package dcmsg

import (
	"encoding/json"
	"testing"
	"time"

	"palisade/cluster/replica"
	"palisade/resources/model"
)

func FuzzDecode(f *testing.F) {
	for _, m := range []Message{
		{Kind: KindAction, From: "n1", View: 3, Action: &Action{ID: 1, Op: "start", Resource: "vip", Node: "n2"}},
		{Kind: KindStatus, From: "n1", Status: &NodeStatus{Node: "n1"}},
		{Kind: KindStatusRequest, From: "n1"},
		// Seeds reaching the nested payloads: CIB with configuration and
		// status, proposals, results, fencing.
		{Kind: KindCIB, From: "n1", View: 2, CIB: &replica.CIB{Version: replica.Version{AdminEpoch: 1, Epoch: 2, NumUpdates: 3},
			Config: &model.Config{Resources: []*model.Resource{{ID: "vip", Type: "IPaddr2", Params: map[string]string{"ip": "198.18.0.50"},
				Ops: []model.Op{{Name: "monitor", Interval: model.Duration(10 * time.Second)}}}},
				Constraints: model.Constraints{Locations: []model.Location{{ID: "l", Rsc: "vip", Node: "n2", Score: model.Infinity}}}},
			Status: model.Status{Nodes: []model.NodeState{{Name: "n1", State: "online"}},
				Resources: []model.ResourceStatus{{Rsc: "vip", Node: "n1"}},
				Failures:  []model.Failure{{Rsc: "vip", Node: "n2", Op: "start", Count: 2, LastFailure: time.Unix(1767268800, 0).UTC()}}},
			Reported: []string{"n1"}}},
		{Kind: KindActionResult, From: "n1", Result: &ActionResult{ID: 4, Op: "stop", Resource: "vip", Node: "n1", OK: true, RC: 0, FailCount: 1}},
		{Kind: KindFenceRequest, From: "n1", Target: "n2", Reason: "stop failed"},
		{Kind: KindConfigPropose, From: "n1", Proposal: &Proposal{ID: "n1/1", Config: &model.Config{}, AdminEpoch: 2, Source: "push"}},
		{Kind: KindConfigResult, From: "n1", ConfigResult: &ConfigResult{ID: "n1/1", Accepted: true, Version: replica.Version{Epoch: 3}}},
	} {
		b, _ := json.Marshal(m)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode("n1", b)
		if err != nil {
			return
		}
		if m.From != "n1" {
			t.Fatal("accepted a forged sender")
		}
		// Whatever is accepted can be relayed: it re-encodes, and the
		// re-encoding decodes to the same message.
		out, err := Encode(m)
		if err != nil {
			t.Fatalf("accepted message cannot be re-encoded: %v", err)
		}
		m2, err := Decode("n1", out)
		if err != nil {
			t.Fatalf("re-encoded message refused: %v\n%s", err, out)
		}
		if again, _ := Encode(m2); string(again) != string(out) {
			t.Fatalf("round trip changed the message:\n%s\n%s", out, again)
		}
	})
}
