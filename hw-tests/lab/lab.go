package lab

import (
	"errors"
	"fmt"
	"math/bits"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
)

// Options describe the network to build.
type Options struct {
	// Prefix starts every namespace name: use your helper letter and PID,
	// e.g. "pa-e-4242". At most 10 characters so names stay readable.
	Prefix string
	Nodes  int  // node namespaces, 1..50
	Links  int  // links per node, 1..4; each is its own bridge and subnet
	Client bool // also build a client namespace plugged into every link
	// LogDir receives one log file per started process (default: a new
	// temporary directory, see Lab.LogDir).
	LogDir string
}

// Lab is a built network. Fields are read-only.
type Lab struct {
	Prefix string
	Switch string  // name of the namespace holding the bridges
	Nodes  []*Host // Nodes[i] is node i+1
	Client *Host   // nil unless Options.Client
	LogDir string
	Links  int

	mu     sync.Mutex
	procs  []*Proc
	netns  []string // created namespaces, in creation order
	closed bool
}

// Host is one namespace plugged into the links.
type Host struct {
	Name   string         // namespace name
	Ifaces []string       // interface per link: eth0, eth1, ...
	Addrs  []netip.Addr   // address per link
	Nets   []netip.Prefix // subnet per link
	ports  []string       // switch-side veth names per link
	lab    *Lab
}

// Available returns why a lab cannot be built here, or nil.
func Available() error {
	if os.Geteuid() != 0 {
		return errors.New("lab: needs root to create network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return fmt.Errorf("lab: iproute2 `ip` not found: %w", err)
	}
	return nil
}

// Subnet returns the subnet of link i for a lab with n links.
func Subnet(i, n int) netip.Prefix {
	extra := bits.Len(uint(n - 1)) // 1 link: /24, 2: /25, 3-4: /26
	size := 256 >> extra
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 18, 0, byte(i * size)}), 24+extra)
}

func hostAddr(p netip.Prefix, host int) netip.Addr {
	b := p.Addr().As4()
	b[3] += byte(host)
	return netip.AddrFrom4(b)
}

func subnetSize(p netip.Prefix) int { return 1 << (32 - p.Bits()) }

// SpareAddr returns the k-th (0-based) spare address on link i, for
// service IPs; there are at least 8 per link below the client's address.
func (l *Lab) SpareAddr(link, k int) netip.Addr {
	p := Subnet(link, l.Links)
	return hostAddr(p, subnetSize(p)-3-k)
}

// New builds the network. On error, whatever was built is removed.
func New(opts Options) (*Lab, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	if opts.Prefix == "" {
		opts.Prefix = fmt.Sprintf("pa-lab-%d", os.Getpid())
	}
	// Names go into shell hooks (a BMC's power-off command) and ip(8)
	// arguments: only characters that need no quoting anywhere.
	if strings.Trim(opts.Prefix, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
		return nil, fmt.Errorf("lab: prefix %q: only a-z, 0-9 and '-' are allowed", opts.Prefix)
	}
	if opts.Links < 1 || opts.Links > 4 {
		return nil, fmt.Errorf("lab: %d links, want 1..4", opts.Links)
	}
	if opts.Nodes < 1 || opts.Nodes > 50 {
		return nil, fmt.Errorf("lab: %d nodes, want 1..50", opts.Nodes)
	}
	if opts.LogDir == "" {
		d, err := os.MkdirTemp("", opts.Prefix+"-logs-")
		if err != nil {
			return nil, fmt.Errorf("lab: log dir: %w", err)
		}
		opts.LogDir = d
	}
	// A crashed run with a recycled PID may have left the same names.
	if err := Cleanup(opts.Prefix); err != nil {
		return nil, err
	}
	l := &Lab{Prefix: opts.Prefix, Switch: opts.Prefix + "-sw", LogDir: opts.LogDir, Links: opts.Links}
	if err := l.build(opts); err != nil {
		l.Close()
		return nil, fmt.Errorf("lab %s: %w", opts.Prefix, err)
	}
	return l, nil
}

func (l *Lab) addNetns(name string) error {
	if _, err := ip("netns", "add", name); err != nil {
		return err
	}
	l.mu.Lock()
	l.netns = append(l.netns, name)
	l.mu.Unlock()
	_, err := ip("-n", name, "link", "set", "lo", "up")
	return err
}

func (l *Lab) build(opts Options) error {
	if err := l.addNetns(l.Switch); err != nil {
		return err
	}
	for j := 0; j < opts.Links; j++ {
		br := fmt.Sprintf("br%d", j)
		if _, err := ip("-n", l.Switch, "link", "add", br, "type", "bridge"); err != nil {
			return err
		}
		if _, err := ip("-n", l.Switch, "link", "set", br, "up"); err != nil {
			return err
		}
	}
	for i := 1; i <= opts.Nodes; i++ {
		h, err := l.addHost(fmt.Sprintf("%s-n%d", l.Prefix, i), fmt.Sprintf("n%d", i), i, opts.Links)
		if err != nil {
			return err
		}
		l.Nodes = append(l.Nodes, h)
	}
	if opts.Client {
		size := subnetSize(Subnet(0, opts.Links))
		h, err := l.addHost(l.Prefix+"-c", "c", size-2, opts.Links)
		if err != nil {
			return err
		}
		l.Client = h
	}
	return nil
}

func (l *Lab) addHost(name, short string, hostNum, links int) (*Host, error) {
	if err := l.addNetns(name); err != nil {
		return nil, err
	}
	h := &Host{Name: name, lab: l}
	for j := 0; j < links; j++ {
		iface := fmt.Sprintf("eth%d", j)
		port := fmt.Sprintf("%se%d", short, j)
		// Created inside the host namespace and the peer moved straight
		// into the switch namespace: the root namespace never sees it.
		if _, err := ip("-n", name, "link", "add", iface, "type", "veth", "peer", "name", port, "netns", l.Switch); err != nil {
			return nil, err
		}
		if _, err := ip("-n", l.Switch, "link", "set", port, "master", fmt.Sprintf("br%d", j), "up"); err != nil {
			return nil, err
		}
		p := Subnet(j, links)
		a := hostAddr(p, hostNum)
		if _, err := ip("-n", name, "addr", "add", netip.PrefixFrom(a, p.Bits()).String(), "dev", iface); err != nil {
			return nil, err
		}
		if _, err := ip("-n", name, "link", "set", iface, "up"); err != nil {
			return nil, err
		}
		h.Ifaces = append(h.Ifaces, iface)
		h.Addrs = append(h.Addrs, a)
		h.Nets = append(h.Nets, p)
		h.ports = append(h.ports, port)
	}
	return h, nil
}

// CutLink unplugs the host's link i at the switch: the host keeps its
// address but nothing passes either way.
func (h *Host) CutLink(i int) error { return h.setPort(i, "down") }

// RestoreLink plugs link i back in.
func (h *Host) RestoreLink(i int) error { return h.setPort(i, "up") }

// CutAll unplugs every link of the host.
func (h *Host) CutAll() error {
	for i := range h.ports {
		if err := h.CutLink(i); err != nil {
			return err
		}
	}
	return nil
}

// RestoreAll plugs every link back in.
func (h *Host) RestoreAll() error {
	for i := range h.ports {
		if err := h.RestoreLink(i); err != nil {
			return err
		}
	}
	return nil
}

func (h *Host) setPort(i int, state string) error {
	if i < 0 || i >= len(h.ports) {
		return fmt.Errorf("lab: %s has no link %d", h.Name, i)
	}
	_, err := ip("-n", h.lab.Switch, "link", "set", h.ports[i], state)
	return err
}

// ip runs one iproute2 command and returns its output.
func ip(args ...string) (string, error) {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// Partition splits link's network: the ports of each group of nodes
// (0-based indexes) go to a bridge of their own in the switch namespace,
// so nodes of different groups cannot reach each other on that link while
// everything else (other links, the client) is untouched. Nodes in no
// group stay on the link's main bridge (with the client).
func (l *Lab) Partition(link int, groups [][]int) error {
	if err := l.Heal(link); err != nil {
		return err
	}
	for g, members := range groups {
		if g == 0 {
			continue // the first group stays on the main bridge
		}
		br := fmt.Sprintf("br%dp%d", link, g)
		if _, err := ip("-n", l.Switch, "link", "add", br, "type", "bridge"); err != nil {
			return err
		}
		if _, err := ip("-n", l.Switch, "link", "set", br, "up"); err != nil {
			return err
		}
		for _, n := range members {
			if n < 0 || n >= len(l.Nodes) {
				return fmt.Errorf("lab: no node %d", n)
			}
			if _, err := ip("-n", l.Switch, "link", "set", l.Nodes[n].ports[link], "master", br); err != nil {
				return err
			}
		}
	}
	return nil
}

// Heal puts every port of link back on its main bridge and removes the
// partition bridges.
func (l *Lab) Heal(link int) error {
	main := fmt.Sprintf("br%d", link)
	for _, n := range l.Nodes {
		if link >= len(n.ports) {
			return fmt.Errorf("lab: %s has no link %d", n.Name, link)
		}
		if _, err := ip("-n", l.Switch, "link", "set", n.ports[link], "master", main); err != nil {
			return err
		}
	}
	out, err := ip("-n", l.Switch, "-o", "link", "show", "type", "bridge")
	if err != nil {
		return err
	}
	prefix := fmt.Sprintf("br%dp", link)
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		name := strings.TrimSuffix(strings.SplitN(f[1], "@", 2)[0], ":")
		if strings.HasPrefix(name, prefix) {
			if _, err := ip("-n", l.Switch, "link", "del", name); err != nil {
				return err
			}
		}
	}
	return nil
}
