package dcrun

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"palisade/cluster/dc"
	"palisade/cluster/dcmsg"
	"palisade/cluster/replica"

	"palisade/cluster/recovery"
	"palisade/quorum"
	"palisade/resources/agent"
	"palisade/resources/executor"
	"palisade/resources/model"
)

// TestStartFailureIsFatal runs a failing start through the member side
// with a real executor: the fail count follows the configuration the DC
// sent with the action, INFINITY by default (Pacemaker's
// start-failure-is-fatal) and 1 when the option is false.
func TestStartFailureIsFatal(t *testing.T) {
	no, yes := false, true
	for _, c := range []struct {
		name  string
		fatal *bool
		want  int
	}{
		{"default", nil, executor.FailInfinity},
		{"true", &yes, executor.FailInfinity},
		{"false", &no, 1},
	} {
		failing := agent.AgentFunc(func(context.Context, agent.Action, agent.Instance) agent.Result {
			return agent.Result{RC: agent.ErrGeneric, Status: agent.StatusDone}
		})
		quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
		ex := executor.New(executor.Config{Node: "n1", Agent: failing, StartFailureIsFatal: true, Logger: quiet})
		t.Cleanup(ex.Close)
		cfg := &model.Config{Options: model.Options{StartFailureIsFatal: c.fatal},
			Resources: []*model.Resource{{ID: "a", Class: "ocf", Provider: "heartbeat", Type: "Dummy"}}}
		rt := New(Config{Coordinator: dc.Config{Self: "n1", Nodes: []string{"n1"}, Gate: recovery.New(recovery.Config{Self: "n1", Nodes: []string{"n1"}}),
			Quorum: mustQuorum(t, "n1"), CIB: &replica.CIB{Config: cfg}}, Executor: ex, Logger: quiet, Send: func(string, []byte) error { return nil }})
		rt.eng.SetView(dcmsg.SimpleView(1, "n1"), 0)
		rt.eng.Ready()
		rt.eng.Deliver(dcmsg.Message{Kind: dcmsg.KindAction, View: 1, From: "n1", Action: &dcmsg.Action{ID: 1, Op: "start", Resource: "a"}}, 0)
		rd := rt.eng.Ready()
		if len(rd.Exec) != 1 {
			t.Fatalf("%s: exec requests %+v, want the start", c.name, rd.Exec)
		}
		rt.exec(rd.Exec[0])
		if n, _ := ex.FailCount("a"); n != c.want {
			t.Errorf("%s: fail count after a failed start %d, want %d", c.name, n, c.want)
		}
	}
}

func mustQuorum(t *testing.T, names ...string) *quorum.Calculator {
	votes := map[string]int{}
	for _, n := range names {
		votes[n] = 1
	}
	q, err := quorum.New(quorum.Config{Nodes: votes})
	if err != nil {
		t.Fatal(err)
	}
	return q
}
