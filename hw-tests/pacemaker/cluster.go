package pacemaker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"palisade/hw-tests/lab"
)

// Options describe the cluster to build.
type Options struct {
	// Prefix starts every namespace name (at most 10 characters), e.g.
	// "pa-pm-4242": include the PID so concurrent runs never collide.
	Prefix string
	// Nodes is the number of Pacemaker nodes, named n1..nN, node i at
	// 198.18.0.i on one link; the lab's client namespace (198.18.0.254)
	// holds the BMC simulators.
	Nodes int
	// Agents are extra fence agents in every node's /usr/sbin: name ->
	// absolute path of the program. The program is copied into the
	// cluster's directory (the controller runs as hacluster and must be
	// able to reach it) and the name made a symlink to the copy.
	Agents map[string]string
	// CIB is the initial cib.xml of every node (see SeedCIB); empty: an
	// empty configuration.
	CIB string
	// Token is corosync's totem token timeout; default 1s (quick
	// detection of a lost member, as tests want).
	Token time.Duration
	// Dir holds every node's private directories; default a temporary
	// directory that Close removes.
	Dir string
}

// Cluster is a set of Pacemaker nodes in a lab network.
type Cluster struct {
	Lab   *lab.Lab
	Nodes []*Node
	Dir   string

	ownDir bool
	agents map[string]string
	mu     sync.Mutex
	stop   chan struct{}
	closed bool
	wg     sync.WaitGroup
}

// Node is one Pacemaker node.
type Node struct {
	Name string // n1, n2, ...
	ID   int
	Host *lab.Host
	// Root is the node's private state on the host: etc-corosync,
	// lib-pacemaker, log-pacemaker, ...
	Root string

	c      *Cluster
	mu     sync.Mutex
	anchor *lab.Proc // boot.sh: the process whose namespaces Run enters
	boots  int
}

// Available returns why Pacemaker nodes cannot run here, or nil.
func Available() error {
	if err := lab.Available(); err != nil {
		return err
	}
	for _, p := range []string{"corosync", "corosync-cfgtool", "pacemakerd", "stonith_admin", "cibadmin", "crm_mon", "unshare", "nsenter"} {
		if _, err := exec.LookPath(p); err != nil {
			return fmt.Errorf("pacemaker: %s not found (Debian packages pacemaker, corosync, util-linux): %w", p, err)
		}
	}
	if _, err := user.Lookup("hacluster"); err != nil {
		return fmt.Errorf("pacemaker: user hacluster missing (Debian package pacemaker): %w", err)
	}
	return nil
}

// New builds the network and every node's private directories; nodes are
// started with Node.Boot.
func New(o Options) (*Cluster, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	if o.Nodes < 1 || o.Nodes > 8 {
		return nil, fmt.Errorf("pacemaker: %d nodes, want 1..8", o.Nodes)
	}
	if o.Token == 0 {
		o.Token = time.Second
	}
	c := &Cluster{Dir: o.Dir, stop: make(chan struct{})}
	if c.Dir == "" {
		d, err := os.MkdirTemp("", "pacemaker-nodes-")
		if err != nil {
			return nil, fmt.Errorf("pacemaker: %w", err)
		}
		c.Dir, c.ownDir = d, true
	}
	if err := os.MkdirAll(filepath.Join(c.Dir, "lab-logs"), 0o755); err != nil {
		c.Close()
		return nil, err
	}
	l, err := lab.New(lab.Options{Prefix: o.Prefix, Nodes: o.Nodes, Links: 1, Client: true, LogDir: filepath.Join(c.Dir, "lab-logs")})
	if err != nil {
		c.Close()
		return nil, err
	}
	c.Lab = l
	for i, h := range l.Nodes {
		n := &Node{Name: fmt.Sprintf("n%d", i+1), ID: i + 1, Host: h, Root: filepath.Join(c.Dir, fmt.Sprintf("n%d", i+1)), c: c}
		c.Nodes = append(c.Nodes, n)
	}
	// Pacemaker's unprivileged daemons look up agents through the symlinks.
	if err := os.Chmod(c.Dir, 0o755); err != nil {
		c.Close()
		return nil, err
	}
	agents := map[string]string{}
	for name, prog := range o.Agents {
		cp := filepath.Join(c.Dir, "agents", filepath.Base(prog))
		if err := copyExecutable(prog, cp); err != nil {
			c.Close()
			return nil, err
		}
		agents[name] = cp
	}
	c.agents = agents
	conf := corosyncConf(c.Nodes, o.Token)
	for _, n := range c.Nodes {
		if err := n.prepare(conf, o.CIB, agents); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// corosyncConf is the same corosync.conf for every node: knet without
// crypto (a private lab), a short token so a killed member is noticed in
// about a second, and two_node for two nodes (one vote is quorum; both
// must have been seen once, wait_for_all).
func corosyncConf(nodes []*Node, token time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "totem {\n\tversion: 2\n\tcluster_name: palisadetest\n\ttransport: knet\n\tcrypto_cipher: none\n\tcrypto_hash: none\n\ttoken: %d\n\tjoin: 50\n}\n", token.Milliseconds())
	b.WriteString("nodelist {\n")
	for _, n := range nodes {
		fmt.Fprintf(&b, "\tnode {\n\t\tring0_addr: %s\n\t\tname: %s\n\t\tnodeid: %d\n\t}\n", n.Host.Addrs[0], n.Name, n.ID)
	}
	b.WriteString("}\nquorum {\n\tprovider: corosync_votequorum\n")
	if len(nodes) == 2 {
		b.WriteString("\ttwo_node: 1\n")
	}
	b.WriteString("}\nlogging {\n\tto_logfile: yes\n\tlogfile: /var/log/corosync/corosync.log\n\tto_syslog: no\n\tto_stderr: no\n\ttimestamp: hires\n}\n")
	return b.String()
}

// bootScript runs as the node's first process, inside its network
// namespace and fresh mount and UTS namespaces: private mounts, host name,
// corosync, then pacemakerd. It stays as the parent so Run can enter its
// namespaces by PID.
const bootScript = `#!/bin/sh
set -e
R=$1
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount --bind "$R/etc-corosync" /etc/corosync
mount --bind "$R/lib-pacemaker" /var/lib/pacemaker
mount --bind "$R/lib-corosync" /var/lib/corosync
mount --bind "$R/log-pacemaker" /var/log/pacemaker
mount --bind "$R/log-corosync" /var/log/corosync
mount -t overlay overlay -o "lowerdir=/usr/sbin,upperdir=$R/sbin-upper,workdir=$R/sbin-work" /usr/sbin
hostname "$2"
export PCMK_logfile=/var/log/pacemaker/pacemaker.log
echo "boot $(date +%s.%N)" >> "$R/boots.log"
corosync -f >> "$R/corosync.out" 2>&1 &
i=0
until corosync-cfgtool -s >/dev/null 2>&1; do
	i=$((i+1)); [ $i -gt 200 ] && { echo "corosync did not start" >&2; exit 1; }
	sleep 0.05
done
pacemakerd >> "$R/pacemakerd.out" 2>&1 &
wait
`

func (n *Node) prepare(conf, cib string, agents map[string]string) error {
	hc, err := user.Lookup("hacluster")
	if err != nil {
		return err
	}
	gid := 0
	if g, err := user.LookupGroup("haclient"); err == nil {
		gid, _ = strconv.Atoi(g.Gid)
	}
	uid, _ := strconv.Atoi(hc.Uid)
	dirs := []string{"etc-corosync", "lib-corosync", "log-corosync", "sbin-upper", "sbin-work",
		"lib-pacemaker/cib", "lib-pacemaker/pengine", "lib-pacemaker/blackbox", "lib-pacemaker/cores", "log-pacemaker"}
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(n.Root, d), 0o755); err != nil {
			return fmt.Errorf("pacemaker: %s: %w", n.Name, err)
		}
	}
	for _, d := range []string{"lib-pacemaker", "lib-pacemaker/cib", "lib-pacemaker/pengine", "lib-pacemaker/blackbox", "lib-pacemaker/cores", "log-pacemaker"} {
		p := filepath.Join(n.Root, d)
		if err := os.Chown(p, uid, gid); err != nil {
			return fmt.Errorf("pacemaker: %s: %w", n.Name, err)
		}
		if err := os.Chmod(p, 0o770); err != nil {
			return err
		}
	}
	files := map[string]string{"etc-corosync/corosync.conf": conf, "boot.sh": bootScript}
	if cib != "" {
		files["lib-pacemaker/cib/cib.xml"] = cib
	}
	for name, body := range files {
		mode := os.FileMode(0o644)
		if name == "boot.sh" {
			mode = 0o755
		}
		p := filepath.Join(n.Root, name)
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			return fmt.Errorf("pacemaker: %s: %w", n.Name, err)
		}
		if strings.HasPrefix(name, "lib-pacemaker/") {
			if err := os.Chown(p, uid, gid); err != nil {
				return err
			}
			if err := os.Chmod(p, 0o600); err != nil {
				return err
			}
		}
	}
	for name, target := range agents {
		if err := os.Symlink(target, filepath.Join(n.Root, "sbin-upper", name)); err != nil {
			return fmt.Errorf("pacemaker: %s: agent %s: %w", n.Name, name, err)
		}
	}
	return nil
}

// Boot starts the node: corosync, then pacemakerd, in fresh mount and UTS
// namespaces (what was mounted by an earlier boot went with its processes).
// It returns once corosync answers.
func (n *Node) Boot() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.anchor != nil {
		select {
		case <-n.anchor.Done():
		default:
			return fmt.Errorf("pacemaker: %s is already running", n.Name)
		}
	}
	cmd := n.Host.Command("unshare", "--mount", "--uts", "--propagation", "private", filepath.Join(n.Root, "boot.sh"), n.Root, n.Name)
	p, err := n.Host.StartCmd(cmd, "boot")
	if err != nil {
		return err
	}
	n.anchor = p
	n.boots++
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-p.Done():
			return fmt.Errorf("pacemaker: %s: boot script ended: %v\n%s", n.Name, p.Err(), p.Output())
		default:
		}
		if out, err := n.runLocked("corosync-cfgtool", "-s"); err == nil && strings.Contains(out, "nodeid") {
			if _, err := n.runLocked("pgrep", "-x", "pacemakerd"); err == nil {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pacemaker: %s: corosync and pacemakerd not up within 20s; boot output:\n%s", n.Name, p.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Boots counts the boots so far.
func (n *Node) Boots() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.boots
}

// Running reports whether the node's boot script (and so the node) is up.
func (n *Node) Running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.anchor == nil {
		return false
	}
	select {
	case <-n.anchor.Done():
		return false
	default:
		return true
	}
}

// RunTimeout bounds every command Run runs: some Pacemaker tools wait
// forever for a daemon that is not up yet (crmadmin -D at start-up).
const RunTimeout = 150 * time.Second

// Run runs a command inside the node (its network, mount and UTS
// namespaces) and returns its combined output; it is killed after
// RunTimeout.
func (n *Node) Run(argv ...string) (string, error) {
	return n.RunWithin(RunTimeout, argv...)
}

// RunWithin is Run with its own time limit.
func (n *Node) RunWithin(d time.Duration, argv ...string) (string, error) {
	n.mu.Lock()
	anchor := n.anchor
	n.mu.Unlock()
	return runIn(anchor, n.Name, d, argv...)
}

func (n *Node) runLocked(argv ...string) (string, error) {
	return runIn(n.anchor, n.Name, 5*time.Second, argv...)
}

func runIn(anchor *lab.Proc, name string, d time.Duration, argv ...string) (string, error) {
	if anchor == nil {
		return "", fmt.Errorf("pacemaker: %s was never booted", name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	pid := strconv.Itoa(anchor.Pid())
	cmd := exec.CommandContext(ctx, "nsenter", append([]string{"--target", pid, "--mount", "--uts", "--net", "--"}, argv...)...)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return string(out), fmt.Errorf("%s: %s: killed after %s: %w", name, strings.Join(argv, " "), d, ctx.Err())
	}
	if err != nil {
		return string(out), fmt.Errorf("%s: %s: %w: %s", name, strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// KillCommand is a shell command that kills every process of the node at
// once (a power loss). It is safe in an ipmi_sim hook: it only reads
// /proc and sends signals by PID.
func (n *Node) KillCommand() string {
	return fmt.Sprintf("ip netns pids %s | xargs -r kill -9", n.Host.Name)
}

// Kill kills every process of the node (a power loss) and waits for them.
func (n *Node) Kill() error {
	for i := 0; i < 50; i++ {
		out, err := exec.Command("ip", "netns", "pids", n.Host.Name).Output()
		if err != nil {
			return fmt.Errorf("pacemaker: %s: listing processes: %w", n.Name, err)
		}
		pids := strings.Fields(string(out))
		if len(pids) == 0 {
			return nil
		}
		for _, s := range pids {
			if pid, err := strconv.Atoi(s); err == nil {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("pacemaker: %s: processes survive SIGKILL", n.Name)
}

// KillCorosync kills the node's corosync with SIGKILL (the member is lost
// to its peers; the rest of the node keeps running until fenced). The
// nodes share the host's PID namespace, so the process is found by its
// network namespace, never by name alone.
func (n *Node) KillCorosync() error {
	out, err := exec.Command("ip", "netns", "pids", n.Host.Name).Output()
	if err != nil {
		return fmt.Errorf("pacemaker: %s: listing processes: %w", n.Name, err)
	}
	for _, s := range strings.Fields(string(out)) {
		pid, err := strconv.Atoi(s)
		if err != nil {
			continue
		}
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err == nil && strings.TrimSpace(string(comm)) == "corosync" {
			return syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	return fmt.Errorf("pacemaker: %s: no corosync running", n.Name)
}

// LogPath is the node's pacemaker.log on the host.
func (n *Node) LogPath() string { return filepath.Join(n.Root, "log-pacemaker", "pacemaker.log") }

// Log reads the node's pacemaker.log.
func (n *Node) Log() Log {
	b, _ := os.ReadFile(n.LogPath())
	return Log(b)
}

// PowerSource is what WatchPower needs from a BMC simulator
// (*ipmisim.Sim): the power state and the log of hook calls.
type PowerSource interface {
	Power() (bool, error)
	Calls() ([]string, error)
}

// WatchPower boots the node when bmc's power is on after having been
// switched off while the node is down, as a machine starts when its power
// comes back. The hook log is read as well as the state, so an off/on
// shorter than the polling interval is not missed. stop ends the watch (the
// machine then stays down until Boot).
func (n *Node) WatchPower(bmc PowerSource) (stop func()) {
	c := n.c
	done := make(chan struct{})
	var once sync.Once
	offs := func() int {
		calls, _ := bmc.Calls()
		k := 0
		for _, call := range calls {
			if call == "set power 0" {
				k++
			}
		}
		return k
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		seen := offs()
		pending := false
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-done:
				return
			case <-t.C:
			}
			on, err := bmc.Power()
			if err != nil {
				continue
			}
			if k := offs(); k != seen || !on {
				seen, pending = k, true
			}
			if on && pending && !n.Running() {
				pending = false
				if err := n.Boot(); err != nil {
					fmt.Fprintf(os.Stderr, "pacemaker: %s: boot after power on: %v\n", n.Name, err)
				}
			}
		}
	}()
	return func() { once.Do(func() { close(done) }) }
}

// AddBMCAddr adds addr (e.g. 198.18.0.201) to the client namespace, where
// BMC simulators listen (ipmisim.Options{Netns: c.Lab.Client.Name, ...}).
func (c *Cluster) AddBMCAddr(addr string) error {
	out, err := exec.Command("ip", "-n", c.Lab.Client.Name, "addr", "add", addr+"/24", "dev", c.Lab.Client.Ifaces[0]).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pacemaker: adding %s to %s: %w: %s", addr, c.Lab.Client.Name, err, out)
	}
	return nil
}

// WaitFor polls cond every 200 ms until it holds or timeout passes.
func WaitFor(timeout time.Duration, what string, cond func() (bool, string)) error {
	deadline := time.Now().Add(timeout)
	last := ""
	for {
		ok, detail := cond()
		if ok {
			return nil
		}
		last = detail
		if time.Now().After(deadline) {
			return fmt.Errorf("pacemaker: %s: not within %s; last: %s", what, timeout, last)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Close stops every node and removes the lab (and with it every mount the
// nodes made) and the nodes' directories. Safe to call twice.
func (c *Cluster) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	close(c.stop)
	c.mu.Unlock()
	c.wg.Wait()
	var errs []error
	for _, n := range c.Nodes {
		if err := n.Kill(); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Lab != nil {
		if err := c.Lab.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if c.ownDir && os.Getenv("PALISADE_KEEP_PACEMAKER") == "" {
		os.RemoveAll(c.Dir)
	}
	return errors.Join(errs...)
}

// AgentPath is where the copy of the agent installed as name lives (for
// making more names point at it inside a node).
func (c *Cluster) AgentPath(name string) string { return c.agents[name] }

func copyExecutable(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("pacemaker: agent: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		return fmt.Errorf("pacemaker: agent: %w", err)
	}
	return nil
}

// Names returns the node names, sorted.
func (c *Cluster) Names() []string {
	var out []string
	for _, n := range c.Nodes {
		out = append(out, n.Name)
	}
	sort.Strings(out)
	return out
}
