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
//	  priority_delay: 10s         # Pacemaker's priority-fencing-delay (see PriorityDelay)
//	  retry: {initial: 1s, max: 16s}
//	  attempt_timeout: 60s        # bound for one attempt over all levels (unset: 60s plus room for manual levels)
//	  monitor: {interval: 60s, timeout: 20s, failures: 3}   # device monitor; interval 0 disables it
//	  watchdog: {device: /dev/watchdog, timeout: 10s}       # this node's watchdog (self-fencing)
//	  devices:
//	    - name: bmc-n1
//	      plugin: fence_ipmilan   # any registered plugin or alias
//	      delay_base: 2s          # pcmk_delay_base: before every use (or {n1: 0s, n2: 5s} per target)
//	      delay_max: 5s           # pcmk_delay_max: base plus a random part stays within it
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
//	out := f.Fence(ctx, "n2")                                  // Outcome: Confirmed(), Steps, Result, Err
//	out = f.Do(ctx, topology.Request{Target: "n2", Delay: topology.PriorityDelay(cfg.PriorityDelay, "n2", nodes)})
//
// Delays, as Pacemaker's fencer applies them: a requested delay (the
// priority fencing delay) once, before the first device of the first
// level; each device's delay_base plus a random part up to delay_max
// before every use of it. A level with a manual device (fence_manual)
// gets its power_timeout of room in the attempt.
//
// Every outcome says what it came to (Result, a fence.Class: ok,
// refused, unreachable, timeout, cancelled...) per step and for the
// attempt, and becomes a HistoryEntry (Outcome.Entry) for the cluster-wide
// fence history that the DC replicates (MergeHistory, HistoryLimit); the
// Fencer also keeps its own last HistoryLen outcomes (History).
//
// The Fencer's Monitor checks every device periodically on a kept session
// where the plugin allows it (fence.Prober) and alerts on a device that
// keeps failing; `palisade fence devices` shows its DeviceCheck list.
//
// Time: WithClock runs every delay, timeout and timestamp on a
// fence/clock.Clock; the tests use a logical one (testdata/*.txt).
package topology
