package importer

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"palisade/cluster/membership"
	"palisade/resources/model"
)

// nodeNameRE is cluster/config's node name rule.
var nodeNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`)

// Heartbeat's defaults (heartbeat/config.c, 3.0.6), used when ha.cf does
// not set a value, so the converted cluster behaves as the old one did.
const (
	hbDefaultKeepalive = time.Second
	hbDefaultDeadtime  = 30 * time.Second
	hbDefaultPort      = 694
	hbDefaultCluster   = "linux-ha"
)

type planNode struct {
	id    uint32
	name  string
	src   string
	addrs map[string]netip.Addr // by link name
}

type ucastTarget struct {
	addr netip.Addr
	src  string
}

type planLink struct {
	name  string
	kind  string // ucast | bcast | mcast
	iface string
	port  int
	group netip.Addr
	ttl   int
	loop  bool
	src   string
	// ucast only: the addresses ha.cf sends to on this interface.
	targets []ucastTarget
}

type timingValue struct {
	d   time.Duration
	src string
	set bool
}

// plan is the converted cluster before it is written as YAML.
type plan struct {
	name    string
	nodes   []*planNode
	links   []*planLink
	timing  [4]timingValue // keepalive, warntime, deadtime, initdead
	useDef  bool           // timing left to Palisade's defaults (--partial after a timing error)
	keyFile string
	twoNode bool
	fencing *fencingPlan
	// failback: "" (not set), "on", "off"
	failback    string
	failbackSrc string
	crm         bool
	crmSrc      string
	pingTODO    []string // ping / ping_group directives, for the proposed-config comment
	resources   *resourcesPlan
}

func (p *plan) node(name string) *planNode {
	for _, n := range p.nodes {
		if n.name == name {
			return n
		}
	}
	return nil
}

// converter carries one import.
type converter struct {
	opts Options
	rep  *Report
	res  *Result
	p    plan
	hb   *HeartbeatFiles
}

// Import converts the input. The error is for input that cannot be read at
// all (not a Heartbeat file, not a CIB); everything else is in the
// Report, and what was converted is in the Result even when the report
// has items that were not converted (the caller decides, --partial).
func Import(in Input, opts Options) (*Result, error) {
	if in.Heartbeat == nil && in.CIB == nil {
		return nil, fmt.Errorf("import: nothing to import: give a Heartbeat directory, a CIB, or both")
	}
	if opts.KeyFile == "" {
		opts.KeyFile = DefaultKeyFile
	}
	c := &converter{opts: opts, res: &Result{}, hb: in.Heartbeat}
	c.rep = &c.res.Report
	c.p.keyFile = opts.KeyFile
	if in.Heartbeat != nil {
		if err := c.heartbeat(in.Heartbeat); err != nil {
			return nil, err
		}
	}
	if in.CIB != nil {
		if err := c.cib(in.CIB); err != nil {
			return nil, err
		}
	} else if in.Heartbeat != nil && c.p.crm {
		c.rep.notConverted(c.p.crmSrc, "crm on",
			"resources: with crm on, Heartbeat keeps them in the CIB, not in haresources;\n"+
				"add --cib /var/lib/heartbeat/crm/cib.xml (or the output of `crm configure show`)")
	}
	c.finishFencing()
	if rp := c.p.resources; rp != nil && isEmptyConfig(&rp.cfg) {
		c.p.resources = nil
	}
	c.sensitiveParams()
	out, err := c.render(in.Heartbeat == nil)
	if err != nil {
		return nil, err
	}
	c.res.ClusterYAML = out
	c.res.ResourcesOnly = in.Heartbeat == nil
	for _, items := range [][]Item{c.rep.Converted, c.rep.NotNeeded, c.rep.NotConverted} {
		sortItems(items)
	}
	return c.res, nil
}

var secretParam = regexp.MustCompile(`(?i)(^|_)pass(wd|word)?($|_)|secret|credential`)

// sensitiveParams finds resource parameters that look like passwords:
// resource agents read them from their parameters, so they stay, but the
// file that holds them must be root's only.
func (c *converter) sensitiveParams() {
	if c.p.resources == nil {
		return
	}
	var found []string
	var walk func([]*model.Resource)
	walk = func(rs []*model.Resource) {
		for _, r := range rs {
			for _, k := range model.SortedKeys(r.Params) {
				if secretParam.MatchString(k) {
					found = append(found, r.ID+"."+k)
				}
			}
			walk(r.Members)
		}
	}
	walk(c.p.resources.cfg.Resources)
	if len(found) > 0 {
		c.res.Sensitive = true
		c.rep.warn("resource parameters %s look like passwords: resource agents read them from their parameters, so they stay "+
			"in the YAML as they were in the CIB; the file is written mode 0600, keep it so on every node", strings.Join(found, ", "))
	}
}

func isEmptyConfig(c *model.Config) bool {
	return len(c.Resources) == 0 && len(c.Nodes) == 0 && len(c.RscDefaults) == 0 && c.Options == (model.Options{}) &&
		len(c.Constraints.Locations)+len(c.Constraints.Colocations)+len(c.Constraints.Orders) == 0
}

// sortItems orders items by line within each file, files in the order
// they first appear (ha.cf before haresources, as converted).
func sortItems(items []Item) {
	rank := map[string]int{}
	split := func(src string) (string, int) {
		file, line, ok := strings.Cut(src, ":")
		if !ok {
			return src, 0
		}
		n, err := strconv.Atoi(line)
		if err != nil {
			return src, 0
		}
		return file, n
	}
	for _, it := range items {
		f, _ := split(it.Source)
		if _, ok := rank[f]; !ok {
			rank[f] = len(rank)
		}
	}
	sort.SliceStable(items, func(i, j int) bool {
		fi, li := split(items[i].Source)
		fj, lj := split(items[j].Source)
		if rank[fi] != rank[fj] {
			return rank[fi] < rank[fj]
		}
		return li < lj
	})
}

func (c *converter) heartbeat(hb *HeartbeatFiles) error {
	if hb.HaCf == nil {
		return fmt.Errorf("import: no ha.cf")
	}
	dirs, err := parseHaCf(hb.HaCf.Name, hb.HaCf.Data)
	if err != nil {
		return err
	}
	c.haCf(hb.HaCf.Name, dirs)
	if hb.Authkeys != nil {
		c.authkeys(hb.Authkeys)
	} else {
		c.rep.notConverted(hb.HaCf.Name, "(no authkeys file)",
			"no cluster key: create one with `palisade keygen -o %s` and copy it to every node", c.p.keyFile)
	}
	if hb.Haresources != nil {
		if c.p.crm {
			c.rep.notNeeded(hb.Haresources.Name, "(whole file)",
				"ignored, as Heartbeat ignores it with crm on: the resources are in the CIB")
		} else {
			c.haresources(hb.Haresources, hb.ResourceScripts)
		}
	}
	return nil
}

// haCf converts the directives of ha.cf in file order (Heartbeat reads
// them in order too: udpport applies to the media lines after it).
func (c *converter) haCf(file string, dirs []directive) {
	port, portSet := hbDefaultPort, false
	mediaBeforePort := false
	var stonith []directive
	for _, d := range dirs {
		src := fmt.Sprintf("%s:%d", file, d.line)
		what := d.text()
		switch d.name {
		case "node":
			if len(d.args) == 0 {
				c.rep.notConverted(src, what, "want `node NAME...`")
				continue
			}
			for _, a := range d.args {
				name := strings.ToLower(a) // Heartbeat lowercases node names
				switch {
				case !nodeNameRE.MatchString(name):
					c.rep.notConverted(src, what, "node name %q: Palisade wants 1-63 letters, digits, '.', '_' or '-'", name)
				case c.p.node(name) != nil:
					c.rep.notConverted(src, what, "node %s listed twice", name)
				default:
					c.p.nodes = append(c.p.nodes, &planNode{id: uint32(len(c.p.nodes) + 1), name: name, src: src, addrs: map[string]netip.Addr{}})
				}
			}
			ids := make([]string, 0, len(d.args))
			for _, a := range d.args {
				if n := c.p.node(strings.ToLower(a)); n != nil && n.src == src {
					ids = append(ids, fmt.Sprintf("%s (id %d)", n.name, n.id))
				}
			}
			if len(ids) > 0 {
				c.rep.converted(src, what, "nodes: %s", strings.Join(ids, ", "))
			}
		case "udpport":
			if len(d.args) != 1 {
				c.rep.notConverted(src, what, "want `udpport PORT`")
				continue
			}
			p, err := strconv.Atoi(d.args[0])
			if err != nil || p <= 0 || p > 65535 {
				c.rep.notConverted(src, what, "%q: want a UDP port 1..65535", d.args[0])
				continue
			}
			port, portSet = p, true
			if mediaBeforePort {
				c.rep.warn("%s: udpport comes after media lines; as in Heartbeat, it applies only to the ucast/bcast lines below it", src)
			}
			c.rep.converted(src, what, "port of the ucast and bcast links defined after it")
		case "ucast", "ucast6":
			mediaBeforePort = mediaBeforePort || !portSet
			c.ucast(src, what, d, port)
		case "bcast":
			mediaBeforePort = mediaBeforePort || !portSet
			if len(d.args) == 0 {
				c.rep.notConverted(src, what, "want `bcast INTERFACE...`")
				continue
			}
			var names []string
			for _, ifc := range d.args {
				if !validInterface(ifc) {
					c.rep.notConverted(src, what, "%q is not a network interface name", ifc)
					continue
				}
				l := c.link("bcast", ifc, port, src)
				names = append(names, fmt.Sprintf("%s (bcast %s port %d)", l.name, ifc, port))
			}
			if len(names) > 0 {
				c.rep.converted(src, what, "links: %s", strings.Join(names, ", "))
			}
		case "mcast", "mcast6":
			c.mcast(src, what, d)
		case "serial", "baud", "hopfudge":
			if d.name == "serial" {
				c.rep.notConverted(src, what,
					"serial links are not supported: Palisade speaks UDP only (signed, on every link);\n"+
						"use a second network path instead, e.g. a crossover cable with a ucast link")
			} else {
				c.rep.notNeeded(src, what, "serial-link setting")
			}
		case "keepalive", "warntime", "deadtime", "initdead":
			i := slices.Index([]string{"keepalive", "warntime", "deadtime", "initdead"}, d.name)
			if len(d.args) != 1 {
				c.rep.notConverted(src, what, "want `%s TIME`", d.name)
				continue
			}
			v, err := heartbeatDuration(d.args[0])
			if err != nil || v <= 0 {
				if err == nil {
					err = fmt.Errorf("%q: must be positive", d.args[0])
				}
				c.rep.notConverted(src, what, "%v", err)
				continue
			}
			c.p.timing[i] = timingValue{d: v, src: src, set: true}
			c.rep.converted(src, what, "timing.%s: %s", d.name, formatDuration(v))
		case "auto_failback":
			if len(d.args) != 1 {
				c.rep.notConverted(src, what, "want `auto_failback on|off|legacy`")
				continue
			}
			b, ok := heartbeatBool(d.args[0])
			switch {
			case ok && b, strings.EqualFold(d.args[0], "legacy"):
				c.p.failback = "on"
			case ok:
				c.p.failback = "off"
			default:
				c.rep.notConverted(src, what, "%q: want on, off or legacy", d.args[0])
				continue
			}
			c.p.failbackSrc = src
		case "nice_failback":
			b, ok := false, false
			if len(d.args) == 1 {
				b, ok = heartbeatBool(d.args[0])
			}
			if !ok {
				c.rep.notConverted(src, what, "want `nice_failback on|off`")
				continue
			}
			// Heartbeat: nice_failback on = auto_failback off; off = legacy.
			c.p.failback = map[bool]string{true: "off", false: "on"}[b]
			c.p.failbackSrc = src
		case "cluster":
			if len(d.args) != 1 || !nodeNameRE.MatchString(d.args[0]) {
				c.rep.notConverted(src, what, "want `cluster NAME` (1-63 letters, digits, '.', '_' or '-')")
				continue
			}
			c.p.name = d.args[0]
			c.rep.converted(src, what, "cluster.name: %s", d.args[0])
		case "crm", "pacemaker":
			on := false
			if len(d.args) == 1 {
				if strings.EqualFold(d.args[0], "respawn") {
					on = true
				} else if b, ok := heartbeatBool(d.args[0]); ok {
					on = b
				} else {
					c.rep.notConverted(src, what, "want `%s on|off|respawn`", d.name)
					continue
				}
			}
			c.p.crm, c.p.crmSrc = on, src
			if on {
				c.rep.converted(src, what, "resources are read from the CIB (--cib), not from haresources")
			} else {
				c.rep.notNeeded(src, what, "haresources style: the resources come from haresources")
			}
		case "autojoin":
			if len(d.args) == 1 && d.args[0] == "none" {
				c.rep.notNeeded(src, what, "Palisade's node list is always the configured one")
			} else {
				c.rep.notConverted(src, what,
					"nodes cannot join without being configured: add every node to nodes: (each needs a stable id)")
			}
		case "ping", "ping_group", "hbaping", "deadping":
			c.p.pingTODO = append(c.p.pingTODO, what)
			c.rep.notConverted(src, what,
				"ping nodes (Heartbeat's ipfail / pingd connectivity checks) are not converted: the quorum\n"+
					"ping-group keys do not exist yet; a proposal is left as a comment at the end of cluster.yaml")
		case "respawn":
			c.respawn(src, what, d)
		case "stonith":
			c.rep.notConverted(src, what,
				"a STONITH device read from its own configuration file: add it under fencing.devices\n"+
					"(fence_ipmilan and its aliases are built in; see README \"Fencing\")")
		case "stonith_host":
			stonith = append(stonith, d)
		case "watchdog":
			c.rep.notConverted(src, what,
				"Heartbeat rebooted this machine through the watchdog when heartbeat itself hung. Palisade's unit\n"+
					"is watched by systemd (WatchdogSec restarts a hung palisaded; its peers then fence the node).\n"+
					"Self-fencing through a hardware watchdog is the watchdog fence plugin's job: configure it\n"+
					"under fencing.devices where available")
		case "apiauth":
			c.rep.notNeeded(src, what, "client API permissions; `palisade` talks to the daemon's socket (root only for now)")
		case "logfile", "debugfile", "logfacility", "use_logd", "conn_logd_time", "debug":
			c.rep.notNeeded(src, what, "palisaded logs to stderr, which systemd sends to the journal (and syslog)")
		case "compression", "compression_threshold", "traditional_compression", "msgfmt":
			c.rep.notNeeded(src, what, "Palisade's wire format is fixed")
		case "realtime", "rtprio", "memreserve":
			c.rep.notNeeded(src, what, "no real-time or locked-memory setting; palisaded is light and reacts in milliseconds")
		case "hbgenmethod":
			c.rep.notNeeded(src, what, "the generation is kept in state_dir and is at least the Unix time, so both of Heartbeat's methods are covered")
		case "uuidfrom":
			c.rep.notNeeded(src, what, "nodes are identified by their configured id")
		case "coredumps", "corerootdir", "crm_daemon_dir", "crmd_spawns_pengine", "use_apphbd", "max_rexmit_delay", "check_badpack":
			c.rep.notNeeded(src, what, "Heartbeat process setting with no Palisade equivalent")
		case "env":
			c.rep.notNeeded(src, what, "environment for respawned programs; see respawn")
		default:
			c.rep.notConverted(src, what, "unknown directive %q", d.name)
		}
	}
	if len(c.p.nodes) == 0 {
		c.rep.notConverted(file, "(no node line)", "ha.cf lists no nodes: add `node NAME` lines (every node, as `uname -n` prints it)")
	}
	if len(c.p.links) == 0 {
		c.rep.notConverted(file, "(no medium)", "ha.cf defines no heartbeat medium: Palisade needs at least one ucast, bcast or mcast link")
	}
	c.resolveAddresses()
	c.timing(file)
	if c.p.name == "" {
		c.p.name = hbDefaultCluster
	}
	if c.opts.ClusterName != "" {
		c.p.name = c.opts.ClusterName
	}
	if len(c.p.nodes) == 2 {
		c.p.twoNode = true
		c.rep.warn("two nodes: quorum.two_node is set, so a survivor keeps quorum alone, as Heartbeat did; " +
			"it still never takes over before the lost node is confirmed fenced")
	} else if len(c.p.nodes) > 2 {
		c.rep.warn("%d nodes: a partition needs a majority of the votes to run resources (Heartbeat v1 had no quorum)", len(c.p.nodes))
	}
	for _, d := range stonith {
		c.stonithHost(fmt.Sprintf("%s:%d", file, d.line), d)
	}
}

func validInterface(s string) bool {
	return s != "" && len(s) <= 15 && !strings.ContainsAny(s, "/ \t:")
}

// link returns the link for kind/interface/port, creating it in order of
// first appearance (ring0, ring1, ...).
func (c *converter) link(kind, iface string, port int, src string) *planLink {
	for _, l := range c.p.links {
		if l.kind == kind && l.iface == iface && l.port == port && kind != "mcast" {
			return l
		}
	}
	l := &planLink{name: fmt.Sprintf("ring%d", len(c.p.links)), kind: kind, iface: iface, port: port, src: src, ttl: 1}
	c.p.links = append(c.p.links, l)
	return l
}

func (c *converter) ucast(src, what string, d directive, port int) {
	if len(d.args) < 2 {
		c.rep.notConverted(src, what, "want `%s INTERFACE PEER-ADDRESS...`", d.name)
		return
	}
	if !validInterface(d.args[0]) {
		c.rep.notConverted(src, what, "%q is not a network interface name", d.args[0])
		return
	}
	var addrs []netip.Addr
	for _, a := range d.args[1:] {
		// ucast6 may name the scope: fe80::1%eth1.
		a, _, _ = strings.Cut(a, "%")
		ip, err := netip.ParseAddr(a)
		if err != nil || (d.name == "ucast6") != ip.Is6() {
			c.rep.notConverted(src, what, "%q: want an IPv%s address", a, map[bool]string{true: "6", false: "4"}[d.name == "ucast6"])
			return
		}
		addrs = append(addrs, ip.Unmap())
	}
	l := c.link("ucast", d.args[0], port, src)
	for _, ip := range addrs {
		if !slices.ContainsFunc(l.targets, func(t ucastTarget) bool { return t.addr == ip }) {
			l.targets = append(l.targets, ucastTarget{ip, src})
		}
	}
	c.rep.converted(src, what, "link %s (ucast %s port %d); node addresses below", l.name, l.iface, port)
}

func (c *converter) mcast(src, what string, d directive) {
	want := fmt.Sprintf("want `%s INTERFACE GROUP PORT TTL LOOP` (5 fields)", d.name)
	if len(d.args) != 5 {
		c.rep.notConverted(src, what, "%s, got %d", want, len(d.args))
		return
	}
	g, err := netip.ParseAddr(d.args[1])
	if err != nil || !g.IsMulticast() || (d.name == "mcast6") != g.Is6() {
		c.rep.notConverted(src, what, "%q: not a multicast group address; %s", d.args[1], want)
		return
	}
	port, err := strconv.Atoi(d.args[2])
	if err != nil || port <= 0 || port > 65535 {
		c.rep.notConverted(src, what, "port %q: want 1..65535", d.args[2])
		return
	}
	ttl, err := strconv.Atoi(d.args[3])
	if err != nil || ttl < 0 || ttl > 255 {
		c.rep.notConverted(src, what, "ttl %q: want 1..255", d.args[3])
		return
	}
	if ttl == 0 {
		// Heartbeat documents "must be greater than zero" but does not
		// check; a zero TTL keeps packets on this host.
		c.rep.notConverted(src, what, "ttl 0 would keep heartbeats on this host: use 1 for the local subnet")
		return
	}
	loop := d.args[4] != "0"
	if !validInterface(d.args[0]) {
		c.rep.notConverted(src, what, "%q is not a network interface name", d.args[0])
		return
	}
	l := c.link("mcast", d.args[0], port, src)
	l.group, l.ttl, l.loop = g, ttl, loop
	c.rep.converted(src, what, "link %s (mcast %s group %s port %d ttl %d)", l.name, l.iface, g, port, ttl)
}

func (c *converter) respawn(src, what string, d directive) {
	if len(d.args) < 2 {
		c.rep.notConverted(src, what, "want `respawn USER COMMAND`")
		return
	}
	prog := d.args[1]
	base := prog[strings.LastIndexByte(prog, '/')+1:]
	switch base {
	case "ipfail":
		c.rep.notConverted(src, what,
			"ipfail (give up resources when this node's ping nodes are less reachable than the peer's)\n"+
				"is not available yet; it comes with the quorum ping groups")
	case "ccm", "cib", "crmd", "lrmd", "stonithd", "attrd", "pengine", "mgmtd", "cibmon", "pingd", "dopd":
		c.rep.notNeeded(src, what, "Heartbeat/Pacemaker daemon; palisaded does this work itself or it is not needed")
	default:
		c.rep.notConverted(src, what,
			"Palisade does not respawn programs: run %s as its own systemd service (Restart=always),\n"+
				"or as a resource cloned on every node", prog)
	}
}

// timing applies Heartbeat's defaults to what ha.cf left out and checks
// the result against Palisade's rules.
func (c *converter) timing(file string) {
	t := &c.p.timing
	if !t[0].set {
		t[0] = timingValue{d: hbDefaultKeepalive, src: "Heartbeat default"}
	}
	if !t[2].set {
		t[2] = timingValue{d: hbDefaultDeadtime, src: "Heartbeat default"}
	}
	if !t[1].set {
		t[1] = timingValue{d: t[2].d / 2, src: "Heartbeat default: deadtime/2"}
	}
	if !t[3].set {
		// heartbeat/config.c init_config.
		switch dt := t[2].d; {
		case dt > 10*time.Second:
			t[3] = timingValue{d: dt, src: "Heartbeat default: deadtime"}
		case dt < 6*time.Second:
			t[3] = timingValue{d: 12 * time.Second, src: "Heartbeat default"}
		default:
			t[3] = timingValue{d: 2 * dt, src: "Heartbeat default: 2 x deadtime"}
		}
	}
	mt := membership.Timing{Keepalive: t[0].d, Warntime: t[1].d, Deadtime: t[2].d, Initdead: t[3].d}
	// warntime only decides when a late heartbeat is logged and a link
	// shown as warn; Heartbeat accepted any value, Palisade wants it
	// between keepalive and deadtime. Moving it changes no failover.
	if mt.Warntime <= mt.Keepalive || mt.Warntime >= mt.Deadtime {
		fixed := mt.Deadtime / 2
		if fixed > mt.Keepalive && mt.Deadtime > 2*mt.Keepalive {
			c.rep.warn("warntime %s (%s) is not between keepalive %s and deadtime %s, as Palisade requires: written as %s (deadtime/2, Heartbeat's default); it only affects late-heartbeat warnings",
				formatDuration(mt.Warntime), t[1].src, formatDuration(mt.Keepalive), formatDuration(mt.Deadtime), formatDuration(fixed))
			t[1].d, mt.Warntime = fixed, fixed
		}
	}
	if err := mt.Validate(); err != nil {
		src := file
		for _, v := range t {
			if v.set {
				src = v.src
			}
		}
		c.rep.notConverted(src, "timing", "%v (Heartbeat refuses this too); with --partial Palisade's default timing is written", err)
		c.p.useDef = true
	}
}

// resolveAddresses gives every node an address on every ucast link:
// --address hints first, then name lookups (/etc/hosts), then this
// machine's own interface, then elimination (one node left without an
// address and one address left without a node).
func (c *converter) resolveAddresses() {
	local := c.localNode()
	lookups := map[string][]netip.Addr{}
	if c.opts.Host != nil {
		for _, n := range c.p.nodes {
			if addrs, err := c.opts.Host.LookupHost(n.name); err == nil {
				lookups[n.name] = addrs
			}
		}
	}
	for _, h := range c.opts.Addresses {
		if c.p.node(h.Node) == nil {
			c.rep.notConverted("--address", h.Node+"="+h.Addr.String(), "no node %s in ha.cf", h.Node)
		}
	}
	for _, l := range c.p.links {
		if l.kind != "ucast" {
			continue
		}
		owner := map[netip.Addr]string{}
		assign := func(n *planNode, a netip.Addr, how string) {
			if _, ok := n.addrs[l.name]; ok {
				return
			}
			if o, taken := owner[a]; taken && o != n.name {
				return
			}
			n.addrs[l.name] = a
			owner[a] = n.name
			c.rep.converted(how, fmt.Sprintf("%s on %s", n.name, l.name), "nodes[%s].addresses.%s: %s", n.name, l.name, a)
		}
		isTarget := func(a netip.Addr) bool {
			return slices.ContainsFunc(l.targets, func(t ucastTarget) bool { return t.addr == a })
		}
		// 1. Explicit hints.
		for _, h := range c.opts.Addresses {
			n := c.p.node(h.Node)
			if n == nil || (h.Interface != "" && h.Interface != l.iface) {
				continue
			}
			if h.Interface == "" && !isTarget(h.Addr) && c.ucastLinks() > 1 {
				continue // ambiguous: which link? (reported below if it stays unused)
			}
			assign(n, h.Addr, "--address")
		}
		// 2. Name lookups that hit one of ha.cf's targets.
		for _, n := range c.p.nodes {
			for _, a := range lookups[n.name] {
				if isTarget(a) {
					assign(n, a, "name lookup of "+n.name)
				}
			}
		}
		// 3. This machine's address on the link's interface.
		if local != nil && c.opts.Host != nil {
			if pfx, err := c.opts.Host.InterfacePrefixes(l.iface); err == nil {
				for _, p := range pfx {
					if isTarget(p.Addr()) {
						assign(local, p.Addr(), "this host's "+l.iface)
					}
				}
				for _, p := range pfx {
					if _, ok := local.addrs[l.name]; ok {
						break
					}
					// Heartbeat lists peers; this node's own address is the
					// one on the interface in the peers' subnet.
					if slices.ContainsFunc(l.targets, func(t ucastTarget) bool { return p.Contains(t.addr) }) && !p.Addr().IsLinkLocalUnicast() {
						assign(local, p.Addr(), "this host's "+l.iface)
					}
				}
			}
		}
		// 4. Elimination.
		var missing []*planNode
		for _, n := range c.p.nodes {
			if _, ok := n.addrs[l.name]; !ok {
				missing = append(missing, n)
			}
		}
		var free []ucastTarget
		for _, t := range l.targets {
			if _, ok := owner[t.addr]; !ok {
				free = append(free, t)
			}
		}
		if len(missing) == 1 && len(free) == 1 {
			assign(missing[0], free[0].addr, free[0].src)
			missing, free = nil, nil
		}
		for _, n := range missing {
			hint := fmt.Sprintf("--address %s@%s=IP", n.name, l.iface)
			why := "ha.cf's ucast lines name the peers' addresses, not which node has which"
			if n == local {
				why = "ha.cf does not list this node's own address"
			}
			c.rep.notConverted(l.src, fmt.Sprintf("address of %s on %s (ucast %s)", n.name, l.name, l.iface),
				"%s; give it with %s (or run the import on that node)", why, hint)
		}
		for _, t := range free {
			c.rep.notConverted(t.src, "ucast "+l.iface+" "+t.addr.String(),
				"no node could be matched to %s: name its node with --address NODE@%s=%s", t.addr, l.iface, t.addr)
		}
	}
}

func (c *converter) ucastLinks() int {
	n := 0
	for _, l := range c.p.links {
		if l.kind == "ucast" {
			n++
		}
	}
	return n
}

// localNode is the node whose ha.cf this is, if known: --local-node, or
// this machine when its name is one of the nodes (and only then is its
// interface asked for addresses).
func (c *converter) localNode() *planNode {
	if c.opts.LocalNode != "" {
		n := c.p.node(strings.ToLower(c.opts.LocalNode))
		if n == nil {
			c.rep.notConverted("--local-node", c.opts.LocalNode, "no such node in ha.cf")
			return nil
		}
		if c.opts.Host != nil {
			if h, err := c.opts.Host.Hostname(); err == nil && strings.EqualFold(h, n.name) {
				return n
			}
		}
		// Named, but not this machine: its interfaces are not ours to read.
		return nil
	}
	if c.opts.Host == nil {
		return nil
	}
	h, err := c.opts.Host.Hostname()
	if err != nil {
		return nil
	}
	return c.p.node(strings.ToLower(h))
}
