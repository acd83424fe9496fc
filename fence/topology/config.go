package topology

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"palisade/cluster/config/strict"
	"palisade/fence"
)

// Device is one configured fence device.
type Device struct {
	Name   string
	Plugin string
	Params map[string]string
	Line   int
	// Key is the device's key path in the file ("fencing.devices[0]"),
	// for errors found later (a plugin that refuses its parameters).
	Key string
	// DelayBase and DelayMax are Pacemaker's pcmk_delay_base and
	// pcmk_delay_max: every use of the device waits DelayBase plus a random
	// part, so that the whole stays within DelayMax. DelayBaseFor gives
	// targets their own base (pcmk_delay_base's "n1:0s;n2:5s" form).
	DelayBase    time.Duration
	DelayBaseFor map[string]time.Duration
	DelayMax     time.Duration
}

// Config is the decoded fencing section.
type Config struct {
	// Enabled is false only when the section says `enabled: false`; the
	// cluster then refuses to recover lost nodes (except by operator
	// confirmation), it never skips fencing silently.
	Enabled bool
	// StartupFencing (default true, like Pacemaker's startup-fencing):
	// a configured node not seen by the time the first quorate view forms
	// (initdead) may be running anything, so it is fenced before any
	// resource starts. Turn it off only where an unseen node is known to
	// be down.
	StartupFencing bool
	// Action is what a fence does to the target: off (the default: the
	// node stays down for an administrator to look at) or reboot (off,
	// verify OFF, on: Pacemaker's stonith-action default). Either way the
	// fence only counts once OFF was read back.
	Action fence.Action
	// ActionSet: the section named the action (otherwise the resources'
	// stonith-action option may choose it).
	ActionSet      bool
	StaticDelay    map[string]time.Duration
	RandomDelayMax time.Duration
	RetryInitial   time.Duration
	RetryMax       time.Duration
	AttemptTimeout time.Duration
	// AttemptTimeoutSet: the section named attempt_timeout (otherwise a
	// topology with a manual level gets room for the operator).
	AttemptTimeoutSet bool
	// PriorityDelay is Pacemaker's priority-fencing-delay: a fence aimed at
	// the node running the most important resources waits this long, when
	// the fencing partition holds no more than half the nodes (see
	// PriorityDelay).
	PriorityDelay time.Duration
	// Monitor checks every device periodically (MonitorInterval 0: never).
	MonitorInterval time.Duration
	MonitorTimeout  time.Duration
	// MonitorFailures is how many failed checks in a row raise an alert.
	MonitorFailures int
	// Watchdog arms this node's watchdog (WatchdogDevice "": none) with
	// WatchdogTimeout; fence_watchdog devices of the peers count a lost
	// node fenced after their watchdog_fence_timeout.
	WatchdogDevice  string
	WatchdogTimeout time.Duration
	// AlertCommand, if set, runs (sh -c) on every fencing alert with
	// PALISADE_ALERT_TARGET and PALISADE_ALERT_MESSAGE in its environment.
	AlertCommand string
	Devices      map[string]Device
	// Levels maps a node to its topology levels; each level lists device
	// names that must all succeed.
	Levels map[string][][]string
}

// DefaultAttemptTimeout bounds one fence attempt when none is configured.
const DefaultAttemptTimeout = 60 * time.Second

// Device monitor defaults (Pacemaker monitors stonith resources every 60 s
// with a 20 s timeout).
const (
	DefaultMonitorInterval = 60 * time.Second
	DefaultMonitorTimeout  = 20 * time.Second
	DefaultMonitorFailures = 3
)

// Decode validates the fencing section. file names the configuration for
// error messages; a nil node is an empty (enabled, device-less) section.
// Every problem is reported at once, as strict.Errors (cluster/config
// decodes the section with the rest of the file through DecodeWith).
func Decode(file string, n *yaml.Node) (*Config, error) {
	col := strict.New(file)
	c := DecodeWith(col, n)
	if err := col.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// DecodeWith decodes the fencing section into col, the collector of the
// whole file. The section is only meaningful when col gained no error.
func DecodeWith(col *strict.Collector, n *yaml.Node) *Config {
	c := &Config{Enabled: true, StartupFencing: true, Action: fence.ActionOff, StaticDelay: map[string]time.Duration{}, Devices: map[string]Device{}, Levels: map[string][][]string{}, AttemptTimeout: DefaultAttemptTimeout,
		MonitorInterval: DefaultMonitorInterval, MonitorTimeout: DefaultMonitorTimeout, MonitorFailures: DefaultMonitorFailures}
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n == nil || n.ShortTag() == "!!null" {
		return c
	}
	d := decoder{c: col}
	lines := map[string]int{}
	d.mapping(n, "fencing", map[string]func(*yaml.Node){
		"enabled":         func(v *yaml.Node) { d.decode(v, "fencing.enabled", &c.Enabled) },
		"startup_fencing": func(v *yaml.Node) { d.decode(v, "fencing.startup_fencing", &c.StartupFencing) },
		"action": func(v *yaml.Node) {
			switch a := fence.Action(v.Value); a {
			case fence.ActionOff, fence.ActionReboot:
				c.Action, c.ActionSet = a, true
			default:
				d.errf(v, "fencing.action", fmt.Sprintf("bad value %s: want off or reboot", strict.Quote(v.Value)))
			}
		},
		"static_delay": func(v *yaml.Node) {
			d.mapping(v, "fencing.static_delay", nil, func(k string, v *yaml.Node) {
				c.StaticDelay[k] = d.duration(v, "fencing.static_delay."+k)
			})
		},
		"random_delay_max": func(v *yaml.Node) { c.RandomDelayMax = d.duration(v, "fencing.random_delay_max") },
		"attempt_timeout": func(v *yaml.Node) {
			c.AttemptTimeout, c.AttemptTimeoutSet = d.duration(v, "fencing.attempt_timeout"), true
		},
		"priority_delay": func(v *yaml.Node) { c.PriorityDelay = d.duration(v, "fencing.priority_delay") },
		"monitor": func(v *yaml.Node) {
			d.mapping(v, "fencing.monitor", map[string]func(*yaml.Node){
				"interval": func(v *yaml.Node) { c.MonitorInterval = d.duration(v, "fencing.monitor.interval") },
				"timeout":  func(v *yaml.Node) { c.MonitorTimeout = d.duration(v, "fencing.monitor.timeout") },
				"failures": func(v *yaml.Node) { d.decode(v, "fencing.monitor.failures", &c.MonitorFailures) },
			}, nil)
		},
		"watchdog": func(v *yaml.Node) {
			d.mapping(v, "fencing.watchdog", map[string]func(*yaml.Node){
				"device":  func(v *yaml.Node) { d.decode(v, "fencing.watchdog.device", &c.WatchdogDevice) },
				"timeout": func(v *yaml.Node) { c.WatchdogTimeout = d.duration(v, "fencing.watchdog.timeout") },
			}, nil)
		},
		"alert_command": func(v *yaml.Node) { d.decode(v, "fencing.alert_command", &c.AlertCommand) },
		"retry": func(v *yaml.Node) {
			d.mapping(v, "fencing.retry", map[string]func(*yaml.Node){
				"initial": func(v *yaml.Node) { c.RetryInitial = d.duration(v, "fencing.retry.initial") },
				"max":     func(v *yaml.Node) { c.RetryMax = d.duration(v, "fencing.retry.max") },
			}, nil)
		},
		"devices": func(v *yaml.Node) {
			if v.Kind != yaml.SequenceNode {
				d.errf(v, "fencing.devices", "want a list of devices")
				return
			}
			for i, dn := range v.Content {
				key := fmt.Sprintf("fencing.devices[%d]", i)
				dev := Device{Params: map[string]string{}, Line: dn.Line, Key: key}
				d.mapping(dn, key, map[string]func(*yaml.Node){
					"name":      func(v *yaml.Node) { d.decode(v, key+".name", &dev.Name) },
					"plugin":    func(v *yaml.Node) { d.decode(v, key+".plugin", &dev.Plugin) },
					"delay_max": func(v *yaml.Node) { dev.DelayMax = d.duration(v, key+".delay_max") },
					"delay_base": func(v *yaml.Node) {
						if v.Kind == yaml.ScalarNode {
							dev.DelayBase = d.duration(v, key+".delay_base")
							return
						}
						dev.DelayBaseFor = map[string]time.Duration{}
						d.mapping(v, key+".delay_base", nil, func(k string, v *yaml.Node) {
							dev.DelayBaseFor[k] = d.duration(v, key+".delay_base."+k)
						})
					},
					"params": func(v *yaml.Node) {
						d.mapping(v, key+".params", nil, func(k string, v *yaml.Node) {
							if v.Kind != yaml.ScalarNode {
								d.errf(v, key+".params."+k, "want a scalar value")
								return
							}
							dev.Params[k] = v.Value
						})
					},
				}, nil)
				for _, t := range slices.Sorted(maps.Keys(dev.DelayBaseFor)) {
					if b := dev.DelayBaseFor[t]; dev.DelayMax > 0 && b > dev.DelayMax {
						d.errf(dn, key+".delay_base."+t, fmt.Sprintf("%v exceeds delay_max %v (delay_max bounds base plus random part)", b, dev.DelayMax))
					}
				}
				if dev.DelayMax > 0 && dev.DelayBase > dev.DelayMax {
					d.errf(dn, key+".delay_base", fmt.Sprintf("%v exceeds delay_max %v (delay_max bounds base plus random part)", dev.DelayBase, dev.DelayMax))
				}
				switch {
				case dev.Name == "":
					d.errf(dn, key+".name", "missing: every device needs a name")
				case dev.Plugin == "":
					d.errf(dn, key+".plugin", "missing: name a fence plugin such as fence_ipmilan")
				case c.Devices[dev.Name].Name != "":
					d.errf(dn, key+".name", fmt.Sprintf("duplicate device name %s (first at line %d)", strict.Quote(dev.Name), c.Devices[dev.Name].Line))
				default:
					if _, ok := dev.Params["password"]; ok {
						d.errf(dn, key+".params.password", "clear-text passwords are not accepted in cluster.yaml; use password_file (mode 0600) or password_env")
					}
					c.Devices[dev.Name] = dev
				}
			}
		},
		"topology": func(v *yaml.Node) {
			d.mapping(v, "fencing.topology", nil, func(node string, v *yaml.Node) {
				key := "fencing.topology." + node
				var levels [][]string
				if v.Kind == yaml.SequenceNode && len(v.Content) > 0 && v.Content[0].Kind == yaml.ScalarNode {
					// Shorthand: a flat list of names is one level per
					// device, tried in order (n1: [bmc-n1, pdu-n1]).
					for _, s := range v.Content {
						levels = append(levels, []string{s.Value})
					}
				} else if err := v.Decode(&levels); err != nil {
					d.errf(v, key, "want a list of levels, each a list of device names")
					return
				}
				if len(levels) == 0 {
					d.errf(v, key, "no levels")
				}
				for i, l := range levels {
					if len(l) == 0 {
						d.errf(v, fmt.Sprintf("%s[%d]", key, i), "empty level")
					}
				}
				c.Levels[node] = levels
				lines[node] = v.Line
			})
		},
	}, nil)
	// Cross references after the whole section is read.
	for _, node := range slices.Sorted(func(y func(string) bool) {
		for k := range c.Levels {
			if !y(k) {
				return
			}
		}
	}) {
		for i, l := range c.Levels[node] {
			for _, name := range l {
				if _, ok := c.Devices[name]; !ok {
					d.c.ErrorAt(lines[node], fmt.Sprintf("fencing.topology.%s[%d]", node, i), "unknown device %s (configured: %s)", strict.Quote(name), strings.Join(deviceNames(c), ", "))
				}
			}
		}
	}
	if c.RetryInitial < 0 || c.RetryMax < 0 || c.RandomDelayMax < 0 || c.AttemptTimeout <= 0 {
		d.errf(n, "fencing", "delays and timeouts must be positive")
	}
	if c.MonitorInterval > 0 && (c.MonitorTimeout <= 0 || c.MonitorFailures < 1) {
		d.errf(n, "fencing.monitor", "timeout must be positive and failures at least 1")
	}
	if c.WatchdogDevice != "" && c.WatchdogTimeout < time.Second {
		d.errf(n, "fencing.watchdog.timeout", fmt.Sprintf("%v: set it to at least 1s (drivers count seconds)", c.WatchdogTimeout))
	}
	return c
}

func deviceNames(c *Config) []string {
	var out []string
	for k := range c.Devices {
		out = append(out, k)
	}
	sort.Strings(out)
	if len(out) == 0 {
		return []string{"none"}
	}
	return out
}

// decoder reports the fencing section's problems into the file's one
// collector (cluster/config/strict): FILE:LINE: key.path: problem.
type decoder struct {
	c *strict.Collector
}

func (d *decoder) errf(n *yaml.Node, key, msg string) {
	d.c.Errorf(n, key, "%s", msg)
}

func (d *decoder) decode(n *yaml.Node, key string, v any) {
	d.c.DecodeStrict(n, key, v)
}

func (d *decoder) duration(n *yaml.Node, key string) time.Duration {
	v, err := time.ParseDuration(n.Value)
	if err != nil || v < 0 {
		d.errf(n, key, fmt.Sprintf("bad duration %s: want a Go duration such as 500ms or 5s", strict.Quote(n.Value)))
	}
	return v
}

// mapping walks a mapping node: known keys go to their handler; with
// fields == nil every key goes to any (free-form maps). Unknown and
// duplicate keys are reported with the valid ones.
func (d *decoder) mapping(n *yaml.Node, key string, fields map[string]func(*yaml.Node), any func(string, *yaml.Node)) {
	if fields == nil {
		d.c.Map(n, key, func(name string, v *yaml.Node, _ string) { any(name, d.c.Deref(v)) })
		return
	}
	h := make(map[string]func(*yaml.Node, string), len(fields))
	for k, f := range fields {
		h[k] = func(v *yaml.Node, _ string) { f(d.c.Deref(v)) }
	}
	d.c.Fields(n, key, h)
}
