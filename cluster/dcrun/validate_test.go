package dcrun

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"palisade/cluster/dc"
	"palisade/cluster/dcmsg"
	"palisade/cluster/engine"
	"palisade/cluster/eventlog"
	"palisade/cluster/recovery"
	"palisade/cluster/replica"
	"palisade/quorum"
	"palisade/resources/agent"
	"palisade/resources/model"
)

// TestRuntimeValidatesOnNodes: a push is checked before it is proposed,
// statically on the proposer and with validate-all on every member that
// may run a changed resource (not on one its location bans); a problem
// anywhere refuses it, naming resource, parameter and node, and nothing
// changes.
func TestRuntimeValidatesOnNodes(t *testing.T) {
	names := []string{"n1", "n2", "n3"}
	base := &model.Config{Resources: []*model.Resource{{ID: "vip", Class: "palisade", Type: "vip", Params: map[string]string{"ip": "198.18.0.50", "nic": "eth0"}}}}
	rec := &recorder{}
	events := eventlog.New(rec, "")
	rts := map[string]*Runtime{}
	var mu sync.Mutex
	asked := map[string][]string{} // node → resources it ran validate-all for
	ctx, cancel := context.WithCancel(context.Background())
	var loops sync.WaitGroup
	defer func() { cancel(); loops.Wait() }()
	for _, n := range names {
		q, _ := quorum.New(quorum.Config{Nodes: map[string]int{"n1": 1, "n2": 1, "n3": 1}})
		from := n
		cib, fd, _ := replica.StartCIB(nil, base, 0)
		rts[n] = New(Config{
			Coordinator: dc.Config{Self: n, Nodes: names, Quorum: q, Gate: recovery.New(recovery.Config{Self: n, Nodes: names}),
				Schedule: engine.PackageScheduler, CIB: cib},
			Executor: &fakeExec{node: n, rec: rec, running: map[string]bool{}}, Events: events, TickEvery: 5 * time.Millisecond,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), FileDigest: fd,
			Send: func(to string, b []byte) error {
				go rts[to].Deliver(from, b)
				return nil
			},
			// Every node has eth0; only n1 and n2 have eth1.
			Validate: func(_ context.Context, inst agent.Instance, local bool) []agent.ParamError {
				var errs []agent.ParamError
				if strings.HasSuffix(inst.Params["ip"], ".500") {
					errs = append(errs, agent.ParamError{Param: "ip", Msg: `"198.18.0.500": want a unicast IPv4 or IPv6 address`})
				}
				if !local || len(errs) > 0 {
					return errs
				}
				mu.Lock()
				asked[from] = append(asked[from], inst.ID)
				mu.Unlock()
				if inst.Params["nic"] == "eth1" && from == "n3" {
					return []agent.ParamError{{Msg: "validate-all: rc 6 (not configured): interface eth1 for 198.18.0.51: Link not found"}}
				}
				return nil
			},
		})
		loops.Add(1)
		go func(rt *Runtime) { defer loops.Done(); rt.Run(ctx) }(rts[n])
	}
	for _, n := range names {
		rts[n].OnView(dcmsg.SimpleView(1, names...))
	}
	pctx, pcancel := context.WithTimeout(ctx, 10*time.Second)
	defer pcancel()
	push := func(params map[string]string, banN2 bool) error {
		cfg := &model.Config{Resources: []*model.Resource{{ID: "vip", Class: "palisade", Type: "vip", Params: params}}}
		if banN2 {
			cfg.Constraints.Locations = []model.Location{{ID: "no-n2", Rsc: "vip", Node: "n2", Score: -model.Infinity}}
		}
		mu.Lock()
		clear(asked)
		mu.Unlock()
		_, err := rts["n2"].PushConfig(pctx, PushRequest{Config: cfg})
		return err
	}
	running := func() string { ci, _ := rts["n1"].ConfigInfo(ctx); return ci.Digest }
	before := running()

	// Invalid address: refused by the static check, no node is asked.
	err := push(map[string]string{"ip": "198.18.0.500", "nic": "eth0"}, false)
	var verr *ValidationError
	if !errors.As(err, &verr) || len(verr.Problems) != 1 || verr.Problems[0].Param != "ip" || verr.Problems[0].Node != "" {
		t.Fatalf("invalid address: %v", err)
	}
	mu.Lock()
	if len(asked) != 0 {
		t.Errorf("nodes ran validate-all for a statically refused change: %v", asked)
	}
	mu.Unlock()
	// An interface n3 lacks: refused by n3's validate-all; n1 and n2 checked too.
	err = push(map[string]string{"ip": "198.18.0.51", "nic": "eth1"}, false)
	if !errors.As(err, &verr) || len(verr.Problems) != 1 || verr.Problems[0].Node != "n3" || !strings.Contains(err.Error(), "Link not found") {
		t.Fatalf("missing interface: %v", err)
	}
	mu.Lock()
	if len(asked["n1"]) != 1 || len(asked["n2"]) != 1 || len(asked["n3"]) != 1 {
		t.Errorf("validate-all ran on %v, want once on each node", asked)
	}
	mu.Unlock()
	if running() != before {
		t.Fatal("a refused change replaced the running configuration")
	}
	// Banned from n2, accepted: n2 is not asked, n1 and n3 are.
	if err := push(map[string]string{"ip": "198.18.0.51", "nic": "eth0"}, true); err != nil {
		t.Fatalf("valid change: %v", err)
	}
	mu.Lock()
	nodes := slices.Sorted(func(y func(string) bool) {
		for n := range asked {
			if !y(n) {
				return
			}
		}
	})
	mu.Unlock()
	if !slices.Equal(nodes, []string{"n1", "n3"}) {
		t.Errorf("validate-all ran on %v, want n1 n3 (n2 is banned)", nodes)
	}
	if running() == before {
		t.Error("the valid change was not applied")
	}
	// An edit changes no parameters: nothing is validated.
	mu.Lock()
	clear(asked)
	mu.Unlock()
	if _, err := rts["n3"].EditConfig(pctx, replica.Edit{Op: replica.EditStandby, Node: "n3"}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(asked) != 0 {
		t.Errorf("an edit ran validate-all: %v", asked)
	}
}
