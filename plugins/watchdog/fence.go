package watchdog

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"palisade/fence"
)

// LossClock tells when this partition declared node lost. ok is false
// while the node is a member (or has never been lost).
type LossClock func(node string) (lostAt time.Time, ok bool)

var lossClock atomic.Pointer[LossClock]

// SetLossClock enables fence_watchdog inside the daemon: the daemon says
// when it lost each node (from its agreed membership). nil disables it
// again. Without it (the fence_watchdog command, any other program) the
// plugin refuses, as the ClusterLabs agent does.
func SetLossClock(c LossClock) {
	if c == nil {
		lossClock.Store(nil)
		return
	}
	lossClock.Store(&c)
}

// OptFenceTimeout is how long after losing a node its peers wait before
// counting it as self-fenced (Pacemaker's stonith-watchdog-timeout).
const OptFenceTimeout = "watchdog_fence_timeout"

// refusal is the reference agent's message for any action.
const refusal = "Watchdog fencing may be initiated only by the cluster, not this agent."

// Plugin is fence_watchdog: the peers' side of watchdog self-fencing.
var Plugin = &fence.Plugin{
	Name:      "fence_watchdog",
	ShortDesc: "Dummy watchdog fence agent",
	LongDesc: "fence_watchdog just provides meta-data - actual fencing is done by the cluster: a lost node that runs the " +
		"watchdog resets itself, and its peers count it as fenced once watchdog_fence_timeout has passed since they lost it.",
	HasPlugs:  true,
	OwnParams: true,
	Params: []fence.Param{
		{Name: fence.OptAction, Short: 'o', Type: fence.TypeString, Default: "metadata", Required: true, Placeholder: "[action]", ShortDesc: "Fencing Action", Order: 1},
		{Name: "nodename", Short: 'N', Type: fence.TypeString, Placeholder: "[nodename]", ShortDesc: "Ignored", Order: 2},
		{Name: fence.OptPlug, Short: 'n', Legacy: "port", Type: fence.TypeString, Required: true, Placeholder: "[id]", ShortDesc: "Name of the node to count as self-fenced", Order: 4},
		{Name: OptFenceTimeout, Type: fence.TypeSecond, Placeholder: "[seconds]", ShortDesc: "Wait X seconds after the node was lost before counting it as fenced; must be safely above its watchdog timeout (Palisade extension)", Order: 5},
		{Name: fence.OptVersion, Short: 'V', Type: fence.TypeBoolean, ShortDesc: "Display version information and exit", Order: 53},
		{Name: fence.OptHelp, Short: 'h', Type: fence.TypeBoolean, ShortDesc: "Display help and exit", Order: 54},
	},
	Open:        openFence,
	Unmonitored: "nothing to reach: a lost node's own watchdog fences it",
}

func init() { fence.Register(Plugin) }

func openFence(o fence.Options) (fence.Opener, error) {
	clock := lossClock.Load()
	if clock == nil {
		return nil, fmt.Errorf("%w: %s", fence.ErrUnsupported, refusal)
	}
	node := o[fence.OptPlug]
	if node == "" {
		return nil, fmt.Errorf("%w: plug: name the node to count as self-fenced", fence.ErrConfig)
	}
	t := o.Seconds(OptFenceTimeout)
	if t <= 0 {
		return nil, fmt.Errorf("%w: %s: must be set, safely above the node's watchdog timeout", fence.ErrConfig, OptFenceTimeout)
	}
	dev := &fenceDevice{clock: *clock, timeout: t}
	return func(context.Context) (fence.Device, error) { return dev, nil }, nil
}

// fenceDevice reports a lost node OFF once the fence timeout has passed
// since it was lost; a member is ON.
type fenceDevice struct {
	clock   LossClock
	timeout time.Duration
}

// Status waits until the node's watchdog must have reset it (bounded by
// ctx): the answer is not known before.
func (d *fenceDevice) Status(ctx context.Context, node string) (fence.PowerState, error) {
	lost, ok := d.clock(node)
	if !ok {
		return fence.PowerOn, nil
	}
	until := lost.Add(d.timeout)
	if wait := time.Until(until); wait > 0 {
		slog.Info("waiting for a lost node's watchdog to reset it", "node", node, "lost", lost, "fenced_at", until)
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return fence.PowerUnknown, fmt.Errorf("node %s lost at %s counts as self-fenced only at %s: %w", node, lost.Format(time.RFC3339Nano), until.Format(time.RFC3339Nano), ctx.Err())
		}
	}
	// The loss must still stand: a node that rejoined meanwhile is back.
	if again, ok := d.clock(node); !ok || !again.Equal(lost) {
		return fence.PowerOn, nil
	}
	return fence.PowerOff, nil
}

// SetPower off is nothing to do: the node fences itself.
func (d *fenceDevice) SetPower(_ context.Context, node string, on bool) error {
	if on {
		return fmt.Errorf("%w: a watchdog cannot power node %s on", fence.ErrUnsupported, node)
	}
	return nil
}

func (d *fenceDevice) Close() error { return nil }
