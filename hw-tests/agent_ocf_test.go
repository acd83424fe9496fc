package hwtests

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"palisade/resources/agent"
	"palisade/resources/executor"
)

const ocfRoot = "/usr/lib/ocf"

// needOCFAgent skips unless Debian's resource-agents provides typ and we
// are root (agents such as IPaddr2 and Filesystem need it).
func needOCFAgent(t *testing.T, typ string) agent.Instance {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the stock resource agents manage addresses and mounts")
	}
	p := filepath.Join(ocfRoot, "resource.d", "heartbeat", typ)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("resource-agents not installed (%s: %v); apt-get install resource-agents", p, err)
	}
	return agent.Instance{ID: strings.ToLower(typ) + "-test", Class: "ocf", Provider: "heartbeat", Type: typ,
		Timeout: 30 * time.Second}
}

// TestAgentDummyLifecycle runs the stock Dummy agent through the whole
// OCF life cycle, with its state file in a temporary directory.
func TestAgentDummyLifecycle(t *testing.T) {
	in := needOCFAgent(t, "Dummy")
	in.Params = map[string]string{"state": filepath.Join(t.TempDir(), "dummy.state")}
	reg := agent.NewRegistry(agent.Options{})
	ctx := context.Background()
	steps := []struct {
		a    agent.Action
		want agent.RC
	}{
		{agent.ValidateAll, agent.OK},
		{agent.Monitor, agent.NotRunning},
		{agent.Start, agent.OK},
		{agent.Monitor, agent.OK},
		{agent.Start, agent.OK}, // idempotent
		{agent.Stop, agent.OK},
		{agent.Monitor, agent.NotRunning},
		{agent.Stop, agent.OK},
		{agent.Promote, agent.ErrUnimplemented},
	}
	for _, s := range steps {
		res := reg.Run(ctx, s.a, in)
		if res.RC != s.want || res.Status != agent.StatusDone {
			t.Fatalf("Dummy %s: rc %d (%s) status %s, want %d; stderr %q", s.a, res.RC, res.RC, res.Status, s.want, res.Stderr)
		}
	}
	res := reg.Run(ctx, agent.MetaData, in)
	if res.RC != agent.OK || !strings.Contains(res.Output, `<resource-agent name="Dummy"`) {
		t.Fatalf("Dummy meta-data: rc %d, output %.200q", res.RC, res.Output)
	}
}

// TestExecutorDummyMonitorFailure runs Dummy under the executor: start,
// recurring monitor, the state file disappears (the "process" died), the
// monitor reports a soft failure with on-fail restart and fail count 1;
// a stop then cancels the monitor.
func TestExecutorDummyMonitorFailure(t *testing.T) {
	in := needOCFAgent(t, "Dummy")
	state := filepath.Join(t.TempDir(), "dummy.state")
	in.Params = map[string]string{"state": state}
	events := make(chan executor.Event, 16)
	ex := executor.New(executor.Config{Node: "n1", Agent: agent.NewRegistry(agent.Options{}), Fencing: true,
		Report: func(ev executor.Event) { events <- ev }})
	defer ex.Close()
	ctx := context.Background()
	if evs := ex.Probe(ctx, []agent.Instance{in}); evs[0].Result.RC != agent.NotRunning || evs[0].Failed() {
		t.Fatalf("probe: %+v", evs[0])
	}
	<-events
	if ev := ex.Exec(ctx, executor.Op{Instance: in, Action: agent.Start}); ev.Failed() {
		t.Fatalf("start: %+v", ev)
	}
	<-events
	if err := ex.StartMonitor(executor.Op{Instance: in, Action: agent.Monitor, Interval: 200 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if ev := <-events; ev.Failed() {
		t.Fatalf("first monitor: %+v", ev)
	}
	os.Remove(state)
	var ev executor.Event
	select {
	case ev = <-events:
	case <-time.After(30 * time.Second):
		t.Fatal("monitor did not report the failure")
	}
	if ev.Result.RC != agent.NotRunning || ev.OnFail != executor.OnFailRestart || ev.FailCount != 1 {
		t.Fatalf("monitor failure: %+v", ev)
	}
	if ev := ex.Exec(ctx, executor.Op{Instance: in, Action: agent.Stop}); ev.Failed() {
		t.Fatalf("stop: %+v", ev)
	}
	if m := ex.Monitors(); len(m) != 0 {
		t.Fatalf("monitor still running after stop: %v", m)
	}
}

// TestAgentIPaddr2 runs the stock IPaddr2 in a lab namespace: start adds
// the address and announces it (send_arp), monitor, stop removes it;
// configured directly and converted from a haresources "IPaddr::" word.
func TestAgentIPaddr2(t *testing.T) {
	in := needOCFAgent(t, "IPaddr2")
	l := needLab(t, 2)
	n1, n2 := l.Nodes[0], l.Nodes[1]
	capt := startCapture(t, n2, "eth0")
	mac := macOf(t, n1, "eth0")
	in.Params = map[string]string{"ip": "198.18.0.70", "cidr_netmask": "24", "nic": "eth0"}
	hb, _ := agent.ParseHaresource("IPaddr::198.18.0.71/24/eth0")
	converted, ok, err := agent.HaresourceToOCF(hb)
	if !ok || err != nil {
		t.Fatalf("converting %+v: %v", hb, err)
	}
	converted.Timeout = in.Timeout
	for _, inst := range []agent.Instance{in, converted} {
		ip := inst.Params["ip"]
		d := startDriver(t, n1.Command, inst)
		for _, s := range []struct {
			a    string
			want agent.RC
		}{{"validate-all", agent.OK}, {"monitor", agent.NotRunning}, {"start", agent.OK}, {"monitor", agent.OK}} {
			if r := d.do(t, s.a); r.RC != s.want {
				t.Fatalf("%s %s: %+v, want rc %d", inst, s.a, r, s.want)
			}
		}
		if out, _ := n1.Run("ip", "-4", "addr", "show", "dev", "eth0"); !strings.Contains(out, ip+"/24") {
			t.Fatalf("%s start did not add the address:\n%s", inst, out)
		}
		want := "arp OperationRequest " + ip + " " + mac
		if _, _, ok := capt.waitLine(t, 0, 10*time.Second, func(s string) bool { return strings.HasPrefix(s, want) }); !ok {
			t.Errorf("%s: gratuitous ARP not seen by the peer:\n%s", inst, strings.Join(capt.snapshot(), "\n"))
		}
		if r := d.do(t, "stop"); r.RC != agent.OK {
			t.Fatalf("%s stop: %+v", inst, r)
		}
		if out, _ := n1.Run("ip", "addr", "show", "dev", "eth0"); strings.Contains(out, ip+"/") {
			t.Fatalf("%s stop left the address:\n%s", inst, out)
		}
		if r := d.do(t, "monitor"); r.RC != agent.NotRunning {
			t.Fatalf("%s monitor after stop: %+v", inst, r)
		}
	}
}

// TestAgentFilesystem runs the stock Filesystem agent on a tmpfs inside a
// private mount namespace (nothing is mounted on the host), configured
// directly and converted from a haresources line.
func TestAgentFilesystem(t *testing.T) {
	in := needOCFAgent(t, "Filesystem")
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare (util-linux) not installed")
	}
	dir := filepath.Join(t.TempDir(), "mnt")
	os.Mkdir(dir, 0o755)
	in.Params = map[string]string{"device": "tmpfs", "fstype": "tmpfs", "directory": dir, "options": "size=8m"}
	hb, err := agent.ParseHaresource("Filesystem::tmpfs::" + dir + "::tmpfs")
	if err != nil {
		t.Fatal(err)
	}
	converted, ok, err := agent.HaresourceToOCF(hb)
	if !ok || err != nil {
		t.Fatalf("converting %+v: %v", hb, err)
	}
	converted.Timeout = in.Timeout
	unshare := func(name string, args ...string) *exec.Cmd {
		return exec.Command("unshare", append([]string{"--mount", "--propagation", "private", name}, args...)...)
	}
	for _, inst := range []agent.Instance{in, converted} {
		d := startDriver(t, unshare, inst)
		for _, s := range []struct {
			a    string
			want agent.RC
		}{{"monitor", agent.NotRunning}, {"start", agent.OK}, {"monitor", agent.OK}, {"stop", agent.OK}, {"monitor", agent.NotRunning}} {
			if r := d.do(t, s.a); r.RC != s.want {
				t.Fatalf("%s %s: %+v, want rc %d", inst, s.a, r, s.want)
			}
		}
	}
	if b, _ := os.ReadFile("/proc/self/mounts"); strings.Contains(string(b), dir) {
		t.Fatalf("mount leaked into the test's namespace")
	}
}
