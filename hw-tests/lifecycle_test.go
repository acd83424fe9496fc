package hwtests

// Configuration lifecycle on a running cluster (issue 11), each against
// real daemons in a netns lab (package failover): a push with invalid
// resource parameters is refused and changes nothing; a changed VIP
// address moves the address (old one gone, new one up, never both, and
// neither only for the restart); a reloadable parameter reloads instead of
// restarting; a node restarted with an outdated cluster.yaml rejoins
// without probing with it and is not fenced; operator decisions survive a
// SIGHUP and a push.

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
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

// editedConfig shows the running configuration on node i, applies edit
// and writes it to a file (no "config show" header: no base digest).
func editedConfig(t *testing.T, h *failover.Harness, i int, name string, edit func(*model.Config)) string {
	t.Helper()
	doc, err := config.ParseDocument("shown", []byte(mustShowYAML(t, h, i)))
	if err != nil {
		t.Fatal(err)
	}
	cfg, admin := doc.Resources, doc.AdminEpoch
	edit(cfg)
	body, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(file, fmt.Appendf(nil, "admin_epoch: %d\n%s", admin, body), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

func primitive(t *testing.T, cfg *model.Config, id string) *model.Resource {
	t.Helper()
	p := cfg.Primitive(id)
	if p == nil {
		t.Fatalf("no resource %s in the running configuration", id)
	}
	return p
}

// setParam returns an edit setting (or, with "", removing) a parameter.
func setParam(t *testing.T, rsc, key, value string) func(*model.Config) {
	return func(cfg *model.Config) {
		p := primitive(t, cfg, rsc)
		if p.Params == nil {
			p.Params = map[string]string{}
		}
		if value == "" {
			delete(p.Params, key)
		} else {
			p.Params[key] = value
		}
	}
}

// allSameDigest fails unless every node runs the configuration digest.
func allSameDigest(t *testing.T, h *failover.Harness, digest string) {
	t.Helper()
	for i := range h.Sockets {
		if ci := showConfig(t, h, i); ci.Digest != digest {
			t.Errorf("n%d runs configuration %.12s, want the unchanged %.12s", i+1, ci.Digest, digest)
		}
	}
}

// A push with invalid resource parameters is refused, says what and
// where (file:line, resource, parameter, node) and changes nothing on any
// node: an address that is not one, a prefix length out of range, an
// interface no node has, a required parameter missing, an unknown one.
func TestLifecycleInvalidPushRefused(t *testing.T) {
	h := startFailover(t, failover.Options{Nodes: 3})
	active := waitStarted(t, h)
	pusher := (active + 1) % 3
	before := showConfig(t, h, 0)
	since := eventlog.Mono()
	cases := []struct {
		name string
		edit func(*model.Config)
		want []string
	}{
		{"address", setParam(t, "vip", "ip", "198.18.0.500"), []string{"resource vip, parameter ip:", `"198.18.0.500": want a unicast IPv4 or IPv6 address`}},
		{"prefix", setParam(t, "vip", "cidr_netmask", "33"), []string{"resource vip, parameter cidr_netmask:", `"33": want a prefix length 1-32`}},
		{"interface", setParam(t, "vip", "nic", "eth9"), []string{"resource vip (on n1): validate-all", "(on n2)", "(on n3)", "interface eth9"}},
		{"required", func(cfg *model.Config) {
			cfg.Resources = append(cfg.Resources, &model.Resource{ID: "extra", Class: "ocf", Provider: "heartbeat", Type: "IPaddr2",
				Params: map[string]string{"cidr_netmask": "25"}})
		}, []string{"resource extra, parameter ip: required by IPaddr2, not set"}},
		{"unknown", setParam(t, "dummy", "colour", "red"), []string{"resource dummy, parameter colour: unknown to Dummy"}},
	}
	for _, c := range cases {
		file := editedConfig(t, h, pusher, c.name+".yaml", c.edit)
		out, err := h.Palisade(pusher, "config", "push", file)
		if err == nil {
			t.Errorf("%s: push accepted: %s", c.name, out)
			continue
		}
		if !strings.Contains(out, "nothing changed") || !strings.Contains(out, file+":") {
			t.Errorf("%s: the refusal does not say that nothing changed, or where (%s:LINE):\n%s", c.name, file, out)
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: the refusal does not say %q:\n%s", c.name, w, out)
			}
		}
		t.Logf("%s: %s", c.name, strings.TrimSpace(out))
	}
	allSameDigest(t, h, before.Digest)
	for _, e := range entries(t, h, since, eventlog.ActionSent, "") {
		t.Errorf("a refused push made the DC act: %s %s on %s", e.Action, e.Resource, e.Node)
	}
	if hd, err := h.Holder(); err != nil || hd != active {
		t.Errorf("VIP holder after the refused pushes: n%d (%v), want n%d", hd+1, err, active+1)
	}
}

// addrWatch polls every node's eth0 for two addresses.
type addrSample struct {
	at       time.Duration
	old, new int // nodes carrying each
}

func watchAddrs(h *failover.Harness, old, new netip.Addr, stop <-chan struct{}) <-chan []addrSample {
	out := make(chan []addrSample, 1)
	go func() {
		var samples []addrSample
		for {
			s := addrSample{at: eventlog.Mono()}
			for _, n := range h.Lab.Nodes {
				b, _ := exec.Command("ip", "-n", n.Name, "-o", "-4", "addr", "show", "dev", "eth0").Output()
				if strings.Contains(string(b), " "+old.String()+"/") {
					s.old++
				}
				if strings.Contains(string(b), " "+new.String()+"/") {
					s.new++
				}
			}
			samples = append(samples, s)
			select {
			case <-stop:
				out <- samples
				return
			default:
			}
		}
	}()
	return out
}

// A changed VIP address moves the address where it runs: the old one is
// removed (the stop runs with the parameters the VIP was started with),
// the new one comes up, never both at once, and neither only between the
// stop and the start of the restart.
func TestLifecycleVIPAddressChange(t *testing.T) {
	h := startFailover(t, failover.Options{Nodes: 3})
	active := waitStarted(t, h)
	pusher := (active + 2) % 3
	newVIP := h.Lab.SpareAddr(0, 1)
	file := editedConfig(t, h, pusher, "vip.yaml", setParam(t, "vip", "ip", newVIP.String()))
	stop := make(chan struct{})
	samples := watchAddrs(h, h.VIP, newVIP, stop)
	time.Sleep(200 * time.Millisecond)
	since := eventlog.Mono()
	out, err := h.Palisade(pusher, "config", "push", file)
	if err != nil {
		close(stop)
		t.Fatalf("push of the new address: %v: %s", err, out)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var moved bool
		for _, e := range entries(t, h, since, eventlog.ActionResult, "") {
			moved = moved || e.Resource == "dummy" && e.Action == "start" && e.Writer == e.Node && e.OK != nil && *e.OK
		}
		if moved {
			break
		}
		if time.Now().After(deadline) {
			close(stop)
			t.Fatal("the group did not restart after the address changed")
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	ss := <-samples
	last := ss[len(ss)-1]
	if last.old != 0 || last.new != 1 {
		t.Fatalf("after the change: old address %s on %d nodes, new %s on %d; want 0 and 1", h.VIP, last.old, newVIP, last.new)
	}
	// The restart's stop and start of the VIP, from the executing node's log.
	var stopped, started time.Duration
	for _, e := range entries(t, h, since, eventlog.ActionResult, "") {
		if e.Resource != "vip" || e.Writer != e.Node || e.OK == nil || !*e.OK {
			continue
		}
		switch {
		case e.Action == "stop" && stopped == 0:
			stopped = time.Duration(e.MonoNS)
		case e.Action == "start" && started == 0:
			started = time.Duration(e.MonoNS)
		}
	}
	if stopped == 0 || started == 0 || started < stopped {
		t.Fatalf("no stop before start of vip in the event log (stop %v, start %v)", stopped, started)
	}
	// The window without any address lies between the last sample with
	// one and the first sample with one again (upper bound), and covers
	// at least the samples that saw none (lower bound).
	var both time.Duration
	first, lastNone := -1, -1
	for i, s := range ss {
		if s.old > 0 && s.new > 0 && both == 0 {
			both = s.at
		}
		if s.old == 0 && s.new == 0 {
			if first < 0 {
				first = i
			}
			lastNone = i
		}
		if s.old+s.new > 1 {
			t.Errorf("at %v: old address on %d nodes, new on %d", s.at, s.old, s.new)
		}
	}
	if both != 0 {
		t.Errorf("both addresses were up at %v", both)
	}
	restart := started - stopped
	var lower, upper time.Duration
	if first >= 0 {
		lower = ss[lastNone].at - ss[first].at
		upper = ss[min(lastNone+1, len(ss)-1)].at - ss[max(first-1, 0)].at
	}
	// Slack for the log entries' own timing (written after the agent
	// returned).
	if slack := 20 * time.Millisecond; lower > restart+slack {
		t.Errorf("no address for at least %v, longer than the restart (vip stop done → start done: %v)", lower, restart)
	}
	t.Logf("address moved %s -> %s on n%d: without any address for %v to %v (sampling), the restart (vip stop done → start done) took %v; %d samples",
		h.VIP, newVIP, active+1, lower, upper, restart, len(ss))
	if fs := entries(t, h, since, eventlog.FenceRequested, ""); len(fs) > 0 {
		t.Errorf("a parameter change fenced %s", fs[0].Target)
	}
	if vs, _ := h.Violations(); len(vs) > 0 {
		t.Errorf("violations: %v", vs)
	}
}

// dcResources is the resources of the DC section of node i's status.
func dcResources(t *testing.T, h *failover.Harness, i int) []model.ResourceStatus {
	t.Helper()
	out, err := h.Palisade(i, "status", "--json")
	if err != nil {
		t.Fatalf("palisade status on n%d: %v: %s", i+1, err, out)
	}
	var st api.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.DC == nil {
		t.Fatalf("palisade status --json on n%d: %v", i+1, err)
	}
	return st.DC.Status.Resources
}

// A parameter the agent can reload (Dummy's fake: OCF 1.0 reload, not
// unique) is applied with a reload in place: no stop, no start, the VIP
// never leaves; the status records the new parameters.
func TestLifecycleReloadableParameter(t *testing.T) {
	h := startFailover(t, failover.Options{Nodes: 3})
	active := waitStarted(t, h)
	file := editedConfig(t, h, active, "fake.yaml", setParam(t, "dummy", "fake", "reloaded"))
	since := eventlog.Mono()
	if out, err := h.Palisade(active, "config", "push", file); err != nil {
		t.Fatalf("push: %v: %s", err, out)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		var reloaded bool
		for _, e := range entries(t, h, since, eventlog.ActionResult, "") {
			reloaded = reloaded || e.Resource == "dummy" && e.Action == "reload-agent" && e.Writer == e.Node && e.OK != nil && *e.OK
		}
		if reloaded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("dummy was not reloaded after its reloadable parameter changed")
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second)
	for _, e := range entries(t, h, since, eventlog.ActionSent, "") {
		if e.Action != "reload-agent" {
			t.Errorf("the reloadable change made the DC send %s %s to %s", e.Action, e.Resource, e.Node)
		}
	}
	found := false
	for _, r := range dcResources(t, h, active) {
		if r.Rsc == "dummy" {
			found = true
			if r.Params["fake"] != "reloaded" || r.Digest != model.ParamsDigest(map[string]string{"fake": "reloaded"}) || r.RestartDigest == "" {
				t.Errorf("status of dummy after the reload: %+v", r)
			}
		}
	}
	if !found {
		t.Error("dummy is not in the DC's status")
	}
	if hd, err := h.Holder(); err != nil || hd != active {
		t.Errorf("VIP holder after the reload: n%d (%v), want n%d", hd+1, err, active+1)
	}
	// The VIP kept answering from the same node.
	for _, r := range h.Replies() {
		if r.Mono > since && r.MAC != h.MACs[active] {
			t.Errorf("VIP answered by %s during a reload of dummy", r.MAC)
			break
		}
	}
}

// A node restarted with an outdated cluster.yaml (and no persisted
// replica) rejoins without probing with it: it probes with the cluster's
// configuration, which the DC sends once every member's replica is in.
// Its file names the VIP 198.18.0.500, which its agent would answer with
// "not configured" (rc 6): a cluster-wide ban of the VIP if the probe
// used it. The VIP stays where it is, nothing is banned, nobody fenced.
func TestLifecycleRejoinWithOutdatedFile(t *testing.T) {
	h := startFailover(t, failover.Options{Nodes: 3})
	active := waitStarted(t, h)
	// The node to restart is n1: the lowest id, so the DC again once back,
	// with the outdated copy; the group runs elsewhere.
	if active == 0 {
		if out, err := h.Palisade(1, "resource", "move", "grp", "n2"); err != nil {
			t.Fatalf("move grp n2: %v: %s", err, out)
		}
		deadline := time.Now().Add(20 * time.Second)
		for active == 0 {
			if hd, err := h.Holder(); err == nil && hd == 1 {
				active = 1
			} else if time.Now().After(deadline) {
				t.Fatal("the group did not move to n2")
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	target, other := 0, 1
	node := "n1"
	if err := h.Procs[target].Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-h.Procs[target].Done():
	case <-time.After(30 * time.Second):
		t.Fatalf("palisaded on %s did not stop on SIGTERM", node)
	}
	// The cluster's configuration moves on while it is down.
	if out, err := h.Palisade(other, "config", "push", editedConfig(t, h, other, "mt.yaml", func(cfg *model.Config) {
		cfg.RscDefaults["migration-threshold"] = "4"
	})); err != nil {
		t.Fatalf("push while %s is down: %v: %s", node, err, out)
	}
	want := showConfig(t, h, other)
	// Its file is outdated and wrong; its state_dir has no replica.
	text, err := os.ReadFile(h.Configs[target])
	if err != nil {
		t.Fatal(err)
	}
	stale := strings.Replace(string(text), "ip: "+h.VIP.String(), "ip: 198.18.0.500", 1)
	if stale == string(text) {
		t.Fatalf("no VIP address in %s", h.Configs[target])
	}
	if err := os.WriteFile(h.Configs[target], []byte(stale), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(h.States[target], dcrun.PersistFile)); err != nil {
		t.Fatal(err)
	}
	since := eventlog.Mono()
	if err := h.StartDaemon(target); err != nil {
		t.Fatal(err)
	}
	if ok, err := h.DCAttached(target, 10*time.Second); err != nil || !ok {
		t.Fatalf("%s did not come back: %v", node, err)
	}
	got := waitSameConfig(t, h, func(ci api.ConfigInfo) bool { return ci.Digest == want.Digest })
	// Its probes, once done, found nothing running (rc 7), not rc 6.
	deadline := time.Now().Add(15 * time.Second)
	for {
		probes := map[string]string{}
		for _, e := range entries(t, h, since, eventlog.Probed, "") {
			if e.Writer == node {
				probes[e.Resource] = e.Detail
			}
		}
		if len(probes) == 2 {
			for r, d := range probes {
				if d != "rc=7" {
					t.Errorf("%s probed %s: %s, want rc=7 (not running)", node, r, d)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not probe both resources after rejoining: %v", node, probes)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	for _, f := range dcFailures(t, h, other) {
		t.Errorf("a failure after the rejoin: %+v", f)
	}
	if fs := entries(t, h, since, eventlog.FenceRequested, ""); len(fs) > 0 {
		t.Errorf("%s was fenced after rejoining (by %s: %s)", fs[0].Target, fs[0].Writer, fs[0].Detail)
	}
	if hd, err := h.Holder(); err != nil || hd != active {
		t.Errorf("VIP holder after %s rejoined: n%d (%v), want n%d", node, hd+1, err, active+1)
	}
	t.Logf("%s rejoined with an outdated file and runs configuration %s digest %.12s; probes rc=7; nothing fenced or banned", node, got.Version, got.Digest)
}

// Operator decisions survive a reload of an edited file (SIGHUP) and a
// push of a file that knows nothing of them: the move, the ban and the
// standby stay, and the group does not move back. A file that would drop
// some (a group it no longer has) is refused unless forced.
func TestLifecycleOperatorStateSurvivesReload(t *testing.T) {
	h := startFailover(t, failover.Options{Nodes: 3})
	active := waitStarted(t, h)
	dest := (active + 1) % 3
	banned := (active + 2) % 3
	run := func(i int, args ...string) string {
		t.Helper()
		out, err := h.Palisade(i, args...)
		if err != nil {
			t.Fatalf("palisade %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return out
	}
	run(active, "resource", "move", "grp", fmt.Sprintf("n%d", dest+1), "--by", "tester")
	run(active, "resource", "ban", "grp", fmt.Sprintf("n%d", banned+1), "--by", "tester")
	run(active, "node", "standby", fmt.Sprintf("n%d", banned+1), "--by", "tester")
	deadline := time.Now().Add(20 * time.Second)
	for {
		if hd, err := h.Holder(); err == nil && hd == dest {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the group did not move to n%d", dest+1)
		}
		time.Sleep(100 * time.Millisecond)
	}
	kept := func(when string) {
		t.Helper()
		shown := mustShowYAML(t, h, banned)
		for _, w := range []string{"cli-prefer-grp", fmt.Sprintf("cli-ban-grp-on-n%d", banned+1), "standby: true"} {
			if !strings.Contains(shown, w) {
				t.Errorf("%s: the configuration lost %q:\n%s", when, w, shown)
			}
		}
		if hd, err := h.Holder(); err != nil || hd != dest {
			t.Errorf("%s: VIP on n%d (%v), want n%d", when, hd+1, err, dest+1)
		}
	}
	// SIGHUP with an edited file, which has none of the edits.
	since := eventlog.Mono()
	text, err := os.ReadFile(h.Configs[active])
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(text), "migration-threshold: 3", "migration-threshold: 5", 1)
	if edited == string(text) {
		t.Fatalf("no migration-threshold in %s", h.Configs[active])
	}
	if err := os.WriteFile(h.Configs[active], []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := h.Procs[active].Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitSameConfig(t, h, func(ci api.ConfigInfo) bool {
		return ci.Config != nil && ci.Config.RscDefaults["migration-threshold"] == "5"
	})
	time.Sleep(time.Second)
	kept("after SIGHUP")
	var detail string
	for _, e := range entries(t, h, since, dc.EventConfigChanged, "") {
		detail += e.Detail
	}
	if !strings.Contains(detail, "kept what operators set") {
		t.Errorf("the DC did not log what it kept: %q", detail)
	}
	// A push of the original file says what it kept.
	out := run(dest, "config", "push", h.Configs[dest])
	if !strings.Contains(out, "kept (set by an operator): location cli-prefer-grp") || !strings.Contains(out, fmt.Sprintf("standby n%d", banned+1)) {
		t.Errorf("push of a file without the edits does not say what it kept:\n%s", out)
	}
	time.Sleep(time.Second)
	kept("after a push")
	// Without the group, its move and ban would go: refused, then forced.
	noGroup := editedConfig(t, h, dest, "nogroup.yaml", func(cfg *model.Config) {
		cfg.Resources = []*model.Resource{{ID: "solo", Class: "ocf", Provider: "heartbeat", Type: "Dummy"}}
		cfg.Constraints.Locations = nil
	})
	before := showConfig(t, h, dest)
	out, err = h.Palisade(dest, "config", "push", noGroup)
	if err == nil || !strings.Contains(out, "would drop what operators set") || !strings.Contains(out, "cli-prefer-grp") {
		t.Errorf("push dropping the move and ban: %v:\n%s", err, out)
	}
	allSameDigest(t, h, before.Digest)
	out = run(dest, "config", "push", "--force", noGroup)
	if !strings.Contains(out, "dropped (--force): location cli-prefer-grp") {
		t.Errorf("forced push does not say what it dropped:\n%s", out)
	}
	if vs, _ := h.Violations(); len(vs) > 0 {
		t.Errorf("violations: %v", vs)
	}
	if fs := entries(t, h, 0, eventlog.FenceRequested, ""); len(fs) > 0 {
		t.Errorf("fenced %s", fs[0].Target)
	}
}
