package executor

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"palisade/resources/agent"
	"palisade/resources/model"
)

// fileAgent keeps its state in $OCF_RESKEY_state, a file that holds
// $OCF_RESKEY_value; it is OCF 1.1 with reload-agent, value reloadable,
// token a secret. Every call is logged with the state file it used.
const fileAgent = `#!/bin/sh
echo "$1 $OCF_RESKEY_state $OCF_RESKEY_value" >> "$OCF_RESKEY_log"
case "$1" in
meta-data) cat <<'XML'
<resource-agent name="File"><version>1.1</version><parameters>
<parameter name="state" unique="1"/><parameter name="value" reloadable="1"/>
<parameter name="log" reloadable="1"/><parameter name="token" private="1"/>
</parameters><actions><action name="start"/><action name="stop"/><action name="monitor"/>
<action name="reload-agent"/></actions></resource-agent>
XML
   exit 0 ;;
start|reload-agent) echo "$OCF_RESKEY_value" > "$OCF_RESKEY_state"; exit 0 ;;
stop) rm -f "$OCF_RESKEY_state"; exit 0 ;;
monitor) [ -f "$OCF_RESKEY_state" ] && exit 0; exit 7 ;;
*) exit 3 ;;
esac
`

func newFileExecutor(t *testing.T) (*Executor, string) {
	t.Helper()
	root := t.TempDir()
	p := filepath.Join(root, "resource.d", "test")
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p, "File"), []byte(fileAgent), 0o755); err != nil {
		t.Fatal(err)
	}
	ex := New(Config{Node: "n1", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Agent: agent.NewRegistry(agent.Options{OCFRoot: root})})
	t.Cleanup(ex.Close)
	return ex, t.TempDir()
}

// Stop and monitor run with the parameters the resource was started with,
// whatever the configuration says meanwhile: after a change of its state
// file (which needs a restart), the stop removes the old file, not the
// new one (issue 11: a changed VIP address stayed up).
func TestStopUsesStartedParams(t *testing.T) {
	ex, dir := newFileExecutor(t)
	ctx := context.Background()
	inst := func(state, value string) agent.Instance {
		return agent.Instance{ID: "r", Class: "ocf", Provider: "test", Type: "File", Timeout: 10 * time.Second,
			Params: map[string]string{"state": filepath.Join(dir, state), "value": value, "log": filepath.Join(dir, "log"), "token": "s3cret"}}
	}
	old, changed := inst("old", "1"), inst("new", "1")
	ev := ex.Exec(ctx, Op{Instance: old, Action: agent.Start})
	if ev.Failed() {
		t.Fatalf("start: %+v", ev.Result)
	}
	want := model.NewParamRecord(old.Params, true, []string{"state", "token"}, []string{"token"})
	if ev.Ran.Digest != want.Digest || ev.Ran.RestartDigest != want.RestartDigest || strings.Join(ev.Ran.ForceRestart, ",") != "state,token" {
		t.Errorf("start recorded %+v, want %+v", ev.Ran, want)
	}
	if _, ok := ev.Ran.Params["token"]; ok {
		t.Errorf("the secret is in the record: %v", ev.Ran.Params)
	}
	if ev := ex.Exec(ctx, Op{Instance: changed, Action: agent.Monitor, Interval: 0, Probe: true}); ev.Result.RC != agent.OK {
		t.Errorf("probe with the new parameters of a running resource: rc %d, want 0 (it runs with the old ones)", ev.Result.RC)
	}
	if ev := ex.Exec(ctx, Op{Instance: changed, Action: agent.Stop}); ev.Failed() {
		t.Fatalf("stop: %+v", ev.Result)
	}
	// Every recorded operation carries the digest of what it ran with.
	for _, rs := range ex.Status() {
		for _, r := range rs.Ops {
			if r.Action == agent.Stop && r.Digest != model.ParamsDigest(old.Params) {
				t.Errorf("the stop's record has digest %s, want that of the started parameters %s", r.Digest, model.ParamsDigest(old.Params))
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "old")); !os.IsNotExist(err) {
		t.Errorf("the stop left the old state file (%v): it ran with the new parameters", err)
	}
	log, _ := os.ReadFile(filepath.Join(dir, "log"))
	if strings.Contains(string(log), filepath.Join(dir, "new")) {
		t.Errorf("an action ran with the new state file before any start with it:\n%s", log)
	}
	// Stopped: the next start takes the new parameters.
	if ev := ex.Exec(ctx, Op{Instance: changed, Action: agent.Start}); ev.Failed() || ev.Ran.Digest != model.ParamsDigest(changed.Params) {
		t.Errorf("start with the new parameters: %+v digest %s", ev.Result, ev.Ran.Digest)
	}
}

// A reload applies the new reloadable parameters and records them.
func TestReloadRecordsNewParams(t *testing.T) {
	ex, dir := newFileExecutor(t)
	ctx := context.Background()
	in := agent.Instance{ID: "r", Class: "ocf", Provider: "test", Type: "File", Timeout: 10 * time.Second,
		Params: map[string]string{"state": filepath.Join(dir, "s"), "value": "1", "log": filepath.Join(dir, "log")}}
	ex.Exec(ctx, Op{Instance: in, Action: agent.Start})
	in2 := in
	in2.Params = map[string]string{"state": filepath.Join(dir, "s"), "value": "2", "log": filepath.Join(dir, "log")}
	ev := ex.Exec(ctx, Op{Instance: in2, Action: agent.ReloadAgent})
	if ev.Failed() || ev.Ran.Digest != model.ParamsDigest(in2.Params) {
		t.Fatalf("reload: %+v, digest %s", ev.Result, ev.Ran.Digest)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "s")); strings.TrimSpace(string(b)) != "2" {
		t.Errorf("state after reload: %q, want 2", b)
	}
	// Monitors now run with the reloaded parameters.
	if p, ok := ex.StartedParams("r"); !ok || p["value"] != "2" {
		t.Errorf("started params after reload: %v", p)
	}
}
