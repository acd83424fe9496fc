// Package config loads and validates /etc/palisade/cluster.yaml, the one
// configuration file of a Palisade cluster.
//
// The file is read with viper (file location, PALISADE_* environment
// overrides of state_dir and socket) but validated strictly from the YAML
// node tree, so every error names file:line, the key path and what would be
// valid: unknown keys (listing the valid ones), duplicate node ids, links on
// interfaces that do not exist on this host, timing that breaks Heartbeat's
// rules, a key file that is missing or not mode 0600.
//
//	c, err := config.Load("/etc/palisade/cluster.yaml", config.Options{})
//	self, err := c.Self("")            // by --node flag, else hostname
//	timing := c.Timing                 // membership.Timing, validated
//
// Sections:
//
//	cluster:   {name}
//	nodes:     [{id, name, addresses: {LINK: IP}}]
//	links:     [{name, kind: ucast|mcast|bcast, interface, port (694), group, ttl (1), loop}]
//	timing:    {keepalive, warntime, deadtime, initdead}  Go durations ("500ms")
//	           or Heartbeat numbers in seconds (2, 0.5)
//	auth:      {key_file}
//	state_dir: directory holding the generation file
//	run_dir:   directory for what a reboot must clear (resource agents'
//	           HA_RSCTMP); default /run/palisade, a tmpfs
//	socket:    path of the status socket
//	quorum, fencing, resources, alerts: accepted as raw YAML (Cluster.Quorum, ...)
//	           and validated by the packages that own them.
//
// Relative paths are resolved against the directory of the config file.
// Load has no side effects, so a daemon reloading on SIGHUP can keep its
// running configuration when the new one is refused.
package config
