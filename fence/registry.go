package fence

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Alias is another name a plugin is installed under (fence_ilo4 for
// fence_ipmilan) with the defaults that name changes.
type Alias struct {
	Name      string
	ShortDesc string
	// Defaults override parameter defaults under this name
	// (fence_ilo3: lanplus=1, power_wait=4).
	Defaults map[string]string
}

// Plugin describes one fence device type. Plugins register themselves from
// an init function (fence.Register); the daemon and cmd/fence-agent find
// them by name with Lookup.
type Plugin struct {
	// Name is the agent name, as installed: "fence_ipmilan".
	Name      string
	ShortDesc string
	LongDesc  string
	VendorURL string
	Aliases   []Alias
	// HasPlugs is true for devices with several outlets (PDUs): plug is
	// then required and list is supported. False for one-machine devices
	// (BMCs), where plug is only an alias of ip with port_as_ip.
	HasPlugs bool
	// OwnParams: Params is the plugin's whole parameter list; the common
	// fence-agents parameters are not added and the core does not require
	// an address (ip). For devices that are not network devices (meatware,
	// watchdog) and for installed agents whose parameters come from their
	// own metadata (plugins/external). Open validates what it needs.
	OwnParams bool
	// Params are the device-specific parameters; the common ones
	// (action, ip, timeouts...) are added by AllParams.
	Params []Param
	// Defaults override common parameter defaults (ipport=623, power_wait=2).
	Defaults map[string]string
	// Actions lists device-specific extra actions ("diag").
	Actions []Action
	// Open validates the normalized options and returns an Opener. It must
	// do no I/O: Execute opens the session under login_timeout.
	Open func(opts Options) (Opener, error)
	// KeepSession: a Device of this plugin may stay open between requests
	// (its session survives idle time, or is renewed by the plugin), so the
	// daemon's device monitor (Prober) keeps one open and a check is one
	// status read. Plugins whose sessions the device drops after a short
	// idle time (IPMI) or that have no session (an external agent) leave
	// it false: every check logs in.
	KeepSession bool
	// Manual: the device waits for a person (fence_manual), up to its
	// power_timeout; the fencer gives a topology level of it that much
	// room in the attempt.
	Manual bool
	// Unmonitored, when set, says why the device monitor does not check
	// devices of this plugin (fence_watchdog: the device is the lost node's
	// own watchdog, there is nothing to reach).
	Unmonitored string
}

var (
	registryMu sync.RWMutex
	registry   = map[string]*Plugin{}
	resolvers  []Resolver
)

// Resolver builds a plugin for a name that is not registered (plugins/
// external wraps an installed ClusterLabs agent this way). It returns
// (nil, nil) when the name is not its own.
type Resolver func(name string) (*Plugin, error)

// RegisterResolver adds a resolver that Lookup asks, in registration
// order, for names no plugin registered. A plugin it returns is
// registered under the name asked for, so it is resolved once.
func RegisterResolver(r Resolver) {
	registryMu.Lock()
	defer registryMu.Unlock()
	resolvers = append(resolvers, r)
}

// Register adds a plugin under its name and its aliases. It panics on a
// duplicate name: that is a programming error found at start-up.
func Register(p *Plugin) {
	registryMu.Lock()
	defer registryMu.Unlock()
	names := []string{p.Name}
	for _, a := range p.Aliases {
		names = append(names, a.Name)
	}
	for _, n := range names {
		if _, dup := registry[n]; dup {
			panic("fence: plugin registered twice: " + n)
		}
		registry[n] = p
	}
}

// PalisadePrefix starts Palisade's own name for every agent:
// fence_palisade_ipmilan is fence_ipmilan, installed beside the
// distribution's agents without replacing them.
const PalisadePrefix = "fence_palisade_"

// ReferenceName maps a Palisade name to the fence-agents name it stands
// for (fence_palisade_ilo4 -> fence_ilo4); other names are returned as is.
func ReferenceName(name string) string {
	if rest, ok := strings.CutPrefix(name, PalisadePrefix); ok && rest != "" {
		return "fence_" + rest
	}
	return name
}

// PalisadeName is Palisade's own name for a fence-agents name
// (fence_ipmilan -> fence_palisade_ipmilan).
func PalisadeName(name string) string {
	name = ReferenceName(name)
	if rest, ok := strings.CutPrefix(name, "fence_"); ok {
		return PalisadePrefix + rest
	}
	return PalisadePrefix + name
}

// IsPalisadeName reports whether name is in the fence_palisade_* form.
func IsPalisadeName(name string) bool { return ReferenceName(name) != name }

// Lookup finds a plugin by name or alias. "ipmilan", "fence_ipmilan" and
// "fence_palisade_ipmilan" are the same name, for every plugin, including
// those registered later.
func Lookup(name string) (*Plugin, error) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	ref := ReferenceName(name)
	if p, ok := registry[ref]; ok {
		return p, nil
	}
	if p, ok := registry["fence_"+ref]; ok && ref == name {
		return p, nil
	}
	rs := resolvers
	registryMu.RUnlock()
	p, err := resolve(rs, ref)
	registryMu.RLock()
	if err != nil {
		return nil, err
	}
	if p != nil {
		return p, nil
	}
	return nil, fmt.Errorf("%w: unknown fence agent %q (known: %s, each also as %s...)", ErrConfig, name, strings.Join(namesLocked(), ", "), PalisadePrefix)
}

// resolve asks the resolvers (without the registry lock: they may read
// files or run programs) and registers what one returns under name.
func resolve(rs []Resolver, name string) (*Plugin, error) {
	for _, r := range rs {
		p, err := r(name)
		if err != nil {
			return nil, err
		}
		if p == nil {
			continue
		}
		registryMu.Lock()
		defer registryMu.Unlock()
		if prev, ok := registry[name]; ok {
			return prev, nil // resolved meanwhile by another caller
		}
		registry[name] = p
		return p, nil
	}
	return nil, nil
}

// Names lists every registered name and alias, sorted.
func Names() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	return namesLocked()
}

func namesLocked() []string {
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// canonicalName returns "fence_x" for "x", "fence_x" or "fence_palisade_x".
func (p *Plugin) canonicalName(name string) string {
	if name == "" {
		return p.Name
	}
	name = ReferenceName(name)
	if !strings.HasPrefix(name, "fence_") {
		name = "fence_" + name
	}
	return name
}

// AllParams returns the common and device parameters with the defaults that
// apply when the plugin runs under name (an alias or the plugin's own name),
// sorted like fence-agents metadata.
func (p *Plugin) AllParams(name string) []Param {
	name = p.canonicalName(name)
	var ps []Param
	if p.OwnParams {
		ps = append(ps, p.Params...)
	} else {
		ps = append(commonParams(p.HasPlugs), p.Params...)
	}
	defaults := map[string]string{}
	for k, v := range p.Defaults {
		defaults[k] = v
	}
	for _, a := range p.Aliases {
		if a.Name == name {
			for k, v := range a.Defaults {
				defaults[k] = v
			}
		}
	}
	for i := range ps {
		if v, ok := defaults[ps[i].Name]; ok {
			ps[i].Default = v
		}
	}
	sortParams(ps)
	return ps
}

// AllActions returns the actions the plugin accepts, in fence-agents order.
// forMetadata drops list/list-status for single-machine devices: fence-agents
// accepts them there (answering with a notice) but does not advertise them.
func (p *Plugin) AllActions(forMetadata bool) []Action {
	acts := []Action{ActionOn, ActionOff, ActionReboot, ActionStatus}
	if p.HasPlugs || !forMetadata {
		acts = append(acts, ActionList, ActionListStatus)
	}
	acts = append(acts, ActionMonitor, ActionMetadata, ActionManpage, ActionValidateAll)
	acts = append(acts, p.Actions...)
	return acts
}
