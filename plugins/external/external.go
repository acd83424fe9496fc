// Package external runs any installed ClusterLabs fence agent
// (/usr/sbin/fence_*) as a Palisade fence device, so the 80-odd agents
// people already use (fence_virsh, fence_vmware_rest, fence_aws,
// fence_scsi, ...) work inside the daemon and through cmd/fence-agent.
//
// Import it for its side effect: it registers a fence.Resolver, so a
// plugin name Palisade has no plugin for is looked up among the installed
// agents, and "external:NAME" names an installed agent even where Palisade
// has its own (external:fence_ipmilan runs the ClusterLabs one):
//
//	import _ "palisade/plugins/external"
//	agent, err := fence.NewAgent("fence_virsh", map[string]string{
//		"ip": "198.18.0.30", "username": "root", "identity_file": "/root/.ssh/id_fence",
//		"plug": "vm-n1",
//	})
//
// The agent's metadata ("-o metadata", read once) declares its
// parameters: names, types, defaults and choices are validated before it
// runs, and an unknown parameter is refused. Each step runs the agent once
// through its stdin protocol (no arguments; every option, the password
// included, as key=value on stdin, so no secret is ever in argv), in its
// own process group with a clean environment, killed with its group when
// the step's deadline passes (agent_timeout, and the request's context).
// Exit codes are mapped: status 0 ON, 2 OFF; otherwise 0 success, anything
// else a failure carrying the agent's ERROR lines (secrets removed).
//
// The fencing core drives it like any device: status, then off (the agent
// waits for the change itself), then status again until OFF is read back
// (Palisade's rule: a fence counts when a follow-up status read shows
// OFF). An agent without a status action (fence_kdump) cannot be read
// back: its own successful off is taken as OFF, which the log says.
package external

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"palisade/fence"
)

// Dirs are searched, in order, for installed agents.
var Dirs = []string{"/usr/sbin", "/usr/local/sbin"}

// Prefix names an installed agent explicitly: "external:fence_ipmilan".
const Prefix = "external:"

// Palisade's own parameters of every wrapped agent.
const (
	// OptAgentTimeout bounds one run of the agent (seconds).
	OptAgentTimeout = "agent_timeout"
)

var agentName = regexp.MustCompile(`^fence_[a-z0-9_]{1,60}$`)

func init() { fence.RegisterResolver(resolve) }

var (
	loadMu sync.Mutex
	loaded = map[string]*fence.Plugin{} // by path
)

// resolve finds name among the installed agents.
func resolve(name string) (*fence.Plugin, error) {
	name = strings.TrimPrefix(name, Prefix)
	if !strings.HasPrefix(name, "fence_") {
		name = "fence_" + name
	}
	if !agentName.MatchString(name) {
		return nil, nil
	}
	for _, d := range Dirs {
		path := filepath.Join(d, name)
		if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			if isSelf(path) {
				// Our own multi-call binary installed under a name it has
				// no plugin for: running it would call itself forever.
				return nil, fmt.Errorf("%w: %s is this program (palisade's fence-agent), not an installed agent", fence.ErrConfig, path)
			}
			return Load(path)
		}
	}
	return nil, nil
}

func isSelf(path string) bool {
	self, err := os.Executable()
	if err != nil {
		return false
	}
	a, err1 := filepath.EvalSymlinks(self)
	b, err2 := filepath.EvalSymlinks(path)
	return err1 == nil && err2 == nil && a == b
}

// Load builds the plugin for the agent at path from its metadata. The
// plugin is cached per path.
func Load(path string) (*fence.Plugin, error) {
	loadMu.Lock()
	defer loadMu.Unlock()
	if p, ok := loaded[path]; ok {
		return p, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := runAgent(ctx, path, map[string]string{fence.OptAction: "metadata"}, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: reading the metadata of %s: %w", fence.ErrConfig, path, err)
	}
	if r.code != 0 {
		return nil, fmt.Errorf("%w: %s -o metadata exited %d: %s", fence.ErrConfig, path, r.code, r.errorText(nil))
	}
	md, err := ParseMetadata(r.stdout)
	if err != nil {
		return nil, fmt.Errorf("%w: metadata of %s: %w", fence.ErrConfig, path, err)
	}
	p := pluginFor(path, md)
	loaded[path] = p
	return p, nil
}

// pluginFor declares the agent's parameters (plus Palisade's password_file,
// password_env and agent_timeout) to the fencing core.
func pluginFor(path string, md *Metadata) *fence.Plugin {
	params := append([]fence.Param(nil), md.Params...)
	_, hasPlug := md.Param(fence.OptPlug)
	_, portAsIP := md.Param(fence.OptPortAsIP)
	if _, ok := md.Param(fence.OptPassword); ok {
		params = append(params,
			fence.Param{Name: fence.OptPasswordFile, Type: fence.TypeString, Placeholder: "[path]", ShortDesc: "File holding the login password (mode 0600 or stricter; Palisade extension)", Order: 900},
			fence.Param{Name: fence.OptPasswordEnv, Type: fence.TypeString, Placeholder: "[variable]", ShortDesc: "Environment variable holding the login password (Palisade extension)", Order: 900},
		)
	}
	params = append(params, fence.Param{Name: OptAgentTimeout, Type: fence.TypeSecond, Default: defaultTimeout(md), Placeholder: "[seconds]",
		ShortDesc: "Kill a run of the agent (and its children) after X seconds (Palisade extension)", Order: 901})
	var extra []fence.Action
	if md.Has(string(fence.ActionDiag)) {
		extra = append(extra, fence.ActionDiag)
	}
	a := &agentInfo{path: path, md: md}
	return &fence.Plugin{
		Name:      md.Name,
		ShortDesc: md.ShortDesc,
		LongDesc:  md.LongDesc + " (Run by Palisade through plugins/external: " + path + ".)",
		VendorURL: md.VendorURL,
		HasPlugs:  hasPlug && !portAsIP,
		OwnParams: true,
		Params:    params,
		Actions:   extra,
		Open:      a.open,
	}
}

// defaultTimeout is generous for a reboot of the agent's own timing:
// login, two power changes each with their wait and timeout, and margin.
func defaultTimeout(md *Metadata) string {
	sec := func(n string) float64 {
		p, ok := md.Param(n)
		if !ok {
			return 0
		}
		d, _ := time.ParseDuration(strings.TrimSpace(p.Default) + "s")
		return d.Seconds()
	}
	t := sec(fence.OptLoginTimeout) + sec(fence.OptShellTimeout) + 2*(sec(fence.OptPowerTimeout)+sec(fence.OptPowerWait)) + 10
	return fmt.Sprintf("%.0f", max(t, 30))
}

type agentInfo struct {
	path string
	md   *Metadata
}

// notForwarded are options Palisade consumes itself.
var notForwarded = map[string]bool{
	fence.OptAction: true, fence.OptDelay: true, fence.OptPlug: true,
	fence.OptPasswordFile: true, fence.OptPasswordEnv: true, OptAgentTimeout: true,
	"nodename": true, fence.OptHelp: true, fence.OptVersion: true,
}

func (a *agentInfo) open(o fence.Options) (fence.Opener, error) {
	// A command line asking for a read the agent cannot do is refused
	// here: the device would otherwise answer "not off" (ON) for status.
	switch act := o[fence.OptAction]; act {
	case string(fence.ActionStatus), string(fence.ActionOn), string(fence.ActionListStatus):
		if !a.md.Has(act) {
			return nil, fmt.Errorf("%w: %s does not advertise the %s action", fence.ErrUnsupported, a.md.Name, act)
		}
	}
	fwd := map[string]string{}
	var secrets []string
	for k, v := range o {
		if notForwarded[k] || k == fence.OptPasswordScrip && o[fence.OptPassword] != "" {
			continue
		}
		p, ok := a.md.Param(k)
		if !ok {
			continue
		}
		switch p.Type {
		case fence.TypeBoolean:
			// fence-agents reads a boolean from stdin as set only for a
			// true value.
			if !o.Bool(k) {
				continue
			}
			v = "1"
		case fence.TypeSecond:
			// fence-agents takes whole seconds; Palisade accepts
			// fractions for its own timing, so the agent gets them
			// rounded up.
			if d := o.Seconds(k); d > 0 {
				v = strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
			}
		}
		fwd[k] = v
		if strings.Contains(k, "passw") && v != "" {
			secrets = append(secrets, v)
		}
	}
	if p := o[fence.OptPassword]; p != "" {
		secrets = append(secrets, p)
	}
	timeout := o.Seconds(OptAgentTimeout)
	if timeout <= 0 {
		return nil, fmt.Errorf("%w: %s must be positive", fence.ErrConfig, OptAgentTimeout)
	}
	dev := &Device{path: a.path, md: a.md, opts: fwd, secrets: secrets, timeout: timeout}
	return func(context.Context) (fence.Device, error) { return dev.session(), nil }, nil
}

// Device runs the agent for each step. It implements fence.Device,
// Diagnoser, Lister and Monitorer.
type Device struct {
	path    string
	md      *Metadata
	opts    map[string]string
	secrets []string
	timeout time.Duration
	// offDone: this session's off succeeded (for agents without status).
	offDone bool
}

// session is a fresh copy per request (the offDone flag is per request).
func (d *Device) session() *Device {
	cp := *d
	cp.offDone = false
	return &cp
}

func (d *Device) name() string { return d.md.Name }

// do runs one action; ctx and agent_timeout bound it.
func (d *Device) do(ctx context.Context, action, plug string) (*result, error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	in := make(map[string]string, len(d.opts)+2)
	for k, v := range d.opts {
		in[k] = v
	}
	in[fence.OptAction] = action
	if plug != "" {
		in[fence.OptPlug] = plug
	}
	r, err := runAgent(ctx, d.path, in, d.secrets)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", d.name(), action, err)
	}
	return r, nil
}

// Status runs action=status: exit 0 ON, 2 OFF.
func (d *Device) Status(ctx context.Context, plug string) (fence.PowerState, error) {
	if !d.md.Has(string(fence.ActionStatus)) {
		// Nothing to read back: the agent's own successful off is all
		// there is.
		if d.offDone {
			return fence.PowerOff, nil
		}
		return fence.PowerOn, nil
	}
	r, err := d.do(ctx, string(fence.ActionStatus), plug)
	if err != nil {
		return fence.PowerUnknown, err
	}
	switch r.code {
	case 0:
		return fence.PowerOn, nil
	case 2:
		return fence.PowerOff, nil
	}
	return fence.PowerUnknown, fmt.Errorf("%s status exited %d: %s", d.name(), r.code, r.errorText(d.secrets))
}

// SetPower runs action=on or off; the agent waits for the change itself.
func (d *Device) SetPower(ctx context.Context, plug string, on bool) error {
	act := fence.ActionOff
	if on {
		act = fence.ActionOn
	}
	if !d.md.Has(string(act)) {
		return fmt.Errorf("%w: %s does not advertise %s", fence.ErrUnsupported, d.name(), act)
	}
	r, err := d.do(ctx, string(act), plug)
	if err != nil {
		return err
	}
	if r.code != 0 {
		return fmt.Errorf("%s %s exited %d: %s", d.name(), act, r.code, r.errorText(d.secrets))
	}
	if !on && !d.md.Has(string(fence.ActionStatus)) {
		d.offDone = true
		slog.Warn("agent has no status action: its successful off is taken as OFF without a read-back", "agent", d.name(), "plug", plug)
	}
	return nil
}

// Diag runs action=diag.
func (d *Device) Diag(ctx context.Context, plug string) error {
	r, err := d.do(ctx, string(fence.ActionDiag), plug)
	if err != nil {
		return err
	}
	if r.code != 0 {
		return fmt.Errorf("%s diag exited %d: %s", d.name(), r.code, r.errorText(d.secrets))
	}
	return nil
}

// List runs action=list-status (or list) and parses "ID,ALIAS[,STATE]".
func (d *Device) List(ctx context.Context) ([]fence.Plug, error) {
	act := string(fence.ActionListStatus)
	if !d.md.Has(act) {
		act = string(fence.ActionList)
	}
	if !d.md.Has(act) {
		return nil, fmt.Errorf("%w: %s does not advertise list", fence.ErrUnsupported, d.name())
	}
	r, err := d.do(ctx, act, "")
	if err != nil {
		return nil, err
	}
	if r.code != 0 {
		return nil, fmt.Errorf("%s %s exited %d: %s", d.name(), act, r.code, r.errorText(d.secrets))
	}
	sep := d.opts[fence.OptSeparator]
	if sep == "" {
		sep = ","
	}
	return parseList(r.stdout, sep), nil
}

// Monitor runs action=monitor.
func (d *Device) Monitor(ctx context.Context) error {
	r, err := d.do(ctx, string(fence.ActionMonitor), "")
	if err != nil {
		return err
	}
	if r.code != 0 {
		return fmt.Errorf("%s monitor exited %d: %s", d.name(), r.code, r.errorText(d.secrets))
	}
	return nil
}

// Close has nothing to end: each step was its own process.
func (d *Device) Close() error { return nil }

func parseList(out []byte, sep string) []fence.Plug {
	var plugs []fence.Plug
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "NOTICE:") || strings.HasPrefix(line, "N/A") {
			continue
		}
		f := strings.SplitN(line, sep, 3)
		p := fence.Plug{ID: f[0]}
		if len(f) > 1 {
			p.Alias = f[1]
		}
		if len(f) > 2 {
			switch strings.ToUpper(strings.TrimSpace(f[2])) {
			case "ON":
				p.State = fence.PowerOn
			case "OFF":
				p.State = fence.PowerOff
			}
		}
		plugs = append(plugs, p)
	}
	return plugs
}
