package agent

import (
	"context"
	"fmt"
	"strings"
)

// ParamChecker is implemented by built-in agents that check their
// parameters without I/O (syntax, ranges, unknown names).
type ParamChecker interface {
	CheckParams(params map[string]string) []ParamError
}

// Validate checks inst's parameters before a configuration is accepted.
// Always: a built-in agent's own checks, or an OCF agent's meta-data
// (required parameters, unknown names, types). With local (this node may
// run the resource): also that the agent is installed here, and its
// validate-all where it advertises one, which checks what only the node
// can tell (an interface that exists, a binary, a directory), with the
// agent's message in the error.
//
// Without local, an agent missing here is no error: the nodes that may run
// it check it.
func (r *Registry) Validate(ctx context.Context, inst Instance, local bool) []ParamError {
	var errs []ParamError
	if inst.Class == "palisade" {
		r.mu.RLock()
		a, ok := r.builtins[inst.Type]
		r.mu.RUnlock()
		if !ok {
			return []ParamError{{Msg: fmt.Sprintf("no built-in agent palisade:%s", inst.Type)}}
		}
		if c, ok := a.(ParamChecker); ok {
			errs = append(errs, c.CheckParams(inst.Params)...)
		}
	}
	md, err := r.Metadata(ctx, inst)
	switch {
	case err != nil && local:
		return append(errs, ParamError{Msg: err.Error()})
	case err != nil:
		return errs
	case md != nil && inst.Class != "palisade":
		errs = append(errs, md.CheckParams(inst.Params)...)
	}
	if !local || len(errs) > 0 || !md.Has(ValidateAll) {
		return errs
	}
	res := r.Run(ctx, ValidateAll, inst)
	if res.Status == StatusDone && res.RC == OK {
		return nil
	}
	return []ParamError{{Msg: "validate-all: " + validateFailure(res)}}
}

// validateFailure says why validate-all refused: its exit code and the
// agent's own reason (ocf-exit-reason, else its last error line).
func validateFailure(res Result) string {
	why := fmt.Sprintf("rc %d (%s)", int(res.RC), res.RC)
	if res.Status != StatusDone {
		why = res.Status.String()
	}
	reason := res.ExitReason
	if reason == "" {
		lines := strings.Split(strings.TrimSpace(res.Stderr), "\n")
		reason = strings.TrimSpace(lines[len(lines)-1])
	}
	if len(reason) > 300 {
		reason = reason[:300] + "..."
	}
	if reason != "" {
		why += ": " + reason
	}
	return why
}
