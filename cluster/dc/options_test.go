package dc

import (
	"context"
	"io"
	"log/slog"
	"testing"

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
		rt := NewRuntime(RuntimeConfig{Coordinator: Config{Self: "n1", Nodes: []string{"n1"}}, Executor: ex,
			Logger: quiet, Send: func(string, []byte) error { return nil }})
		cfg := &model.Config{Options: model.Options{StartFailureIsFatal: c.fatal},
			Resources: []*model.Resource{{ID: "a", Class: "ocf", Provider: "heartbeat", Type: "Dummy"}}}
		rt.runAction(1, "n1", Action{ID: 1, Op: "start", Resource: "a"}, cfg)
		if n, _ := ex.FailCount("a"); n != c.want {
			t.Errorf("%s: fail count after a failed start %d, want %d", c.name, n, c.want)
		}
	}
}
