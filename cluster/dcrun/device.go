package dcrun

import (
	"time"

	"palisade/cluster/engine"
	"palisade/quorum"
)

// Now is the runtime's monotonic clock, the one the engine runs on: a
// quorum device's lease end must be expressed on it (quorum.ViewVote.Until).
func (r *Runtime) Now() time.Duration { return r.cfg.Now() }

// SetDeviceVote feeds the quorum device's verdict to the engine (see
// engine.Engine.SetDeviceVote) and returns once the engine applied it (or the
// runtime stopped): a caller about to tell the device that this node gave
// up a grant must know that nothing counts it any more. Verdicts are
// applied in the order of the calls.
func (r *Runtime) SetDeviceVote(v quorum.ViewVote) {
	done := make(chan struct{})
	r.do(func() {
		r.eng.SetDeviceVote(v, r.cfg.Now())
		close(done)
	})
	select {
	case <-done:
	case <-r.stopped:
	}
}

// SetAttribute sets one of this node's transient attributes (pingd), which
// location rules see (engine.Engine.SetAttribute).
func (r *Runtime) SetAttribute(name, value string) {
	r.do(func() { r.eng.SetAttribute(name, value, r.cfg.Now()) })
}

// OnSnapshot registers fn, called on the runtime's goroutine after every
// step with the engine's state (view, quorum and the device's part, what
// runs here). fn must not block. Call it before Run.
func (r *Runtime) OnSnapshot(fn func(engine.Snapshot)) { r.onSnapshot = fn }

// LastSnapshot is the snapshot of the last step, without waiting for the
// loop (for predicates that must not block, such as a watchdog's).
func (r *Runtime) LastSnapshot() engine.Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.snap
}
