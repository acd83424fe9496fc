package engine

import (
	"testing"
	"time"

	"palisade/cluster/dc"
	"palisade/cluster/dcmsg"
	"palisade/cluster/recovery"
	"palisade/cluster/replica"
	"palisade/quorum"
	"palisade/resources/executor"
	"palisade/resources/model"
)

// TestInquorateIgnoreNeverFencesOrTakesOver: with no-quorum-policy=ignore
// the scheduler models Pacemaker, which fences a lost node and recovers its
// resources even without quorum. The daemon's one rule is enforced apart
// from the scheduler: a DC without quorum hands the fence to its recovery
// gate, which never sends it, and the gate refuses to start the lost
// node's resources anywhere. What the partition runs itself it keeps.
func TestInquorateIgnoreNeverFencesOrTakesOver(t *testing.T) {
	names := []string{"n1", "n2", "n3"}
	on := true
	cfg := &model.Config{
		Options: model.Options{StonithEnabled: &on, NoQuorumPolicy: "ignore"},
		Resources: []*model.Resource{
			{ID: "grp", Kind: model.KindGroup, Members: []*model.Resource{
				{ID: "vip", Class: "palisade", Type: "vip"}, {ID: "dummy", Class: "ocf", Provider: "heartbeat", Type: "Dummy"}}},
			{ID: "local", Class: "ocf", Provider: "heartbeat", Type: "Dummy"},
		},
	}
	s := &sim{t: t, nodes: map[string]*Engine{}, actions: map[string][]dcmsg.Action{}, running: map[string]string{}, up: map[string]bool{}, fenceBy: map[uint64]string{}, ops: map[string][]executor.Op{}}
	votes := map[string]int{"n1": 1, "n2": 1, "n3": 1}
	for _, n := range names {
		q, err := quorum.New(quorum.Config{Nodes: votes})
		if err != nil {
			t.Fatal(err)
		}
		// The daemon gives the gate the resources' no-quorum-policy when
		// the quorum section sets none (cmd/palisaded).
		s.nodes[n] = New(Config{Executor: true, Coordinator: dc.Config{Self: n, Nodes: names, Quorum: q,
			Gate:     recovery.New(recovery.Config{Self: n, Nodes: names, NoQuorumPolicy: quorum.PolicyIgnore}),
			Schedule: PackageScheduler, Wall: func() time.Time { return time.Unix(0, 0) },
			CIB: &replica.CIB{Version: replica.Version{Epoch: 1}, Config: cfg}}})
		s.up[n] = true
	}
	s.running["vip"], s.running["dummy"], s.running["local"] = "n1", "n1", "n3"
	s.view(1, "n1", "n2", "n3")
	if s.where("vip") != "n1" || s.where("local") != "n3" {
		t.Fatalf("resources moved in a healthy cluster: %v", s.running)
	}

	// n3 is cut off alone: it is the DC of an inquorate partition.
	s.up["n1"], s.up["n2"] = false, false
	s.now = time.Second
	s.view(2, "n3")
	dc := s.nodes["n3"].c
	if !dc.IsDC() || dc.Quorate() {
		t.Fatalf("n3: DC %v quorate %v, want an inquorate DC", dc.IsDC(), dc.Quorate())
	}
	// The scheduler, given the DC's status, does ask for the fence and
	// the takeover (Pacemaker's semantics for ignore) ...
	plan, err := PackageScheduler(cfg, dc.Status(), time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	fences, takeover := 0, 0
	for _, a := range plan {
		switch {
		case a.Op == "fence" && a.Node == "n1":
			fences++
		case a.Op == "start" && a.Node == "n3" && (a.Resource == "vip" || a.Resource == "dummy"):
			takeover++
		}
	}
	if fences != 1 || takeover != 2 {
		t.Fatalf("scheduler plan without quorum (ignore): %d fences of n1, %d starts of the group on n3, want 1 and 2: %+v", fences, takeover, plan)
	}
	// ... and the DC carries out none of it, however long it waits.
	for i := 2; i <= 60; i++ {
		s.now = time.Duration(i) * time.Second
		s.tick()
	}
	if len(s.fence) != 0 {
		t.Fatalf("an inquorate DC fenced: %+v", s.fence)
	}
	for _, a := range s.actions["n3"] {
		if a.Op == "start" && (a.Resource == "vip" || a.Resource == "dummy") {
			t.Fatalf("an inquorate DC took over the lost node's group: %v", s.actions["n3"])
		}
	}
	if s.where("local") != "n3" {
		t.Fatalf("with ignore the partition keeps what it runs: %v", s.running)
	}
	if vs := recovery.Verify(s.log); len(vs) > 0 {
		t.Fatalf("violations: %v", vs)
	}
}
