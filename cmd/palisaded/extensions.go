package main

import (
	"context"
	"log/slog"

	"palisade/cluster/config"
	"palisade/cluster/dc"
	"palisade/cluster/eventlog"
	"palisade/cluster/node"
)

// extend attaches the later stages to the node before it runs: the DC
// runtime (quorum, recovery gate, fencer, scheduler, executor), which
// hooks into membership events, reliable deliveries, the control socket
// and the status output, reading the quorum, fencing and resources
// sections of the configuration.
func extend(ctx context.Context, n *node.Node, cfg *config.Cluster, events *eventlog.Log, log *slog.Logger) error {
	_, err := dc.Attach(ctx, n, cfg, events, log)
	return err
}
