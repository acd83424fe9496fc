package arbiter

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"palisade/quorum"
	"palisade/quorum/arbitration"
)

// tlsLab is a certificate directory with a CA, a server certificate for
// 127.0.0.1 and client certificates for some clusters.
func tlsLab(t *testing.T, clusters ...string) string {
	t.Helper()
	dir := t.TempDir()
	if _, _, _, err := EnsureCA(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := IssueServer(dir, []string{"127.0.0.1", "arbiter.test"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range clusters {
		if _, err := IssueClient(dir, c); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type runningServer struct {
	srv    *Server
	addr   string
	cancel context.CancelFunc
	done   chan error
}

func startServer(t *testing.T, dir, addr string, lease time.Duration) *runningServer {
	t.Helper()
	tlsCfg, err := ServerTLS(filepath.Join(dir, CAFile), filepath.Join(dir, ServerCertFile), filepath.Join(dir, ServerKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewServer(ServerConfig{TLS: tlsCfg, Lease: lease, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	var ln net.Listener
	for i := 0; i < 50; i++ { // a restarted server takes the same port back
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rs := &runningServer{srv: srv, addr: ln.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { rs.done <- srv.Serve(ctx, ln) }()
	t.Cleanup(rs.stop)
	return rs
}

func (rs *runningServer) stop() {
	if rs.cancel != nil {
		rs.cancel()
		<-rs.done
		rs.cancel = nil
	}
}

func quietLog() *slog.Logger {
	if os.Getenv("ARBITER_TEST_LOG") != "" {
		return slog.Default()
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type testNode struct {
	cluster, name string
	c             *Client
	cancel        context.CancelFunc
	done          chan struct{}
}

func startClient(t *testing.T, dir, certCluster, cluster, node, addr string, nodes []string, alg quorum.Algorithm) *testNode {
	t.Helper()
	return startClientWith(t, dir, certCluster, cluster, node, addr, nodes, alg, 50*time.Millisecond)
}

func startClientInterval(t *testing.T, dir, certCluster, cluster, node, addr string, nodes []string, interval time.Duration) *testNode {
	t.Helper()
	return startClientWith(t, dir, certCluster, cluster, node, addr, nodes, quorum.AlgorithmFFSplit, interval)
}

func startClientWith(t *testing.T, dir, certCluster, cluster, node, addr string, nodes []string, alg quorum.Algorithm, interval time.Duration) *testNode {
	t.Helper()
	p := ClientCertPaths(dir, certCluster)
	tlsCfg, err := ClientTLS(filepath.Join(dir, CAFile), p.Cert, p.Key, "arbiter.test")
	if err != nil {
		t.Fatal(err)
	}
	rules := arbitration.Rules{Algorithm: alg}
	for _, n := range nodes {
		rules.Nodes = append(rules.Nodes, arbitration.Node{Name: n, Votes: 1})
	}
	c, err := NewClient(ClientConfig{Address: addr, TLS: tlsCfg, Cluster: cluster, Node: node, Rules: rules,
		Interval: interval, ConnectTimeout: time.Second, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tn := &testNode{cluster: cluster, name: node, c: c, cancel: cancel, done: make(chan struct{})}
	go func() { c.Run(ctx); close(tn.done) }()
	t.Cleanup(func() { cancel(); <-tn.done })
	return tn
}

// waitFor polls cond until it holds or the deadline passes, and checks the
// safety invariant on every poll.
func waitFor(t *testing.T, what string, nodes []*testNode, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		checkOnePartition(t, nodes)
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	var st []string
	for _, n := range nodes {
		s := n.c.Status()
		st = append(st, fmt.Sprintf("%s/%s voting=%v %s %s problem=%q", n.cluster, n.name, s.Voting, s.Verdict, s.Reason, s.Problem))
	}
	t.Fatalf("timed out waiting for %s:\n%s", what, strings.Join(st, "\n"))
}

// views maps node -> its current view key, set by the test.
var viewsMu sync.Mutex
var views = map[*testNode]arbitration.Key{}

func setView(n *testNode, view uint64, members ...string) {
	viewsMu.Lock()
	views[n] = arbitration.KeyOf(view, members)
	viewsMu.Unlock()
	n.c.SetView(view, members, 0, false)
}

func checkOnePartition(t *testing.T, nodes []*testNode) {
	t.Helper()
	viewsMu.Lock()
	defer viewsMu.Unlock()
	holder := map[string]arbitration.Key{}
	for _, n := range nodes {
		if !n.c.Vote().Voting {
			continue
		}
		k := views[n]
		if h, ok := holder[n.cluster]; ok && h != k {
			t.Fatalf("cluster %s: two partitions count the arbiter's vote: %s and %s", n.cluster, h, k)
		}
		holder[n.cluster] = k
	}
}

func voting(ns ...*testNode) func() bool {
	return func() bool {
		for _, n := range ns {
			if !n.c.Vote().Voting {
				return false
			}
		}
		return true
	}
}

func notVoting(ns ...*testNode) func() bool {
	return func() bool {
		for _, n := range ns {
			if n.c.Vote().Voting {
				return false
			}
		}
		return true
	}
}

// TestServerOverTLS: one arbiter on loopback serving three clusters at
// once over mutual TLS: whole clusters get the vote, a split gives it to
// exactly one side, an arbiter restart costs the vote for its grace period
// only, and a node that loses the arbiter reports the problem.
func TestServerOverTLS(t *testing.T) {
	dir := tlsLab(t, "alpha", "beta", "gamma")
	const lease = 600 * time.Millisecond
	srv := startServer(t, dir, "127.0.0.1:0", lease)
	addr := srv.addr
	a1 := startClient(t, dir, "alpha", "alpha", "a1", addr, []string{"a1", "a2"}, quorum.AlgorithmFFSplit)
	a2 := startClient(t, dir, "alpha", "alpha", "a2", addr, []string{"a1", "a2"}, quorum.AlgorithmFFSplit)
	b1 := startClient(t, dir, "beta", "beta", "b1", addr, []string{"b1", "b2"}, quorum.AlgorithmFFSplit)
	b2 := startClient(t, dir, "beta", "beta", "b2", addr, []string{"b1", "b2"}, quorum.AlgorithmFFSplit)
	g1 := startClient(t, dir, "gamma", "gamma", "g1", addr, []string{"g1", "g2", "g3"}, quorum.AlgorithmLMS)
	g2 := startClient(t, dir, "gamma", "gamma", "g2", addr, []string{"g1", "g2", "g3"}, quorum.AlgorithmLMS)
	g3 := startClient(t, dir, "gamma", "gamma", "g3", addr, []string{"g1", "g2", "g3"}, quorum.AlgorithmLMS)
	all := []*testNode{a1, a2, b1, b2, g1, g2, g3}

	setView(a1, 1, "a1", "a2")
	setView(a2, 1, "a1", "a2")
	setView(b1, 1, "b1", "b2")
	setView(b2, 1, "b1", "b2")
	for _, g := range []*testNode{g1, g2, g3} {
		setView(g, 1, "g1", "g2", "g3")
	}
	// A fresh arbiter gives nothing during its grace period (one lease).
	waitFor(t, "every node to count the vote after the grace period", all, voting(all...))

	// alpha splits 1/1: a1 has the tie-breaker. gamma splits 2/1 (lms).
	setView(a2, 2, "a2")
	setView(a1, 2, "a1")
	setView(g3, 2, "g3")
	setView(g1, 2, "g1", "g2")
	setView(g2, 2, "g1", "g2")
	waitFor(t, "a1 and g1,g2 to win their splits", all, func() bool {
		return voting(a1, g1, g2, b1, b2)() && notVoting(a2, g3)()
	})
	if v := a2.c.Status(); v.Verdict != VerdictNack || !strings.Contains(v.Reason, "the vote is with v2 {a1}") {
		t.Fatalf("a2's verdict: %+v", v)
	}
	// Heal alpha: one view again.
	setView(a1, 3, "a1", "a2")
	setView(a2, 3, "a1", "a2")
	waitFor(t, "alpha to count the vote again", all, voting(a1, a2))

	// The arbiter restarts on the same address: every node loses the
	// vote (its lease runs out; the new instance waits a grace period)
	// and gets it back, without two partitions counting it at any point.
	srv.stop()
	waitFor(t, "the nodes to see the arbiter gone", all, func() bool {
		for _, n := range all {
			if !strings.Contains(n.c.Vote().Problem, "unreachable") {
				return false
			}
		}
		return true
	})
	waitFor(t, "the votes to lapse", all, notVoting(all...))
	srv2 := startServer(t, dir, addr, lease)
	waitFor(t, "the votes back from the new instance", all, voting(a1, a2, b1, b2, g1, g2))
	if st := a1.c.Status(); st.Server != srv2.srv.ID() || st.Problem != "" {
		t.Fatalf("a1 status after restart: %+v", st)
	}
	if cl := srv2.srv.Clusters(); len(cl) != 3 || cl[0].Name != "alpha" || len(cl[2].Nodes) != 3 {
		t.Fatalf("clusters: %+v", cl)
	}
}

// A certificate only speaks for its own cluster; a certificate from
// another CA is refused at the handshake.
func TestServerRefusals(t *testing.T) {
	dir := tlsLab(t, "alpha", "beta")
	srv := startServer(t, dir, "127.0.0.1:0", time.Second)
	wrong := startClient(t, dir, "beta", "alpha", "a1", srv.addr, []string{"a1", "a2"}, quorum.AlgorithmFFSplit)
	setView(wrong, 1, "a1", "a2")
	waitFor(t, "the refusal", nil, func() bool {
		return strings.Contains(wrong.c.Vote().Problem, `certificate is for cluster "beta", hello names cluster "alpha"`)
	})

	// A node reporting too rarely for the arbiter's lease is told what to change.
	slow := startClientInterval(t, dir, "alpha", "alpha", "a1", srv.addr, []string{"a1", "a2"}, 500*time.Millisecond)
	waitFor(t, "the interval refusal", nil, func() bool {
		return strings.Contains(slow.c.Vote().Problem, "lease 1s is shorter than 3 report intervals (500ms): lower quorum.device.arbiter.interval to at most 333ms")
	})

	other := tlsLab(t, "alpha") // another CA
	stranger := startClient(t, other, "alpha", "alpha", "a1", srv.addr, []string{"a1", "a2"}, quorum.AlgorithmFFSplit)
	waitFor(t, "the handshake failure", nil, func() bool {
		p := stranger.c.Vote().Problem
		return strings.Contains(p, "unreachable") && strings.Contains(p, "certificate")
	})
	if len(srv.srv.Clusters()) != 0 {
		t.Fatalf("refused clients left state: %+v", srv.srv.Clusters())
	}
}

func TestKeyFileMode(t *testing.T) {
	dir := tlsLab(t, "alpha")
	p := ClientCertPaths(dir, "alpha")
	if err := os.Chmod(p.Key, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ClientTLS(filepath.Join(dir, CAFile), p.Cert, p.Key, "x")
	if err == nil || !strings.Contains(err.Error(), "mode 0644") || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("got %v", err)
	}
}
