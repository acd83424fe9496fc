package agent

import (
	"context"
	"fmt"
	"time"
)

// Action is a resource agent action name as OCF spells it.
type Action string

// The actions the OCF standard defines; LSB and Heartbeat classes map
// Monitor to their "status" action.
const (
	Start       Action = "start"
	Stop        Action = "stop"
	Monitor     Action = "monitor"
	Promote     Action = "promote"
	Demote      Action = "demote"
	Notify      Action = "notify"
	MetaData    Action = "meta-data"
	ValidateAll Action = "validate-all"
	Reload      Action = "reload"
	MigrateTo   Action = "migrate_to"
	MigrateFrom Action = "migrate_from"
)

// Instance names one configured resource and the parameters its agent is
// called with.
type Instance struct {
	ID       string            // resource id, OCF_RESOURCE_INSTANCE
	Class    string            // "ocf", "lsb", "heartbeat" or "palisade"
	Provider string            // OCF provider, e.g. "heartbeat"
	Type     string            // agent name, e.g. "IPaddr2"
	Params   map[string]string // instance attributes (OCF_RESKEY_<name>)
	Meta     map[string]string // extra meta attributes (OCF_RESKEY_CRM_meta_<name>)
	Timeout  time.Duration     // per-action timeout; 0 means DefaultTimeout
	Interval time.Duration     // recurring monitor interval, 0 for one-shot
}

// DefaultTimeout applies when an Instance has no Timeout, as Pacemaker's
// default op timeout does.
const DefaultTimeout = 20 * time.Second

// String gives "class:provider:type" the way Pacemaker prints agents.
func (in Instance) String() string {
	if in.Provider != "" {
		return fmt.Sprintf("%s(%s:%s:%s)", in.ID, in.Class, in.Provider, in.Type)
	}
	return fmt.Sprintf("%s(%s:%s)", in.ID, in.Class, in.Type)
}

func (in Instance) timeout() time.Duration {
	if in.Timeout > 0 {
		return in.Timeout
	}
	return DefaultTimeout
}

// Status says whether an action ran to completion; RC is meaningful only
// for StatusDone, the other states carry a synthetic RC (see Result).
type Status int

// Execution states, following Pacemaker's PCMK_EXEC_* values in spirit.
const (
	StatusDone      Status = iota // agent exited; RC is its exit code
	StatusTimeout                 // killed after Instance.Timeout
	StatusError                   // could not be executed (missing, not executable)
	StatusCancelled               // context cancelled by the caller
)

func (s Status) String() string {
	switch s {
	case StatusDone:
		return "done"
	case StatusTimeout:
		return "timeout"
	case StatusError:
		return "error"
	case StatusCancelled:
		return "cancelled"
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// Result is what one agent action produced.
type Result struct {
	RC         RC
	Status     Status
	Output     string // stdout, truncated to the output limit
	Stderr     string // stderr, truncated to the output limit
	ExitReason string // last "ocf-exit-reason:" line, or a reason we set
	Duration   time.Duration
}

// Failed reports whether the result does not match the expected code.
func (r Result) Failed(expected RC) bool {
	return r.Status != StatusDone || r.RC != expected
}

// Agent runs actions of one resource agent class. Implementations must
// honour ctx cancellation and the instance's timeout.
type Agent interface {
	Run(ctx context.Context, action Action, inst Instance) Result
}

// AgentFunc adapts a function to the Agent interface.
type AgentFunc func(ctx context.Context, action Action, inst Instance) Result

// Run calls f.
func (f AgentFunc) Run(ctx context.Context, action Action, inst Instance) Result {
	return f(ctx, action, inst)
}
