// Package importer converts an existing Heartbeat or Pacemaker cluster's
// configuration into Palisade's cluster.yaml, for `palisade config import`.
//
//	files, err := importer.ReadHeartbeatDir("/etc/ha.d")        // ha.cf, haresources, authkeys
//	res, err := importer.Import(importer.Input{Heartbeat: files}, opts)
//	// res.ClusterYAML, res.KeyFile (write it mode 0600), res.Report
//
// Sources:
//   - Heartbeat's ha.cf: nodes, media (ucast, bcast, mcast, mcast6; serial
//     is refused), udpport, timing (keepalive, warntime, deadtime, initdead
//     in Heartbeat's seconds/ms/us syntax, with Heartbeat's own defaults),
//     auto_failback / nice_failback (resource stickiness), the cluster name,
//     and stonith_host lines for IPMI devices.
//   - haresources: one group per line (a single resource stays a
//     primitive), preferred node as a location constraint, IPaddr /
//     IPaddr2 / Filesystem words as the OCF agents that replaced them, other
//     words as Heartbeat resource.d scripts or LSB init scripts.
//   - authkeys: the secret is converted into a native key file (the same
//     key the daemon would derive from the authkeys file itself, so nodes
//     imported separately agree), never into the YAML; crc, md5 and short
//     secrets are refused with advice to run `palisade keygen`.
//   - A Pacemaker or Heartbeat v2 CIB (cib.xml) or `crm configure show`
//     output: resources, constraints, options and rsc_defaults through
//     resources/cib, and IPMI stonith primitives and fencing levels as fence
//     devices and topology.
//
// Nothing is dropped silently: every directive or element lands in the
// Report as converted, not needed (with the reason) or not converted (with
// the reason and what to do). Every produced file is checked with the
// daemon's own decoders before it is returned. Secrets (authkeys, BMC
// passwords) go to separate files written mode 0600 and never appear in
// the YAML or the report.
package importer
