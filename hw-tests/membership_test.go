package hwtests

// Netns integration tests of heartbeat membership: three palisaded with
// two links each. Correctness tests with generous time bounds: the bench
// (hw-tests/cmd/bench-mesh) measures detection time.

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"palisade/cluster/api"
	"palisade/cluster/node/control"
	"palisade/hw-tests/lab"
)

const (
	keepalive = 100 * time.Millisecond
	deadtime  = 500 * time.Millisecond
)

type meshCluster struct {
	lab   *lab.Lab
	cfg   *lab.Cluster
	procs []*lab.Proc
}

func startMesh(t *testing.T, nodes int) *meshCluster {
	t.Helper()
	if err := lab.Available(); err != nil {
		t.Skip(err)
	}
	bin := binPath(t, "palisaded")
	l, err := lab.New(lab.Options{Prefix: fmt.Sprintf("pa-f-%d", os.Getpid()), Nodes: nodes, Links: 2, Client: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	c, err := l.WriteCluster(t.TempDir(), lab.ClusterOptions{Keepalive: keepalive, Warntime: 300 * time.Millisecond, Deadtime: deadtime, Initdead: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return startDaemons(t, l, c, bin)
}

// startDaemons starts palisaded on every lab node and, if the test fails,
// logs the tail of each daemon's output.
func startDaemons(t *testing.T, l *lab.Lab, c *lab.Cluster, bin string) *meshCluster {
	t.Helper()
	m := &meshCluster{lab: l, cfg: c, procs: make([]*lab.Proc, len(l.Nodes))}
	for i := range l.Nodes {
		m.start(t, i, bin)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for i, p := range m.procs {
				if p != nil {
					t.Logf("log of n%d:\n%s", i+1, tail(p.Output(), 40))
				}
			}
		}
	})
	return m
}

func (m *meshCluster) start(t *testing.T, i int, bin string) {
	t.Helper()
	p, err := m.lab.Nodes[i].Start(bin, "--config", m.cfg.Configs[i], "--node", fmt.Sprint(i+1))
	if err != nil {
		t.Fatal(err)
	}
	m.procs[i] = p
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// status asks node i (0-based) for its status.
func (m *meshCluster) status(i int) (api.Status, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var st api.Status
	err := control.Call(ctx, m.cfg.Sockets[i], "status", nil, &st)
	return st, err
}

// waitFor polls node i's status until cond holds or the timeout passes.
func (m *meshCluster) waitFor(t *testing.T, i int, timeout time.Duration, what string, cond func(api.Status) bool) api.Status {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var st api.Status
	var err error
	for time.Now().Before(deadline) {
		if st, err = m.status(i); err == nil && cond(st) {
			return st
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("n%d: %s: not within %v (last status err=%v):\n%s", i+1, what, timeout, err, summarize(st))
	return st
}

func summarize(st api.Status) string {
	var b strings.Builder
	fmt.Fprintf(&b, "view %d agreed=%v members=%v\n", st.View.ID, st.View.Agreed, st.View.Members)
	for _, n := range st.Nodes {
		fmt.Fprintf(&b, "  %s %s gen=%d links=%v\n", n.Name, n.State, n.Generation, n.Links)
	}
	fmt.Fprintf(&b, "  dropped=%v\n", st.Dropped)
	return b.String()
}

func peer(st api.Status, id uint32) api.NodeStatus {
	for _, n := range st.Nodes {
		if n.ID == id {
			return n
		}
	}
	return api.NodeStatus{}
}

func allUp(n int) func(api.Status) bool {
	return func(st api.Status) bool {
		return st.View.Agreed && len(st.View.Members) == n
	}
}

func TestMembershipThreeNodes(t *testing.T) {
	m := startMesh(t, 3)
	for i := 0; i < 3; i++ {
		st := m.waitFor(t, i, 10*time.Second, "agreed 3-node view", allUp(3))
		if st.View.DC.ID != 1 {
			t.Fatalf("n%d: DC %v, want n1 (lowest id)", i+1, st.View.DC)
		}
	}
	n3 := m.lab.Nodes[2]

	t.Run("palisade status", func(t *testing.T) {
		out, err := m.lab.Nodes[0].Run(binPath(t, "palisade"), "--socket", m.cfg.Sockets[0], "status")
		if err != nil || !strings.Contains(out, "DC n1") || !strings.Contains(out, "LINK1") {
			t.Fatalf("palisade status: %v\n%s", err, out)
		}
		t.Logf("palisade status:\n%s", out)
		out, err = m.lab.Nodes[0].Run(binPath(t, "palisade"), "--socket", m.cfg.Sockets[0], "status", "--json")
		if err != nil || !strings.Contains(out, `"dropped"`) {
			t.Fatalf("palisade status --json: %v\n%s", err, out)
		}
	})

	t.Run("cut one link", func(t *testing.T) {
		if err := n3.CutLink(1); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ {
			st := m.waitFor(t, i, 5*time.Second, "link1 to n3 dead", func(st api.Status) bool {
				p := peer(st, 3)
				return len(p.Links) == 2 && p.Links[1].State == "dead"
			})
			if p := peer(st, 3); p.State != "up" || p.Links[0].State != "up" {
				t.Fatalf("n%d sees n3 %s (link0 %s) with one link left, want up", i+1, p.State, p.Links[0].State)
			}
		}
		// It must stay up through the other link: no false death.
		deadline := time.Now().Add(3 * deadtime)
		for time.Now().Before(deadline) {
			for i := 0; i < 2; i++ {
				if st, err := m.status(i); err == nil && peer(st, 3).State != "up" {
					t.Fatalf("n%d: n3 %s with link0 still up", i+1, peer(st, 3).State)
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
	})

	t.Run("cut both links", func(t *testing.T) {
		cut := time.Now()
		if err := n3.CutAll(); err != nil {
			t.Fatal(err)
		}
		// Generous: the bound under test is deadtime + keepalive; CPU is
		// shared, so only a gross miss fails.
		bound := deadtime + keepalive
		for i := 0; i < 2; i++ {
			st := m.waitFor(t, i, 10*time.Second, "n3 dead", func(st api.Status) bool { return peer(st, 3).State == "dead" })
			took := time.Since(cut)
			t.Logf("n%d declared n3 dead %v after the cut (deadtime+keepalive = %v)", i+1, took.Round(time.Millisecond), bound)
			if took > bound+2*time.Second {
				t.Errorf("n%d: detection took %v, far beyond deadtime+keepalive %v", i+1, took, bound)
			}
			if hasMember(st, 3) {
				t.Errorf("n%d: n3 dead but still in view %d", i+1, st.View.ID)
			}
			m.waitFor(t, i, 5*time.Second, "agreed 2-node view", allUp(2))
		}
	})

	t.Run("restart", func(t *testing.T) {
		m.procs[2].Stop()
		if err := n3.RestoreAll(); err != nil {
			t.Fatal(err)
		}
		before, err := m.status(0)
		if err != nil {
			t.Fatal(err)
		}
		oldGen := peer(before, 3).Generation
		m.start(t, 2, binPath(t, "palisaded"))
		for i := 0; i < 3; i++ {
			st := m.waitFor(t, i, 10*time.Second, "n3 back in an agreed view", allUp(3))
			if g := peer(st, 3).Generation; i < 2 && g <= oldGen {
				t.Fatalf("n%d: n3 back with generation %d, want > %d", i+1, g, oldGen)
			}
		}
	})

	t.Run("bad reload keeps running config", func(t *testing.T) {
		path := m.cfg.Configs[0]
		good, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		defer os.WriteFile(path, good, 0o644)
		bad := strings.Replace(string(good), "keepalive:", "keepalive: 100ms\n  keepalvie:", 1)
		if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := m.procs[0].Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(m.procs[0].Output(), "reload refused") {
			if time.Now().After(deadline) {
				t.Fatalf("no 'reload refused' in the log:\n%s", tail(m.procs[0].Output(), 10))
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Logf("%s", tail(m.procs[0].Output(), 1))
		m.waitFor(t, 0, 2*time.Second, "still serving the 3-node view", allUp(3))
	})

	t.Run("forged replayed wrong-key packets", func(t *testing.T) {
		testInjection(t, m)
	})
}

func hasMember(st api.Status, id uint32) bool {
	for _, mb := range st.View.Members {
		if mb.ID == id {
			return true
		}
	}
	return false
}

func TestConfigRefused(t *testing.T) {
	if err := lab.Available(); err != nil {
		t.Skip(err)
	}
	bin := binPath(t, "palisaded")
	l, err := lab.New(lab.Options{Prefix: fmt.Sprintf("pa-f-%d", os.Getpid()), Nodes: 1, Links: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	c, err := l.WriteCluster(t.TempDir(), lab.ClusterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(c.KeyFile, 0o644)
	out, err := l.Nodes[0].Run(bin, "--config", c.Configs[0], "--node", "1")
	if err == nil || !strings.Contains(out, "mode 0644") || !strings.Contains(out, "auth.key_file") {
		t.Fatalf("palisaded started with a 0644 key file (err %v):\n%s", err, out)
	}
	os.Chmod(c.KeyFile, 0o600)
	data, err := os.ReadFile(c.Configs[0])
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(data), "interface: eth1", "interface: nosuch9", 1)
	if err := os.WriteFile(c.Configs[0], []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = l.Nodes[0].Run(bin, "--config", c.Configs[0], "--node", "1")
	if err == nil || !strings.Contains(out, `"nosuch9": no such network interface`) || !strings.Contains(out, "links[1].interface") {
		t.Fatalf("palisaded accepted a missing interface (err %v):\n%s", err, out)
	}
}

// TestMembershipMcastBcast runs the same cluster over a multicast and a
// broadcast link, then checks one link alone still carries membership.
func TestMembershipMcastBcast(t *testing.T) {
	if err := lab.Available(); err != nil {
		t.Skip(err)
	}
	bin := binPath(t, "palisaded")
	l, err := lab.New(lab.Options{Prefix: fmt.Sprintf("pa-f-%d", os.Getpid()), Nodes: 3, Links: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	c, err := l.WriteCluster(t.TempDir(), lab.ClusterOptions{Kinds: []string{"mcast", "bcast"}})
	if err != nil {
		t.Fatal(err)
	}
	m := startDaemons(t, l, c, bin)
	for i := 0; i < 3; i++ {
		m.waitFor(t, i, 10*time.Second, "agreed 3-node view over mcast+bcast", allUp(3))
	}
	if err := l.Nodes[1].CutLink(0); err != nil {
		t.Fatal(err)
	}
	m.waitFor(t, 0, 5*time.Second, "n2 up through bcast only", func(st api.Status) bool {
		p := peer(st, 2)
		return p.State == "up" && p.Links[0].State == "dead" && p.Links[1].State == "up"
	})
}
