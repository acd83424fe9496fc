package config

import (
	"fmt"
	"net"
	"os"
	"strconv"

	"github.com/spf13/viper"
	"gopkg.in/yaml.v3"

	"palisade/cluster/auth"
)

// Options select the host checks Load makes.
type Options struct {
	// SkipHostChecks disables the checks that look at this host (link
	// interfaces exist, key file exists with mode 0600): for tools that
	// validate a file meant for another machine.
	SkipHostChecks bool
	// Self names this node (id or name, as palisaded --node); empty: the
	// host name. The host checks then look at this node's own interface
	// for each link (nodes[].interfaces overrides).
	Self string
}

// Load reads, validates and host-checks a configuration file. Environment
// variables PALISADE_STATE_DIR and PALISADE_SOCKET override those keys (so
// several daemons can share one file on a test host).
func Load(path string, opts Options) (*Cluster, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, w := parse(path, data)
	if len(w.errs) > 0 {
		return nil, w.errs
	}
	// viper reads the same file for the environment overrides; strict
	// validation above already refused anything it would silently accept.
	v := viper.New()
	v.SetConfigFile(path)
	v.SetConfigType("yaml")
	v.SetEnvPrefix("palisade")
	v.AutomaticEnv()
	if err := v.ReadInConfig(); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if s := v.GetString("state_dir"); s != "" {
		c.StateDir = resolve(path, s)
	}
	if s := v.GetString("run_dir"); s != "" {
		c.RunDir = resolve(path, s)
	}
	if s := v.GetString("socket"); s != "" {
		c.Socket = resolve(path, s)
	}
	if !opts.SkipHostChecks {
		w.hostChecks(c, data, opts.Self)
	}
	if len(w.errs) > 0 {
		return nil, w.errs
	}
	return c, nil
}

// hostChecks verifies what depends on this machine.
func (w *walker) hostChecks(c *Cluster, data []byte, sel string) {
	lines := keyLines(data)
	self, selfErr := c.Self(sel)
	for i, l := range c.Links {
		ifc, line, key := l.Interface, lines["links."+strconv.Itoa(i)+".interface"], fmt.Sprintf("links[%d].interface", i)
		if selfErr == nil {
			if o, ok := self.Interfaces[l.Name]; ok {
				ifc, line, key = o, self.Line, fmt.Sprintf("nodes[id=%d].interfaces.%s", self.ID, l.Name)
			}
		}
		if ifc == "" {
			continue
		}
		if _, err := net.InterfaceByName(ifc); err != nil {
			w.errf(&yaml.Node{Line: line}, key, "%q: no such network interface on this host (%v)", ifc, err)
		}
	}
	fi, err := os.Stat(c.KeyFile)
	if err != nil {
		w.errf(&yaml.Node{Line: lines["auth.key_file"]}, "auth.key_file", "%v", err)
		return
	}
	if err := auth.CheckMode(c.KeyFile, fi); err != nil {
		w.errf(&yaml.Node{Line: lines["auth.key_file"]}, "auth.key_file", "%v", err)
	}
}

// keyLines maps dotted key paths (list indexes as numbers) to their line,
// for checks that run after parsing.
func keyLines(data []byte) map[string]int {
	out := map[string]int{}
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return out
	}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := join(path, n.Content[i].Value)
				out[p] = n.Content[i].Line
				walk(n.Content[i+1], p)
			}
		case yaml.SequenceNode:
			for i, v := range n.Content {
				p := join(path, strconv.Itoa(i))
				out[p] = v.Line
				walk(v, p)
			}
		}
	}
	walk(doc.Content[0], "")
	return out
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
	return Node{}, fmt.Errorf("%s: no node with id or name %q (use --node)", c.File, sel)
}
