package importer

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"palisade/resources/agent"
	"palisade/resources/model"
)

// resourcesPlan is the resources section being built.
type resourcesPlan struct {
	cfg model.Config
	ids map[string]bool
}

func (c *converter) resourcesPlan() *resourcesPlan {
	if c.p.resources == nil {
		c.p.resources = &resourcesPlan{ids: map[string]bool{}}
	}
	return c.p.resources
}

// uniqueID makes id unique among the resources and constraints so far.
func (rp *resourcesPlan) uniqueID(id string) string {
	base := id
	for i := 2; rp.ids[id]; i++ {
		id = fmt.Sprintf("%s_%d", base, i)
	}
	rp.ids[id] = true
	return id
}

// stockHeartbeatScripts are the resource.d scripts Heartbeat 3.0.6 ships
// (Debian's heartbeat package) and drbd's drbddisk: names that are
// Heartbeat scripts even when the imported directory has no resource.d.
var stockHeartbeatScripts = map[string]bool{
	"AudibleAlarm": true, "Delay": true, "Filesystem": true, "ICP": true, "IPaddr": true, "IPaddr2": true,
	"IPsrcaddr": true, "IPv6addr": true, "LVM": true, "LinuxSCSI": true, "MailTo": true, "OCF": true,
	"Raid1": true, "SendArp": true, "ServeRAID": true, "WAS": true, "WinPopup": true, "Xinetd": true,
	"apache": true, "db2": true, "hto-mapfuncs": true, "ids": true, "portblock": true, "drbddisk": true,
}

// Monitors for the OCF agents haresources words become: Heartbeat v1
// never monitored, but these agents' monitor actions are reliable, and
// a VIP or mount that vanishes should be noticed.
var ocfMonitor = map[string]model.Op{
	"IPaddr2":    {Name: "monitor", Interval: model.Duration(10 * time.Second), Timeout: model.Duration(20 * time.Second)},
	"IPsrcaddr":  {Name: "monitor", Interval: model.Duration(10 * time.Second), Timeout: model.Duration(20 * time.Second)},
	"Filesystem": {Name: "monitor", Interval: model.Duration(20 * time.Second), Timeout: model.Duration(40 * time.Second)},
}

// Stickiness written for auto_failback: on lets the preferred node's
// location score (haresourcesPreference) pull a group back; off keeps it
// where it runs. 200 rather than INFINITY so that `palisade resource
// move` (an INFINITY preference) still moves it.
const (
	haresourcesPreference = 100
	stickinessNoFailback  = 200
)

type haresourcesLine struct {
	line  int
	words []string
}

// readHaresources joins continued lines (trailing '\') and drops
// comments, as Heartbeat's ResourceManager reads the file.
func readHaresources(data []byte) []haresourcesLine {
	var out []haresourcesLine
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	line, start := 0, 0
	var cur strings.Builder
	for sc.Scan() {
		line++
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		if cur.Len() == 0 {
			start = line
		}
		t := strings.TrimRight(text, " \t\r")
		if strings.HasSuffix(t, `\`) {
			cur.WriteString(strings.TrimSuffix(t, `\`) + " ")
			continue
		}
		cur.WriteString(t)
		if f := strings.Fields(cur.String()); len(f) > 0 {
			out = append(out, haresourcesLine{line: start, words: f})
		}
		cur.Reset()
	}
	if f := strings.Fields(cur.String()); len(f) > 0 {
		out = append(out, haresourcesLine{line: start, words: f})
	}
	return out
}

var idUnsafe = regexp.MustCompile(`[^A-Za-z0-9_]+`)

func sanitizeID(s string) string {
	s = strings.Trim(idUnsafe.ReplaceAllString(s, "_"), "_")
	if len(s) > 60 {
		s = s[:60]
	}
	if s == "" {
		s = "rsc"
	}
	return s
}

func (c *converter) haresources(src *Source, scripts map[string]bool) {
	rp := c.resourcesPlan()
	lines := readHaresources(src.Data)
	var lsb, hbScripts []string
	for _, hl := range lines {
		at := fmt.Sprintf("%s:%d", src.Name, hl.line)
		what := strings.Join(hl.words, " ")
		pref := strings.ToLower(hl.words[0])
		if c.p.node(pref) == nil {
			c.rep.notConverted(at, what, "node %s is not in ha.cf (Heartbeat refuses this file: \"Bad nodename\")", pref)
			continue
		}
		if len(hl.words) < 2 {
			c.rep.notConverted(at, what, "want `NODE RESOURCE...`")
			continue
		}
		var members []*model.Resource
		var notes []string
		ok := true
		for _, w := range hl.words[1:] {
			r, note, err := c.haresourceWord(w, scripts)
			if err != nil {
				c.rep.notConverted(at, w, "%v", err)
				ok = false
				continue
			}
			r.ID = rp.uniqueID(r.ID)
			members = append(members, r)
			notes = append(notes, fmt.Sprintf("%s: %s", r.ID, note))
			switch r.Class {
			case "lsb":
				lsb = append(lsb, r.ID)
			case "heartbeat":
				hbScripts = append(hbScripts, fmt.Sprintf("%s (/etc/ha.d/resource.d/%s)", r.ID, r.Type))
			}
		}
		if !ok || len(members) == 0 {
			continue
		}
		top := members[0]
		if len(members) > 1 {
			top = &model.Resource{ID: rp.uniqueID("grp_" + members[len(members)-1].ID), Kind: model.KindGroup, Members: members}
		}
		rp.cfg.Resources = append(rp.cfg.Resources, top)
		loc := model.Location{ID: rp.uniqueID("prefer_" + top.ID), Rsc: top.ID, Node: pref, Score: haresourcesPreference}
		rp.cfg.Constraints.Locations = append(rp.cfg.Constraints.Locations, loc)
		kind := "primitive"
		if top.Kind == model.KindGroup {
			kind = "group (started left to right, stopped right to left)"
		}
		c.rep.converted(at, what, "%s %s, preferred node %s (location %s, score %d):\n  %s",
			kind, top.ID, pref, loc.ID, haresourcesPreference, strings.Join(notes, "\n  "))
	}
	if len(rp.cfg.Resources) == 0 {
		return
	}
	stick, how := "0", "auto_failback on: resources go back to their preferred node when it returns"
	switch {
	case c.p.failback == "off":
		stick, how = strconv.Itoa(stickinessNoFailback), "auto_failback off: resources stay where they run (stickiness above the preferred node's score)"
	case c.p.failbackSrc == "":
		how = "no auto_failback in ha.cf: Heartbeat's default (legacy) fails back like on"
	}
	if rp.cfg.RscDefaults == nil {
		rp.cfg.RscDefaults = map[string]string{}
	}
	rp.cfg.RscDefaults["resource-stickiness"] = stick
	fbSrc := c.p.failbackSrc
	if fbSrc == "" {
		fbSrc = "ha.cf"
	}
	c.rep.converted(fbSrc, "auto_failback", "resources.rsc_defaults.resource-stickiness: %s (%s)", stick, how)
	if len(lsb) > 0 {
		sort.Strings(lsb)
		c.rep.warn("%s run as LSB init scripts (/etc/init.d): disable them at boot as for Heartbeat. Heartbeat v1 never monitored them, "+
			"so no monitor is configured; add ops: [{name: monitor, interval: 30s}] once their status action follows LSB",
			strings.Join(lsb, ", "))
	}
	if len(hbScripts) > 0 {
		sort.Strings(hbScripts)
		c.rep.warn("%s use Heartbeat resource.d scripts: keep those scripts when the heartbeat package is removed", strings.Join(hbScripts, ", "))
	}
}

// haresourceWord converts one haresources resource word.
func (c *converter) haresourceWord(w string, scripts map[string]bool) (*model.Resource, string, error) {
	name, _, _ := strings.Cut(w, "::")
	head, _, _ := strings.Cut(name, "/")
	if _, err := netip.ParseAddr(head); err == nil {
		w = "IPaddr::" + w // a bare address means IPaddr
	}
	in, err := agent.ParseHaresource(w)
	if err != nil {
		return nil, "", err
	}
	if out, ok, err := agent.HaresourceToOCF(in); err != nil {
		return nil, "", err
	} else if ok {
		r := &model.Resource{Class: "ocf", Provider: "heartbeat", Type: out.Type, Params: out.Params}
		if op, ok := ocfMonitor[out.Type]; ok {
			r.Ops = []model.Op{op}
		}
		switch out.Type {
		case "IPaddr2":
			r.ID = "ip_" + sanitizeID(out.Params["ip"])
		case "IPsrcaddr":
			r.ID = "srcaddr_" + sanitizeID(out.Params["ipaddress"])
		case "Filesystem":
			r.ID = "fs_" + sanitizeID(out.Params["directory"])
			if fs := out.Params["fstype"]; (fs == "nfs" || fs == "nfs4") && !strings.Contains(out.Params["device"], ":") {
				c.rep.warn("%s: device %q for %s has no ':' (want HOST:/PATH); the Filesystem agent cannot mount it", w, out.Params["device"], fs)
			}
		default:
			r.ID = sanitizeID(out.Type)
		}
		return r, fmt.Sprintf("ocf:heartbeat:%s %s", out.Type, describeParams(out.Params)), nil
	}
	args := strings.Split(w, "::")[1:]
	id := sanitizeID(strings.Join(append([]string{in.Type}, args...), "_"))
	if len(args) > 0 || scripts[in.Type] || stockHeartbeatScripts[in.Type] {
		r := &model.Resource{ID: id, Class: "heartbeat", Type: in.Type, Params: in.Params}
		if len(r.Params) == 0 {
			r.Params = nil
		}
		return r, fmt.Sprintf("heartbeat:%s %s", in.Type, strings.Join(args, " ")), nil
	}
	return &model.Resource{ID: id, Class: "lsb", Type: in.Type}, fmt.Sprintf("lsb:%s (/etc/init.d/%s)", in.Type, in.Type), nil
}

func describeParams(p map[string]string) string {
	var parts []string
	for _, k := range model.SortedKeys(p) {
		parts = append(parts, k+"="+p[k])
	}
	return strings.Join(parts, " ")
}
