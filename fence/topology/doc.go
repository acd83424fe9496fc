// Package topology is Palisade's fencer: it decodes the `fencing:` section
// of cluster.yaml (devices, per-node topology levels, race delays, retry
// backoff), and fences a node by trying its levels in order, the way
// Pacemaker's fencing topology does: every device of a level must fence the
// node (power off verified OFF by the fence core) for the level to succeed;
// the first level that succeeds confirms the node fenced; if every level
// fails, the attempt fails (the recovery gate retries with backoff).
//
//	fencing:
//	  static_delay: {n1: 5s}      # fence-race delay per target (default: lowest id of a two-node cluster)
//	  random_delay_max: 1s        # plus a random delay in [0, max)
//	  retry: {initial: 1s, max: 16s}
//	  attempt_timeout: 60s        # bound for one attempt over all levels
//	  devices:
//	    - name: bmc-n1
//	      plugin: fence_ipmilan   # any registered plugin or alias
//	      params: {ip: 198.18.0.101, username: admin, password_file: /etc/palisade/bmc-n1.pw, lanplus: "1", cipher: "3"}
//	  topology:
//	    n1: [[bmc-n1], [pdu-a-n1, pdu-b-n1]]   # level 1, then level 2 (both PDUs)
//
// Passwords are never in this file in clear text in production: use the
// password_file (mode 0600) or password_env device params.
//
//	cfg := c.Fencing                 // decoded with the whole file by cluster/config (DecodeWith)
//	cfg, err := topology.Decode("cluster.yaml", node)          // or the section on its own
//	f, err := topology.NewFencer(cfg, topology.FenceAgents)   // builds fence.Agent per device
//	out := f.Fence(ctx, "n2")                                  // Outcome: Confirmed(), Steps, Err
//
// The Fencer also keeps the fence history (History) shown by
// `palisade fence history`.
package topology
