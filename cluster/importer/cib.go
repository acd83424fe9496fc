package importer

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"palisade/resources/cib"
	"palisade/resources/model"
)

// cib converts a CIB's configuration: resources, constraints, options and
// rsc_defaults through resources/cib (the scheduler's own reader), and the
// fencing part (stonith primitives, fencing-topology), which that reader
// leaves to Palisade's fence topology, through a small pass of our own.
func (c *converter) cib(src *Source) error {
	data := src.Data
	if first := bytes.TrimLeft(data, " \t\r\n\ufeff"); len(first) > 0 && first[0] != '<' {
		x, err := c.crmShell(src)
		if err != nil {
			return err
		}
		data = x
	}
	doc, rep, err := cib.ReadBytes(bytes.Clone(data))
	if err != nil {
		return fmt.Errorf("import %s: %w", src.Name, err)
	}
	tree, err := parseXMLTree(data)
	if err != nil {
		return fmt.Errorf("import %s: %w", src.Name, err)
	}
	conf := tree.child("configuration")
	cfg := doc.Config
	rp := c.resourcesPlan()
	rp.cfg = cfg
	if !cfg.Options.Stonith() {
		// Kept as written: the scheduler then blocks a lost node's
		// resources instead of starting them unfenced (README "Scheduler").
		c.rep.warn("%s has stonith-enabled=false: Palisade keeps it, and then never starts a lost node's resources elsewhere (it has no unfenced takeover)", src.Name)
	}
	// Nodes: the CIB's node list is kept in the resources section (with
	// their attributes and standby); with ha.cf, its names must match.
	for _, n := range cfg.Nodes {
		if len(c.p.nodes) > 0 && c.p.node(strings.ToLower(n.Name)) == nil {
			c.rep.notConverted(src.Name, "node "+n.Name, "not a node in ha.cf")
		}
	}
	count := func(rs []*model.Resource) int {
		n := 0
		var walk func([]*model.Resource)
		walk = func(rs []*model.Resource) {
			for _, r := range rs {
				if r.KindOf() == model.KindPrimitive {
					n++
				}
				walk(r.Members)
			}
		}
		walk(rs)
		return n
	}
	k := cfg.Constraints
	c.rep.converted(src.Name, "configuration",
		"resources section: %d resources (%d primitives), %d locations, %d colocations, %d orders, %d nodes, options and rsc_defaults",
		len(cfg.Resources), count(cfg.Resources), len(k.Locations), len(k.Colocations), len(k.Orders), len(cfg.Nodes))
	fencingOnly := stonithContainers(conf)
	for _, u := range rep.Unsupported {
		switch {
		case strings.HasPrefix(u, "clone ") && strings.HasSuffix(u, " without a usable member") &&
			fencingOnly[strings.TrimSuffix(strings.TrimPrefix(u, "clone "), " without a usable member")]:
			// A cloned stonith device (Heartbeat 2 style): converted below.
		case strings.HasPrefix(u, "fencing-topology"):
			// Ours: below.
		case strings.HasPrefix(u, "transient attribute"):
			c.rep.notNeeded(src.Name, u, "status, not configuration")
		default:
			c.rep.notConverted(src.Name, u, "not supported by Palisade's scheduler")
		}
	}
	for _, n := range rep.Notes {
		switch {
		case strings.HasPrefix(n, "stonith resource"), strings.HasPrefix(n, "no have-quorum"):
			// Stonith resources are converted below; quorum is status.
		default:
			c.rep.notNeeded(src.Name, n, "as the scheduler reads it")
		}
	}
	// Heartbeat 2's failure stickiness survives in meta attributes, where
	// the scheduler would ignore it without a word.
	var walk func([]*model.Resource)
	walk = func(rs []*model.Resource) {
		for _, r := range rs {
			if v, ok := r.Meta["resource-failure-stickiness"]; ok {
				delete(r.Meta, "resource-failure-stickiness")
				if len(r.Meta) == 0 {
					r.Meta = nil
				}
				c.rep.notConverted(src.Name, fmt.Sprintf("%s meta resource-failure-stickiness=%s", r.ID, v),
					"Heartbeat 2's failure stickiness: use meta migration-threshold (failures before the resource moves)")
			}
			walk(r.Members)
		}
	}
	walk(rp.cfg.Resources)
	if c.p.crm && c.p.failbackSrc != "" {
		c.rep.notNeeded(c.p.failbackSrc, "auto_failback", "with crm on Heartbeat ignores it: the CIB's resource-stickiness applies")
	}
	if conf != nil {
		c.cibStonith(src.Name, conf)
		for _, sec := range conf.kids {
			if sec.name != "constraints" {
				continue
			}
			for _, k := range sec.kids {
				for _, a := range []string{"rsc", "with-rsc", "first", "then", "from", "to"} {
					if fencingOnly[k.attrs[a]] {
						c.rep.notNeeded(fmt.Sprintf("%s:%d", src.Name, k.line), k.name+" "+k.attrs["id"],
							"constraint on fence device %s: Palisade chooses the node that fences by itself (never the target)", k.attrs[a])
						break
					}
				}
			}
		}
	}
	return nil
}

// stonithContainers names the stonith primitives and the clones and
// groups that hold nothing else.
func stonithContainers(conf *xmlNode) map[string]bool {
	out := map[string]bool{}
	if conf == nil {
		return out
	}
	var walk func(n *xmlNode) (all bool)
	walk = func(n *xmlNode) bool {
		all, any := true, false
		for _, k := range n.kids {
			switch k.name {
			case "primitive":
				any = true
				if k.attrs["class"] == "stonith" {
					out[k.attrs["id"]] = true
				} else {
					all = false
				}
			case "group", "clone", "master":
				any = true
				if walk(k) {
					out[k.attrs["id"]] = true
				} else {
					all = false
				}
			}
		}
		return all && any
	}
	for _, k := range conf.kids {
		if k.name == "resources" {
			walk(k)
		}
	}
	return out
}

// xmlNode is a minimal element tree for the fencing pass.
type xmlNode struct {
	name  string
	attrs map[string]string
	kids  []*xmlNode
	line  int
}

func (n *xmlNode) child(name string) *xmlNode {
	for _, k := range n.kids {
		if k.name == name {
			return k
		}
	}
	return nil
}

func parseXMLTree(data []byte) (*xmlNode, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	var stack []*xmlNode
	var root *xmlNode
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			line, _ := d.InputPos()
			return nil, fmt.Errorf("CIB XML line %d: %w", line, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			line, _ := d.InputPos()
			n := &xmlNode{name: t.Name.Local, attrs: map[string]string{}, line: line}
			for _, a := range t.Attr {
				n.attrs[a.Name.Local] = a.Value
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.kids = append(p.kids, n)
			} else if root == nil {
				root = n
			}
			if len(stack) >= 64 {
				return nil, fmt.Errorf("CIB XML line %d: nested too deep", line)
			}
			stack = append(stack, n)
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
	if root == nil {
		return nil, fmt.Errorf("CIB XML: no element")
	}
	return root, nil
}

// nvpairs collects the instance attributes of a primitive, including the
// Heartbeat v2 <attributes> wrapper.
func nvpairs(n *xmlNode) map[string]string {
	out := map[string]string{}
	var walk func(*xmlNode)
	walk = func(e *xmlNode) {
		for _, k := range e.kids {
			switch k.name {
			case "nvpair":
				out[k.attrs["name"]] = k.attrs["value"]
			case "attributes":
				walk(k)
			}
		}
	}
	for _, k := range n.kids {
		if k.name == "instance_attributes" {
			walk(k)
		}
	}
	return out
}

func (c *converter) cibStonith(file string, conf *xmlNode) {
	var prims []*xmlNode
	var walk func(*xmlNode)
	walk = func(n *xmlNode) {
		for _, k := range n.kids {
			switch k.name {
			case "primitive":
				if k.attrs["class"] == "stonith" {
					prims = append(prims, k)
				}
			case "group", "clone", "master":
				walk(k)
			}
		}
	}
	// crm shell input has one section per element: read them all.
	for _, k := range conf.kids {
		if k.name == "resources" {
			walk(k)
		}
	}
	for _, p := range prims {
		c.cibStonithPrimitive(file, p)
	}
	for _, k := range conf.kids {
		if k.name == "fencing-topology" {
			c.cibFencingTopology(file, k)
		}
	}
}

// ipmiParams are fence_ipmilan's device parameters (ClusterLabs
// fence-agents' names, legacy spellings included) that a converted device
// keeps; the test checks the built-in plugin accepts every one.
var ipmiParams = map[string]bool{
	"auth": true, "cipher": true, "delay": true, "disable_timeout": true, "hexadecimal_kg": true,
	"ip": true, "ipaddr": true, "ipmitool_path": true, "ipmitool_timeout": true, "ipport": true,
	"lanplus": true, "login": true, "username": true, "login_timeout": true, "method": true,
	"password_script": true, "passwd_script": true, "plug": true, "port": true, "power_timeout": true,
	"power_wait": true, "privlvl": true, "retry_on": true, "shell_timeout": true,
	"stonith_status_sleep": true, "sudo_path": true, "target": true, "use_sudo": true, "sudo": true,
	"verbose": true, "debug": true, "debug_file": true, "quiet": true,
}

func splitHosts(s string) []string {
	var out []string
	for _, h := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == ';' || r == '\t' }) {
		out = append(out, strings.ToLower(h))
	}
	return out
}

func (c *converter) cibStonithPrimitive(file string, p *xmlNode) {
	id, typ := p.attrs["id"], p.attrs["type"]
	at := fmt.Sprintf("%s:%d", file, p.line)
	what := fmt.Sprintf("primitive %s (stonith:%s)", id, typ)
	attrs := nvpairs(p)
	dev := &fenceDevice{name: id, params: map[string]string{}, src: at}
	var password string
	var notes []string
	var delayBase time.Duration
	switch {
	case ipmiPlugins[typ]:
		dev.plugin = typ
		for _, k := range model.SortedKeys(attrs) {
			v := attrs[k]
			switch kk := strings.ReplaceAll(k, "-", "_"); {
			case kk == "passwd" || kk == "password":
				password = v
			case kk == "pcmk_host_list":
				dev.targets = append(dev.targets, splitHosts(v)...)
			case kk == "pcmk_host_map":
				for _, pair := range strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == ' ' || r == ',' }) {
					host, _, _ := strings.Cut(pair, ":")
					dev.targets = append(dev.targets, strings.ToLower(host))
				}
			case kk == "pcmk_delay_base":
				d, err := model.ParseDuration(v)
				if err != nil {
					c.rep.notConverted(at, what+" pcmk_delay_base="+v, "not a duration")
					continue
				}
				delayBase = d
				notes = append(notes, "pcmk_delay_base -> fencing.static_delay of its targets")
			case kk == "pcmk_delay_max":
				d, err := model.ParseDuration(v)
				if err != nil {
					c.rep.notConverted(at, what+" pcmk_delay_max="+v, "not a duration")
					continue
				}
				fp := c.fencing()
				if d > fp.randomDelayMax {
					fp.randomDelayMax = d
				}
				notes = append(notes, "pcmk_delay_max -> fencing.random_delay_max (one value for all devices)")
			case kk == "action":
				notes = append(notes, fmt.Sprintf("action=%s dropped: fencing.action (off by default, or reboot) applies to every device", v))
			case strings.HasPrefix(kk, "pcmk_"):
				notes = append(notes, k+" dropped: a Pacemaker fencer setting (Palisade uses fencing.topology, attempt_timeout and retry)")
			case !ipmiParams[kk]:
				// fence_ipmilan warns and ignores an unknown option; the
				// built-in plugin refuses it, so leave it out here.
				notes = append(notes, k+" dropped: not a fence_ipmilan parameter (the agent ignored it)")
			default:
				dev.params[k] = v
			}
		}
	case typ == "external/ipmi":
		dev.plugin = "fence_ipmilan"
		for _, k := range model.SortedKeys(attrs) {
			v := attrs[k]
			switch k {
			case "hostname":
				dev.targets = splitHosts(v)
			case "ipaddr":
				dev.params["ip"] = v
			case "userid":
				dev.params["username"] = v
			case "passwd":
				password = v
			case "interface":
				if v == "lanplus" {
					dev.params["lanplus"] = "1"
				}
			case "ipmitool":
				notes = append(notes, "ipmitool path dropped: the plugin speaks IPMI itself")
			default:
				c.rep.notConverted(at, what+" "+k, "unknown external/ipmi parameter")
				return
			}
		}
	default:
		c.rep.notConverted(at, what, "fence agent %s is not built in: configure it under fencing.devices\n"+
			"(fence_ipmilan and its aliases are built in)", typ)
		return
	}
	if len(dev.targets) == 0 {
		c.rep.notConverted(at, what, "no pcmk_host_list (or hostname): Palisade needs to know which node it fences;\n"+
			"add it to fencing.topology by hand")
		return
	}
	for _, t := range dev.targets {
		if len(c.p.nodes) > 0 && c.p.node(t) == nil {
			c.rep.notConverted(at, what, "target %s is not a node in ha.cf", t)
			return
		}
	}
	c.addDevice(dev, password)
	if delayBase > 0 {
		for _, t := range dev.targets {
			c.fencing().staticDelay[t] = delayBase
		}
	}
	note := fmt.Sprintf("fencing device %s (%s) for %s", dev.name, dev.plugin, strings.Join(dev.targets, ", "))
	if password != "" {
		note += fmt.Sprintf(", password in %s (mode 0600)", c.passwordFile(dev.name))
	}
	if len(notes) > 0 {
		note += "\n" + strings.Join(notes, "\n")
	}
	c.rep.converted(at, what, "%s", note)
}

func (c *converter) cibFencingTopology(file string, ft *xmlNode) {
	type level struct {
		index   int
		devices []string
	}
	byTarget := map[string][]level{}
	for _, l := range ft.kids {
		if l.name != "fencing-level" {
			continue
		}
		at := fmt.Sprintf("%s:%d", file, l.line)
		what := fmt.Sprintf("fencing-level %s", l.attrs["id"])
		target := strings.ToLower(l.attrs["target"])
		if target == "" {
			c.rep.notConverted(at, what, "target-pattern / target-attribute levels are not supported: list each node in fencing.topology")
			continue
		}
		idx, err := strconv.Atoi(l.attrs["index"])
		if err != nil || idx < 1 {
			c.rep.notConverted(at, what, "index %q: want 1, 2, ...", l.attrs["index"])
			continue
		}
		devs := strings.FieldsFunc(l.attrs["devices"], func(r rune) bool { return r == ',' })
		ok := true
		for _, d := range devs {
			if !c.hasDevice(d) {
				c.rep.notConverted(at, what, "device %s was not converted", d)
				ok = false
			}
		}
		if !ok || len(devs) == 0 {
			continue
		}
		byTarget[target] = append(byTarget[target], level{idx, devs})
		c.rep.converted(at, what, "fencing.topology.%s level %d: %s", target, idx, strings.Join(devs, ", "))
	}
	fp := c.fencing()
	for t, ls := range byTarget {
		sort.Slice(ls, func(i, j int) bool { return ls[i].index < ls[j].index })
		var levels [][]string
		for _, l := range ls {
			levels = append(levels, l.devices)
		}
		fp.levels[t] = levels
	}
}

func (c *converter) hasDevice(name string) bool {
	if c.p.fencing == nil {
		return false
	}
	for _, d := range c.p.fencing.devices {
		if d.name == name {
			return true
		}
	}
	return false
}
