package config

import (
	"fmt"
	"maps"
	"math"
	"net/netip"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"palisade/cluster/alert"
	"palisade/cluster/config/strict"
	"palisade/cluster/membership"
	"palisade/fence/topology"
	"palisade/quorum"
)

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`)

// Parse decodes and validates a whole configuration file: every section,
// with every problem of every section reported at once (strict.Errors,
// FILE:LINE: key.path: problem). name is used in errors and to resolve
// relative paths. It does not touch the host (no interface or key file
// checks): Load does those.
func Parse(name string, data []byte) (*Cluster, error) {
	col := strict.New(name)
	root := col.Parse(data)
	c := decode(col, root)
	if err := col.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// timingField remembers where a timing value came from for error lines.
type timingField struct {
	d    time.Duration
	node *yaml.Node
	set  bool
}

// walker is the file's one collector, with the walks of the sections this
// package owns; the other sections are decoded by their packages into the
// same collector.
type walker struct {
	*strict.Collector
}

// decode reads the file's top node into a Cluster, reporting into col. The
// Cluster is only meaningful when col gained no error.
func decode(col *strict.Collector, root *yaml.Node) *Cluster {
	name := col.File()
	w := walker{col}
	c := &Cluster{File: name, StateDir: DefaultStateDir, Socket: DefaultSocket, RunDir: DefaultRunDir, lines: map[string]int{}}
	if root == nil {
		if col.Len() == 0 {
			w.Errorf(nil, "", "empty file, want the sections cluster, nodes, links, timing, auth")
		}
		return c
	}
	var timing [4]timingField // keepalive, warntime, deadtime, initdead
	var nodesNode, linksNode, authNode, quorumNode, fencingNode, resourcesNode, alertsNode *yaml.Node
	w.Fields(root, "", map[string]func(*yaml.Node, string){
		"cluster": func(v *yaml.Node, key string) {
			w.Fields(v, key, map[string]func(*yaml.Node, string){
				"name": func(v *yaml.Node, key string) {
					if s, ok := w.Scalar(v, key); ok {
						if !nameRE.MatchString(s) {
							w.Errorf(v, key, "%s: want 1-63 letters, digits, '.', '_' or '-'", strict.Quote(s))
						}
						c.Name = s
					}
				},
			})
		},
		"nodes": func(v *yaml.Node, key string) { nodesNode = v; w.nodes(c, v, key) },
		"links": func(v *yaml.Node, key string) { linksNode = v; w.links(c, v, key) },
		"timing": func(v *yaml.Node, key string) {
			h := map[string]func(*yaml.Node, string){}
			for i, k := range []string{"keepalive", "warntime", "deadtime", "initdead"} {
				h[k] = func(v *yaml.Node, key string) {
					if d, ok := w.duration(v, key); ok {
						timing[i] = timingField{d, v, true}
					}
				}
			}
			w.Fields(v, key, h)
		},
		"auth": func(v *yaml.Node, key string) {
			authNode = v
			w.Fields(v, key, map[string]func(*yaml.Node, string){
				"key_file": func(v *yaml.Node, key string) {
					if s, ok := w.Scalar(v, key); ok {
						c.KeyFile = resolve(name, s)
						c.lines[key] = v.Line
					}
				},
			})
		},
		"state_dir": func(v *yaml.Node, key string) {
			if s, ok := w.Scalar(v, key); ok {
				c.StateDir = resolve(name, s)
			}
		},
		"run_dir": func(v *yaml.Node, key string) {
			if s, ok := w.Scalar(v, key); ok {
				c.RunDir = resolve(name, s)
			}
		},
		"socket": func(v *yaml.Node, key string) {
			if s, ok := w.Scalar(v, key); ok {
				c.Socket = resolve(name, s)
			}
		},
		// Decoded below, once the node names are known.
		"quorum":    func(v *yaml.Node, _ string) { quorumNode = v },
		"fencing":   func(v *yaml.Node, _ string) { fencingNode = v },
		"resources": func(v *yaml.Node, _ string) { resourcesNode = v },
		"alerts":    func(v *yaml.Node, _ string) { alertsNode = v },
	})
	// What is missing is reported only where the file has nothing at all:
	// a list whose entries were wrong already said so.
	if c.Name == "" && !w.seen(root, "cluster") {
		w.Errorf(root, "cluster.name", "missing: every node of a cluster must use the same name")
	}
	if nodesNode == nil || empty(nodesNode) {
		w.Errorf(root, "nodes", "missing: list every node with id, name and addresses")
	}
	if linksNode == nil || empty(linksNode) {
		w.Errorf(root, "links", "missing: at least one link (ucast, mcast or bcast)")
	}
	if c.KeyFile == "" && (authNode == nil || !w.seen(authNode, "key_file")) {
		w.Errorf(root, "auth.key_file", "missing: cluster traffic must be signed; name a key file (mode 0600)")
	}
	w.crossCheck(c)
	w.timing(c, timing)

	names := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		names[i] = n.Name
	}
	c.Quorum = quorum.DecodeWith(col, quorumNode, names)
	c.Fencing = topology.DecodeWith(col, fencingNode)
	c.Resources, c.AdminEpoch = decodeResources(col, resourcesNode)
	c.Alerts = alert.DecodeWith(col, alertsNode)
	return c
}

// seen says mapping n has the key (whatever its value).
func (w walker) seen(n *yaml.Node, key string) bool {
	n = w.Deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return true
		}
	}
	return false
}

// empty is a null or an empty list.
func empty(n *yaml.Node) bool {
	return n.ShortTag() == "!!null" || (n.Kind == yaml.SequenceNode && len(n.Content) == 0)
}

func resolve(file, p string) string {
	if filepath.IsAbs(p) || file == "" {
		return p
	}
	return filepath.Join(filepath.Dir(file), p)
}

// duration accepts Go durations ("500ms", "2s") and Heartbeat's plain
// numbers of seconds ("2", "0.5").
func (w walker) duration(v *yaml.Node, key string) (time.Duration, bool) {
	s, ok := w.Scalar(v, key)
	if !ok {
		return 0, false
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			w.Errorf(v, key, "%s: want a positive duration", strict.Quote(s))
			return 0, false
		}
		return d, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f <= 0 || f > 86400 {
		w.Errorf(v, key, "%s: want a duration such as 500ms or 2s, or Heartbeat seconds such as 2", strict.Quote(s))
		return 0, false
	}
	return time.Duration(f * float64(time.Second)), true
}

func (w walker) timing(c *Cluster, tf [4]timingField) {
	names := []string{"keepalive", "warntime", "deadtime", "initdead"}
	defaults := []time.Duration{2 * time.Second, 10 * time.Second, 30 * time.Second, 0}
	var d [4]time.Duration
	for i := range tf {
		d[i] = defaults[i]
		if tf[i].set {
			d[i] = tf[i].d
		}
	}
	if !tf[3].set {
		d[3] = 2 * d[2] // Heartbeat: initdead at least twice deadtime
	}
	t := membership.Timing{Keepalive: d[0], Warntime: d[1], Deadtime: d[2], Initdead: d[3]}
	c.Timing = t
	if err := t.Validate(); err != nil {
		// Point at the line of the value the message starts with.
		msg := err.Error()
		for i, n := range names {
			if strings.HasPrefix(msg, n) {
				key := "timing." + n
				if !tf[i].set {
					w.Errorf(nil, key, "%s (default value; set it explicitly)", msg)
				} else {
					w.Errorf(tf[i].node, key, "%s", msg)
				}
				return
			}
		}
		w.Errorf(nil, "timing", "%s", msg)
	}
}

func (w walker) nodes(c *Cluster, v *yaml.Node, key string) {
	ids := map[uint32]int{}
	names := map[string]int{}
	w.List(v, key, func(_ int, v *yaml.Node, key string) {
		n := Node{Line: v.Line, Addresses: map[string]netip.Addr{}}
		var idSet bool
		w.Fields(v, key, map[string]func(*yaml.Node, string){
			"id": func(v *yaml.Node, key string) {
				idSet = true // a bad id is reported once, not also as missing
				s, ok := w.Scalar(v, key)
				if !ok {
					return
				}
				id, err := strconv.ParseUint(s, 10, 32)
				if err != nil || id == 0 {
					w.Errorf(v, key, "%s: want a number 1..%d", strict.Quote(s), uint32(math.MaxUint32))
					return
				}
				n.ID, idSet = uint32(id), true
				if first, dup := ids[n.ID]; dup {
					w.Errorf(v, key, "duplicate node id %d (first on line %d)", id, first)
				}
				ids[n.ID] = v.Line
			},
			"name": func(v *yaml.Node, key string) {
				if s, ok := w.Scalar(v, key); ok {
					if !nameRE.MatchString(s) {
						w.Errorf(v, key, "%s: want a host name", strict.Quote(s))
					}
					if first, dup := names[s]; dup {
						w.Errorf(v, key, "duplicate node name %s (first on line %d)", strict.Quote(s), first)
					}
					names[s] = v.Line
					n.Name = s
				}
			},
			"interfaces": func(v *yaml.Node, key string) {
				if v = w.Deref(v); v.Kind != yaml.MappingNode {
					w.Errorf(v, key, "is %s, want a mapping of link name to interface name", strict.Kind(v))
					return
				}
				if n.Interfaces == nil {
					n.Interfaces = map[string]string{}
				}
				w.Map(v, key, func(link string, ifc *yaml.Node, key string) {
					s, ok := w.Scalar(ifc, key)
					if !ok {
						return
					}
					if s == "" {
						w.Errorf(ifc, key, "empty interface name")
						return
					}
					n.Interfaces[link] = s
				})
			},
			"addresses": func(v *yaml.Node, key string) {
				if v = w.Deref(v); v.Kind != yaml.MappingNode {
					w.Errorf(v, key, "is %s, want a mapping of link name to IP address", strict.Kind(v))
					return
				}
				w.Map(v, key, func(link string, a *yaml.Node, key string) {
					s, ok := w.Scalar(a, key)
					if !ok {
						return
					}
					ip, err := netip.ParseAddr(s)
					if err != nil {
						w.Errorf(a, key, "%s: want an IPv4 or IPv6 address", strict.Quote(s))
						return
					}
					n.Addresses[link] = ip
				})
			},
		})
		if !idSet {
			w.Errorf(v, key+".id", "missing: every node needs a stable numeric id")
		}
		if n.ID == 0 {
			return
		}
		if n.Name == "" {
			n.Name = fmt.Sprintf("node%d", n.ID)
		}
		c.Nodes = append(c.Nodes, n)
	})
	sortNodes(c.Nodes)
}

func (w walker) links(c *Cluster, v *yaml.Node, key string) {
	names := map[string]int{}
	w.List(v, key, func(i int, v *yaml.Node, key string) {
		l := Link{Line: v.Line, Port: DefaultPort, TTL: 1, Name: fmt.Sprintf("link%d", i+1)}
		var kindNode *yaml.Node
		w.Fields(v, key, map[string]func(*yaml.Node, string){
			"name": func(v *yaml.Node, key string) {
				if s, ok := w.Scalar(v, key); ok {
					if !nameRE.MatchString(s) {
						w.Errorf(v, key, "%s: want letters, digits, '.', '_' or '-'", strict.Quote(s))
					}
					l.Name = s
				}
			},
			"kind": func(v *yaml.Node, key string) {
				kindNode = v
				if s, ok := w.Scalar(v, key); ok {
					switch s {
					case KindUnicast, KindMulticast, KindBroadcast:
						l.Kind = s
					default:
						w.Errorf(v, key, "%s: want ucast, mcast or bcast", strict.Quote(s))
					}
				}
			},
			"interface": func(v *yaml.Node, key string) {
				if s, ok := w.Scalar(v, key); ok {
					if len(s) > 15 || strings.ContainsAny(s, "/ \t") {
						w.Errorf(v, key, "%s: not a valid interface name", strict.Quote(s))
					}
					l.Interface = s
					c.lines[key] = v.Line
				}
			},
			"port": func(v *yaml.Node, key string) {
				if s, ok := w.Scalar(v, key); ok {
					p, err := strconv.ParseUint(s, 10, 16)
					if err != nil || p == 0 {
						w.Errorf(v, key, "%s: want a UDP port 1..65535", strict.Quote(s))
						return
					}
					l.Port = uint16(p)
				}
			},
			"group": func(v *yaml.Node, key string) {
				if s, ok := w.Scalar(v, key); ok {
					g, err := netip.ParseAddr(s)
					if err != nil || !g.IsMulticast() {
						w.Errorf(v, key, "%s: want a multicast group address (e.g. 239.0.0.1 or ff12::694)", strict.Quote(s))
						return
					}
					l.Group = g
				}
			},
			"ttl": func(v *yaml.Node, key string) {
				if s, ok := w.Scalar(v, key); ok {
					n, err := strconv.ParseUint(s, 10, 8)
					if err != nil || n == 0 {
						w.Errorf(v, key, "%s: want a TTL 1..255", strict.Quote(s))
						return
					}
					l.TTL = int(n)
				}
			},
			"loop": func(v *yaml.Node, key string) {
				if s, ok := w.Scalar(v, key); ok {
					b, err := strconv.ParseBool(s)
					if err != nil {
						w.Errorf(v, key, "%s: want true or false", strict.Quote(s))
					}
					l.Loop = b
				}
			},
		})
		switch {
		case kindNode == nil:
			w.Errorf(v, key+".kind", "missing: want ucast, mcast or bcast")
		case l.Kind == KindMulticast && !l.Group.IsValid():
			w.Errorf(v, key+".group", "missing: a mcast link needs a group")
		case l.Kind != KindMulticast && l.Group.IsValid():
			w.Errorf(v, key+".group", "only mcast links have a group")
		case (l.Kind == KindMulticast || l.Kind == KindBroadcast) && l.Interface == "":
			w.Errorf(v, key+".interface", "missing: a %s link needs an interface", l.Kind)
		}
		if first, dup := names[l.Name]; dup {
			w.Errorf(v, key+".name", "duplicate link name %s (first on line %d)", strict.Quote(l.Name), first)
		}
		names[l.Name] = v.Line
		c.Links = append(c.Links, l)
	})
}

// crossCheck validates what spans sections: node addresses name links, and
// every node has an address on every unicast link.
func (w walker) crossCheck(c *Cluster) {
	links := map[string]Link{}
	var valid []string
	for _, l := range c.Links {
		links[l.Name] = l
		valid = append(valid, l.Name)
	}
	for i, n := range c.Nodes {
		key := fmt.Sprintf("nodes[id=%d].addresses", n.ID)
		for _, ln := range slices.Sorted(maps.Keys(n.Addresses)) {
			a := n.Addresses[ln]
			l, ok := links[ln]
			if !ok {
				w.Errorf(&yaml.Node{Line: n.Line}, key+"."+ln, "no such link, links are: %s", strings.Join(valid, ", "))
				continue
			}
			if l.Group.IsValid() && l.Group.Is4() != a.Is4() {
				w.Errorf(&yaml.Node{Line: n.Line}, key+"."+ln, "%v and group %v are of different IP families", a, l.Group)
			}
		}
		for _, ln := range slices.Sorted(maps.Keys(n.Interfaces)) {
			if _, ok := links[ln]; !ok {
				w.Errorf(&yaml.Node{Line: n.Line}, fmt.Sprintf("nodes[id=%d].interfaces.%s", n.ID, ln), "no such link, links are: %s", strings.Join(valid, ", "))
			}
		}
		for _, l := range c.Links {
			if _, ok := n.Addresses[l.Name]; !ok && l.Kind == KindUnicast {
				w.Errorf(&yaml.Node{Line: c.Nodes[i].Line}, key+"."+l.Name, "missing: ucast link %s needs every node's address", l.Name)
			}
		}
	}
}
