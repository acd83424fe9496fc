// Package agent runs resource agent actions for the executor: one Agent
// interface in front of the resource agent classes Palisade supports.
//
//   - "ocf": Open Cluster Framework agents under
//     /usr/lib/ocf/resource.d/<provider>/<type>, called with OCF_ROOT,
//     OCF_RESKEY_<param>, OCF_RESKEY_CRM_meta_<meta> (timeout and interval in
//     milliseconds), OCF_RESOURCE_INSTANCE/TYPE/PROVIDER. Stock Debian
//     resource-agents (Dummy, IPaddr2, Filesystem, ...) run unchanged.
//   - "lsb": init scripts /etc/init.d/<type> start|stop|status; status exit 3
//     means stopped and is mapped to OCF's 7 (not running).
//   - "heartbeat": Heartbeat v1 resource.d scripts
//     /etc/ha.d/resource.d/<type> [arg...] start|stop|status, where the
//     haresources form "IPaddr::198.18.0.50/24/eth0" is parsed by
//     ParseHaresource into Type "IPaddr" and Params "1", "2", ... ;
//     HaresourceToOCF turns IPaddr/IPaddr2/Filesystem/IPsrcaddr words into
//     their stock OCF successors (ip, cidr_netmask, nic, ...).
//   - "palisade": agents implemented in Go and registered with
//     Registry.RegisterBuiltin (for example the virtual IP, package
//     resources/vip, as type "vip").
//
// Usage:
//
//	reg := agent.NewRegistry(agent.Options{})      // default directories
//	reg.RegisterBuiltin("vip", vipAgent)            // any agent.Agent
//	inst := agent.Instance{ID: "web-ip", Class: "ocf", Provider: "heartbeat",
//		Type: "IPaddr2", Params: map[string]string{"ip": "198.18.0.50"},
//		Timeout: 20 * time.Second}
//	res := reg.Run(ctx, agent.Start, inst)
//	if res.RC != agent.OK { ... res.ExitReason, res.Class(agent.Start, agent.OK) ... }
//
// Every Result carries an OCF return code (0-9 with Pacemaker's meanings),
// an execution Status (done, timed out, could not execute, cancelled), the
// agent's bounded stdout/stderr, its "ocf-exit-reason:" text and the
// duration. Classify maps a result to Pacemaker's failure classes: soft
// (recover in place), hard (ban from this node) and fatal (ban everywhere).
//
// Processes run in their own process group with a sanitized environment;
// a timeout or a cancelled context kills the whole group, and the child is
// always reaped (no zombies).
package agent
