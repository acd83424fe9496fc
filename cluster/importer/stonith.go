package importer

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

// fenceDevice is one converted fence device.
type fenceDevice struct {
	name    string
	plugin  string
	params  map[string]string
	targets []string
	src     string
}

type fencingPlan struct {
	devices []*fenceDevice
	// levels from a CIB fencing-topology; nodes without an entry get one
	// level per device that targets them, in device order.
	levels         map[string][][]string
	staticDelay    map[string]time.Duration
	randomDelayMax time.Duration
}

func (c *converter) fencing() *fencingPlan {
	if c.p.fencing == nil {
		c.p.fencing = &fencingPlan{levels: map[string][][]string{}, staticDelay: map[string]time.Duration{}}
	}
	return c.p.fencing
}

// ipmiPlugins are the fence-agents names Palisade implements natively.
var ipmiPlugins = map[string]bool{
	"fence_ipmilan": true, "fence_ipmilanplus": true, "fence_idrac": true, "fence_ilo3": true,
	"fence_ilo4": true, "fence_ilo5": true, "fence_imm": true,
}

// passwordFile is where a device's password goes: beside the key file,
// mode 0600, named for the device.
func (c *converter) passwordFile(device string) string {
	return filepath.Join(filepath.Dir(c.p.keyFile), device+".pw")
}

func (c *converter) addDevice(d *fenceDevice, password string) {
	fp := c.fencing()
	for _, o := range fp.devices {
		if o.name == d.name {
			d.name = fmt.Sprintf("%s-%d", d.name, len(fp.devices)+1)
		}
	}
	if password != "" {
		path := c.passwordFile(d.name)
		d.params["password_file"] = path
		c.res.addSecret(path, []byte(password+"\n"))
	}
	fp.devices = append(fp.devices, d)
}

// stonithHost converts ha.cf's `stonith_host FROM TYPE PARAMS...` for the
// IPMI plugins of cluster-glue; the parameters are positional, in the
// plugin's documented order.
func (c *converter) stonithHost(src string, d directive) {
	if len(d.args) < 2 {
		c.rep.notConverted(src, "stonith_host", "want `stonith_host FROM TYPE PARAMS...`")
		return
	}
	from, typ, args := d.args[0], d.args[1], d.args[2:]
	shown := func(secret int) string {
		w := append([]string{"stonith_host", from, typ}, args...)
		if secret >= 0 && secret < len(args) {
			w[3+secret] = "***"
		}
		return strings.Join(w, " ")
	}
	var dev *fenceDevice
	var password string
	switch typ {
	case "external/ipmi":
		// hostname ipaddr userid passwd interface
		if len(args) < 4 || len(args) > 5 {
			c.rep.notConverted(src, shown(3), "external/ipmi wants: hostname ipaddr userid passwd [lan|lanplus]")
			return
		}
		dev = &fenceDevice{plugin: "fence_ipmilan", params: map[string]string{"ip": args[1], "username": args[2]}}
		password = args[3]
		if len(args) == 5 && args[4] == "lanplus" {
			dev.params["lanplus"] = "1"
		}
		dev.targets = []string{strings.ToLower(args[0])}
	case "ipmilan":
		// hostname ipaddr port auth priv login password reset_method
		if len(args) < 7 || len(args) > 8 {
			c.rep.notConverted(src, shown(6), "ipmilan wants: hostname ipaddr port auth priv login password [reset_method]")
			return
		}
		dev = &fenceDevice{plugin: "fence_ipmilan", params: map[string]string{"ip": args[1], "ipport": args[2], "username": args[5]}}
		switch strings.ToLower(args[3]) {
		case "md5":
			dev.params["auth"] = "md5"
		case "straight", "password":
			dev.params["auth"] = "password"
		case "none":
			dev.params["auth"] = "none"
		default:
			c.rep.notConverted(src, shown(6), "auth %q: want none, straight or md5", args[3])
			return
		}
		switch strings.ToLower(args[4]) {
		case "operator":
			dev.params["privlvl"] = "operator"
		case "admin", "administrator":
			dev.params["privlvl"] = "administrator"
		default:
			c.rep.notConverted(src, shown(6), "priv %q: want operator or admin", args[4])
			return
		}
		password = args[6]
		dev.targets = []string{strings.ToLower(args[0])}
	default:
		c.rep.notConverted(src, fmt.Sprintf("stonith_host %s %s (parameters not shown)", from, typ),
			"STONITH plugin %s is not built in: configure the device under fencing.devices\n"+
				"(fence_ipmilan and its aliases are built in)", typ)
		return
	}
	if c.p.node(dev.targets[0]) == nil {
		c.rep.notConverted(src, shown(map[string]int{"external/ipmi": 3, "ipmilan": 6}[typ]), "target %s is not a node in ha.cf", dev.targets[0])
		return
	}
	dev.name = "ipmi-" + dev.targets[0]
	dev.src = src
	c.addDevice(dev, password)
	note := ""
	if from != "*" {
		note = fmt.Sprintf("; Heartbeat used it only from %s, Palisade from whichever node fences", from)
	}
	c.rep.converted(src, shown(map[string]int{"external/ipmi": 3, "ipmilan": 6}[typ]),
		"fencing device %s (%s) for %s, password in %s (mode 0600)%s", dev.name, dev.plugin, dev.targets[0], c.passwordFile(dev.name), note)
}

// finishFencing builds the topology and warns about nodes nothing can fence.
func (c *converter) finishFencing() {
	var nodes []string
	for _, n := range c.p.nodes {
		nodes = append(nodes, n.name)
	}
	if len(nodes) == 0 && c.p.fencing != nil {
		// A CIB alone: its node list.
		seen := map[string]bool{}
		for _, d := range c.p.fencing.devices {
			for _, t := range d.targets {
				if !seen[t] {
					seen[t] = true
					nodes = append(nodes, t)
				}
			}
		}
		sort.Strings(nodes)
	}
	var unfenced []string
	for _, n := range nodes {
		if c.p.fencing == nil {
			unfenced = append(unfenced, n)
			continue
		}
		if _, ok := c.p.fencing.levels[n]; ok {
			continue
		}
		var levels [][]string
		for _, d := range c.p.fencing.devices {
			if slices.Contains(d.targets, n) {
				levels = append(levels, []string{d.name})
			}
		}
		if len(levels) == 0 {
			unfenced = append(unfenced, n)
			continue
		}
		c.p.fencing.levels[n] = levels
	}
	if len(unfenced) > 0 && len(c.p.nodes) > 0 {
		c.rep.warn("no fence device for %s: when such a node is lost, Palisade does not start its resources elsewhere "+
			"until it is confirmed fenced (Heartbeat v1 took over at once, risking split brain). Add a device under "+
			"fencing.devices and fencing.topology (see README \"Fencing\"), or confirm by hand with `palisade fence confirm NODE`",
			strings.Join(unfenced, ", "))
	}
}
