package cibtest

import (
	"fmt"
	"math/rand"
	"time"

	"palisade/resources/model"
)

// Generate builds a cluster (the benchmark CIBs of hw-tests/cmd/bench-scheduler
// and of package cib): 30 % of resources in groups of three, the
// rest primitives; half of the top-level resources prefer a node, a tenth
// carry attribute rules, 5 % colocations and 5 % orders between top-level
// resources, stickiness 100, migration-threshold 3, 2 % with fail counts,
// 80 % already running. The seed makes it reproducible; failures are a
// minute before now.
func Generate(nNodes, nRscs int, seed int64, now time.Time) *model.Document {
	rng := rand.New(rand.NewSource(seed))
	doc := &model.Document{}
	c := &doc.Config
	off := false
	c.Options.StonithEnabled = &off
	c.RscDefaults = map[string]string{"resource-stickiness": "100", "migration-threshold": "3"}
	node := func(i int) string { return fmt.Sprintf("node%03d", i+1) }
	for i := 0; i < nNodes; i++ {
		c.Nodes = append(c.Nodes, model.Node{Name: node(i), Attributes: map[string]string{"rack": fmt.Sprintf("r%d", i%4)}})
		doc.Status.Nodes = append(doc.Status.Nodes, model.NodeState{Name: node(i), State: model.NodeOnline})
	}
	type top struct {
		id    string
		prims []string
	}
	var tops []top
	grouped := nRscs * 3 / 10 / 3
	made := 0
	for g := 0; g < grouped; g++ {
		grp := &model.Resource{ID: fmt.Sprintf("grp%05d", g), Kind: model.KindGroup}
		var ids []string
		for m := 0; m < 3; m++ {
			id := fmt.Sprintf("grp%05d-m%d", g, m)
			grp.Members = append(grp.Members, &model.Resource{ID: id, Class: "ocf", Provider: "heartbeat", Type: "Dummy"})
			ids = append(ids, id)
			made++
		}
		c.Resources = append(c.Resources, grp)
		tops = append(tops, top{grp.ID, ids})
	}
	for i := 0; made < nRscs; i++ {
		id := fmt.Sprintf("rsc%05d", i)
		c.Resources = append(c.Resources, &model.Resource{ID: id, Class: "ocf", Provider: "heartbeat", Type: "Dummy"})
		tops = append(tops, top{id, []string{id}})
		made++
	}
	// Shuffle so groups and primitives interleave in the configuration.
	rng.Shuffle(len(c.Resources), func(i, j int) {
		c.Resources[i], c.Resources[j] = c.Resources[j], c.Resources[i]
		tops[i], tops[j] = tops[j], tops[i]
	})
	for i, t := range tops {
		switch r := rng.Intn(20); {
		case r < 10:
			c.Constraints.Locations = append(c.Constraints.Locations, model.Location{ID: fmt.Sprintf("loc-%d", i), Rsc: t.id, Node: node(rng.Intn(nNodes)), Score: model.Score(rng.Intn(200))})
		case r < 12:
			c.Constraints.Locations = append(c.Constraints.Locations, model.Location{ID: fmt.Sprintf("rule-%d", i), Rsc: t.id, Rules: []model.Rule{{
				Score: model.Score(25 + rng.Intn(50)), Expressions: []model.Expression{{Attribute: "rack", Operation: "eq", Value: fmt.Sprintf("r%d", rng.Intn(4))}}}}})
		case r < 13:
			c.Constraints.Locations = append(c.Constraints.Locations, model.Location{ID: fmt.Sprintf("ban-%d", i), Rsc: t.id, Rules: []model.Rule{{
				Score: -model.Infinity, Expressions: []model.Expression{{Attribute: "#uname", Operation: "eq", Value: node(rng.Intn(nNodes))}}}}})
		}
		if i > 0 && rng.Intn(20) == 0 {
			score := model.Score(model.Infinity)
			if rng.Intn(2) == 0 {
				score = 100
			}
			c.Constraints.Colocations = append(c.Constraints.Colocations, model.Colocation{ID: fmt.Sprintf("col-%d", i), Rsc: t.id, With: tops[rng.Intn(i)].id, Score: score})
		}
		if i > 0 && rng.Intn(20) == 0 {
			c.Constraints.Orders = append(c.Constraints.Orders, model.Order{ID: fmt.Sprintf("ord-%d", i), First: tops[rng.Intn(i)].id, Then: t.id})
		}
		if rng.Intn(10) < 8 {
			n := node(rng.Intn(nNodes))
			for _, p := range t.prims {
				doc.Status.Resources = append(doc.Status.Resources, model.ResourceStatus{Rsc: p, Node: n})
			}
			if rng.Intn(50) == 0 {
				doc.Status.Failures = append(doc.Status.Failures, model.Failure{Rsc: t.prims[0], Node: n, Op: "monitor", Count: model.Score(1 + rng.Intn(3)), LastFailure: now.Add(-time.Minute)})
			}
		}
	}
	return doc
}
