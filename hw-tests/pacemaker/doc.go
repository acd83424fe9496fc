// Package pacemaker runs real Pacemaker 2.1 + corosync 3 nodes for tests,
// each in its own network namespace (from package lab) and its own mount
// and UTS namespaces, so that nothing on the host changes: every node gets
// private /etc/corosync, /var/lib/pacemaker, /var/lib/corosync,
// /var/log/pacemaker, /var/log/corosync, /run and /dev/shm (libqb's IPC
// lives in abstract sockets, scoped by the network namespace, and in
// /dev/shm), its own host name, and an overlay on /usr/sbin, where
// pacemaker-fenced looks for fence agents, so a test can add agents
// (fence_palisade_*) or put ours in place of a reference one without
// touching the host's /usr/sbin.
//
//	if err := pacemaker.Available(); err != nil { t.Skip(err) }
//	c, err := pacemaker.New(pacemaker.Options{Prefix: fmt.Sprintf("pa-pm-%d", os.Getpid()), Nodes: 1,
//		Agents: map[string]string{"fence_palisade_ipmilan": binDir + "/fence-agent"}, CIB: cib})
//	t.Cleanup(func() { c.Close() })
//	n1 := c.Nodes[0]
//	if err := n1.Boot(); err != nil { ... }         // corosync, then pacemakerd
//	c.WaitFor(60*time.Second, "n1 online", func() bool { ... n1.Run("crm_mon", "-1") ... })
//	out, err := n1.Run("stonith_admin", "--reboot", "victim")  // nsenter into the node
//	n1.Kill()                                        // power loss: every process of the node
//	events, _ := n1.Log().Find("was terminated (reboot)")   // pacemaker.log, with timestamps
//
// BMC simulators (package ipmisim) run in the lab's client namespace at
// addresses the test adds there (AddBMCAddr); a simulator's power-off hook
// can call Node.KillCommand so that powering a node off really stops it,
// and Node.WatchPower boots the node again when its simulator reports the
// power back on, as a real machine would.
//
// Close stops every node (by PID, through the namespaces), removes the
// namespaces and, with the nodes, every mount they made.
package pacemaker
