package cib_test

import (
	"bytes"
	"os"
	"testing"
	"time"

	"palisade/resources/cib"
	"palisade/resources/cib/cibtest"
	"palisade/resources/model"
	"palisade/resources/scheduler"
)

// TestRoundTrip writes a document as CIB and reads it back.
func TestRoundTrip(t *testing.T) {
	yes := true
	doc := &model.Document{
		Config: model.Config{
			Options: model.Options{StonithEnabled: &yes, NoQuorumPolicy: "freeze"},
			Nodes:   []model.Node{{Name: "n1", Attributes: map[string]string{"rack": "a&b"}}, {Name: "n2", Utilization: map[string]int{"cpu": 4}}},
			Resources: []*model.Resource{
				{ID: "g", Kind: model.KindGroup, Meta: map[string]string{"resource-stickiness": "100"}, Members: []*model.Resource{{ID: "g1", Type: "Dummy"}, {ID: "g2", Class: "lsb", Type: "nginx"}}},
				{ID: "p", Kind: model.KindClone, Meta: map[string]string{"promotable": "true"}, Members: []*model.Resource{{ID: "s", Provider: "pacemaker", Type: "Stateful"}}},
			},
			Constraints: model.Constraints{
				Locations:   []model.Location{{ID: "l1", Rsc: "g", Node: "n1", Score: model.Infinity}, {ID: "l2", Rsc: "g", Rules: []model.Rule{{Score: -5, Expressions: []model.Expression{{Attribute: "rack", Operation: "eq", Value: "x\"y"}}}}}},
				Colocations: []model.Colocation{{ID: "c1", Rsc: "g", With: "p", Score: model.Infinity, WithRole: "Promoted"}},
				Orders:      []model.Order{{ID: "o1", First: "p", FirstAction: "promote", Then: "g", ThenAction: "start"}},
			},
		},
		Status: model.Status{
			Nodes:     []model.NodeState{{Name: "n1", State: "online", Attributes: map[string]string{"master-s": "10"}}, {Name: "n2", State: "unclean"}},
			Resources: []model.ResourceStatus{{Rsc: "g1", Node: "n1"}, {Rsc: "s", Node: "n1", Role: "Promoted"}, {Rsc: "g2", Node: "n1", Failed: true}},
			Failures:  []model.Failure{{Rsc: "g2", Node: "n1", Op: "monitor", Count: 2, LastFailure: time.Unix(1767268800, 0).UTC()}},
		},
	}
	var buf bytes.Buffer
	if err := cibtest.Write(&buf, doc, time.Unix(1767268800, 0)); err != nil {
		t.Fatal(err)
	}
	back, rep, err := cib.Read(&buf)
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	if len(rep.Unsupported) != 0 {
		t.Errorf("unsupported after round trip: %v", rep.Unsupported)
	}
	now := time.Unix(1767268800, 0)
	a := scheduler.Schedule(scheduler.Input{Config: &doc.Config, Status: &doc.Status, Now: now, Scores: true})
	b := scheduler.Schedule(scheduler.Input{Config: &back.Config, Status: &back.Status, Now: now, Scores: true})
	for _, f := range []func(scheduler.Output) string{scheduler.FormatScores, scheduler.FormatPlacement, scheduler.FormatTransition} {
		if x, y := f(a), f(b); x != y {
			t.Errorf("round trip changed the decision:\n%s\n---\n%s", x, y)
		}
	}
	if back.Config.Nodes[0].Attributes["rack"] != "a&b" || back.Config.Constraints.Locations[1].Rules[0].Expressions[0].Value != "x\"y" {
		t.Errorf("escaping lost: %+v", back.Config)
	}
}

// FuzzRead reads arbitrary CIB XML. Whatever reads must schedule, and
// what cibtest.Write makes of it must read back to the same document.
func FuzzRead(f *testing.F) {
	for _, p := range []string{"testdata/heartbeat2.xml", "testdata/unsupported.xml"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`<cib><configuration><resources><clone id="c"><primitive id="p" class="ocf" type="Dummy"/></clone></resources></configuration><status/></cib>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, _, err := cib.Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		// Whatever parses must schedule without panicking.
		now := time.Unix(1767268800, 0)
		scheduler.Schedule(scheduler.Input{Config: &doc.Config, Status: &doc.Status, Now: now, Scores: true})
		// Written back it reads again, and a second write is the same
		// text: what crm_simulate is fed is what we read.
		var first, second bytes.Buffer
		if err := cibtest.Write(&first, doc, now); err != nil {
			t.Fatalf("accepted document cannot be written: %v", err)
		}
		doc2, _, err := cib.Read(bytes.NewReader(first.Bytes()))
		if err != nil {
			t.Fatalf("written document cannot be read back: %v\n%s", err, first.String())
		}
		if err := cibtest.Write(&second, doc2, now); err != nil {
			t.Fatal(err)
		}
		if first.String() != second.String() {
			t.Fatalf("write, read, write changed the document:\n%s\n----\n%s", first.String(), second.String())
		}
	})
}
