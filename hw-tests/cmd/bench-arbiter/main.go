// Command bench-arbiter measures palisade-arbiter serving many clusters:
// it starts the real binary pinned to one CPU (taskset -c 0, GOMAXPROCS=1),
// connects 1,000 two-node clusters over mutual TLS on loopback (raw
// protocol clients, in this process), and measures the time from a report
// to its verdict in steady state (every node reports every second) and in
// split storms (every cluster splits, then heals, at the same instant).
// It also reports the arbiter's CPU use from /proc. Goal: one core serves
// 1,000 clusters with a vote decision p99 under 10 ms.
//
//	go run ./hw-tests/cmd/bench-arbiter [-clusters 1000] [-steady 10s] [-storms 5] [-storm-clusters N]
package main

import (
	"bufio"
	"crypto/tls"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"palisade/hw-tests/lab"
	"palisade/quorum/arbiter"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench-arbiter:", err)
		os.Exit(1)
	}
}

type node struct {
	cluster, name string
	conn          *tls.Conn
	w             *bufio.Writer
	mu            sync.Mutex
	seq           uint64
	sent          map[uint64]time.Time
	view          uint64
	members       []string
	lat           *latencies
}

type latencies struct {
	mu  sync.Mutex
	cur string
	by  map[string][]time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.by[l.cur] = append(l.by[l.cur], d)
	l.mu.Unlock()
}

func (l *latencies) phase(p string) {
	l.mu.Lock()
	l.cur = p
	l.mu.Unlock()
}

func (n *node) report() error {
	n.mu.Lock()
	n.seq++
	n.sent[n.seq] = time.Now()
	r := &arbiter.Report{Seq: n.seq, View: n.view, Members: n.members}
	err := arbiter.WriteMessage(n.w, r)
	if err == nil {
		err = n.w.Flush()
	}
	n.mu.Unlock()
	return err
}

func (n *node) read(r *bufio.Reader) {
	for {
		m, err := arbiter.ReadMessage(r)
		if err != nil {
			return
		}
		v, ok := m.(*arbiter.Vote)
		if !ok {
			continue
		}
		n.mu.Lock()
		t, ok := n.sent[v.Seq]
		if ok {
			delete(n.sent, v.Seq)
		}
		n.mu.Unlock()
		if ok {
			n.lat.add(time.Since(t))
		}
		if v.Verdict != arbiter.VerdictAck && v.Decision != 0 {
			n.mu.Lock()
			arbiter.WriteMessage(n.w, &arbiter.Release{Decision: v.Decision})
			n.w.Flush()
			n.mu.Unlock()
		}
	}
}

func cpuTicks(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	u, _ := strconv.ParseFloat(f[11], 64)
	s, _ := strconv.ParseFloat(f[12], 64)
	return (u + s) / 100, nil // USER_HZ = 100 on Linux
}

func run() error {
	clusters := flag.Int("clusters", 1000, "clusters (two nodes each)")
	steady := flag.Duration("steady", 10*time.Second, "steady-state window (each node reports every second)")
	storms := flag.Int("storms", 5, "split/heal storms (every cluster at once)")
	lease := flag.Duration("lease", 6*time.Second, "arbiter lease")
	stormClusters := flag.Int("storm-clusters", 0, "clusters that split and heal in each storm (default: all)")
	flag.Parse()
	work, err := os.MkdirTemp("", "bench-arbiter-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	fmt.Println("building palisade-arbiter...")
	if err := lab.Build(work); err != nil {
		return err
	}
	certs := filepath.Join(work, "certs")
	if _, _, _, err := arbiter.EnsureCA(certs); err != nil {
		return err
	}
	if _, err := arbiter.IssueServer(certs, []string{"127.0.0.1"}); err != nil {
		return err
	}
	fmt.Printf("issuing %d client certificates...\n", *clusters)
	names := make([]string, *clusters)
	for i := range names {
		names[i] = fmt.Sprintf("c%04d", i)
		if _, err := arbiter.IssueClient(certs, names[i]); err != nil {
			return err
		}
	}
	args := []string{"-c", "0", filepath.Join(work, "palisade-arbiter"), "serve", "--dir", certs, "--listen", "127.0.0.1:0", "--lease", lease.String()}
	cmd := exec.Command("taskset", args...)
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	statusLines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if l := sc.Text(); strings.Contains(l, "arbiter status") {
				statusLines <- l
			}
		}
	}()
	serverStats := func() string {
		cmd.Process.Signal(syscall.SIGUSR1)
		select {
		case l := <-statusLines:
			i := strings.Index(l, "reports_last_10s")
			return l[i:]
		case <-time.After(5 * time.Second):
			return "(no status from the arbiter)"
		}
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the arbiter under taskset: %w", err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		return fmt.Errorf("arbiter: %w", err)
	}
	addr := strings.TrimSpace(strings.TrimPrefix(line, "listening on "))
	// The clients run on the other CPU as far as the scheduler lets them.
	runtime.GOMAXPROCS(1)

	lat := &latencies{by: map[string][]time.Duration{}, cur: "connect"}
	var nodes []*node
	fmt.Printf("connecting %d nodes...\n", 2**clusters)
	pool, err := tlsConfigs(certs, names)
	if err != nil {
		return err
	}
	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 64)
	for _, c := range names {
		for j := 1; j <= 2; j++ {
			n := &node{cluster: c, name: fmt.Sprintf("n%d", j), sent: map[uint64]time.Time{}, view: 1, members: []string{"n1", "n2"}, lat: lat}
			nodes = append(nodes, n)
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				if err := n.connect(addr, pool[c]); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	fmt.Printf("%d TLS sessions in %s\n", len(nodes), time.Since(start).Round(time.Millisecond))
	// Every node reports every second, spread over the second as real
	// nodes are.
	reportFor := func(d time.Duration) {
		const slots = 100 // a batch every 10ms
		stop := time.Now().Add(d)
		for time.Now().Before(stop) {
			round := time.Now()
			for k := 0; k < slots; k++ {
				time.Sleep(time.Until(round.Add(time.Duration(k) * time.Second / slots)))
				for i := k; i < len(nodes); i += slots {
					nodes[i].report()
				}
			}
			time.Sleep(time.Until(round.Add(time.Second)))
		}
	}
	// Past the arbiter's grace period, so acks flow.
	lat.phase("grace")
	reportFor(*lease + time.Second)

	cpu0, _ := cpuTicks(cmd.Process.Pid)
	t0 := time.Now()
	lat.phase("steady")
	reportFor(*steady)
	time.Sleep(200 * time.Millisecond)
	cpu1, _ := cpuTicks(cmd.Process.Pid)
	steadyCPU := (cpu1 - cpu0) / time.Since(t0).Seconds()
	steadyServer := serverStats()

	storming := nodes
	if *stormClusters > 0 && 2**stormClusters < len(nodes) {
		storming = nodes[:2**stormClusters]
	}
	lat.phase("storm")
	stormStart := time.Now()
	cpu2, _ := cpuTicks(cmd.Process.Pid)
	view := uint64(1)
	for s := 0; s < 2**storms; s++ {
		view++
		for _, n := range storming {
			n.mu.Lock()
			n.view = view
			if s%2 == 0 {
				n.members = []string{n.name}
			} else {
				n.members = []string{"n1", "n2"}
			}
			n.mu.Unlock()
		}
		for _, n := range storming {
			n.report()
		}
		// The others keep reporting (their leases must not lapse).
		for _, n := range nodes[len(storming):] {
			n.report()
		}
		time.Sleep(time.Second)
	}
	cpu3, _ := cpuTicks(cmd.Process.Pid)
	stormSecs := time.Since(stormStart).Seconds()
	stormServer := serverStats()

	fmt.Printf("\npalisade-arbiter on one CPU (taskset -c 0, GOMAXPROCS=1), %d clusters x 2 nodes, lease %s\n", *clusters, *lease)
	fmt.Println("report -> verdict round trip, measured by the clients (their own CPU and scheduling included):")
	for _, p := range []string{"steady", "storm"} {
		ds := lat.by[p]
		slices.Sort(ds)
		if len(ds) == 0 {
			continue
		}
		q := func(f float64) time.Duration { return ds[min(len(ds)-1, int(f*float64(len(ds))))] }
		fmt.Printf("  %-7s verdicts %7d  p50 %8s  p99 %8s  max %8s\n", p, len(ds), q(0.50).Round(time.Microsecond), q(0.99).Round(time.Microsecond), ds[len(ds)-1].Round(time.Microsecond))
	}
	fmt.Println("decision time inside the arbiter (report decoded -> verdicts queued, lock wait included), last 10s of each phase:")
	fmt.Printf("  steady  %s\n  storm   %s\n", steadyServer, stormServer)
	fmt.Printf("arbiter CPU: steady %.1f%% of one core (%d reports/s); storms %.1f%% (%d bursts of %d reports)\n",
		100*steadyCPU, len(nodes), 100*(cpu3-cpu2)/stormSecs, 2**storms, len(storming))
	return nil
}

func tlsConfigs(dir string, clusters []string) (map[string]*tls.Config, error) {
	out := map[string]*tls.Config{}
	for _, c := range clusters {
		p := arbiter.ClientCertPaths(dir, c)
		cfg, err := arbiter.ClientTLS(filepath.Join(dir, arbiter.CAFile), p.Cert, p.Key, "127.0.0.1")
		if err != nil {
			return nil, err
		}
		out[c] = cfg
	}
	return out, nil
}

func (n *node) connect(addr string, cfg *tls.Config) error {
	c, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		return fmt.Errorf("%s/%s: %w", n.cluster, n.name, err)
	}
	n.conn, n.w = c, bufio.NewWriter(c)
	if err := arbiter.WriteMessage(c, &arbiter.Hello{Cluster: n.cluster, Node: n.name, Algorithm: "ffsplit", Nodes: []arbiter.NodeVotes{{Name: "n1", Votes: 1}, {Name: "n2", Votes: 1}}}); err != nil {
		return err
	}
	r := bufio.NewReader(c)
	m, err := arbiter.ReadMessage(r)
	if err != nil {
		return err
	}
	if _, ok := m.(*arbiter.Welcome); !ok {
		return fmt.Errorf("%s/%s: no welcome: %T", n.cluster, n.name, m)
	}
	go n.read(r)
	return n.report()
}
