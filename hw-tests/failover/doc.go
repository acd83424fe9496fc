// Package failover is the harness behind `make demo`, `make
// bench-failover` and the hw-tests failover scenarios: a network-namespace
// lab (lab package) with N palisaded nodes and a client, one OpenIPMI
// ipmi_sim BMC per node (ipmisim package) whose power-off hook really cuts
// that node (kills every process in its namespace and takes its interfaces
// down), a cluster running a group (palisade:vip + ocf:heartbeat:Dummy),
// and an ARP prober in the client namespace that records every answer for
// the VIP with the host's CLOCK_MONOTONIC, the clock the daemons' event
// logs use, so one timeline can be built from both.
//
// Networks: link 0 (198.18.0.0/25) carries heartbeats, the VIP and the
// client; link 1 (198.18.0.128/25) is the management network where the
// BMCs answer. ipmi_sim binds to the root namespace's loopback, so each BMC
// is reached through a UDP relay whose listening socket lives in the lab's
// switch namespace at a spare address of link 1 (port 623); the relay adds
// microseconds, not milliseconds.
//
//	h, err := failover.Start(ctx, failover.Options{Prefix: "pa-e-123", Nodes: 3})
//	defer h.Close()
//	active, _ := h.WaitStarted(ctx)         // node index holding the group
//	cut := h.PowerCut(active)               // like the BMC's power-off hook
//	tl, err := h.WaitTakeover(ctx, active, cut)
//	fmt.Print(tl)                           // heartbeat lost ... first reply; failover ms
//	vs := h.Violations()                    // recovery.Verify over all event logs
package failover
