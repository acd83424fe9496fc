package node

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"palisade/cluster/api"
	"palisade/cluster/config"
	"palisade/cluster/membership"
	"palisade/cluster/node/control"
)

func TestBumpGeneration(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	for want := uint64(1); want <= 3; want++ {
		g, err := BumpGeneration(dir, 0)
		if err != nil || g != want {
			t.Fatalf("BumpGeneration = %d, %v; want %d", g, err, want)
		}
	}
	// A wiped state dir: the floor (the daemon's clock) keeps the new
	// generation above the old one; a stored generation above the floor
	// still only goes up by one.
	wiped := filepath.Join(t.TempDir(), "wiped")
	if g, err := BumpGeneration(wiped, 1_800_000_000); err != nil || g != 1_800_000_000 {
		t.Fatalf("BumpGeneration(wiped) = %d, %v; want the floor", g, err)
	}
	if g, err := BumpGeneration(wiped, 5); err != nil || g != 1_800_000_001 {
		t.Fatalf("BumpGeneration after floor = %d, %v; want 1800000001", g, err)
	}
	os.WriteFile(filepath.Join(dir, GenerationFile), []byte("garbage"), 0o600)
	if _, err := BumpGeneration(dir, 0); err == nil || !strings.Contains(err.Error(), "not a number") {
		t.Fatalf("corrupt generation file accepted: %v", err)
	}
}

func freePort(t *testing.T) int {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// twoNodes writes a two-node configuration on loopback (127.0.0.1 and
// 127.0.0.2, one unicast link) and returns each node's parsed config.
func twoNodes(t *testing.T) []*config.Cluster {
	dir := t.TempDir()
	key := filepath.Join(dir, "authkey")
	if err := os.WriteFile(key, []byte("key 1 hex:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\nactive 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	var out []*config.Cluster
	for i := 1; i <= 2; i++ {
		text := fmt.Sprintf(`cluster: {name: unit}
nodes:
  - {id: 1, name: a, addresses: {lo: 127.0.0.1}}
  - {id: 2, name: b, addresses: {lo: 127.0.0.2}}
links:
  - {name: lo, kind: ucast, port: %d}
timing: {keepalive: 50ms, warntime: 150ms, deadtime: 250ms, initdead: 500ms}
auth: {key_file: %s}
state_dir: %s/n%d
socket: %s/n%d.sock
`, port, key, dir, i, dir, i)
		path := filepath.Join(dir, fmt.Sprintf("n%d.yaml", i))
		os.WriteFile(path, []byte(text), 0o644)
		c, err := config.Load(path, config.Options{})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

func waitStatus(t *testing.T, sock, what string, cond func(api.Status) bool) api.Status {
	t.Helper()
	var st api.Status
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if err = control.Call(context.Background(), sock, "status", nil, &st); err == nil && cond(st) {
			return st
		}
	}
	t.Fatalf("%s: %s not reached (err %v): %+v", sock, what, err, st)
	return st
}

func TestTwoNodesOnLoopback(t *testing.T) {
	cfgs := twoNodes(t)
	var nodes []*Node
	var cancels []context.CancelFunc
	var dones []chan error
	events := make(chan membership.Event, 100)
	for i, c := range cfgs {
		self, _ := c.Self(fmt.Sprint(i + 1))
		n, err := New(Options{Config: c, Self: self})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			n.OnEvent(func(ev membership.Event, _ membership.View) {
				select {
				case events <- ev:
				default:
				}
			})
			n.SetDCStatus(func() *api.DCStatus { return &api.DCStatus{Self: "a", DC: "answer"} })
			n.HandleControl("ping", func(context.Context, json.RawMessage) (any, error) { return "pong", nil })
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- n.Run(ctx); close(done) }()
		nodes, cancels, dones = append(nodes, n), append(cancels, cancel), append(dones, done)
	}
	defer func() {
		for i, c := range cancels {
			c()
			<-dones[i]
		}
	}()
	st := waitStatus(t, cfgs[0].Socket, "agreed two-node view", func(st api.Status) bool {
		return st.View.Agreed && len(st.View.Members) == 2
	})
	if st.View.DC.Name != "a" || st.DC == nil || st.DC.DC != "answer" || st.Generation != nodes[0].Generation() {
		t.Fatalf("status: %+v", st)
	}
	var pong string
	if err := control.Call(context.Background(), cfgs[0].Socket, "ping", nil, &pong); err != nil || pong != "pong" {
		t.Fatalf("custom control command: %q %v", pong, err)
	}
	if v := nodes[0].View(); len(v.Members) != 2 {
		t.Fatalf("View(): %v", v)
	}
	// Stop b: a declares it dead and shrinks the view.
	cancels[1]()
	<-dones[1]
	waitStatus(t, cfgs[0].Socket, "b dead", func(st api.Status) bool {
		return st.Nodes[1].State == "dead" && len(st.View.Members) == 1
	})
	sawDead := false
	for len(events) > 0 {
		ev := <-events
		if ev.Kind == membership.EventNode && ev.Node == 2 && ev.To == membership.StateDead {
			sawDead = true
		}
	}
	if !sawDead {
		t.Fatal("OnEvent did not report b dead")
	}
	// A reload with the same file applies keys and needs no restart.
	if err := nodes[0].Reload(context.Background(), cfgs[0]); err != nil {
		t.Fatalf("reload: %v", err)
	}
}

// TestOneNodeOnLoopback: a cluster of one node is valid (its unicast link
// has no peers) and agrees a view of itself, itself the DC.
func TestOneNodeOnLoopback(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "authkey")
	if err := os.WriteFile(key, []byte("key 1 hex:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\nactive 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "one.yaml")
	text := fmt.Sprintf(`cluster: {name: unit}
nodes:
  - {id: 1, name: a, addresses: {lo: 127.0.0.1}}
links:
  - {name: lo, kind: ucast, port: %d}
timing: {keepalive: 50ms, warntime: 150ms, deadtime: 250ms, initdead: 500ms}
auth: {key_file: %s}
state_dir: %s/state
socket: %s/one.sock
`, freePort(t), key, dir, dir)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(path, config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	self, _ := c.Self("a")
	n, err := New(Options{Config: c, Self: self})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	st := waitStatus(t, c.Socket, "agreed one-node view", func(st api.Status) bool {
		return st.View.Agreed && len(st.View.Members) == 1
	})
	if st.View.DC.Name != "a" {
		t.Fatalf("status: %+v", st)
	}
}
