package dcrun

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"palisade/cluster/config"
	"palisade/cluster/dc"
	"palisade/cluster/dcmsg"
	"palisade/cluster/engine"
	"palisade/cluster/replica"

	"palisade/cluster/eventlog"
	"palisade/cluster/recovery"
	"palisade/quorum"
	"palisade/resources/model"
)

// TestRuntimePushConfig runs three runtimes (goroutines, JSON messages):
// a push on a member is forwarded to the DC, replicated and persisted by
// every node; a bad configuration is refused at once; without a view the
// push is retried until its context ends.
func TestRuntimePushConfig(t *testing.T) {
	names := []string{"n1", "n2", "n3"}
	base := &model.Config{Resources: []*model.Resource{{ID: "grp", Kind: model.KindGroup, Members: []*model.Resource{
		{ID: "vip", Class: "palisade", Type: "vip"}, {ID: "dummy", Class: "ocf", Provider: "heartbeat", Type: "Dummy"}}}}}
	rec := &recorder{}
	events := eventlog.New(rec, "")
	rts := map[string]*Runtime{}
	dirs := map[string]string{}
	ctx, cancel := context.WithCancel(context.Background())
	// Every loop must have returned before the temporary state
	// directories are removed: a loop may still be persisting.
	var loops sync.WaitGroup
	defer func() { cancel(); loops.Wait() }()
	for _, n := range names {
		q, _ := quorum.New(quorum.Config{Nodes: map[string]int{"n1": 1, "n2": 1, "n3": 1}})
		from := n
		dirs[n] = t.TempDir()
		cib, fd, _ := replica.StartCIB(nil, base, 0)
		rts[n] = New(Config{
			Coordinator: dc.Config{Self: n, Nodes: names, Quorum: q, Gate: recovery.New(recovery.Config{Self: n, Nodes: names}),
				Schedule: engine.PackageScheduler, CIB: cib},
			Executor: &fakeExec{node: n, rec: rec, running: map[string]bool{}}, Events: events, TickEvery: 5 * time.Millisecond,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), StateDir: dirs[n], FileDigest: fd,
			Send: func(to string, b []byte) error {
				go rts[to].Deliver(from, b)
				return nil
			},
		})
		loops.Add(1)
		go func(rt *Runtime) { defer loops.Done(); rt.Run(ctx) }(rts[n])
	}

	// No view yet: nobody can take the change; the push gives up with the reason.
	sctx, scancel := context.WithTimeout(ctx, 700*time.Millisecond)
	_, err := rts["n2"].PushConfig(sctx, PushRequest{Config: base})
	scancel()
	if err == nil || !errors.Is(err, dcmsg.ErrRetry) || !strings.Contains(err.Error(), "in no membership view yet") {
		t.Fatalf("push without a view: %v", err)
	}

	for _, n := range names {
		rts[n].OnView(dcmsg.SimpleView(1, names...))
	}
	doc, err := config.ParseDocument("move.yaml", []byte(`resources:
  - id: grp
    kind: group
    members:
      - {id: vip, class: palisade, type: vip}
      - {id: dummy, class: ocf, provider: heartbeat, type: Dummy}
constraints:
  locations: [{id: grp-on-n3, rsc: grp, node: n3, score: INFINITY}]
`))
	if err != nil {
		t.Fatal(err)
	}
	moved := doc.Resources
	pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
	defer pcancel()
	res, err := rts["n3"].PushConfig(pctx, PushRequest{Config: moved, Source: "test"})
	if err != nil || !res.Accepted || res.DC != "n1" || res.Version.Epoch != 2 {
		t.Fatalf("push on n3: %+v %v", res, err)
	}
	waitFor(t, func() bool {
		for _, n := range names {
			ci, err := rts[n].ConfigInfo(ctx)
			if err != nil || ci.Digest != res.Digest || !APIVersion(res.Version).SameConfig(ci.Version) {
				return false
			}
			p, err := LoadPersisted(dirs[n])
			if err != nil || p == nil || p.Digest != res.Digest {
				return false
			}
		}
		return true
	}, "every node runs and persisted the pushed configuration")
	waitFor(t, func() bool { return rec.index("n3 start dummy") >= 0 }, "the group moved to n3")

	bad := &model.Config{Resources: moved.Resources, Constraints: model.Constraints{Locations: []model.Location{{ID: "x", Rsc: "web", Node: "n1"}}}}
	res, err = rts["n2"].PushConfig(pctx, PushRequest{Config: bad})
	if err == nil || errors.Is(err, dcmsg.ErrRetry) || !strings.Contains(err.Error(), `unknown resource "web"`) {
		t.Fatalf("bad push: %+v %v", res, err)
	}
	if ci, _ := rts["n1"].ConfigInfo(ctx); ci.Digest != replica.ConfigDigest(moved) {
		t.Fatal("a refused configuration replaced the running one")
	}

	// A change that removes dummy: n3 still knows how to stop it.
	vipOnly := &model.Config{Resources: []*model.Resource{{ID: "vip", Class: "palisade", Type: "vip"}}}
	if _, err := rts["n1"].PushConfig(pctx, PushRequest{Config: vipOnly}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return rec.index("n3 stop dummy") >= 0 }, "the removed resource stopped")
}
