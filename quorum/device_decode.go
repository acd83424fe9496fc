package quorum

import (
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"palisade/cluster/config/strict"
)

// DeviceSection is the decoded `quorum.device:` mapping:
//
//	quorum:
//	  device:
//	    model: arbiter            # disk | arbiter
//	    algorithm: ffsplit        # ffsplit | lms (default: ffsplit for an arbiter, lms for a disk)
//	    votes: 1                  # default: 1 for ffsplit, node votes - 1 for lms
//	    tie_breaker: n1           # default: the first (lowest id) node
//	    arbiter:
//	      address: 198.18.0.9:5403
//	      server_name: arbiter    # name in the arbiter's certificate (default: the address's host)
//	      ca_file: /etc/palisade/arbiter/ca.pem
//	      cert_file: /etc/palisade/arbiter/prod.pem   # CN = cluster name
//	      key_file: /etc/palisade/arbiter/prod.key    # mode 0600
//	      interval: 1s            # recast period (the vote is also recast on every membership change)
//	      connect_timeout: 2s
//	    disk:
//	      paths: [/dev/disk/by-id/wwn-0x5000c500a1b2c3d4]   # 1 or 3 disks
//	      evict: true             # the master resets live nodes of a losing partition
//	      min_score: 0            # a node whose heuristics score is lower never becomes master
//	      start_mode: always      # always | clean (refuse to start while a pill waits in our mailbox)
//
// The disk's timeouts are not configured here: they are written once in
// the disk's header by `palisade disk create`, so that every node agrees.
type DeviceSection struct {
	Model      DeviceModel
	Algorithm  Algorithm
	Votes      int // as configured; 0 = the algorithm's default
	TieBreaker string
	Arbiter    *ArbiterSection `json:",omitempty"`
	Disk       *DiskSection    `json:",omitempty"`
}

// ArbiterSection is `quorum.device.arbiter`. File paths may differ per
// node, so they stay out of the safety digest (json:"-").
type ArbiterSection struct {
	Address        string `json:"-"`
	ServerName     string `json:"-"`
	CAFile         string `json:"-"`
	CertFile       string `json:"-"`
	KeyFile        string `json:"-"`
	Interval       time.Duration
	ConnectTimeout time.Duration `json:"-"`
}

// DiskSection is `quorum.device.disk`. Device paths may differ per node
// (/dev/sdb here, /dev/sdc there), so they stay out of the safety digest.
type DiskSection struct {
	Paths     []string `json:"-"`
	Evict     bool
	MinScore  int
	StartMode string
}

// Defaults of the device section.
const (
	DefaultArbiterInterval       = time.Second
	DefaultArbiterConnectTimeout = 2 * time.Second
	DefaultArbiterPort           = "5403"
)

// HeuristicsSection is the decoded `quorum.heuristics:` mapping: ping
// groups in the style of Heartbeat's ping / ping_group / ipfail.
//
//	quorum:
//	  heuristics:
//	    interval: 1s          # one echo request per address per interval
//	    timeout: 3s           # an address is down when it has not answered for this long
//	    attribute: pingd      # node attribute holding the score, for location rules
//	    ping_groups:
//	      - name: uplink
//	        addresses: [198.18.0.254, 198.18.0.253]   # the group is up when any answers
//	        weight: 100       # added to the node's score while the group is up
//
// A node's score (sum of the weights of its groups that are up) feeds the
// disk master and the arbiter as the tie-break after partition size.
type HeuristicsSection struct {
	Interval   time.Duration
	Timeout    time.Duration
	Attribute  string
	PingGroups []PingGroup
}

// PingGroup is one ping group: up when any of its addresses answers.
type PingGroup struct {
	Name      string
	Addresses []netip.Addr `json:"-"`
	Weight    int
}

// Defaults of the heuristics section.
const (
	DefaultPingInterval  = time.Second
	DefaultPingAttribute = "pingd"
)

// sectionDecoder reports the quorum section's problems into the file's
// one collector (cluster/config/strict): FILE:LINE: key.path: problem.
type sectionDecoder struct {
	c *strict.Collector
}

func (d *sectionDecoder) errf(n *yaml.Node, key, msg string) {
	d.c.Errorf(n, key, "%s", msg)
}

// mapping calls fields[key] for every key of n and reports unknown keys
// with the valid ones.
func (d *sectionDecoder) mapping(n *yaml.Node, key string, fields map[string]func(*yaml.Node)) bool {
	h := make(map[string]func(*yaml.Node, string), len(fields))
	for k, f := range fields {
		h[k] = func(v *yaml.Node, _ string) { f(d.c.Deref(v)) }
	}
	return d.c.Fields(n, key, h)
}

func (d *sectionDecoder) decode(n *yaml.Node, key string, v any) bool {
	return d.c.DecodeStrict(n, key, v)
}

func (d *sectionDecoder) duration(n *yaml.Node, key string, dst *time.Duration) {
	v, err := time.ParseDuration(n.Value)
	if err != nil || v <= 0 {
		d.errf(n, key, fmt.Sprintf("bad duration %s: want a positive Go duration such as 500ms or 2s", strict.Quote(n.Value)))
		return
	}
	*dst = v
}

func (d *sectionDecoder) str(n *yaml.Node, key string, dst *string) {
	if n.Kind != yaml.ScalarNode || n.Value == "" {
		d.errf(n, key, "want a non-empty string")
		return
	}
	*dst = n.Value
}

// DecodeDevice validates a `quorum.device:` mapping for the given node
// names (in id order: the first is the default tie-breaker). file names
// the configuration in errors; every error is reported at once.
func DecodeDevice(file string, n *yaml.Node, nodes []string) (*DeviceSection, error) {
	d := &sectionDecoder{c: strict.New(file)}
	s := d.device(n, nodes)
	if err := d.c.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

// device decodes `quorum.device:`; nil when n is nil.
func (d *sectionDecoder) device(n *yaml.Node, nodes []string) *DeviceSection {
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n == nil {
		return nil
	}
	s := &DeviceSection{}
	if len(nodes) > 0 {
		s.TieBreaker = nodes[0]
	}
	const k = "quorum.device"
	var modelNode, algNode, arbNode, diskNode *yaml.Node
	d.mapping(n, k, map[string]func(*yaml.Node){
		"model": func(v *yaml.Node) {
			modelNode = v
			switch m := DeviceModel(v.Value); m {
			case DeviceDisk, DeviceArbiter:
				s.Model = m
			default:
				d.errf(v, k+".model", fmt.Sprintf("bad value %s: want disk or arbiter", strict.Quote(v.Value)))
			}
		},
		"algorithm": func(v *yaml.Node) { algNode = v },
		"votes": func(v *yaml.Node) {
			if d.decode(v, k+".votes", &s.Votes) && s.Votes < 1 {
				d.errf(v, k+".votes", fmt.Sprintf("bad value %d: want >= 1 (leave it out for the algorithm's default)", s.Votes))
			}
		},
		"tie_breaker": func(v *yaml.Node) {
			if !slices.Contains(nodes, v.Value) {
				d.errf(v, k+".tie_breaker", fmt.Sprintf("%s is not a configured node (nodes: %s)", strict.Quote(v.Value), strings.Join(nodes, ", ")))
				return
			}
			s.TieBreaker = v.Value
		},
		"arbiter": func(v *yaml.Node) { arbNode = v },
		"disk":    func(v *yaml.Node) { diskNode = v },
	})
	if modelNode == nil {
		d.errf(n, k+".model", "missing: want disk or arbiter")
	}
	if algNode != nil {
		a, err := ParseAlgorithm(algNode.Value, s.Model)
		if err != nil {
			d.errf(algNode, k+".algorithm", err.Error())
		}
		s.Algorithm = a
	} else if s.Model != "" {
		s.Algorithm, _ = ParseAlgorithm("", s.Model)
	}
	switch s.Model {
	case DeviceArbiter:
		if diskNode != nil {
			d.errf(diskNode, k+".disk", "set, but model is arbiter")
		}
		if arbNode == nil {
			d.errf(n, k+".arbiter", "missing: model arbiter needs address, ca_file, cert_file and key_file")
		} else {
			s.Arbiter = d.arbiter(arbNode, k+".arbiter")
		}
	case DeviceDisk:
		if arbNode != nil {
			d.errf(arbNode, k+".arbiter", "set, but model is disk")
		}
		if diskNode == nil {
			d.errf(n, k+".disk", "missing: model disk needs paths (1 or 3 shared disks)")
		} else {
			s.Disk = d.disk(diskNode, k+".disk")
		}
	}
	return s
}

func (d *sectionDecoder) arbiter(n *yaml.Node, k string) *ArbiterSection {
	a := &ArbiterSection{Interval: DefaultArbiterInterval, ConnectTimeout: DefaultArbiterConnectTimeout}
	if !d.mapping(n, k, map[string]func(*yaml.Node){
		"address": func(v *yaml.Node) {
			addr, err := arbiterAddress(v.Value)
			if err != nil {
				d.errf(v, k+".address", err.Error())
				return
			}
			a.Address = addr
		},
		"server_name":     func(v *yaml.Node) { d.str(v, k+".server_name", &a.ServerName) },
		"ca_file":         func(v *yaml.Node) { d.path(v, k+".ca_file", &a.CAFile) },
		"cert_file":       func(v *yaml.Node) { d.path(v, k+".cert_file", &a.CertFile) },
		"key_file":        func(v *yaml.Node) { d.path(v, k+".key_file", &a.KeyFile) },
		"interval":        func(v *yaml.Node) { d.duration(v, k+".interval", &a.Interval) },
		"connect_timeout": func(v *yaml.Node) { d.duration(v, k+".connect_timeout", &a.ConnectTimeout) },
	}) {
		return nil
	}
	for _, f := range []struct{ name, v string }{{"address", a.Address}, {"ca_file", a.CAFile}, {"cert_file", a.CertFile}, {"key_file", a.KeyFile}} {
		if f.v == "" {
			d.errf(n, k+"."+f.name, "missing")
		}
	}
	if a.ServerName == "" && a.Address != "" {
		a.ServerName, _, _ = net.SplitHostPort(a.Address)
	}
	if a.Interval > 10*time.Second {
		d.errf(n, k+".interval", fmt.Sprintf("%s is too long: the arbiter's lease must be renewed several times per lease; want at most 10s", a.Interval))
	}
	return a
}

// arbiterAddress accepts host:port, a bare host or a bare IP address (the
// default port is added) and returns host:port.
func arbiterAddress(s string) (string, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		if ip, perr := netip.ParseAddr(strings.Trim(s, "[]")); perr == nil {
			host, port, err = ip.String(), DefaultArbiterPort, nil
		} else if s != "" && !strings.ContainsAny(s, ":[]") {
			host, port, err = s, DefaultArbiterPort, nil
		}
	}
	if p, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || p < 1 || p > 65535 {
		return "", fmt.Errorf("bad value %s: want host:port (port %s by default)", strict.Quote(s), DefaultArbiterPort)
	}
	return net.JoinHostPort(host, port), nil
}

func (d *sectionDecoder) path(n *yaml.Node, key string, dst *string) {
	if n.Kind != yaml.ScalarNode || !filepath.IsAbs(n.Value) {
		d.errf(n, key, fmt.Sprintf("bad value %s: want an absolute path", strict.Quote(n.Value)))
		return
	}
	*dst = filepath.Clean(n.Value)
}

func (d *sectionDecoder) disk(n *yaml.Node, k string) *DiskSection {
	s := &DiskSection{Evict: true, StartMode: "always"}
	var pathsNode *yaml.Node
	if !d.mapping(n, k, map[string]func(*yaml.Node){
		"paths": func(v *yaml.Node) {
			pathsNode = v
			if v.Kind != yaml.SequenceNode {
				d.errf(v, k+".paths", "want a list of 1 or 3 absolute device paths")
				return
			}
			seen := map[string]bool{}
			for _, p := range v.Content {
				var path string
				d.path(p, k+".paths", &path)
				if path == "" {
					continue
				}
				if seen[path] {
					d.errf(p, k+".paths", fmt.Sprintf("%s listed twice", path))
				}
				seen[path] = true
				s.Paths = append(s.Paths, path)
			}
			if len(v.Content) != 1 && len(v.Content) != 3 {
				d.errf(v, k+".paths", fmt.Sprintf("%d disks: want 1 or 3 (with 3, a node needs 2 to keep going; 2 disks cannot form a majority when one fails)", len(v.Content)))
			}
		},
		"evict": func(v *yaml.Node) { d.decode(v, k+".evict", &s.Evict) },
		"min_score": func(v *yaml.Node) {
			if d.decode(v, k+".min_score", &s.MinScore) && s.MinScore < 0 {
				d.errf(v, k+".min_score", fmt.Sprintf("bad value %d: want >= 0", s.MinScore))
			}
		},
		"start_mode": func(v *yaml.Node) {
			switch v.Value {
			case "always", "clean":
				s.StartMode = v.Value
			default:
				d.errf(v, k+".start_mode", fmt.Sprintf("bad value %s: want always or clean", strict.Quote(v.Value)))
			}
		},
	}) {
		return nil
	}
	if pathsNode == nil {
		d.errf(n, k+".paths", "missing: want 1 or 3 absolute device paths")
	}
	return s
}

var attributeName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]{0,63}$`)

// DecodeHeuristics validates a `quorum.heuristics:` mapping; every error
// is reported at once.
func DecodeHeuristics(file string, n *yaml.Node) (*HeuristicsSection, error) {
	d := &sectionDecoder{c: strict.New(file)}
	h := d.heuristics(n)
	if err := d.c.Err(); err != nil {
		return nil, err
	}
	return h, nil
}

// heuristics decodes `quorum.heuristics:`; nil when n is nil.
func (d *sectionDecoder) heuristics(n *yaml.Node) *HeuristicsSection {
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n == nil {
		return nil
	}
	before := d.c.Len()
	h := &HeuristicsSection{Interval: DefaultPingInterval, Attribute: DefaultPingAttribute}
	const k = "quorum.heuristics"
	var timeoutNode *yaml.Node
	d.mapping(n, k, map[string]func(*yaml.Node){
		"interval": func(v *yaml.Node) { d.duration(v, k+".interval", &h.Interval) },
		"timeout":  func(v *yaml.Node) { timeoutNode = v; d.duration(v, k+".timeout", &h.Timeout) },
		"attribute": func(v *yaml.Node) {
			if !attributeName.MatchString(v.Value) {
				d.errf(v, k+".attribute", fmt.Sprintf("bad value %s: want a letter then letters, digits, '_', '-' or '.' (at most 64)", strict.Quote(v.Value)))
				return
			}
			h.Attribute = v.Value
		},
		"ping_groups": func(v *yaml.Node) {
			if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
				d.errf(v, k+".ping_groups", "want a non-empty list of {name, addresses, weight}")
				return
			}
			names := map[string]bool{}
			for i, g := range v.Content {
				gk := fmt.Sprintf("%s.ping_groups[%d]", k, i)
				pg := PingGroup{Weight: 1}
				var addrNode *yaml.Node
				d.mapping(g, gk, map[string]func(*yaml.Node){
					"name": func(v *yaml.Node) { d.str(v, gk+".name", &pg.Name) },
					"addresses": func(v *yaml.Node) {
						addrNode = v
						if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
							d.errf(v, gk+".addresses", "want a non-empty list of IP addresses")
							return
						}
						for _, a := range v.Content {
							ip, err := netip.ParseAddr(a.Value)
							if err != nil || ip.Zone() != "" {
								d.errf(a, gk+".addresses", fmt.Sprintf("bad value %s: want an IPv4 or IPv6 address", strict.Quote(a.Value)))
								continue
							}
							if slices.Contains(pg.Addresses, ip) {
								d.errf(a, gk+".addresses", fmt.Sprintf("%s listed twice", ip))
								continue
							}
							pg.Addresses = append(pg.Addresses, ip)
						}
					},
					"weight": func(v *yaml.Node) {
						if d.decode(v, gk+".weight", &pg.Weight) && (pg.Weight < 0 || pg.Weight > 1_000_000) {
							d.errf(v, gk+".weight", fmt.Sprintf("bad value %d: want 0..1000000", pg.Weight))
						}
					},
				})
				if g.Kind != yaml.MappingNode {
					continue
				}
				if pg.Name == "" {
					d.errf(g, gk+".name", "missing")
				} else if names[pg.Name] {
					d.errf(g, gk+".name", fmt.Sprintf("%s used by two groups", strict.Quote(pg.Name)))
				}
				names[pg.Name] = true
				if addrNode == nil {
					d.errf(g, gk+".addresses", "missing")
				}
				h.PingGroups = append(h.PingGroups, pg)
			}
		},
	})
	if h.Timeout == 0 {
		h.Timeout = 3 * h.Interval
	} else if h.Timeout < 2*h.Interval {
		d.errf(timeoutNode, k+".timeout", fmt.Sprintf("%s is less than twice interval (%s): one lost echo would take a group down; raise timeout to at least %s or lower interval", h.Timeout, h.Interval, 2*h.Interval))
	}
	if len(h.PingGroups) == 0 && d.c.Len() == before {
		d.errf(n, k+".ping_groups", "missing: want at least one group")
	}
	return h
}

// WatchdogSection is `quorum.watchdog:`, this node's self-fencing device:
//
//	quorum:
//	  watchdog:
//	    device: /dev/watchdog     # or stand-in:FILE (tests: records feeds, resets nothing)
//	    timeout: 5s               # armed with WDIOC_SETTIMEOUT (at least 1s)
//
// A quorum disk feeds it after every disk loop that allows it (a node that
// cannot read its disks and is not quorate, or that read a poison pill,
// stops feeding and resets within the timeout); no_quorum_policy suicide
// stops feeding it (and resets at once) when the partition loses quorum.
// The device path may differ per node, so it stays out of the safety
// digest.
type WatchdogSection struct {
	Device  string `json:"-"`
	Timeout time.Duration
}

// DefaultWatchdogTimeout is the watchdog timeout when none is configured
// (sbd's default).
const DefaultWatchdogTimeout = 5 * time.Second

// DecodeWatchdog validates a `quorum.watchdog:` mapping.
func DecodeWatchdog(file string, n *yaml.Node) (*WatchdogSection, error) {
	d := &sectionDecoder{c: strict.New(file)}
	w := d.watchdog(n)
	if err := d.c.Err(); err != nil {
		return nil, err
	}
	return w, nil
}

// watchdog decodes `quorum.watchdog:`; nil when n is nil.
func (d *sectionDecoder) watchdog(n *yaml.Node) *WatchdogSection {
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n == nil || n.ShortTag() == "!!null" {
		return nil
	}
	w := &WatchdogSection{Timeout: DefaultWatchdogTimeout}
	const k = "quorum.watchdog"
	var devNode, toNode *yaml.Node
	if !d.mapping(n, k, map[string]func(*yaml.Node){
		"device": func(v *yaml.Node) {
			devNode = v
			if f, ok := strings.CutPrefix(v.Value, "stand-in:"); ok {
				if !filepath.IsAbs(f) {
					d.errf(v, k+".device", fmt.Sprintf("bad value %s: a stand-in needs an absolute file path (stand-in:/run/palisade/watchdog.log)", strict.Quote(v.Value)))
					return
				}
				w.Device = "stand-in:" + filepath.Clean(f)
				return
			}
			d.path(v, k+".device", &w.Device)
		},
		"timeout": func(v *yaml.Node) { toNode = v; d.duration(v, k+".timeout", &w.Timeout) },
	}) {
		return nil
	}
	if devNode == nil {
		d.errf(n, k+".device", "missing: want the watchdog device, such as /dev/watchdog")
	}
	if toNode != nil && (w.Timeout < time.Second || w.Timeout%time.Second != 0) {
		d.errf(toNode, k+".timeout", fmt.Sprintf("bad value %s: watchdog drivers count whole seconds; want 1s or more, in whole seconds", w.Timeout))
	}
	return w
}

// checkSelfFencing refuses settings that need a watchdog without one: a
// quorum disk (a node that cannot read its poison pill must still die
// within msgwait) and no_quorum_policy suicide (a node that must fence
// itself needs something that resets it even if it hangs).
func (s *Section) checkSelfFencing(c *strict.Collector, n *yaml.Node) {
	if s.Watchdog != nil {
		return
	}
	if s.Device != nil && s.Device.Model == DeviceDisk {
		c.Errorf(n, "quorum.watchdog", "missing: a quorum disk needs this node's watchdog (a node that cannot read its poison pill must still reset within msgwait); add watchdog: {device: /dev/watchdog, timeout: 5s}")
	}
	if s.PolicySet && s.Policy == PolicySuicide {
		c.Errorf(n, "quorum.watchdog", "missing: no_quorum_policy suicide needs this node's watchdog to fence itself; add watchdog: {device: /dev/watchdog, timeout: 5s}, or choose stop")
	}
}
