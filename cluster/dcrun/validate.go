package dcrun

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"palisade/cluster/api"
	"palisade/cluster/dcmsg"
	"palisade/cluster/replica"
	"palisade/resources/agent"
	"palisade/resources/model"
	"palisade/resources/scheduler"
)

// Validator checks one resource definition on this node (the daemon
// gives resources/agent's Registry.Validate): always what the agent's
// meta-data or a built-in agent's own checks say; with local (this node
// may run the resource) also the agent's validate-all.
type Validator func(ctx context.Context, inst agent.Instance, local bool) []agent.ParamError

// ValidateTimeout bounds the wait for the nodes' answers to a validation.
const ValidateTimeout = 15 * time.Second

// ValidationError is a configuration refused before it was proposed: its
// resources' parameters failed the agents' checks. Nothing changed
// anywhere.
type ValidationError struct {
	Problems []dcmsg.ParamProblem
}

// ErrorCode makes the control API answer "invalid".
func (e *ValidationError) ErrorCode() string { return string(api.Invalid) }

// Locate renders the problems with the file and line of each parameter
// (line(rsc, param) finds it; 0: unknown).
func (e *ValidationError) Locate(file string, line func(rsc, param string) int) string {
	var b strings.Builder
	b.WriteString("resource parameters refused, nothing changed:")
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		if l := line(p.Resource, p.Param); l > 0 {
			fmt.Fprintf(&b, "%s:%d: ", file, l)
		}
		b.WriteString(p.String())
	}
	return b.String()
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("resource parameters refused, nothing changed:")
	for _, p := range e.Problems {
		b.WriteString("\n  " + p.String())
	}
	return b.String()
}

// Why the agent checks run here and not in the DC: the DC's decision on a
// proposal is pure (dc.Coordinator.Propose), but validate-all and "does
// this interface exist" are questions only the nodes that may run a
// resource can answer. So the proposing node checks a change before it
// proposes it: the static checks (meta-data, built-in agents) itself, and
// asks every member that may run a changed resource (scheduler.MayRun) to
// run its validate-all (KindValidate); the change is proposed only when
// every one of them answered without a problem. Members that are down are
// not asked (a resource with none up is checked statically only); a node
// that joins later and cannot run it reports the agent's error on start
// (rc 2/5/6), as Pacemaker does.
func (r *Runtime) validateChange(ctx context.Context, next *model.Config) error {
	if r.cfg.Validate == nil || next == nil {
		return nil
	}
	ci, err := r.ConfigInfo(ctx)
	if err != nil {
		return err
	}
	changed := changedPrimitives(next, ci.Config)
	if len(changed) == 0 {
		return nil
	}
	var problems []dcmsg.ParamProblem
	add := func(rsc, node string, errs []agent.ParamError) {
		for _, e := range errs {
			problems = append(problems, dcmsg.ParamProblem{Resource: rsc, Param: e.Param, Node: node, Msg: e.Msg})
		}
	}
	for _, p := range changed {
		add(p.ID, "", r.cfg.Validate(ctx, replica.Instance(p, "validate-all", 0), false))
	}
	if len(problems) > 0 {
		return &ValidationError{Problems: problems}
	}
	may := scheduler.MayRun(next, r.cfg.Coordinator.Nodes)
	members := r.Snapshot().Members
	perNode := map[string][]*model.Resource{}
	for _, p := range changed {
		for _, n := range may[p.ID] {
			if slices.Contains(members, n) {
				perNode[n] = append(perNode[n], p)
			}
		}
	}
	vctx, cancel := context.WithTimeout(ctx, ValidateTimeout)
	defer cancel()
	answers := map[string]chan dcmsg.ValidateResult{}
	var sent []string // request ids (loop goroutine only)
	for _, n := range slices.Sorted(maps.Keys(perNode)) {
		if n == r.self() {
			continue
		}
		c := make(chan dcmsg.ValidateResult, 1)
		answers[n] = c
		r.do(func() {
			r.proposals++
			id := fmt.Sprintf("%s/validate%d", r.self(), r.proposals)
			r.validations[id] = validation{node: n, c: c}
			sent = append(sent, id)
			r.sendMsg(n, dcmsg.Message{Kind: dcmsg.KindValidate, View: r.eng.Coordinator().View(), From: r.self(),
				Validate: &dcmsg.ValidateRequest{ID: id, Primitives: perNode[n]}})
		})
	}
	if ps, ok := perNode[r.self()]; ok {
		problems = append(problems, r.validateHere(vctx, ps)...)
	}
	for _, n := range slices.Sorted(maps.Keys(answers)) {
		select {
		case res := <-answers[n]:
			problems = append(problems, res.Problems...)
		case <-vctx.Done():
			problems = append(problems, dcmsg.ParamProblem{Resource: strings.Join(ids(perNode[n]), ", "), Node: n,
				Msg: fmt.Sprintf("no answer to the parameter check within %v (the node may be busy or leaving): try again", ValidateTimeout)})
		}
	}
	r.do(func() {
		for _, id := range sent {
			delete(r.validations, id) // answered or given up
		}
	})
	if len(problems) > 0 {
		return &ValidationError{Problems: problems}
	}
	return nil
}

type validation struct {
	node string
	c    chan dcmsg.ValidateResult
}

// validateHere runs the node-local checks of prims on this node.
func (r *Runtime) validateHere(ctx context.Context, prims []*model.Resource) []dcmsg.ParamProblem {
	var out []dcmsg.ParamProblem
	for _, p := range prims {
		for _, e := range r.cfg.Validate(ctx, replica.Instance(p, "validate-all", 0), true) {
			out = append(out, dcmsg.ParamProblem{Resource: p.ID, Param: e.Param, Node: r.self(), Msg: e.Msg})
		}
	}
	return out
}

// deliverValidation handles the validation messages (not the engine's:
// they need I/O). It reports whether m was one.
func (r *Runtime) deliverValidation(m dcmsg.Message) bool {
	switch m.Kind {
	case dcmsg.KindValidate:
		req := *m.Validate
		r.do(func() {
			base := r.ctx // the loop's: read on the loop goroutine
			go func() {
				ctx, cancel := context.WithTimeout(base, ValidateTimeout)
				defer cancel()
				var problems []dcmsg.ParamProblem
				if r.cfg.Validate != nil {
					problems = r.validateHere(ctx, req.Primitives)
				}
				r.do(func() {
					r.sendMsg(m.From, dcmsg.Message{Kind: dcmsg.KindValidateResult, View: r.eng.Coordinator().View(), From: r.self(),
						Validation: &dcmsg.ValidateResult{ID: req.ID, Problems: problems}})
				})
			}()
		})
		return true
	case dcmsg.KindValidateResult:
		r.do(func() {
			v, ok := r.validations[m.Validation.ID]
			if !ok || v.node != m.From {
				return
			}
			delete(r.validations, m.Validation.ID)
			v.c <- *m.Validation
		})
		return true
	}
	return false
}

// changedPrimitives lists the primitives of next that are new or whose
// agent or parameters differ from running's: only those are checked (a
// resource that runs unchanged is not the change's business).
func changedPrimitives(next, running *model.Config) []*model.Resource {
	old := map[string]*model.Resource{}
	for _, p := range replica.Primitives(running) {
		old[p.ID] = p
	}
	var out []*model.Resource
	for _, p := range replica.Primitives(next) {
		o := old[p.ID]
		if o == nil || o.Class != p.Class || o.Provider != p.Provider || o.Type != p.Type || !maps.Equal(o.Params, p.Params) {
			out = append(out, p)
		}
	}
	return out
}

func ids(ps []*model.Resource) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}
