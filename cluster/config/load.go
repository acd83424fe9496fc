package config

import (
	"cmp"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"

	"palisade/cluster/auth"
	"palisade/cluster/config/strict"
	"palisade/fence/topology"
)

// Options select the host checks Load makes and carry the run-time
// settings that override the file's paths.
type Options struct {
	// SkipHostChecks disables the checks that look at this host (link
	// interfaces exist, key file exists with mode 0600 and a strong key):
	// for tools that validate a file meant for another machine.
	SkipHostChecks bool
	// Self names this node (id or name, as palisaded --node); empty: the
	// host name. The host checks then look at this node's own interface
	// for each link (nodes[].interfaces overrides).
	Self string
	// CheckDevice, if set, checks a fence device the way the daemon will
	// build it (its plugin exists and takes the parameters), as part of
	// the host checks. palisaded sets it; the CLI, which links no fence
	// plugin, cannot.
	CheckDevice func(topology.Device) error
	// StateDir, RunDir and Socket, when set, replace the file's state_dir,
	// run_dir and socket: palisaded's own settings (--state-dir,
	// PALISADED_STATE_DIR, ...), so several daemons can share one file on
	// a test host.
	StateDir, RunDir, Socket string
}

// Load reads, decodes, validates and host-checks a configuration file:
// every problem of every section and of this host is reported at once
// (Errors). It has no side effects, so a daemon reloading on SIGHUP can
// keep its running configuration when the new one is refused, and a
// daemon starting writes nothing before the whole file was accepted.
func Load(path string, opts Options) (*Cluster, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	col := strict.New(path)
	c := decode(col, col.Parse(data))
	if opts.StateDir != "" {
		c.StateDir = opts.StateDir
	}
	if opts.RunDir != "" {
		c.RunDir = opts.RunDir
	}
	if opts.Socket != "" {
		c.Socket = opts.Socket
	}
	if !opts.SkipHostChecks {
		hostChecks(col, c, opts)
	}
	if err := col.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// hostChecks verifies what depends on this machine, on whatever of the
// file could be decoded (so its problems come in the same report).
func hostChecks(col *strict.Collector, c *Cluster, opts Options) {
	self, selfErr := c.Self(opts.Self)
	for i, l := range c.Links {
		ifc, line, key := l.Interface, c.lines["links["+strconv.Itoa(i)+"].interface"], fmt.Sprintf("links[%d].interface", i)
		if selfErr == nil {
			if o, ok := self.Interfaces[l.Name]; ok {
				ifc, line, key = o, self.Line, fmt.Sprintf("nodes[id=%d].interfaces.%s", self.ID, l.Name)
			}
		}
		if ifc == "" {
			continue
		}
		if _, err := net.InterfaceByName(ifc); err != nil {
			col.ErrorAt(line, key, "%s: no such network interface on this host (%v)", strict.Quote(ifc), err)
		}
	}
	if c.KeyFile != "" {
		// The whole key file as the daemon reads it: mode, format and
		// the strength of every key.
		if _, err := auth.Load(c.KeyFile); err != nil {
			col.ErrorAt(c.lines["auth.key_file"], "auth.key_file", "%v", err)
		}
	}
	if opts.CheckDevice != nil && c.Fencing != nil && c.Fencing.Enabled {
		devs := make([]topology.Device, 0, len(c.Fencing.Devices))
		for _, d := range c.Fencing.Devices {
			devs = append(devs, d)
		}
		slices.SortFunc(devs, func(a, b topology.Device) int { return cmp.Compare(a.Line, b.Line) })
		for _, d := range devs {
			if err := opts.CheckDevice(d); err != nil {
				col.ErrorAt(d.Line, d.Key, "%v", err)
			}
		}
	}
}

// Self finds this host's node: by id or name if sel is set (the --node
// flag), else by the host name, as Heartbeat matches `uname -n`.
func (c *Cluster) Self(sel string) (Node, error) {
	if sel == "" {
		h, err := os.Hostname()
		if err != nil {
			return Node{}, fmt.Errorf("finding this node: %w", err)
		}
		sel = h
	}
	for _, n := range c.Nodes {
		if n.Name == sel || strconv.FormatUint(uint64(n.ID), 10) == sel {
			return n, nil
		}
	}
	return Node{}, fmt.Errorf("%s: no node with id or name %s (use --node)", c.File, strict.Quote(sel))
}
