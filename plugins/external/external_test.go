package external

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"palisade/fence"
)

// The script agent in testdata is found by the resolver like an installed
// one.
func init() {
	dir, err := filepath.Abs("testdata")
	if err != nil {
		panic(err)
	}
	Dirs = []string{dir}
}

func scriptAgent(t *testing.T, kv ...string) (*fence.Agent, string) {
	t.Helper()
	dir := t.TempDir()
	p := map[string]string{"state_file": filepath.Join(dir, "power"), "log_file": filepath.Join(dir, "calls.log"), "plug": "m1"}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(p, kv[i])
			continue
		}
		p[kv[i]] = kv[i+1]
	}
	a, err := fence.NewAgent("fence_script", p)
	if err != nil {
		t.Fatal(err)
	}
	return a, dir
}

func do(t *testing.T, a *fence.Agent, act fence.Action) fence.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return a.Do(ctx, act)
}

func power(t *testing.T, dir, plug string) string {
	b, err := os.ReadFile(filepath.Join(dir, "power."+plug))
	if errors.Is(err, os.ErrNotExist) {
		return "on"
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestMetadataDeclaresParameters(t *testing.T) {
	p, err := fence.Lookup("fence_script")
	if err != nil {
		t.Fatal(err)
	}
	if !p.HasPlugs || !p.OwnParams {
		t.Errorf("HasPlugs %v OwnParams %v", p.HasPlugs, p.OwnParams)
	}
	idx := p.Index("fence_script")
	for key, want := range map[string]string{"passwd": "password", "port": "plug", "state-file": "state_file", "password_file": "password_file", "agent_timeout": "agent_timeout"} {
		if got := idx[key].Name; got != want {
			t.Errorf("%s maps to %q, want %q", key, got, want)
		}
	}
	if ex, err := fence.Lookup("external:fence_script"); err != nil || ex.Name != "fence_script" {
		t.Errorf("external: prefix: %v %v", ex, err)
	}
	if _, err := fence.Lookup("fence_../../bin/sh"); err == nil {
		t.Error("a name with a path was resolved")
	}
}

func TestActionsVerifiedThroughStatus(t *testing.T) {
	a, dir := scriptAgent(t, "password", "s3cret-pw")
	for _, st := range []struct {
		act   fence.Action
		power string
	}{{fence.ActionStatus, "on"}, {fence.ActionOff, "off"}, {fence.ActionStatus, "off"}, {fence.ActionOn, "on"}, {fence.ActionReboot, "on"}, {fence.ActionMonitor, "on"}} {
		res := do(t, a, st.act)
		if !res.OK {
			t.Fatalf("%s: %v", st.act, res)
		}
		if got := power(t, dir, "m1"); got != st.power {
			t.Errorf("%s: power %s, want %s", st.act, got, st.power)
		}
		if st.act == fence.ActionOff && !res.Fenced() {
			t.Errorf("off not verified: %v", res)
		}
	}
	log, _ := os.ReadFile(filepath.Join(dir, "calls.log"))
	calls := strings.Split(strings.TrimSpace(string(log)), "\n")
	// off = status, off, status (the read-back); on likewise; reboot =
	// status, off, status, on, status.
	if len(calls) < 12 {
		t.Errorf("only %d runs:\n%s", len(calls), log)
	}
	for _, c := range calls {
		if !strings.HasPrefix(c, "argc=0 ") {
			t.Errorf("the agent got arguments (the password must only go through stdin): %s", c)
		}
		if strings.Contains(c, " delay") {
			t.Errorf("delay was forwarded (the core does the delay): %s", c)
		}
	}
	if !strings.Contains(calls[0], " password") {
		t.Errorf("password not passed on stdin: %s", calls[0])
	}
}

func TestValidationFromMetadata(t *testing.T) {
	for _, p := range []map[string]string{
		{"plug": "m1", "state_file": "/x", "bogus": "1"},
		{"plug": "m1", "state_file": "/x", "fail": "explode"},
		{"plug": "m1", "state_file": "/x", "power_timeout": "soon"},
		{"plug": "m1", "state_file": "/x", "agent_timeout": "0"},
	} {
		if _, err := fence.NewAgent("fence_script", p); !errors.Is(err, fence.ErrConfig) {
			t.Errorf("%v: %v, want ErrConfig", p, err)
		}
	}
}

func TestFailuresAndSecrets(t *testing.T) {
	a, dir := scriptAgent(t, "password", "s3cret-pw", "fail", "off")
	res := do(t, a, fence.ActionOff)
	if res.OK || !strings.Contains(res.Err.Error(), "simulated failure of off") || strings.Contains(res.Err.Error(), "s3cret-pw") {
		t.Fatalf("failed off: %v", res)
	}
	if power(t, dir, "m1") != "on" {
		t.Error("power changed although the agent failed")
	}
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("from-file-pw\n"), 0o600)
	a, _ = scriptAgent(t, "password_file", pw, "fail", "status")
	res = do(t, a, fence.ActionStatus)
	if res.OK || !errors.Is(res.Err, fence.ErrStatus) || strings.Contains(res.Err.Error(), "from-file-pw") || !strings.Contains(res.Err.Error(), "[hidden]") {
		t.Fatalf("failed status with password_file: %v", res)
	}
}

// TestTimeoutKillsTheGroup: an agent that hangs is killed with its
// children when agent_timeout passes.
func TestTimeoutKillsTheGroup(t *testing.T) {
	a, dir := scriptAgent(t, "hang", "1", "agent_timeout", "0.5")
	start := time.Now()
	res := do(t, a, fence.ActionStatus)
	if res.OK || !strings.Contains(res.Err.Error(), "killed after") || time.Since(start) > 5*time.Second {
		t.Fatalf("hanging agent: %v after %s", res, time.Since(start))
	}
	log := string(mustRead(t, filepath.Join(dir, "calls.log")))
	_, rest, _ := strings.Cut(log, "pid=")
	pgid, _ := strconv.Atoi(strings.Fields(rest)[0])
	if pgid <= 1 {
		t.Fatalf("no pid in %q", log)
	}
	// Nothing of the agent's process group may survive (its "sleep 300"
	// child included); a killed process may take a moment to go.
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := groupMembers(pgid)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, pid := range left {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
			t.Fatalf("processes of the agent's group survived: %v", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// groupMembers lists the live (not zombie) processes of process group pgid.
func groupMembers(pgid int) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(f) > 2 && f[0] != "Z" && f[2] == strconv.Itoa(pgid) {
			out = append(out, pid)
		}
	}
	return out
}

func TestListStatus(t *testing.T) {
	a, dir := scriptAgent(t)
	os.WriteFile(filepath.Join(dir, "power.m1"), []byte("on\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "power.m2"), []byte("off\n"), 0o644)
	res := do(t, a, fence.ActionListStatus)
	if !res.OK || len(res.Plugs) != 2 || res.Plugs[1].ID != "m2" || res.Plugs[1].Alias != "machine m2" || res.Plugs[1].State != fence.PowerOff {
		t.Fatalf("list-status: %+v", res)
	}
}

// TestAgentWithoutStatus: an agent with no status action (fence_kdump)
// cannot be read back; its successful off is taken as OFF.
func TestAgentWithoutStatus(t *testing.T) {
	md, err := ParseMetadata(mustRead(t, "testdata/metadata/fence_script.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var acts []string
	for _, a := range md.Actions {
		if a != "status" {
			acts = append(acts, a)
		}
	}
	md.Actions = acts
	path, _ := filepath.Abs("testdata/fence_script")
	p := pluginFor(path, md)
	dir := t.TempDir()
	opts, err := fence.Normalize(p, p.Name, map[string]string{"plug": "m1", "state_file": filepath.Join(dir, "power")})
	if err != nil {
		t.Fatal(err)
	}
	a, err := fence.NewAgentFromOptions(p, p.Name, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res := do(t, a, fence.ActionOff); !res.Fenced() || power(t, dir, "m1") != "off" {
		t.Fatalf("off without status: %v", res)
	}
}

func mustRead(t testing.TB, p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseRealMetadata: the metadata of real fence-agents agents
// (copies in testdata) decode with the parameters and names they have.
func TestParseRealMetadata(t *testing.T) {
	for _, tc := range []struct {
		file     string
		params   []string
		legacy   map[string]string
		actions  []string
		hasPlugs bool
	}{
		{"fence_ipmilan.xml", []string{"ip", "lanplus", "cipher", "privlvl", "method", "power_wait"}, map[string]string{"ip": "ipaddr", "password": "passwd", "username": "login"}, []string{"on", "off", "reboot", "status", "diag"}, false},
		{"fence_apc_snmp.xml", []string{"community", "snmp_version", "snmp_priv_prot"}, map[string]string{"plug": "port"}, []string{"list", "list-status"}, true},
		{"fence_kdump.xml", []string{"nodename", "ipport", "family", "timeout"}, nil, []string{"off", "monitor"}, false},
		{"fence_virsh.xml", []string{"command_prompt", "identity_file", "inet4_only"}, map[string]string{"command_prompt": "cmd_prompt"}, []string{"status"}, true},
		{"fence_watchdog.xml", []string{"nodename", "plug"}, nil, []string{"off", "metadata"}, true},
	} {
		t.Run(tc.file, func(t *testing.T) {
			md, err := ParseMetadata(mustRead(t, filepath.Join("testdata/metadata", tc.file)))
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range tc.params {
				if _, ok := md.Param(n); !ok {
					t.Errorf("no parameter %s", n)
				}
			}
			for n, l := range tc.legacy {
				if p, _ := md.Param(n); p.Legacy != l {
					t.Errorf("%s: legacy %q, want %q", n, p.Legacy, l)
				}
			}
			for _, a := range tc.actions {
				if !md.Has(a) {
					t.Errorf("no action %s in %v", a, md.Actions)
				}
			}
			p := pluginFor("/x/"+md.Name, md)
			if p.HasPlugs != tc.hasPlugs {
				t.Errorf("HasPlugs %v", p.HasPlugs)
			}
		})
	}
	for _, bad := range []string{"", "<x/>", `<resource-agent name="sh"><actions><action name="off"/></actions></resource-agent>`,
		`<resource-agent name="fence_x"><parameters><parameter name="action"><content type="string"/></parameter></parameters></resource-agent>`,
		`<resource-agent name="fence_x"><parameters><parameter name="a b"/></parameters><actions><action name="off"/></actions></resource-agent>`} {
		if _, err := ParseMetadata([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}
