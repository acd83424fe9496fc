package arbitration

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"palisade/quorum"
	"palisade/quorum/arbiter"
	"palisade/quorum/arbitration"
)

// arbiterProc is palisade-arbiter running as a process.
type arbiterProc struct {
	cmd  *exec.Cmd
	addr string
	mu   sync.Mutex
	log  strings.Builder
	done chan struct{}
}

func startArbiter(t *testing.T, dir, listen string, lease time.Duration) *arbiterProc {
	t.Helper()
	cmd := exec.Command(bin(t, "palisade-arbiter"), "serve", "--dir", dir, "--listen", listen, "--lease", lease.String())
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &arbiterProc{cmd: cmd, done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.log.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
		}
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "listening on ") {
		cmd.Process.Kill()
		t.Fatalf("palisade-arbiter did not start: %q %v\n%s", line, err, p.logs())
	}
	p.addr = strings.TrimSpace(strings.TrimPrefix(line, "listening on "))
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.stop(t) })
	return p
}

func (p *arbiterProc) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// stop sends SIGTERM and waits; the arbiter must exit cleanly.
func (p *arbiterProc) stop(t *testing.T) {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
		t.Errorf("palisade-arbiter ignored SIGTERM")
	}
}

type member struct {
	cluster, name string
	c             *arbiter.Client
	mu            sync.Mutex
	key           arbitration.Key
}

func (m *member) setView(v uint64, members ...string) {
	m.mu.Lock()
	m.key = arbitration.KeyOf(v, members)
	m.mu.Unlock()
	m.c.SetView(v, members, 0, false)
}

func startMember(t *testing.T, dir, cluster, node, addr string, nodes []string, alg quorum.Algorithm) *member {
	t.Helper()
	p := arbiter.ClientCertPaths(dir, cluster)
	tlsCfg, err := arbiter.ClientTLS(filepath.Join(dir, arbiter.CAFile), p.Cert, p.Key, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	rules := arbitration.Rules{Algorithm: alg}
	for _, n := range nodes {
		rules.Nodes = append(rules.Nodes, arbitration.Node{Name: n, Votes: 1})
	}
	c, err := arbiter.NewClient(arbiter.ClientConfig{Address: addr, TLS: tlsCfg, Cluster: cluster, Node: node, Rules: rules,
		Interval: 100 * time.Millisecond, ConnectTimeout: time.Second, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return &member{cluster: cluster, name: node, c: c}
}

// checkInvariant fails if two views of one cluster count the vote.
func checkInvariant(t *testing.T, ms []*member) {
	t.Helper()
	holder := map[string]arbitration.Key{}
	for _, m := range ms {
		if !m.c.Vote().Voting {
			continue
		}
		m.mu.Lock()
		k := m.key
		m.mu.Unlock()
		if h, ok := holder[m.cluster]; ok && h != k {
			t.Fatalf("cluster %s: %s and %s both count the arbiter's vote", m.cluster, h, k)
		}
		holder[m.cluster] = k
	}
}

func waitVotes(t *testing.T, what string, all []*member, want map[*member]bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		checkInvariant(t, all)
		ok := true
		for m, w := range want {
			if m.c.Vote().Voting != w {
				ok = false
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			var st []string
			for m := range want {
				s := m.c.Status()
				st = append(st, fmt.Sprintf("%s/%s voting=%v %s: %s (%s)", m.cluster, m.name, s.Voting, s.Verdict, s.Reason, s.Problem))
			}
			t.Fatalf("timed out waiting for %s:\n%s", what, strings.Join(st, "\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestArbiterProcess: palisade-arbiter as a process with certificates
// from palisade-arbiter certs, serving three clusters over mutual TLS on
// loopback: whole clusters get the vote; a 1/1 split and a 2/2 split each
// give it to exactly one side; the arbiter is restarted (SIGTERM, start on
// the same address) and the votes come back after its grace period, with
// the invariant checked throughout.
func TestArbiterProcess(t *testing.T) {
	dir := t.TempDir()
	out, err := run(t, bin(t, "palisade-arbiter"), "certs", "--dir", dir, "--host", "127.0.0.1", "--cluster", "alpha", "--cluster", "beta", "--cluster", "quad")
	if err != nil || strings.Count(out, "created") != 5 {
		t.Fatalf("certs: %v\n%s", err, out)
	}
	out, _ = run(t, bin(t, "palisade-arbiter"), "certs", "--dir", dir, "--cluster", "alpha")
	if !strings.Contains(out, "kept "+filepath.Join(dir, "alpha.pem")) {
		t.Fatalf("certs again:\n%s", out)
	}
	const lease = time.Second
	arb := startArbiter(t, dir, "127.0.0.1:0", lease)
	addr := arb.addr
	a1 := startMember(t, dir, "alpha", "a1", addr, []string{"a1", "a2"}, quorum.AlgorithmFFSplit)
	a2 := startMember(t, dir, "alpha", "a2", addr, []string{"a1", "a2"}, quorum.AlgorithmFFSplit)
	b1 := startMember(t, dir, "beta", "b1", addr, []string{"b1", "b2"}, quorum.AlgorithmLMS)
	b2 := startMember(t, dir, "beta", "b2", addr, []string{"b1", "b2"}, quorum.AlgorithmLMS)
	var quad []*member
	for _, n := range []string{"q1", "q2", "q3", "q4"} {
		quad = append(quad, startMember(t, dir, "quad", n, addr, []string{"q1", "q2", "q3", "q4"}, quorum.AlgorithmFFSplit))
	}
	all := append([]*member{a1, a2, b1, b2}, quad...)
	a1.setView(1, "a1", "a2")
	a2.setView(1, "a1", "a2")
	b1.setView(1, "b1", "b2")
	b2.setView(1, "b1", "b2")
	for _, q := range quad {
		q.setView(1, "q1", "q2", "q3", "q4")
	}
	every := map[*member]bool{}
	for _, m := range all {
		every[m] = true
	}
	waitVotes(t, "every node to count the vote after the grace period", all, every)

	// alpha 1/1, quad 2/2: the tie-breakers' sides win.
	a1.setView(2, "a1")
	a2.setView(2, "a2")
	quad[2].setView(2, "q3", "q4")
	quad[3].setView(2, "q3", "q4")
	quad[0].setView(2, "q1", "q2")
	quad[1].setView(2, "q1", "q2")
	waitVotes(t, "the splits to be decided", all, map[*member]bool{a1: true, a2: false, quad[0]: true, quad[1]: true, quad[2]: false, quad[3]: false, b1: true, b2: true})

	// Restart the arbiter on the same address.
	arb.stop(t)
	waitVotes(t, "the votes to lapse while the arbiter is down", all, map[*member]bool{a1: false, quad[0]: false, b1: false})
	if p := a1.c.Vote().Problem; !strings.Contains(p, "unreachable") {
		t.Fatalf("a1's problem while the arbiter is down: %q", p)
	}
	arb2 := startArbiter(t, dir, addr, lease)
	waitVotes(t, "the votes back from the restarted arbiter", all, map[*member]bool{a1: true, a2: false, quad[0]: true, quad[1]: true, quad[2]: false, b1: true, b2: true})
	if !strings.Contains(arb2.logs(), "cluster alpha: vote to v2 {a1}") {
		t.Fatalf("arbiter log:\n%s", arb2.logs())
	}
	// kill -USR1 logs every cluster's state.
	arb2.cmd.Process.Signal(syscall.SIGUSR1)
	waitUntil(t, "the status dump", 5*time.Second, func() bool {
		l := arb2.logs()
		return strings.Contains(l, "arbiter status") && strings.Contains(l, "name=quad") && strings.Contains(l, `vote="v2 {q1,q2}"`)
	})
}
