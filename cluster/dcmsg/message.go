package dcmsg

import (
	"encoding/json"
	"fmt"
	"time"

	"palisade/cluster/recovery"
	"palisade/cluster/replica"
	"palisade/fence/topology"
	"palisade/resources/model"
)

// Kind is the type of a coordination message.
type Kind string

const (
	// KindStatusRequest: DC → member, "send your full status and CIB version".
	KindStatusRequest Kind = "status_request"
	// KindStatus: member → DC, the member's executor status.
	KindStatus Kind = "status"
	// KindCIB: DC → members, the replicated CIB.
	KindCIB Kind = "cib"
	// KindAction: DC → member, run one resource action.
	KindAction Kind = "action"
	// KindActionResult: member → DC, an action's result or its refusal.
	KindActionResult Kind = "action_result"
	// KindFenceRequest: member → DC, the member's executor asks for a node
	// to be fenced (failed stop with on-fail=fence).
	KindFenceRequest Kind = "fence_request"
	// KindLeave: member → DC, "I am shutting down: move my resources away".
	KindLeave Kind = "leave"
	// KindConfigPropose: member → DC, a new configuration (SIGHUP with an
	// edited file, `palisade config push`).
	KindConfigPropose Kind = "config_propose"
	// KindConfigResult: DC → proposer, accepted (with the new version) or
	// refused (with the reason).
	KindConfigResult Kind = "config_result"
	// KindCleanup: DC → member, an operator cleared the fail counts of
	// Resource on Target (Reason: who); Target probes it again and reports.
	KindCleanup Kind = "cleanup"
	// KindCIBAck: member → DC, "I hold CIB version Ack". The DC starts a
	// resource only once every member acknowledged the version that
	// records the start as pending, so whichever member becomes DC next
	// knows the resource may be active there.
	KindCIBAck Kind = "cib_ack"
	// KindFenceExec: DC → member, "fence Fence.Target for me": the DC never
	// executes a fence of itself (a stop of its own failed); a peer does.
	KindFenceExec Kind = "fence_exec"
	// KindFenceResult: executing member → every member, the outcome of a
	// KindFenceExec, so the next DC knows the old one is off.
	KindFenceResult Kind = "fence_result"
	// KindRequest: member → DC, an operator command typed on the member
	// (fence confirm, cleanup); the DC decides and answers (KindAnswer).
	KindRequest Kind = "request"
	// KindAnswer: DC → member, the DC's decision on a KindRequest.
	KindAnswer Kind = "answer"
	// KindConfigSync: DC → member while it rebuilds status, once every
	// member sent its replica (the highest version won): the configuration
	// to probe with. A starting or rejoining node probes only with it,
	// never with its own (possibly outdated) persisted configuration.
	KindConfigSync Kind = "config_sync"
	// KindValidate: proposer → member, before a configuration change is
	// proposed: check these resource definitions where you may run them
	// (the agent's validate-all, an interface that must exist). The DC's
	// decision stays pure: the checks that need a node run on the nodes
	// first, and a change any node refuses is never proposed.
	KindValidate Kind = "validate"
	// KindValidateResult: member → proposer, the problems found (none: ok).
	KindValidateResult Kind = "validate_result"
)

// Message is what DC and members exchange over reliable messaging, JSON
// encoded. View is the sender's membership view id.
type Message struct {
	Kind   Kind          `json:"kind"`
	View   uint64        `json:"view"`
	From   string        `json:"from"`
	CIB    *replica.CIB  `json:"cib,omitempty"`
	Status *NodeStatus   `json:"status,omitempty"`
	Action *Action       `json:"action,omitempty"`
	Result *ActionResult `json:"result,omitempty"`
	Target string        `json:"target,omitempty"`
	Reason string        `json:"reason,omitempty"`
	// Resource names the resource of a cleanup.
	Resource string `json:"resource,omitempty"`
	// Proposal and ConfigResult carry configuration changes.
	Proposal     *Proposal     `json:"proposal,omitempty"`
	ConfigResult *ConfigResult `json:"config_result,omitempty"`
	// Ack is the CIB version a KindCIBAck acknowledges.
	Ack *replica.Version `json:"ack,omitempty"`
	// Fence orders (KindFenceExec) or reports (KindFenceResult) a fence.
	Fence       *recovery.FenceRequest `json:"fence,omitempty"`
	FenceResult *recovery.FenceResult  `json:"fence_result,omitempty"`
	// History is the fence history entry a KindFenceResult reports (what
	// the executing node did, or why it refused).
	History *topology.HistoryEntry `json:"history,omitempty"`
	// Request and Answer carry operator commands.
	Request *OpRequest `json:"request,omitempty"`
	Answer  *OpAnswer  `json:"answer,omitempty"`
	// Validate and Validation carry parameter checks.
	Validate   *ValidateRequest `json:"validate,omitempty"`
	Validation *ValidateResult  `json:"validation,omitempty"`
}

// ValidateRequest asks a node to check resource definitions (KindValidate).
type ValidateRequest struct {
	ID         string            `json:"id"`
	Primitives []*model.Resource `json:"primitives"`
}

// ValidateResult answers a ValidateRequest.
type ValidateResult struct {
	ID       string         `json:"id"`
	Problems []ParamProblem `json:"problems,omitempty"`
}

// ParamProblem is one problem with a resource's parameters: which
// resource and parameter ("" for the resource as a whole), the node that
// found it ("" for a check every node makes the same), and what.
type ParamProblem struct {
	Resource string `json:"resource"`
	Param    string `json:"param,omitempty"`
	Node     string `json:"node,omitempty"`
	Msg      string `json:"msg"`
}

func (p ParamProblem) String() string {
	s := "resource " + p.Resource
	if p.Param != "" {
		s += ", parameter " + p.Param
	}
	if p.Node != "" {
		s += " (on " + p.Node + ")"
	}
	return s + ": " + p.Msg
}

// NodeStatus is one member's report.
type NodeStatus struct {
	Node      string                 `json:"node"`
	Resources []model.ResourceStatus `json:"resources,omitempty"`
	Failures  []model.Failure        `json:"failures,omitempty"`
	// CIB is the member's replica, so the highest version wins on join.
	CIB *replica.CIB `json:"cib,omitempty"`
	// SafetyDigest is the member's Config.SafetyDigest.
	SafetyDigest string `json:"safety_digest,omitempty"`
	// Fatal lists resources whose agent said "not configured" (rc 6)
	// here: they may run nowhere until an operator cleans them up.
	Fatal []string `json:"fatal,omitempty"`
	// Pending lists resources with a start or promote running here: they
	// may be active, and the DC orders nothing for them until they end.
	Pending []string `json:"pending,omitempty"`
	// Unprobed: the node has not probed yet (it just started or rejoined):
	// the report only carries its replica (CIB) for the join, and says
	// nothing about what runs there. The node probes once the DC sent it
	// the cluster's configuration (KindConfigSync) and then reports.
	Unprobed bool `json:"unprobed,omitempty"`
	// Attributes are the node's transient attributes (engine.Engine.SetAttribute).
	Attributes map[string]string `json:"attributes,omitempty"`
}

// Names lists the resources the report shows active here.
func (s NodeStatus) Names() []string {
	var out []string
	for _, r := range s.Resources {
		out = append(out, r.Rsc)
	}
	return out
}

// Action is one resource operation the DC asks a member to run.
type Action struct {
	ID       uint64        `json:"id"`
	Op       string        `json:"op"` // start, stop, promote, demote, reload-agent, monitor (probe)
	Resource string        `json:"resource"`
	Node     string        `json:"node"`
	Interval time.Duration `json:"interval,omitempty"`
	// Primitive is the resource's definition in the configuration the DC
	// scheduled with: a start or reload runs with exactly these parameters,
	// whatever this node's replica holds (stop, monitor, promote and
	// demote run with those the resource was started with here).
	Primitive *model.Resource `json:"primitive,omitempty"`
}

// ActionResult is a member's answer.
type ActionResult struct {
	ID       uint64 `json:"id"`
	Op       string `json:"op"`
	Resource string `json:"resource"`
	Node     string `json:"node"`
	// Refused: the member did not run the action (stale view, unknown
	// resource); Reason says why.
	Refused bool   `json:"refused,omitempty"`
	Reason  string `json:"reason,omitempty"`
	OK      bool   `json:"ok"`
	RC      int    `json:"rc"`
	// Active is whether the resource is running on the node after the
	// action (start ok → true, stop ok → false, failed monitor → as probed).
	Active    bool   `json:"active"`
	Failed    bool   `json:"failed,omitempty"`
	OnFail    string `json:"on_fail,omitempty"`
	FailCount int    `json:"fail_count,omitempty"`
	// Fatal: the agent said "not configured" (rc 6): the resource may run
	// nowhere until cleaned up.
	Fatal bool `json:"fatal,omitempty"`
	// Role is the resource's role here after the action when active
	// ("" Started, Promoted, Unpromoted).
	Role string `json:"role,omitempty"`
	// Ran records the parameters it runs with after a start or reload
	// (digests, values without secrets), so the scheduler can tell a later
	// configuration change.
	Ran *model.ParamRecord `json:"ran,omitempty"`
}

// Encode marshals m.
func Encode(m Message) ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode %s message: %w", m.Kind, err)
	}
	return b, nil
}

// Decode unmarshals and checks a message received from node from.
func Decode(from string, b []byte) (Message, error) {
	var m Message
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("dc message from %s: %w", from, err)
	}
	ok := false
	switch m.Kind {
	case KindStatusRequest, KindLeave:
		ok = true
	case KindStatus:
		ok = m.Status != nil
	case KindCIB:
		ok = m.CIB != nil
	case KindAction:
		ok = m.Action != nil
	case KindActionResult:
		ok = m.Result != nil
	case KindFenceRequest:
		ok = m.Target != ""
	case KindCleanup:
		ok = m.Target != "" && m.Resource != ""
	case KindConfigPropose:
		ok = m.Proposal != nil && m.Proposal.ID != ""
	case KindConfigResult:
		ok = m.ConfigResult != nil && m.ConfigResult.ID != ""
	case KindCIBAck:
		ok = m.Ack != nil
	case KindFenceExec:
		ok = m.Fence != nil && m.Fence.Target != ""
	case KindFenceResult:
		ok = m.FenceResult != nil && m.FenceResult.Target != ""
	case KindRequest:
		ok = m.Request != nil && m.Request.ID != ""
	case KindAnswer:
		ok = m.Answer != nil && m.Answer.ID != ""
	case KindConfigSync:
		ok = m.CIB != nil
	case KindValidate:
		ok = m.Validate != nil && m.Validate.ID != ""
	case KindValidateResult:
		ok = m.Validation != nil && m.Validation.ID != ""
	}
	if !ok {
		return m, fmt.Errorf("dc message from %s: kind %q without its payload (or unknown kind)", from, m.Kind)
	}
	if m.From != from {
		return m, fmt.Errorf("dc message from %s claims to be from %q", from, m.From)
	}
	return m, nil
}

// CheckView is the member-side guard: an action is only run if it was sent
// in the view the member is in now.
func CheckView(action, current uint64) error {
	if action != current {
		return fmt.Errorf("action from view %d refused: this node is in view %d", action, current)
	}
	return nil
}

// Outgoing is a message to send; To may be this node (the caller loops it
// back through Deliver).
type Outgoing struct {
	To  string
	Msg Message
}
