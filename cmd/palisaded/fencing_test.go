package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"palisade/cluster/config"
	"palisade/cluster/membership"
	"palisade/fence"
	"palisade/fence/topology"
	"palisade/resources/model"
)

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// TestNodePriorities: Pacemaker's node priority for priority-fencing-delay:
// the sum of the priorities of the resources active on a node (inherited
// from the group or clone, or rsc_defaults), a promoted instance +1, a
// failed one not at all.
func TestNodePriorities(t *testing.T) {
	cfg := &model.Config{RscDefaults: map[string]string{"priority": "1"}, Resources: []*model.Resource{
		{ID: "db", Meta: map[string]string{"priority": "10"}},
		{ID: "grp", Kind: model.KindGroup, Meta: map[string]string{"priority": "5"}, Members: []*model.Resource{{ID: "vip"}, {ID: "web", Meta: map[string]string{"priority": "7"}}}},
		{ID: "ms", Kind: model.KindClone, Meta: map[string]string{"priority": "3", "promotable": "true"}, Members: []*model.Resource{{ID: "drbd"}}},
		{ID: "idle"},
		{ID: "zero", Meta: map[string]string{"priority": "0"}},
	}}
	got := nodePriorities(cfg, []model.ResourceStatus{
		{Rsc: "db", Node: "n1"},
		{Rsc: "vip", Node: "n2"}, {Rsc: "web", Node: "n2"},
		{Rsc: "drbd:0", Node: "n1", Role: "Promoted"}, {Rsc: "drbd:1", Node: "n2", Role: "Unpromoted"},
		{Rsc: "idle", Node: "n3"}, {Rsc: "zero", Node: "n3"},
		{Rsc: "db", Node: "n3", Failed: true},
	})
	want := map[string]int{"n1": 10 + 4, "n2": 5 + 7 + 3, "n3": 1}
	for n, p := range want {
		if got[n] != p {
			t.Errorf("%s: priority %d, want %d (all: %v)", n, got[n], p, got)
		}
	}
	if len(nodePriorities(nil, nil)) != 0 {
		t.Error("priorities without a configuration")
	}
}

// TestLossClock: a node counts as lost from the first agreed view without
// it; views that still have it, or are not agreed, do not start the clock,
// and seeing it again stops it.
func TestLossClock(t *testing.T) {
	now := time.Unix(100, 0)
	l := newLossClock(func() time.Time { return now })
	name := func(id membership.NodeID) string { return []string{"", "n1", "n2", "n3"}[id] }
	view := func(id uint64, agreed bool, members ...membership.NodeID) membership.View {
		v := membership.View{ID: id, Agreed: agreed}
		for _, m := range members {
			v.Members = append(v.Members, membership.Member{ID: m})
		}
		return v
	}
	nodes := []string{"n1", "n2", "n3"}
	l.onView(view(1, true, 1, 2, 3), nodes, "n1", name)
	if _, ok := l.lostAt("n2"); ok {
		t.Fatal("a member counted as lost")
	}
	now = now.Add(time.Second)
	l.onView(view(2, false, 1, 3), nodes, "n1", name) // transitional
	if _, ok := l.lostAt("n2"); ok {
		t.Fatal("lost from a view not agreed yet")
	}
	now = now.Add(time.Second)
	l.onView(view(2, true, 1, 3), nodes, "n1", name)
	if at, ok := l.lostAt("n2"); !ok || !at.Equal(time.Unix(102, 0)) {
		t.Fatalf("n2 lost at %v %v, want 102", at, ok)
	}
	now = now.Add(time.Second)
	l.onView(view(3, true, 1, 3), nodes, "n1", name)
	if at, _ := l.lostAt("n2"); !at.Equal(time.Unix(102, 0)) {
		t.Fatalf("a later view moved the loss to %v", at)
	}
	l.onView(view(4, false, 1, 2, 3), nodes, "n1", name)
	if _, ok := l.lostAt("n2"); ok {
		t.Fatal("n2 is back but still lost")
	}
	if _, ok := l.lostAt("n1"); ok {
		t.Fatal("self lost")
	}
}

// TestWatchdogHealth: the watchdog is fed while the DC loop answers and,
// once this node was in a quorate partition, while it still is within the
// grace.
func TestWatchdogHealth(t *testing.T) {
	now := time.Unix(0, 0)
	h := &health{grace: 2 * time.Second, now: func() time.Time { return now }, last: now}
	if ok, why := h.healthy(); !ok {
		t.Fatalf("unhealthy at start: %s", why)
	}
	now = now.Add(5 * time.Second)
	if ok, _ := h.healthy(); ok {
		t.Fatal("healthy although the DC loop never answered for 5s")
	}
	h.last, h.everQuorate, h.quorateAt = now, true, now
	now = now.Add(time.Second)
	h.last = now
	if ok, why := h.healthy(); !ok {
		t.Fatalf("unhealthy within the grace: %s", why)
	}
	now = now.Add(2 * time.Second)
	h.last = now
	if ok, why := h.healthy(); ok || !strings.Contains(why, "quorate") {
		t.Fatalf("healthy 3s after losing quorum (grace 2s): %v %q", ok, why)
	}
}

func fencingSection(t *testing.T, text string) *topology.Config {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(text), &n); err != nil {
		t.Fatal(err)
	}
	fc, err := topology.Decode("cluster.yaml", &n)
	if err != nil {
		t.Fatal(err)
	}
	return fc
}

func testCluster(t *testing.T) *config.Cluster {
	return &config.Cluster{File: "cluster.yaml", RunDir: t.TempDir(), Nodes: []config.Node{{ID: 1, Name: "n1"}, {ID: 2, Name: "n2"}},
		Timing: membership.Timing{Keepalive: time.Second, Warntime: 3 * time.Second, Deadtime: 5 * time.Second, Initdead: 10 * time.Second}}
}

// TestNewFencingWiring: manual devices wait under run_dir/meatware unless
// they say otherwise, and get room in the attempt; fence_watchdog devices
// are checked against the watchdog timeout and the cluster's timing.
func TestNewFencingWiring(t *testing.T) {
	c := testCluster(t)
	own := filepath.Join(t.TempDir(), "elsewhere")
	fc := fencingSection(t, `
devices:
  - {name: manual-n2, plugin: fence_manual, params: {plug: n2}}
  - {name: manual-n1, plugin: fence_meatware, params: {plug: n1, meatware_dir: `+own+`, power_timeout: "120"}}
topology:
  n2: [[manual-n2]]
  n1: [[manual-n1]]
`)
	f, err := newFencing("n1", c, fc, nil, quietLog)
	if err != nil {
		t.Fatal(err)
	}
	if got := fc.Devices["manual-n2"].Params["meatware_dir"]; got != filepath.Join(c.RunDir, "meatware") {
		t.Errorf("default meatware_dir %q", got)
	}
	if len(f.meatDirs) != 2 {
		t.Errorf("meatware dirs %v", f.meatDirs)
	}
	if got := f.fencer.AttemptTimeout("n2"); got != topology.DefaultAttemptTimeout+600*time.Second {
		t.Errorf("n2 attempt timeout %v: no room for the operator", got)
	}
	if got := f.fencer.AttemptTimeout("n1"); got != topology.DefaultAttemptTimeout+120*time.Second {
		t.Errorf("n1 attempt timeout %v", got)
	}

	for _, tc := range []struct{ section, want string }{
		{`
devices:
  - {name: wd-n2, plugin: fence_watchdog, params: {plug: n2, watchdog_fence_timeout: "30"}}
topology: {n2: [[wd-n2]]}
`, "set fencing.watchdog"},
		{`
watchdog: {device: /dev/watchdog, timeout: 10s}
devices:
  - {name: wd-n2, plugin: fence_watchdog, params: {plug: n2, watchdog_fence_timeout: "15"}}
topology: {n2: [[wd-n2]]}
`, "watchdog_fence_timeout 15s is not safely above the watchdog timeout 10s"},
	} {
		_, err := newFencing("n1", c, fencingSection(t, tc.section), nil, quietLog)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "cluster.yaml:") {
			t.Errorf("err %v, want %q", err, tc.want)
		}
	}
	ok := fencingSection(t, `
watchdog: {device: /dev/watchdog, timeout: 10s}
devices:
  - {name: wd-n2, plugin: fence_watchdog, params: {plug: n2, watchdog_fence_timeout: "30"}}
topology: {n2: [[wd-n2]]}
`)
	if _, err := newFencing("n1", c, ok, nil, quietLog); err != nil {
		t.Errorf("a safe watchdog_fence_timeout refused: %v", err)
	}
	if _, err := os.Stat(filepath.Join(c.RunDir, "meatware")); err == nil {
		t.Error("meatware_dir made before a manual fence needs it")
	}
}

// TestReadmeFencingExample keeps the example of README.md's "Fencing in
// the daemon" valid for the decoder and the daemon's checks (the
// watchdog_fence_timeout against the watchdog timeout).
func TestReadmeFencingExample(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, text, ok := strings.Cut(string(raw), "### Fencing in the daemon")
	if !ok {
		t.Fatal("README.md has no \"Fencing in the daemon\" section")
	}
	_, text, _ = strings.Cut(text, "```yaml\n")
	block, _, _ := strings.Cut(text, "```")
	var doc struct {
		Fencing yaml.Node `yaml:"fencing"`
	}
	if err := yaml.Unmarshal([]byte(block), &doc); err != nil {
		t.Fatal(err)
	}
	fc, err := topology.Decode("README.md", &doc.Fencing)
	if err != nil {
		t.Fatalf("README fencing example: %v", err)
	}
	c := testCluster(t)
	for _, name := range []string{"wd-db1"} {
		d := fc.Devices[name]
		p, err := fence.Lookup(d.Plugin)
		if err != nil {
			t.Fatal(err)
		}
		f := &fencing{cfg: fc}
		if err := f.checkWatchdogFence(c, d, p); err != nil {
			t.Errorf("README example: %v", err)
		}
	}
}
