package agent

import (
	"context"
	"fmt"
	"sync"
)

// Options locate the agent directories; zero values mean the standard
// Linux-HA paths. Tests point them at temporary directories.
type Options struct {
	OCFRoot      string            // default /usr/lib/ocf
	InitDir      string            // default /etc/init.d
	HeartbeatDir string            // default /etc/ha.d/resource.d
	ExtraEnv     map[string]string // added to every agent's environment (e.g. HA_RSCTMP)
	OutputLimit  int               // bytes kept per stream; default DefaultOutputLimit
}

func (o Options) withDefaults() Options {
	if o.OCFRoot == "" {
		o.OCFRoot = "/usr/lib/ocf"
	}
	if o.InitDir == "" {
		o.InitDir = "/etc/init.d"
	}
	if o.HeartbeatDir == "" {
		o.HeartbeatDir = "/etc/ha.d/resource.d"
	}
	return o
}

// Registry dispatches an Instance to the agent of its class. It is the
// Agent the executor uses.
type Registry struct {
	classes map[string]Agent

	mu       sync.RWMutex
	builtins map[string]Agent

	meta metadataCache
}

// NewRegistry returns a registry with the ocf, lsb and heartbeat classes
// and an empty palisade (built-in) class.
func NewRegistry(o Options) *Registry {
	o = o.withDefaults()
	r := &Registry{builtins: map[string]Agent{}}
	r.classes = map[string]Agent{
		"ocf":       &OCF{Root: o.OCFRoot, ExtraEnv: o.ExtraEnv, OutputLimit: o.OutputLimit},
		"lsb":       &LSB{Dir: o.InitDir, ExtraEnv: o.ExtraEnv, OutputLimit: o.OutputLimit},
		"heartbeat": &Heartbeat{Dir: o.HeartbeatDir, InitDir: o.InitDir, ExtraEnv: o.ExtraEnv, OutputLimit: o.OutputLimit},
		"palisade":  AgentFunc(r.runBuiltin),
	}
	return r
}

// RegisterBuiltin makes a Go agent available as class "palisade", type typ.
func (r *Registry) RegisterBuiltin(typ string, a Agent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.builtins[typ] = a
}

// Run runs action on the agent of inst.Class.
func (r *Registry) Run(ctx context.Context, action Action, inst Instance) Result {
	a, ok := r.classes[inst.Class]
	if !ok {
		return notInstalled(fmt.Sprintf("resource %s: unknown agent class %q (want ocf, lsb, heartbeat or palisade)", inst.ID, inst.Class))
	}
	return a.Run(ctx, action, inst)
}

func (r *Registry) runBuiltin(ctx context.Context, action Action, inst Instance) Result {
	r.mu.RLock()
	a, ok := r.builtins[inst.Type]
	r.mu.RUnlock()
	if !ok {
		return notInstalled(fmt.Sprintf("resource %s: no built-in agent palisade:%s", inst.ID, inst.Type))
	}
	return a.Run(ctx, action, inst)
}

// notInstalled is the result for an agent that does not exist here;
// Pacemaker reports it as "not installed" so the resource is banned from
// this node only.
func notInstalled(reason string) Result {
	return Result{RC: ErrInstalled, Status: StatusError, ExitReason: reason}
}
