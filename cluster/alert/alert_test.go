package alert

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

type results struct {
	mu  sync.Mutex
	got []string
}

func (r *results) done(kind, result string) {
	r.mu.Lock()
	r.got = append(r.got, kind+":"+result)
	r.mu.Unlock()
}

func (r *results) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

// waitFor polls cond until it holds; the test's own deadline bounds it.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		if dl, ok := t.Deadline(); ok && time.Until(dl) < time.Second {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func readEnvDumps(t *testing.T, dir string) []map[string]string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "env.*"))
	sort.Slice(files, func(i, j int) bool {
		a, _ := strconv.Atoi(strings.TrimPrefix(filepath.Ext(files[i]), "."))
		b, _ := strconv.Atoi(strings.TrimPrefix(filepath.Ext(files[j]), "."))
		return a < b
	})
	var out []map[string]string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		env := map[string]string{}
		for _, l := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(l, "="); ok {
				env[k] = v
			}
		}
		out = append(out, env)
	}
	return out
}

// TestAlertScript runs a real script that dumps its environment, for one
// event of each kind, and checks what it received.
func TestAlertScript(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PALISADE_BMC_PASSWORD", "must-not-leak")
	script := filepath.Join(dir, "alert.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nenv > \""+dir+"/env.$PALISADE_ALERT_SEQUENCE\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	var res results
	r := NewRunner(Config{Command: script, Recipient: "ops@example.com", Cluster: "prod", LocalNode: "n1", Timeout: 10 * time.Second, Done: res.done}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Run(ctx)
	at := time.Date(2026, 3, 1, 12, 0, 0, 250_000_000, time.UTC)
	events := []Event{
		{Kind: NodeLost, Node: "n2", NodeID: 2, Message: "no heartbeat for 10s", At: at},
		{Kind: FenceRequested, Node: "n2", Action: "off", Message: "fence n2: lost from view 7", At: at},
		{Kind: FenceFailed, Node: "n2", Device: "bmc-n2", Action: "off", RC: 1, Message: "BMC unreachable", At: at},
		{Kind: FenceSucceeded, Node: "n2", Device: "pdu-n2", Action: "off", At: at},
		{Kind: ResourceFailed, Node: "n1", Resource: "vip", Operation: "monitor", Interval: 10 * time.Second, RC: 7, Message: "not running", At: at},
		{Kind: ResourceMoved, Node: "n3", From: "n2", Resource: "grp", At: at},
		{Kind: QuorumLost, Node: "n1", Message: "1 of 3 votes", At: at},
	}
	for _, ev := range events {
		r.Notify(ev)
	}
	waitFor(t, "all alerts", func() bool { return len(res.list()) == len(events) })
	for _, g := range res.list() {
		if !strings.HasSuffix(g, ":success") {
			t.Fatalf("alert results %v", res.list())
		}
	}
	dumps := readEnvDumps(t, dir)
	if len(dumps) != len(events) {
		t.Fatalf("%d dumps for %d events", len(dumps), len(events))
	}
	for i, env := range dumps {
		if env["PALISADE_ALERT_KIND"] != string(events[i].Kind) || env["PALISADE_ALERT_SEQUENCE"] != strconv.Itoa(i+1) {
			t.Fatalf("alert %d ran out of order: %v", i, env)
		}
		for k, v := range env {
			if strings.Contains(v, "must-not-leak") {
				t.Fatalf("the daemon's environment leaked into the alert: %s", k)
			}
		}
		if env["PALISADE_ALERT_CLUSTER"] != "prod" || env["PALISADE_ALERT_LOCAL_NODE"] != "n1" || env["CRM_alert_recipient"] != "ops@example.com" ||
			env["PALISADE_ALERT_TIMESTAMP"] != "2026-03-01T12:00:00.25Z" || env["CRM_alert_timestamp_epoch"] != strconv.FormatInt(at.Unix(), 10) {
			t.Fatalf("alert %d: common variables: %v", i, env)
		}
	}
	want := []map[string]string{
		{"PALISADE_ALERT_NODE": "n2", "PALISADE_ALERT_TARGET": "n2", "PALISADE_ALERT_NODE_ID": "2", "CRM_alert_kind": "node", "CRM_alert_node": "n2", "CRM_alert_desc": "lost", "CRM_alert_nodeid": "2"},
		{"PALISADE_ALERT_ACTION": "off", "CRM_alert_kind": "fencing", "CRM_alert_task": "off", "CRM_alert_rc": "", "CRM_alert_desc": "Operation off of n2: requested"},
		{"PALISADE_ALERT_DEVICE": "bmc-n2", "PALISADE_ALERT_RC": "1", "PALISADE_ALERT_MESSAGE": "BMC unreachable", "CRM_alert_rc": "1", "CRM_alert_desc": "Operation off of n2 by bmc-n2: Error"},
		{"PALISADE_ALERT_DEVICE": "pdu-n2", "CRM_alert_rc": "0", "CRM_alert_desc": "Operation off of n2 by pdu-n2: OK"},
		{"PALISADE_ALERT_RESOURCE": "vip", "PALISADE_ALERT_OPERATION": "monitor", "PALISADE_ALERT_INTERVAL_MS": "10000", "PALISADE_ALERT_RC": "7",
			"CRM_alert_kind": "resource", "CRM_alert_rsc": "vip", "CRM_alert_task": "monitor", "CRM_alert_interval": "10000", "CRM_alert_rc": "7", "CRM_alert_target_rc": "0", "CRM_alert_desc": "not running"},
		{"PALISADE_ALERT_FROM": "n2", "PALISADE_ALERT_NODE": "n3", "CRM_alert_kind": "resource", "CRM_alert_task": "move", "CRM_alert_desc": "moved from n2 to n3"},
		{"PALISADE_ALERT_KIND": "quorum_lost", "CRM_alert_kind": "quorum_lost", "PALISADE_ALERT_MESSAGE": "1 of 3 votes"},
	}
	for i, w := range want {
		for k, v := range w {
			if got, ok := dumps[i][k]; !ok || got != v {
				t.Errorf("alert %d (%s): %s=%q, want %q", i, events[i].Kind, k, got, v)
			}
		}
	}
}

// TestPacemakerAlertAgent runs Pacemaker's own sample alert agent with
// the variables Palisade passes: it must log each event as Pacemaker
// would have it.
func TestPacemakerAlertAgent(t *testing.T) {
	const agent = "/usr/share/pacemaker/alerts/alert_file.sh.sample"
	if _, err := os.Stat(agent); err != nil {
		t.Skipf("Pacemaker's sample alert agent is not installed (%v); the Debian package pacemaker-common has it", err)
	}
	logFile := filepath.Join(t.TempDir(), "alerts.log")
	var res results
	r := NewRunner(Config{Command: "sh " + agent, Recipient: logFile, Done: res.done}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Run(ctx)
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	r.Notify(Event{Kind: NodeLost, Node: "n2", At: at})
	r.Notify(Event{Kind: FenceSucceeded, Node: "n2", Device: "bmc-n2", Action: "off", At: at})
	r.Notify(Event{Kind: ResourceFailed, Node: "n1", Resource: "vip", Operation: "monitor", Interval: 10 * time.Second, RC: 7, Message: "not running", At: at})
	waitFor(t, "three alerts", func() bool { return len(res.list()) == 3 })
	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"2026-03-01 12:00:00.000000: Node 'n2' is now 'lost'",
		"2026-03-01 12:00:00.000000: Fencing Operation off of n2 by bmc-n2: OK",
		"2026-03-01 12:00:00.000000: Resource operation 'monitor (10000)' for 'vip' on 'n1': not running",
	} {
		if !strings.Contains(string(data), want+"\n") {
			t.Errorf("agent log lacks %q:\n%s", want, data)
		}
	}
}

// TestAlertTimeout: a hanging command is killed with its whole process
// group when the timeout passes, and reported as a timeout.
func TestAlertTimeout(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	var res results
	r := NewRunner(Config{Command: "sleep 300 & echo $! > " + pidFile + "; wait", Timeout: 300 * time.Millisecond, Done: res.done}, nil)
	err := r.run(context.Background(), queued{Event{Kind: FenceFailed, Node: "n2"}, 1})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if got := res.list(); len(got) != 1 || got[0] != "fence_failed:timeout" {
		t.Fatalf("results %v", got)
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid := strings.TrimSpace(string(data))
	// The background sleep belonged to the group: it must be gone (or a
	// zombie waiting for init to reap it), not sleeping on.
	waitFor(t, "the child to die", func() bool {
		st, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil {
			return true
		}
		f := strings.Fields(string(st))
		return len(f) > 2 && (f[2] == "Z" || f[2] == "X")
	})
}

// TestAlertBackgroundChild: a script that exits 0 but leaves a background
// child holding its output succeeded; the child is ended.
func TestAlertBackgroundChild(t *testing.T) {
	var res results
	r := NewRunner(Config{Command: "sleep 300 & exit 0", Timeout: 30 * time.Second, Done: res.done}, nil)
	if err := r.run(context.Background(), queued{Event{Kind: NodeLost, Node: "n2"}, 1}); err != nil {
		t.Fatal(err)
	}
	if got := res.list(); len(got) != 1 || got[0] != "node_lost:success" {
		t.Fatalf("results %v", got)
	}
}

// TestAlertQueueFull: Notify never blocks; an alert that finds the queue
// full is dropped and reported.
func TestAlertQueueFull(t *testing.T) {
	var res results
	r := NewRunner(Config{Command: "true", Queue: 1, Done: res.done}, nil)
	r.Notify(Event{Kind: NodeLost, Node: "n2"})
	r.Notify(Event{Kind: QuorumLost, Node: "n1"}) // no Run: the queue is full
	if got := res.list(); len(got) != 1 || got[0] != "quorum_lost:dropped" {
		t.Fatalf("results %v", got)
	}
}
