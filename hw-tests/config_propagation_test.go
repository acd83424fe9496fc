package hwtests

// Changing the configuration of a running cluster (cluster/dc): a
// `palisade config push` on a member that is not the DC adds a location
// constraint; the DC replicates it, the group moves to the preferred node
// without any fencing, and every node reports (and persisted) the same
// configuration version.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"palisade/cluster/api"
	"palisade/cluster/config"
	"palisade/cluster/dc"
	"palisade/cluster/dcrun"
	"palisade/cluster/eventlog"
	"palisade/hw-tests/failover"
	"palisade/resources/model"
)

func TestConfigPropagates(t *testing.T) {
	h := startFailover(t, failover.Options{Nodes: 3})
	active := waitStarted(t, h)
	target := (active + 1) % len(h.Sockets)
	before := showConfig(t, h, 0)

	// Edit what `config show` prints, as an operator would.
	doc, err := config.ParseDocument("shown", []byte(mustShowYAML(t, h, 0)))
	if err != nil {
		t.Fatal(err)
	}
	cfg, admin := doc.Resources, doc.AdminEpoch
	cfg.Constraints.Locations = append(cfg.Constraints.Locations,
		model.Location{ID: "grp-prefers-target", Rsc: "grp", Node: fmt.Sprintf("n%d", target+1), Score: model.Infinity})
	body, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "move.yaml")
	if err := os.WriteFile(file, fmt.Appendf(nil, "admin_epoch: %d\n%s", admin, body), 0o644); err != nil {
		t.Fatal(err)
	}

	// Push on the highest node: never the DC (the lowest member is).
	pusher := len(h.Sockets) - 1
	since := eventlog.Mono()
	out, err := h.Palisade(pusher, "config", "push", file)
	if err != nil || !strings.Contains(out, "accepted by the DC n1") {
		t.Fatalf("config push on n%d: %v: %s", pusher+1, err, out)
	}
	t.Logf("n%d: %s", pusher+1, strings.TrimSpace(out))

	deadline := time.Now().Add(30 * time.Second)
	for {
		holder, err := h.Holder()
		if err == nil && holder == target {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("group did not move to n%d after the push (VIP on index %d, %v)", target+1, holder, err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Every node ends up with the same configuration version and digest,
	// newer than before, and has persisted it in its state_dir.
	want := waitSameConfig(t, h, func(ci api.ConfigInfo) bool { return ci.Version.Epoch > before.Version.Epoch })
	t.Logf("every node runs configuration %d.%d digest %.12s (was %s)", want.Version.AdminEpoch, want.Version.Epoch, want.Digest, before.Version)
	for i, dir := range h.States {
		p, err := dcrun.LoadPersisted(dir)
		if err != nil || p == nil || p.Digest != want.Digest || !dcrun.APIVersion(p.Version).SameConfig(want.Version) {
			t.Errorf("n%d persisted %+v (err %v), want version %s digest %.12s", i+1, p, err, want.Version, want.Digest)
		}
	}

	// Moved, not recovered: nothing was fenced and the one rule holds.
	es, err := h.Entries()
	if err != nil {
		t.Fatal(err)
	}
	changed := false
	for _, e := range es {
		if time.Duration(e.MonoNS) < since {
			continue
		}
		if strings.HasPrefix(e.Event, "fence_") {
			t.Errorf("fencing during a configuration change: %s %s target=%s %s", e.Writer, e.Event, e.Target, e.Detail)
		}
		changed = changed || (e.Event == dc.EventConfigChanged && e.OK != nil && *e.OK)
	}
	if !changed {
		t.Error("the DC logged no config_changed event")
	}
	vs, err := h.Violations()
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		t.Errorf("one rule violated: %s", v)
	}

	// SIGHUP with an unchanged file (a key rollover, say) must not undo
	// the pushed change: the node has seen that file already.
	if err := h.Procs[1].Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	if ci := showConfig(t, h, 1); ci.Digest != want.Digest || !ci.Version.SameConfig(want.Version) {
		t.Fatalf("SIGHUP with an unchanged file changed the configuration: %s %.12s, want %s %.12s", ci.Version, ci.Digest, want.Version, want.Digest)
	}
	// SIGHUP after an edit (admin_epoch raised in n2's file, which has no
	// location constraint) forces that file's section on the cluster.
	text, err := os.ReadFile(h.Configs[1])
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(text), "\nresources:\n", "\nresources:\n  admin_epoch: 1\n", 1)
	if edited == string(text) {
		t.Fatalf("no resources section in %s", h.Configs[1])
	}
	if err := os.WriteFile(h.Configs[1], []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := h.Procs[1].Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	forced := waitSameConfig(t, h, func(ci api.ConfigInfo) bool { return ci.Version.AdminEpoch == 1 })
	if forced.Digest != before.Digest {
		t.Fatalf("after the forced reload: digest %.12s, want n2's file section %.12s", forced.Digest, before.Digest)
	}
	t.Logf("SIGHUP on n2 with admin_epoch 1: every node runs %d.%d digest %.12s", forced.Version.AdminEpoch, forced.Version.Epoch, forced.Digest)
}

// waitSameConfig waits until every node reports the same admin_epoch,
// epoch and digest, and ok holds for it.
func waitSameConfig(t *testing.T, h *failover.Harness, ok func(api.ConfigInfo) bool) api.ConfigInfo {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		infos := make([]api.ConfigInfo, len(h.Sockets))
		same := true
		for i := range h.Sockets {
			infos[i] = showConfig(t, h, i)
			same = same && infos[i].Version.SameConfig(infos[0].Version) && infos[i].Digest == infos[0].Digest
		}
		if same && ok(infos[0]) {
			return infos[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("nodes never agreed on the expected configuration: %+v", infos)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func showConfig(t *testing.T, h *failover.Harness, i int) api.ConfigInfo {
	t.Helper()
	out, err := h.Palisade(i, "config", "show", "--json")
	if err != nil {
		t.Fatalf("config show on n%d: %v: %s", i+1, err, out)
	}
	var ci api.ConfigInfo
	if err := json.Unmarshal([]byte(out), &ci); err != nil {
		t.Fatalf("config show --json on n%d: %v: %s", i+1, err, out)
	}
	return ci
}

func mustShowYAML(t *testing.T, h *failover.Harness, i int) string {
	t.Helper()
	out, err := h.Palisade(i, "config", "show")
	if err != nil {
		t.Fatalf("config show on n%d: %v: %s", i+1, err, out)
	}
	return out
}
