// Package config is the one decoder of /etc/palisade/cluster.yaml, the one
// configuration file of a Palisade cluster: every section, every entry
// point (palisaded's start and SIGHUP, `palisade config push` on both
// sides, `palisade config check`), one error type and one wording
// (package strict):
//
//	/etc/palisade/cluster.yaml:27: timing.keepalvie: unknown key, valid keys here: deadtime, initdead, keepalive, warntime
//
// The file is decoded strictly from the YAML node tree, so every problem
// names file:line, the key path and what would be valid, and every problem
// of every section is reported at once: unknown keys, values of the wrong
// type, duplicate node ids, timing that breaks Heartbeat's rules, an
// unknown no-quorum-policy, a topology naming a device that does not
// exist, a resources section the scheduler's model refuses. Load then
// checks this host (link interfaces exist, the key file is mode 0600 with
// strong keys, and, for palisaded, each fence device can be built) and
// reports that in the same list. Nothing is written before the whole file
// was accepted: Load has no side effects, so a daemon reloading on SIGHUP
// keeps its running configuration when the new one is refused.
//
//	c, err := config.Load("/etc/palisade/cluster.yaml", config.Options{Self: "n1"})
//	self, err := c.Self("n1")          // by --node, else the host name
//	c.Timing, c.Quorum, c.Fencing, c.Resources   // decoded sections
//	c.NoQuorumPolicy(running)          // what is in force: section, else option, else default
//
// Sections (each owned by the package that gives it meaning, decoded into
// the file's one strict.Collector):
//
//	cluster:   {name}
//	nodes:     [{id, name, addresses: {LINK: IP}, interfaces: {LINK: NIC}}]
//	links:     [{name, kind: ucast|mcast|bcast, interface, port (694), group, ttl (1), loop}]
//	timing:    {keepalive, warntime, deadtime, initdead}  Go durations ("500ms")
//	           or Heartbeat numbers in seconds (2, 0.5)
//	auth:      {key_file}
//	state_dir: directory holding the generation file and the replicated CIB
//	run_dir:   directory for what a reboot must clear (resource agents'
//	           HA_RSCTMP); default /run/palisade, a tmpfs
//	socket:    path of the control socket
//	quorum:    package quorum (votes, no_quorum_policy, device, heuristics)
//	fencing:   package fence/topology (devices, topology, delays, retry)
//	resources: package resources/model (the scheduler's schema), plus
//	           admin_epoch (cluster/replica's version of the replicated copy)
//	alerts:    package cluster/alert (the alert command)
//
// ParseDocument reads what `palisade config check` and `config push`
// accept: a whole cluster.yaml, or a resources section on its own (what
// `palisade config show` prints). Relative paths are resolved against the
// directory of the config file.
//
// The programs' own run-time settings (which file, which node, which
// socket, logging) are not part of the file: palisaded and palisade layer
// them with viper from flags, PALISADED_* / PALISADE_* variables and their
// settings files (cmd/internal/settings), and pass the paths that override
// the file's in Options.
package config
