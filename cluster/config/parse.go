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

	"palisade/cluster/membership"
)

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`)

// Parse validates configuration data. name is used in errors and to resolve
// relative paths. It does not touch the host (no interface or key file
// checks): Load does those.
func Parse(name string, data []byte) (*Cluster, error) {
	c, w := parse(name, data)
	if len(w.errs) > 0 {
		return nil, w.errs
	}
	return c, nil
}

// timingField remembers where a timing value came from for error lines.
type timingField struct {
	d    time.Duration
	node *yaml.Node
	set  bool
}

func parse(name string, data []byte) (*Cluster, *walker) {
	w := &walker{file: name}
	c := &Cluster{File: name, StateDir: DefaultStateDir, Socket: DefaultSocket, RunDir: DefaultRunDir}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		// yaml.v3 errors say "yaml: line N: ..."; make that file:N.
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		var line int
		if _, scanErr := fmt.Sscanf(msg, "line %d:", &line); scanErr == nil {
			_, msg, _ = strings.Cut(msg, ": ")
		}
		w.errf(&yaml.Node{Line: line}, "", "YAML syntax: %s", msg)
		return nil, w
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		w.errf(nil, "", "empty file, want the sections cluster, nodes, links, timing, auth")
		return nil, w
	}
	root := doc.Content[0]
	var timing [4]timingField // keepalive, warntime, deadtime, initdead
	var nodesNode, linksNode, authNode *yaml.Node
	w.fields(root, "", map[string]func(*yaml.Node, string){
		"cluster": func(v *yaml.Node, key string) {
			w.fields(v, key, map[string]func(*yaml.Node, string){
				"name": func(v *yaml.Node, key string) {
					if s, ok := w.scalar(v, key); ok {
						if !nameRE.MatchString(s) {
							w.errf(v, key, "%q: want 1-63 letters, digits, '.', '_' or '-'", s)
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
			w.fields(v, key, h)
		},
		"auth": func(v *yaml.Node, key string) {
			authNode = v
			w.fields(v, key, map[string]func(*yaml.Node, string){
				"key_file": func(v *yaml.Node, key string) {
					if s, ok := w.scalar(v, key); ok {
						c.KeyFile = resolve(name, s)
					}
				},
			})
		},
		"state_dir": func(v *yaml.Node, key string) {
			if s, ok := w.scalar(v, key); ok {
				c.StateDir = resolve(name, s)
			}
		},
		"run_dir": func(v *yaml.Node, key string) {
			if s, ok := w.scalar(v, key); ok {
				c.RunDir = resolve(name, s)
			}
		},
		"socket": func(v *yaml.Node, key string) {
			if s, ok := w.scalar(v, key); ok {
				c.Socket = resolve(name, s)
			}
		},
		"quorum":    func(v *yaml.Node, _ string) { c.Quorum = v },
		"fencing":   func(v *yaml.Node, _ string) { c.Fencing = v },
		"resources": func(v *yaml.Node, _ string) { c.Resources = v },
		"alerts":    func(v *yaml.Node, _ string) { c.Alerts = v },
	})
	if len(w.errs) > 0 {
		return c, w
	}
	if c.Name == "" {
		w.errf(root, "cluster.name", "missing: every node of a cluster must use the same name")
	}
	if nodesNode == nil || len(c.Nodes) == 0 {
		w.errf(root, "nodes", "missing: list every node with id, name and addresses")
	}
	if linksNode == nil || len(c.Links) == 0 {
		w.errf(root, "links", "missing: at least one link (ucast, mcast or bcast)")
	}
	if authNode == nil || c.KeyFile == "" {
		w.errf(root, "auth.key_file", "missing: cluster traffic must be signed; name a key file (mode 0600)")
	}
	w.crossCheck(c)
	w.timing(c, timing)
	return c, w
}

func resolve(file, p string) string {
	if filepath.IsAbs(p) || file == "" {
		return p
	}
	return filepath.Join(filepath.Dir(file), p)
}

// duration accepts Go durations ("500ms", "2s") and Heartbeat's plain
// numbers of seconds ("2", "0.5").
func (w *walker) duration(v *yaml.Node, key string) (time.Duration, bool) {
	s, ok := w.scalar(v, key)
	if !ok {
		return 0, false
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			w.errf(v, key, "%q: want a positive duration", s)
			return 0, false
		}
		return d, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f <= 0 || f > 86400 {
		w.errf(v, key, "%q: want a duration such as 500ms or 2s, or Heartbeat seconds such as 2", s)
		return 0, false
	}
	return time.Duration(f * float64(time.Second)), true
}

func (w *walker) timing(c *Cluster, tf [4]timingField) {
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
					w.errf(nil, key, "%s (default value; set it explicitly)", msg)
				} else {
					w.errf(tf[i].node, key, "%s", msg)
				}
				return
			}
		}
		w.errf(nil, "timing", "%s", msg)
	}
}

func (w *walker) nodes(c *Cluster, v *yaml.Node, key string) {
	ids := map[uint32]int{}
	names := map[string]int{}
	w.seq(v, key, func(_ int, v *yaml.Node, key string) {
		n := Node{Line: v.Line, Addresses: map[string]netip.Addr{}}
		var idSet bool
		w.fields(v, key, map[string]func(*yaml.Node, string){
			"id": func(v *yaml.Node, key string) {
				idSet = true // a bad id is reported once, not also as missing
				s, ok := w.scalar(v, key)
				if !ok {
					return
				}
				id, err := strconv.ParseUint(s, 10, 32)
				if err != nil || id == 0 {
					w.errf(v, key, "%q: want a number 1..%d", s, uint32(math.MaxUint32))
					return
				}
				n.ID, idSet = uint32(id), true
				if first, dup := ids[n.ID]; dup {
					w.errf(v, key, "duplicate node id %d (first on line %d)", id, first)
				}
				ids[n.ID] = v.Line
			},
			"name": func(v *yaml.Node, key string) {
				if s, ok := w.scalar(v, key); ok {
					if !nameRE.MatchString(s) {
						w.errf(v, key, "%q: want a host name", s)
					}
					if first, dup := names[s]; dup {
						w.errf(v, key, "duplicate node name %q (first on line %d)", s, first)
					}
					names[s] = v.Line
					n.Name = s
				}
			},
			"interfaces": func(v *yaml.Node, key string) {
				if v.Kind != yaml.MappingNode {
					w.errf(v, key, "is %s, want a mapping of link name to interface name", kindName(v))
					return
				}
				if n.Interfaces == nil {
					n.Interfaces = map[string]string{}
				}
				for i := 0; i+1 < len(v.Content); i += 2 {
					k, ifc := v.Content[i], v.Content[i+1]
					s, ok := w.scalar(ifc, join(key, k.Value))
					if !ok {
						continue
					}
					if s == "" {
						w.errf(ifc, join(key, k.Value), "empty interface name")
						continue
					}
					if _, dup := n.Interfaces[k.Value]; dup {
						w.errf(k, join(key, k.Value), "duplicate link")
					}
					n.Interfaces[k.Value] = s
				}
			},
			"addresses": func(v *yaml.Node, key string) {
				if v.Kind != yaml.MappingNode {
					w.errf(v, key, "is %s, want a mapping of link name to IP address", kindName(v))
					return
				}
				for i := 0; i+1 < len(v.Content); i += 2 {
					k, a := v.Content[i], v.Content[i+1]
					s, ok := w.scalar(a, join(key, k.Value))
					if !ok {
						continue
					}
					ip, err := netip.ParseAddr(s)
					if err != nil {
						w.errf(a, join(key, k.Value), "%q: want an IPv4 or IPv6 address", s)
						continue
					}
					if _, dup := n.Addresses[k.Value]; dup {
						w.errf(k, join(key, k.Value), "duplicate link")
					}
					n.Addresses[k.Value] = ip
				}
			},
		})
		if !idSet {
			w.errf(v, key+".id", "missing: every node needs a stable numeric id")
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

func (w *walker) links(c *Cluster, v *yaml.Node, key string) {
	names := map[string]int{}
	w.seq(v, key, func(i int, v *yaml.Node, key string) {
		l := Link{Line: v.Line, Port: DefaultPort, TTL: 1, Name: fmt.Sprintf("link%d", i+1)}
		var kindNode *yaml.Node
		w.fields(v, key, map[string]func(*yaml.Node, string){
			"name": func(v *yaml.Node, key string) {
				if s, ok := w.scalar(v, key); ok {
					if !nameRE.MatchString(s) {
						w.errf(v, key, "%q: want letters, digits, '.', '_' or '-'", s)
					}
					l.Name = s
				}
			},
			"kind": func(v *yaml.Node, key string) {
				kindNode = v
				if s, ok := w.scalar(v, key); ok {
					switch s {
					case KindUnicast, KindMulticast, KindBroadcast:
						l.Kind = s
					default:
						w.errf(v, key, "%q: want ucast, mcast or bcast", s)
					}
				}
			},
			"interface": func(v *yaml.Node, key string) {
				if s, ok := w.scalar(v, key); ok {
					if len(s) > 15 || strings.ContainsAny(s, "/ \t") {
						w.errf(v, key, "%q: not a valid interface name", s)
					}
					l.Interface = s
				}
			},
			"port": func(v *yaml.Node, key string) {
				if s, ok := w.scalar(v, key); ok {
					p, err := strconv.ParseUint(s, 10, 16)
					if err != nil || p == 0 {
						w.errf(v, key, "%q: want a UDP port 1..65535", s)
						return
					}
					l.Port = uint16(p)
				}
			},
			"group": func(v *yaml.Node, key string) {
				if s, ok := w.scalar(v, key); ok {
					g, err := netip.ParseAddr(s)
					if err != nil || !g.IsMulticast() {
						w.errf(v, key, "%q: want a multicast group address (e.g. 239.0.0.1 or ff12::694)", s)
						return
					}
					l.Group = g
				}
			},
			"ttl": func(v *yaml.Node, key string) {
				if s, ok := w.scalar(v, key); ok {
					n, err := strconv.ParseUint(s, 10, 8)
					if err != nil || n == 0 {
						w.errf(v, key, "%q: want a TTL 1..255", s)
						return
					}
					l.TTL = int(n)
				}
			},
			"loop": func(v *yaml.Node, key string) {
				if s, ok := w.scalar(v, key); ok {
					b, err := strconv.ParseBool(s)
					if err != nil {
						w.errf(v, key, "%q: want true or false", s)
					}
					l.Loop = b
				}
			},
		})
		switch {
		case kindNode == nil:
			w.errf(v, key+".kind", "missing: want ucast, mcast or bcast")
		case l.Kind == KindMulticast && !l.Group.IsValid():
			w.errf(v, key+".group", "missing: a mcast link needs a group")
		case l.Kind != KindMulticast && l.Group.IsValid():
			w.errf(v, key+".group", "only mcast links have a group")
		case (l.Kind == KindMulticast || l.Kind == KindBroadcast) && l.Interface == "":
			w.errf(v, key+".interface", "missing: a %s link needs an interface", l.Kind)
		}
		if first, dup := names[l.Name]; dup {
			w.errf(v, key+".name", "duplicate link name %q (first on line %d)", l.Name, first)
		}
		names[l.Name] = v.Line
		c.Links = append(c.Links, l)
	})
}

// crossCheck validates what spans sections: node addresses name links, and
// every node has an address on every unicast link.
func (w *walker) crossCheck(c *Cluster) {
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
				w.errf(&yaml.Node{Line: n.Line}, key+"."+ln, "no such link, links are: %s", strings.Join(valid, ", "))
				continue
			}
			if l.Group.IsValid() && l.Group.Is4() != a.Is4() {
				w.errf(&yaml.Node{Line: n.Line}, key+"."+ln, "%v and group %v are of different IP families", a, l.Group)
			}
		}
		for _, ln := range slices.Sorted(maps.Keys(n.Interfaces)) {
			if _, ok := links[ln]; !ok {
				w.errf(&yaml.Node{Line: n.Line}, fmt.Sprintf("nodes[id=%d].interfaces.%s", n.ID, ln), "no such link, links are: %s", strings.Join(valid, ", "))
			}
		}
		for _, l := range c.Links {
			if _, ok := n.Addresses[l.Name]; !ok && l.Kind == KindUnicast {
				w.errf(&yaml.Node{Line: c.Nodes[i].Line}, key+"."+l.Name, "missing: ucast link %s needs every node's address", l.Name)
			}
		}
	}
}
