package main

import (
	"context"
	"log/slog"
	"time"

	"palisade/cluster/config"
	"palisade/cluster/eventlog"
	"palisade/cluster/node"
)

// extend attaches the later stages to the node before it runs: the DC
// runtime (quorum, recovery gate, fencer, scheduler, executor), which
// hooks into membership events, reliable deliveries, the control socket
// and the status output, built from the quorum, fencing and resources
// sections of the configuration (decoded with the whole file by
// config.Load before node.New).
//
// The returned leave function performs a clean shutdown: it blocks until
// the DC has moved this node's resources away and recorded it as left, or
// two minutes have passed.
func extend(ctx context.Context, n *node.Node, cfg *config.Cluster, events *eventlog.Log, log *slog.Logger) (leave func(), err error) {
	rt, err := attach(ctx, n, cfg, events.Source(eventlog.SourceDC), log)
	if err != nil {
		return nil, err
	}
	observe.start(ctx, n, rt)
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := rt.Shutdown(sctx); err != nil {
			log.Warn("clean shutdown failed", "err", err)
		}
	}, nil
}
