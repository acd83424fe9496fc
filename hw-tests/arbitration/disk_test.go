package arbitration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"palisade/quorum"
	"palisade/quorum/arbitration"
	"palisade/quorum/disk"
)

// Timeouts small enough for real-time tests; the rules between them hold
// (CheckTiming passes with a 400ms watchdog and a 2s deadtime).
var createFlags = []string{"--watchdog", "400ms", "--msgwait", "800ms", "--loop", "50ms", "--io-timeout", "100ms", "--dead-after", "400ms", "--slots", "8"}

const msgwait = 800 * time.Millisecond

// standInWatchdog is the watchdog of a node: it records feeds. (No
// /dev/watchdog exists here; plugins/watchdog is tested elsewhere.)
type standInWatchdog struct {
	mu     sync.Mutex
	last   time.Time
	feeds  int
	closed bool
}

func (w *standInWatchdog) Feed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.feeds++
	w.last = time.Now()
	return nil
}

func (w *standInWatchdog) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	return nil
}

func (w *standInWatchdog) fed() (int, time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.feeds, w.last
}

type diskNode struct {
	name    string
	r       *disk.Runner
	wd      *standInWatchdog
	fenced  chan disk.SelfFence
	cancel  context.CancelFunc
	done    chan error
	members []string
}

func startDiskNode(t *testing.T, name string, paths []string, evict bool, nodes ...string) *diskNode {
	t.Helper()
	var ns []arbitration.Node
	for _, n := range nodes {
		ns = append(ns, arbitration.Node{Name: n, Votes: 1})
	}
	dn := &diskNode{name: name, wd: &standInWatchdog{}, fenced: make(chan disk.SelfFence, 1), done: make(chan error, 1)}
	r, err := disk.Open(disk.RunnerConfig{
		Core:  disk.Config{Self: name, Nodes: ns, Algorithm: quorum.AlgorithmLMS, DeviceVotes: len(nodes) - 1, Evict: evict},
		Paths: paths, Watchdog: dn.wd, SelfFence: func(f disk.SelfFence) { dn.fenced <- f }, Logger: quiet().With("node", name)})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := disk.CheckTiming(disk.Timing{Disk: r.Header().Timeouts, Watchdog: 400 * time.Millisecond, FenceTimeout: 5 * time.Second, Deadtime: 2 * time.Second}); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	dn.r = r
	ctx, cancel := context.WithCancel(context.Background())
	dn.cancel = cancel
	go func() { dn.done <- r.Run(ctx) }()
	t.Cleanup(dn.stop)
	return dn
}

func (dn *diskNode) stop() {
	if dn.cancel != nil {
		dn.cancel()
		<-dn.done
		dn.cancel = nil
	}
}

func (dn *diskNode) view(v uint64, quorate bool, members ...string) {
	dn.members = members
	dn.r.SetInput(disk.Input{Quorate: quorate, View: v, Members: members})
}

// TestQuorumDiskOnFile: three nodes run the disk loop on one file; the
// palisade CLI creates, dumps and lists it, a test message is
// acknowledged, and a reset pill fences its target: the CLI reports the
// fence only after msgwait, by when the target has fenced itself and stopped
// feeding its watchdog.
func TestQuorumDiskOnFile(t *testing.T) {
	palisade := bin(t, "palisade")
	path := filepath.Join(t.TempDir(), "qdisk.img")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, palisade, append([]string{"disk", "-d", path, "create", "--cluster", "lab", "--nodes", "n1,n2,n3"}, createFlags...)...)
	if err != nil || !strings.Contains(out, "created quorum disk "+path+" (O_DIRECT)") {
		t.Fatalf("create: %v\n%s", err, out)
	}
	if out, err := run(t, palisade, append([]string{"disk", "-d", path, "create", "--cluster", "lab"}, createFlags...)...); err == nil || !strings.Contains(out, "already holds a quorum disk") {
		t.Fatalf("create over an existing disk: %v\n%s", err, out)
	}
	out, err = run(t, palisade, "disk", "-d", path, "dump")
	if err != nil || !strings.Contains(strings.Join(strings.Fields(out), " "), "timeout (msgwait) 800ms") || !strings.Contains(out, "O_DIRECT|O_SYNC") {
		t.Fatalf("dump: %v\n%s", err, out)
	}
	nodes := []string{"n1", "n2", "n3"}
	var dns []*diskNode
	for _, n := range nodes {
		dn := startDiskNode(t, n, []string{path}, false, nodes...)
		dn.view(1, true, nodes...)
		dns = append(dns, dn)
	}
	waitUntil(t, "the three nodes to count the disk's votes", 10*time.Second, func() bool {
		for _, dn := range dns {
			if !dn.r.Vote().Voting {
				return false
			}
		}
		return true
	})
	out, err = run(t, palisade, "disk", "-d", path, "list")
	if err != nil || strings.Count(out, "running") != 3 || strings.Count(out, "yes") != 3 || !strings.Contains(out, "master") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	out, err = run(t, palisade, "disk", "-d", path, "message", "n2", "test", "--from", "operator")
	if err != nil || !strings.Contains(out, "acknowledged by n2") {
		t.Fatalf("test message: %v\n%s", err, out)
	}

	start := time.Now()
	out, err = run(t, palisade, "disk", "-d", path, "message", "n3", "reset", "--from", "operator")
	elapsed := time.Since(start)
	if err != nil || !strings.Contains(out, "n3 fenced: reset pill delivered and msgwait 800ms passed") {
		t.Fatalf("reset: %v\n%s", err, out)
	}
	if elapsed < msgwait {
		t.Fatalf("the CLI reported the fence after %s, before msgwait", elapsed)
	}
	n3 := dns[2]
	select {
	case f := <-n3.fenced:
		if f.Action != disk.MsgReset || f.From != "operator" {
			t.Fatalf("n3 self-fence: %+v", f)
		}
	default:
		t.Fatal("msgwait passed and n3 did not fence itself")
	}
	feeds, last := n3.wd.fed()
	if !last.Before(start.Add(msgwait)) {
		t.Fatalf("n3 fed its watchdog at +%s, after msgwait", last.Sub(start))
	}
	time.Sleep(200 * time.Millisecond)
	if f2, _ := n3.wd.fed(); f2 != feeds {
		t.Fatal("n3 fed its watchdog after fencing itself")
	}
	out, _ = run(t, palisade, "disk", "-d", path, "list", "--no-wait")
	if !strings.Contains(out, "fenced") || !strings.Contains(out, "reset from operator (handled)") {
		t.Fatalf("list after the pill:\n%s", out)
	}
	// A node not on the disk cannot be fenced through it.
	if out, err := run(t, palisade, "disk", "-d", path, "message", "n9", "reset"); err == nil || !strings.Contains(out, "node n9 has no slot") {
		t.Fatalf("pill for an unknown node: %v\n%s", err, out)
	}
}

// loops creates a loop device over file for each name; it skips the test
// only where loop devices cannot exist.
func loops(t *testing.T, file string, n int) []string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("loop devices need root")
	}
	if _, err := os.Stat("/dev/loop-control"); err != nil {
		t.Skipf("loop devices unavailable: %v (no loop driver in this kernel)", err)
	}
	if _, err := exec.LookPath("losetup"); err != nil {
		t.Fatalf("losetup missing (Debian package mount, in .ci/install-deps): %v", err)
	}
	var devs []string
	for i := 0; i < n; i++ {
		out, err := exec.Command("losetup", "-f", "--show", file).CombinedOutput()
		if err != nil {
			if len(devs) == 0 {
				t.Skipf("loop devices unavailable: losetup -f --show %s: %v: %s", file, err, out)
			}
			t.Fatalf("losetup: %v: %s", err, out)
		}
		dev := strings.TrimSpace(string(out))
		devs = append(devs, dev)
		// A read-only flag left on this device number by an earlier user
		// survives detaching: clear it.
		if out, err := exec.Command("blockdev", "--setrw", dev).CombinedOutput(); err != nil {
			t.Fatalf("blockdev --setrw %s: %v %s", dev, err, out)
		}
		t.Cleanup(func() {
			exec.Command("blockdev", "--setrw", dev).Run()
			if exec.Command("losetup", dev).Run() != nil {
				return // the test detached it
			}
			if out, err := exec.Command("losetup", "-d", dev).CombinedOutput(); err != nil {
				t.Errorf("losetup -d %s: %v: %s", dev, err, out)
			}
		})
	}
	return devs
}

// TestQuorumDiskOnLoopDevices: two nodes, three disks as loop devices
// (each node has its own loop device per disk, so each has its own path,
// as with a SAN). Disk 3 is missing from the start: the nodes run on 2 of
// 3. Then n2 loses its disks (read-only: its heartbeats fail): it keeps
// feeding its watchdog while quorate on node votes, stops when not. Then
// the nodes split and the master evicts the loser with a pill.
func TestQuorumDiskOnLoopDevices(t *testing.T) {
	palisade := bin(t, "palisade")
	dir := t.TempDir()
	var files []string
	for _, name := range []string{"a", "b", "c"} {
		f := filepath.Join(dir, name+".img")
		if err := os.WriteFile(f, make([]byte, 1<<20), 0o600); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	n1Paths := []string{loops(t, files[0], 1)[0], loops(t, files[1], 1)[0], loops(t, files[2], 1)[0]}
	n2Paths := []string{loops(t, files[0], 1)[0], loops(t, files[1], 1)[0], loops(t, files[2], 1)[0]}
	args := []string{"disk"}
	for _, p := range n1Paths {
		args = append(args, "-d", p)
	}
	out, err := run(t, palisade, append(append(args, "create", "--cluster", "lab", "--nodes", "n1,n2"), createFlags...)...)
	if err != nil || strings.Count(out, "(O_DIRECT)") != 3 {
		t.Fatalf("create on loop devices: %v\n%s", err, out)
	}
	// Disk c disappears for both nodes (its loop devices are detached).
	for _, dev := range []string{n1Paths[2], n2Paths[2]} {
		if out, err := exec.Command("losetup", "-d", dev).CombinedOutput(); err != nil {
			t.Fatalf("losetup -d %s: %v %s", dev, err, out)
		}
	}
	// An unbound loop device still opens, but has no sectors: reading its
	// header fails, as with a LUN that vanished.
	for _, p := range []string{n1Paths[2], n2Paths[2]} {
		devs, ds := disk.OpenDevices([]string{p}, 0)
		_, err := disk.ReadHeader(devs[0])
		ds[0].Close()
		if err == nil {
			t.Fatalf("%s still has a readable header after losetup -d", p)
		}
		t.Logf("disk c through %s: %v", p, err)
	}

	n1 := startDiskNode(t, "n1", n1Paths, true, "n1", "n2")
	n2 := startDiskNode(t, "n2", n2Paths, true, "n1", "n2")
	n1.view(1, true, "n1", "n2")
	n2.view(1, true, "n1", "n2")
	waitUntil(t, "both nodes to count the disk's votes on 2 of 3 disks", 10*time.Second, func() bool {
		return n1.r.Vote().Voting && n2.r.Vote().Voting
	})
	if st := n1.r.Status(); st.Reached != 2 || st.Disks != 3 {
		t.Fatalf("n1 reaches %d of %d disks, want 2 of 3", st.Reached, st.Disks)
	}
	// A test message through n1's paths (2 of 3 disks hold it).
	margs := []string{"disk"}
	for _, p := range n1Paths {
		margs = append(margs, "-d", p)
	}
	out, err = run(t, palisade, append(margs, "message", "n2", "test")...)
	if err != nil || !strings.Contains(out, "read back on 2 of 3 disks") || !strings.Contains(out, "acknowledged by n2") {
		t.Fatalf("test message: %v\n%s", err, out)
	}

	// n2 loses its disks: writes fail (read-only block devices).
	for _, dev := range n2Paths[:2] {
		if out, err := exec.Command("blockdev", "--setro", dev).CombinedOutput(); err != nil {
			t.Fatalf("blockdev --setro %s: %v %s", dev, err, out)
		}
	}
	waitUntil(t, "n2 to lose its majority", 5*time.Second, func() bool {
		return n2.r.Status().Reached == 0 && strings.Contains(n2.r.Vote().Problem, "0 of 3 disks reachable")
	})
	f1, _ := n2.wd.fed()
	time.Sleep(300 * time.Millisecond)
	if f2, _ := n2.wd.fed(); f2 <= f1 {
		t.Fatal("n2 stopped feeding its watchdog while its partition is quorate")
	}
	// Alone and without quorum, it must stop.
	lost := time.Now()
	n2.view(2, false, "n2")
	time.Sleep(200 * time.Millisecond)
	f3, last := n2.wd.fed()
	time.Sleep(500 * time.Millisecond) // longer than its 400ms watchdog
	if f4, _ := n2.wd.fed(); f4 != f3 {
		t.Fatal("n2 without disks and without quorum still feeds its watchdog")
	}
	if last.Sub(lost) > 400*time.Millisecond {
		t.Fatalf("n2 fed its watchdog %s after losing quorum without its disks (longer than its watchdog timeout)", last.Sub(lost))
	}
	t.Logf("n2's last watchdog feed: %s after it lost quorum without its disks", last.Sub(lost).Round(time.Millisecond))

	// n2 gets its disks back and rejoins; then the nodes split and the
	// master gives the votes to n1 (tie-breaker) and evicts n2.
	for _, dev := range n2Paths[:2] {
		exec.Command("blockdev", "--setrw", dev).Run()
	}
	n2.view(3, true, "n1", "n2")
	n1.view(3, true, "n1", "n2")
	waitUntil(t, "both nodes to count the disk's votes again", 10*time.Second, func() bool {
		return n1.r.Vote().Voting && n2.r.Vote().Voting
	})
	n1.view(4, false, "n1")
	n2.view(5, false, "n2")
	var f disk.SelfFence
	select {
	case f = <-n2.fenced:
	case <-time.After(10 * time.Second):
		t.Fatalf("n2 was not evicted; n1: %+v", n1.r.Status().Events)
	}
	if f.Action != disk.MsgReset || f.From != "n1" {
		t.Fatalf("eviction: %+v", f)
	}
	waitUntil(t, "n1 to count the disk's votes in its own view", 5*time.Second, func() bool { return n1.r.Vote().Voting })
	select {
	case f := <-n1.fenced:
		t.Fatalf("the winner fenced itself: %+v", f)
	default:
	}
}
