// Package lab builds a throw-away multi-node network in Linux network
// namespaces for integration tests, benchmarks and demos (needs root and
// iproute2's `ip`).
//
// Topology: one "switch" namespace holds one bridge per link; every node
// namespace has one veth per link (eth0, eth1, ...) plugged into that
// link's bridge; an optional client namespace is plugged into every link.
// Nothing is created in the root namespace, nothing has a default route,
// and every name starts with Options.Prefix so concurrent labs never
// collide.
//
// Addresses come from 198.18.0.0/24, split evenly between the links (two
// links: 198.18.0.0/25 and 198.18.0.128/25). Node i (1-based) has host
// number i on every link; the client has the second-to-last host number;
// SpareAddr hands out addresses for service IPs from the top of each
// subnet.
//
//	if err := lab.Available(); err != nil { t.Skip(err) }
//	l, err := lab.New(lab.Options{Prefix: fmt.Sprintf("pa-e-%d", os.Getpid()), Nodes: 3, Links: 2, Client: true})
//	t.Cleanup(func() { l.Close() })
//	n1 := l.Nodes[0]                       // namespace l.Prefix+"-n1"
//	p, err := n1.Start("palisaded", "--config", cfg, "--node", "1")
//	out, err := n1.Run("ip", "addr")       // one-shot command in the namespace
//	n1.CutLink(0); n1.RestoreLink(0)       // unplug/replug eth0 at the switch
//	n1.CutAll()                            // isolate the node
//	p.Stop()                               // SIGTERM, then SIGKILL after 5s
//
// For palisade clusters, Build compiles ./cmd/... into a directory and
// WriteCluster writes one cluster.yaml per node (ids 1..N named n1..nN,
// links link0.. on eth0.., a 0600 key file, per-node state_dir and socket):
//
//	lab.Build(binDir)
//	c, err := l.WriteCluster(t.TempDir(), lab.ClusterOptions{Keepalive: 100 * time.Millisecond})
//	l.Nodes[0].Start(binDir+"/palisaded", "--config", c.Configs[0], "--node", "1")
//	control.Call(ctx, c.Sockets[0], "status", nil, &st)   // sockets are plain files: reachable from the test
//
// Close kills every process started through the lab (by PID) and any other
// process still inside its namespaces, then deletes the namespaces (which
// deletes the bridges and veths). Call it also on failure; it is
// idempotent. Cleanup(prefix) removes leftovers of a crashed earlier run.
package lab
