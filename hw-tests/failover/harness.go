package failover

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"palisade/cluster/eventlog"
	"palisade/cluster/recovery"
	"palisade/hw-tests/ipmisim"
	"palisade/hw-tests/lab"
)

// Options shape a failover lab.
type Options struct {
	// Prefix names every namespace (helper letter + PID, e.g. "pa-e-4242").
	Prefix string
	Nodes  int // 2 or more; default 3
	// Keepalive and Deadtime of the heartbeat (defaults 50ms / 250ms).
	Keepalive, Deadtime time.Duration
	// BinDir holds palisaded and palisade; empty: build them into WorkDir.
	BinDir string
	// WorkDir holds configs, logs and state; empty: a new temp dir that
	// Close removes unless Keep is set.
	WorkDir string
	Keep    bool
	// Fencing overrides the `fencing:` tuning lines (static_delay, retry...).
	FenceTuning string
	// TwoNode sets quorum two_node (with Nodes == 2).
	TwoNode bool
	// Resources replaces the default resources section (group vip +
	// dummy); "{{VIP}}" in it is replaced by the VIP address.
	Resources string
	// DummyMonitor is the dummy resource's monitor interval (default 2s).
	DummyMonitor time.Duration
	// ProbeEvery is the client's ARP request interval (default 10ms).
	ProbeEvery time.Duration
	// NoDaemons builds everything but starts no palisaded (to run another
	// HA stack, e.g. keepalived, on the same lab for comparison).
	NoDaemons bool
	// Absent lists nodes (0-based) whose palisaded is not started: the
	// machine is up (its BMC answers) but the cluster never hears it.
	Absent []int
	// Progress receives one line per setup step (nil: discard).
	Progress io.Writer
	// FenceExtra, if set, runs once the lab and its BMCs exist and before
	// the configuration is written: it may start more fence devices on the
	// management network (MgmtAddr, the switch namespace h.Lab.Switch) and
	// returns YAML entries to add to fencing.devices ("- name: ..." lines)
	// and per-node topology levels replacing [[bmc-nX]] (node index →
	// "[[bmc-n2], [pdu-n2]]").
	FenceExtra func(h *Harness) (devices string, topology map[int]string, err error)
	// HeartbeatLink puts the cluster's traffic on a link of its own
	// (eth2), apart from the VIP and client network (eth0) and the BMC
	// network (eth1), so CutCluster and Partition can split the cluster
	// while a node keeps answering ARP for a VIP it holds and keeps
	// reaching the BMCs.
	HeartbeatLink bool
}

// Harness is a running failover lab.
type Harness struct {
	Opts    Options
	Lab     *lab.Lab
	Sims    []*ipmisim.Sim
	VIP     netip.Addr
	BMCs    []netip.Addr
	Configs []string
	Sockets []string
	Events  []string // event log per node
	States  []string // state_dir per node (its run_dir, with HA_RSCTMP, is State/run)
	MACs    []string // eth0 MAC per node
	Procs   []*lab.Proc
	Dir     string
	bin     string

	relays []*relay
	prober *prober
	ownDir bool
	// From Options.FenceExtra.
	extraDevices  string
	extraTopology map[int]string
	mgmtUsed      int
}

// MgmtAddr gives a new address on the management network (link 1, where
// the BMCs answer), in the switch namespace, for another fence device.
func (h *Harness) MgmtAddr() (netip.Addr, error) {
	h.mgmtUsed++
	a := h.Lab.SpareAddr(1, len(h.Lab.Nodes)+h.mgmtUsed-1)
	if out, err := exec.Command("ip", "-n", h.Lab.Switch, "addr", "add", netip.PrefixFrom(a, lab.Subnet(1, h.Lab.Links).Bits()).String(), "dev", "br1").CombinedOutput(); err != nil {
		return a, fmt.Errorf("failover: management address %s: %v: %s", a, err, out)
	}
	return a, nil
}

// CutCommand is the shell command that cuts node i's power: its links go
// down and every process of its namespace dies (the BMCs' power-off hook;
// other simulated devices can run it too).
func (h *Harness) CutCommand(i int) string { return cutCommand(h.Lab.Nodes[i]) }

func (o *Options) defaults() {
	if o.Nodes == 0 {
		o.Nodes = 3
	}
	if o.Keepalive == 0 {
		o.Keepalive = 50 * time.Millisecond
	}
	if o.Deadtime == 0 {
		o.Deadtime = 250 * time.Millisecond
	}
	if o.DummyMonitor == 0 {
		o.DummyMonitor = 2 * time.Second
	}
	if o.ProbeEvery == 0 {
		o.ProbeEvery = 10 * time.Millisecond
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if o.Prefix == "" {
		o.Prefix = fmt.Sprintf("pa-e-%d", os.Getpid())
	}
}

// Available reports why the harness cannot run here.
func Available() error {
	if err := lab.Available(); err != nil {
		return err
	}
	return ipmisim.Available()
}

// Start builds the lab, the BMCs and the cluster and starts every daemon.
// On error everything built so far is removed.
func Start(ctx context.Context, o Options) (_ *Harness, err error) {
	o.defaults()
	if err := Available(); err != nil {
		return nil, err
	}
	h := &Harness{Opts: o, Dir: o.WorkDir}
	defer func() {
		if err != nil {
			h.Close()
		}
	}()
	if h.Dir == "" {
		if h.Dir, err = os.MkdirTemp("", o.Prefix+"-"); err != nil {
			return nil, fmt.Errorf("failover: work dir: %w", err)
		}
		h.ownDir = true
	}
	h.bin = o.BinDir
	if h.bin == "" {
		h.bin = filepath.Join(h.Dir, "bin")
		fmt.Fprintf(o.Progress, "building palisaded and palisade into %s\n", h.bin)
		if err := lab.Build(h.bin); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(filepath.Join(h.Dir, "logs"), 0o755); err != nil {
		return nil, fmt.Errorf("failover: %w", err)
	}
	fmt.Fprintf(o.Progress, "creating network namespaces %s-* (%d nodes + client, 198.18.0.0/24, no default route)\n", o.Prefix, o.Nodes)
	links := 2
	if o.HeartbeatLink {
		links = 3
	}
	h.Lab, err = lab.New(lab.Options{Prefix: o.Prefix, Nodes: o.Nodes, Links: links, Client: true, LogDir: filepath.Join(h.Dir, "logs")})
	if err != nil {
		return nil, err
	}
	h.VIP = h.Lab.SpareAddr(0, 0)
	// The management network: the switch namespace gets addresses on br1
	// for the BMC relays.
	for i := range o.Nodes {
		a := h.Lab.SpareAddr(1, i)
		h.BMCs = append(h.BMCs, a)
		if out, err := exec.Command("ip", "-n", h.Lab.Switch, "addr", "add", netip.PrefixFrom(a, lab.Subnet(1, links).Bits()).String(), "dev", "br1").CombinedOutput(); err != nil {
			return nil, fmt.Errorf("failover: BMC address %s: %v: %s", a, err, out)
		}
	}
	pw := filepath.Join(h.Dir, "bmc.pw")
	secret := make([]byte, 6)
	rand.Read(secret)
	password := hex.EncodeToString(secret)
	if err := os.WriteFile(pw, []byte(password+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("failover: password file: %w", err)
	}
	for i, n := range h.Lab.Nodes {
		fmt.Fprintf(o.Progress, "starting ipmi_sim BMC for n%d (power-off hook cuts %s), reachable at %s:623\n", i+1, n.Name, h.BMCs[i])
		sim, err := ipmisim.Start(ipmisim.Options{Password: password, OnPowerOff: cutCommand(n)})
		if err != nil {
			return nil, err
		}
		h.Sims = append(h.Sims, sim)
		r, err := startRelay(h.Lab.Switch, netip.AddrPortFrom(h.BMCs[i], 623), sim.Addr())
		if err != nil {
			return nil, err
		}
		h.relays = append(h.relays, r)
		mac, err := n.Run("cat", "/sys/class/net/eth0/address")
		if err != nil {
			return nil, fmt.Errorf("failover: MAC of %s: %w", n.Name, err)
		}
		h.MACs = append(h.MACs, strings.TrimSpace(mac))
	}
	if o.FenceExtra != nil {
		if h.extraDevices, h.extraTopology, err = o.FenceExtra(h); err != nil {
			return nil, err
		}
	}
	if err := h.writeConfigs(pw); err != nil {
		return nil, err
	}
	h.prober, err = startProber(h.Lab.Client.Name, "eth0", h.Lab.Client.Addrs[0], h.VIP, o.ProbeEvery)
	if err != nil {
		return nil, err
	}
	if !o.NoDaemons {
		for i := range h.Lab.Nodes {
			if slices.Contains(o.Absent, i) {
				continue
			}
			if err := h.StartDaemon(i); err != nil {
				return nil, err
			}
		}
	}
	return h, nil
}

// cutCommand is the power-off hook: the node's interfaces go down and
// every process of its namespace dies, as when a machine loses power.
func cutCommand(n *lab.Host) string {
	// Links first: a dying process must not get a goodbye packet out
	// (keepalived's VRRP child resigns when its parent is killed). A
	// step that fails fails the hook, and so the BMC's power command: a
	// power-off that did not happen must never read as one.
	var cmd strings.Builder
	cmd.WriteString("set -e; ")
	for _, iface := range n.Ifaces {
		fmt.Fprintf(&cmd, "ip -n '%s' link set %s down; ", n.Name, iface)
	}
	fmt.Fprintf(&cmd, "for p in $(ip netns pids '%s'); do kill -9 $p 2>/dev/null || true; done", n.Name)
	return cmd.String()
}

// StartDaemon starts palisaded on node i (0-based).
func (h *Harness) StartDaemon(i int) error {
	n := h.Lab.Nodes[i]
	cmd := n.Command(filepath.Join(h.bin, "palisaded"), "--config", h.Configs[i], "--node", fmt.Sprintf("n%d", i+1),
		"--event-log", h.Events[i], "--log-format", "text")
	p, err := n.StartCmd(cmd, fmt.Sprintf("palisaded-n%d", i+1))
	if err != nil {
		return fmt.Errorf("failover: starting palisaded on n%d: %w", i+1, err)
	}
	for len(h.Procs) <= i {
		h.Procs = append(h.Procs, nil)
	}
	h.Procs[i] = p
	return nil
}

func (h *Harness) writeConfigs(pwFile string) error {
	o := h.Opts
	key := filepath.Join(h.Dir, "authkey")
	secret := make([]byte, 32)
	rand.Read(secret)
	if err := os.WriteFile(key, []byte("key 1 hex:"+hex.EncodeToString(secret)+"\nactive 1\n"), 0o600); err != nil {
		return fmt.Errorf("failover: key file: %w", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "cluster:\n  name: demo\nnodes:\n")
	hb := 0
	if o.HeartbeatLink {
		hb = 2
	}
	for i, n := range h.Lab.Nodes {
		fmt.Fprintf(&b, "  - id: %d\n    name: n%d\n    addresses: {link0: %s}\n", i+1, i+1, n.Addrs[hb])
	}
	warn := o.Deadtime * 3 / 5
	fmt.Fprintf(&b, "links:\n  - {name: link0, kind: ucast, interface: eth%d}\n", hb)
	fmt.Fprintf(&b, "timing: {keepalive: %v, warntime: %v, deadtime: %v, initdead: 3s}\n", o.Keepalive, warn, o.Deadtime)
	fmt.Fprintf(&b, "auth: {key_file: %s}\n", key)
	if o.TwoNode {
		b.WriteString("quorum: {two_node: true}\n")
	}
	b.WriteString("fencing:\n")
	if o.FenceTuning != "" {
		for _, l := range strings.Split(strings.TrimSpace(o.FenceTuning), "\n") {
			b.WriteString("  " + l + "\n")
		}
	} else {
		b.WriteString("  retry: {initial: 500ms, max: 2s}\n  attempt_timeout: 15s\n")
	}
	b.WriteString("  devices:\n")
	for i := range h.Lab.Nodes {
		fmt.Fprintf(&b, "    - name: bmc-n%d\n      plugin: fence_ipmilan\n      params: {ip: %s, ipport: \"623\", username: admin, password_file: %s, lanplus: \"1\", cipher: \"3\", login_timeout: \"2\", power_timeout: \"5\", power_wait: \"0\", stonith_status_sleep: \"0.05\"}\n",
			i+1, h.BMCs[i], pwFile)
	}
	for _, l := range strings.Split(strings.TrimSpace(h.extraDevices), "\n") {
		if strings.TrimSpace(l) != "" {
			b.WriteString("    " + l + "\n")
		}
	}
	b.WriteString("  topology:\n")
	for i := range h.Lab.Nodes {
		if levels, ok := h.extraTopology[i]; ok {
			fmt.Fprintf(&b, "    n%d: %s\n", i+1, levels)
			continue
		}
		fmt.Fprintf(&b, "    n%d: [[bmc-n%d]]\n", i+1, i+1)
	}
	res := o.Resources
	if res == "" {
		res = fmt.Sprintf(`  options: {stonith-enabled: true, no-quorum-policy: stop}
  rsc_defaults: {resource-stickiness: 100, migration-threshold: 3}
  resources:
    - id: grp
      kind: group
      members:
        - id: vip
          class: palisade
          type: vip
          params: {ip: %s, cidr_netmask: "%d", nic: eth0, arp_count: "5", arp_interval: "200", dad_timeout: "30"}
          ops: [{name: monitor, interval: 1s, timeout: 5s}]
        - id: dummy
          class: ocf
          provider: heartbeat
          type: Dummy
          ops: [{name: monitor, interval: %v, timeout: 10s}]
`, h.VIP, lab.Subnet(0, h.Lab.Links).Bits(), o.DummyMonitor)
	}
	b.WriteString("resources:\n" + strings.ReplaceAll(res, "{{VIP}}", h.VIP.String()))
	for i := range h.Lab.Nodes {
		state := filepath.Join(h.Dir, fmt.Sprintf("n%d", i+1))
		if err := os.MkdirAll(state, 0o755); err != nil {
			return fmt.Errorf("failover: %w", err)
		}
		sock := filepath.Join(state, "palisade.sock")
		// run_dir stands for the node's /run: Boot empties it, as a
		// reboot empties a tmpfs.
		text := b.String() + fmt.Sprintf("state_dir: %s\nrun_dir: %s\nsocket: %s\n", state, filepath.Join(state, "run"), sock)
		path := filepath.Join(h.Dir, fmt.Sprintf("n%d.yaml", i+1))
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			return fmt.Errorf("failover: config: %w", err)
		}
		h.Configs = append(h.Configs, path)
		h.Sockets = append(h.Sockets, sock)
		h.Events = append(h.Events, filepath.Join(state, "events.jsonl"))
		h.States = append(h.States, state)
	}
	return nil
}

// Entries returns every node's event log merged by monotonic time.
func (h *Harness) Entries() ([]eventlog.Entry, error) { return eventlog.ReadFiles(h.Events...) }

// Violations checks the one rule over all event logs.
func (h *Harness) Violations() ([]recovery.Violation, error) {
	es, err := h.Entries()
	if err != nil {
		return nil, err
	}
	return recovery.Verify(es), nil
}

// Replies is everything the client saw for the VIP.
func (h *Harness) Replies() []Reply { return h.prober.Replies() }

// Holder returns the node index whose eth0 carries the VIP, -1 if none, or
// an error if several do.
func (h *Harness) Holder() (int, error) {
	holder := -1
	for i, n := range h.Lab.Nodes {
		out, _ := n.Run("ip", "-o", "-4", "addr", "show", "dev", "eth0")
		if strings.Contains(out, " "+h.VIP.String()+"/") {
			if holder >= 0 {
				return -1, fmt.Errorf("VIP %s is configured on n%d and n%d", h.VIP, holder+1, i+1)
			}
			holder = i
		}
	}
	return holder, nil
}

// WaitStarted waits until the group runs somewhere and the client gets
// answers for the VIP; it returns the node index.
func (h *Harness) WaitStarted(ctx context.Context, timeout time.Duration) (int, error) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		es, _ := h.Entries()
		started := map[string]string{}
		for _, e := range es {
			if e.Event == eventlog.ActionResult && e.Action == "start" && e.OK != nil && *e.OK && e.Writer == e.Node {
				started[e.Resource] = e.Node
			}
		}
		if started["vip"] != "" && started["vip"] == started["dummy"] {
			i := int(started["vip"][1] - '1')
			mac := h.MACs[i]
			for _, r := range h.Replies() {
				if r.MAC == mac {
					return i, nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return -1, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return -1, fmt.Errorf("the group did not start within %s; logs in %s", timeout, h.Lab.LogDir)
}

// PowerCut simulates a power loss of node i: the BMC reports OFF from now
// on, every process in the node's namespace is killed and its links go
// down. It returns the monotonic time of the cut.
func (h *Harness) PowerCut(i int) (time.Duration, error) {
	t := eventlog.Mono()
	if err := h.Sims[i].SetPower(false); err != nil {
		return t, err
	}
	out, err := exec.Command("sh", "-c", cutCommand(h.Lab.Nodes[i])).CombinedOutput()
	if err != nil {
		return t, fmt.Errorf("power cut of n%d: %v: %s", i+1, err, out)
	}
	return t, nil
}

// Boot brings node i back as a machine powering up would: what a reboot
// clears is gone (addresses added at run time, such as a VIP it held; its
// run_dir, a tmpfs on a real machine), its links come up with their own
// addresses, and palisaded starts again with a new generation. Tests call
// it once the BMC reports the node ON again, e.g. after a reboot fence.
func (h *Harness) Boot(i int) error {
	n := h.Lab.Nodes[i]
	if err := os.RemoveAll(filepath.Join(h.States[i], "run")); err != nil {
		return fmt.Errorf("boot of n%d: clearing its run_dir: %w", i+1, err)
	}
	for k, a := range n.Addrs {
		dev := fmt.Sprintf("eth%d", k)
		for _, args := range [][]string{
			{"addr", "flush", "dev", dev},
			{"addr", "add", netip.PrefixFrom(a, n.Nets[k].Bits()).String(), "dev", dev},
			{"link", "set", dev, "up"},
		} {
			if out, err := exec.Command("ip", append([]string{"-n", n.Name}, args...)...).CombinedOutput(); err != nil {
				return fmt.Errorf("boot of n%d: ip %s: %v: %s", i+1, strings.Join(args, " "), err, out)
			}
		}
	}
	return h.StartDaemon(i)
}

// KillDaemon kills palisaded on node i with SIGKILL; the node, its
// resources and its VIP stay up.
func (h *Harness) KillDaemon(i int) (time.Duration, error) {
	t := eventlog.Mono()
	if h.Procs[i] == nil {
		return t, errors.New("no daemon")
	}
	return t, h.Procs[i].Signal(syscall.SIGKILL)
}

// Palisade runs the palisade CLI against node i's socket.
func (h *Harness) Palisade(i int, args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(h.bin, "palisade"), append([]string{"--socket", h.Sockets[i]}, args...)...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if len(args) > 0 && args[0] == "status" && errors.As(err, &ee) && ee.ExitCode() == 1 {
		// palisade status exits 1 when the cluster is degraded: the status
		// was printed all the same.
		err = nil
	}
	return string(out), err
}

// Close stops everything and removes the namespaces (and the work
// directory unless Keep). Safe to call more than once.
func (h *Harness) Close() {
	if h.prober != nil {
		h.prober.Close()
		h.prober = nil
	}
	// Sockets first: they keep their namespaces (and bridges) alive.
	for _, r := range h.relays {
		r.Close()
	}
	h.relays = nil
	if h.Lab != nil {
		h.Lab.Close()
	}
	for _, s := range h.Sims {
		s.Stop()
	}
	h.Sims = nil
	if h.ownDir && !h.Opts.Keep {
		os.RemoveAll(h.Dir)
	}
}

// Isolate kills every process of node i and takes its links down without
// touching its BMC (a machine that died while its BMC keeps reporting ON,
// or whose BMC is unreachable).
func (h *Harness) Isolate(i int) (time.Duration, error) {
	t := eventlog.Mono()
	out, err := exec.Command("sh", "-c", cutCommand(h.Lab.Nodes[i])).CombinedOutput()
	if err != nil {
		return t, fmt.Errorf("isolating n%d: %v: %s", i+1, err, out)
	}
	return t, nil
}

// BreakBMC makes node i's BMC unreachable from the cluster (its relay
// stops), as when the management network or the BMC itself is down.
func (h *Harness) BreakBMC(i int) { h.relays[i].Close() }

// DCAttached reports whether node i's palisaded runs the DC layer (its
// status has a "dc" section), waiting up to timeout for the socket.
func (h *Harness) DCAttached(i int, timeout time.Duration) (bool, error) {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		out, err := h.Palisade(i, "status", "--json")
		if err == nil {
			return strings.Contains(out, `"cib_version"`), nil
		}
		last = fmt.Errorf("%v: %s", err, out)
		time.Sleep(100 * time.Millisecond)
	}
	return false, fmt.Errorf("palisade status on n%d: %w", i+1, last)
}
