package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"palisade/cluster/api"
	"palisade/cluster/eventlog"
)

func TestPrintFenceLog(t *testing.T) {
	es := []eventlog.Entry{
		{Wall: "w1", Writer: "n1", Event: eventlog.NodeLost, Target: "n2"},
		{Wall: "w2", Writer: "n1", Event: eventlog.FenceRequested, Target: "n2", Attempt: 1},
		{Wall: "w3", Writer: "n1", Event: eventlog.FenceConfirmed, Target: "n2", Attempt: 1, By: "operator:alice"},
	}
	var b bytes.Buffer
	if err := printFenceLog(&b, es, false); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "node_lost") || !strings.Contains(out, "fence_requested") || !strings.Contains(out, "operator:alice") {
		t.Fatalf("unexpected table:\n%s", out)
	}
}

func TestPrintHistory(t *testing.T) {
	h := api.History{
		Nodes:    []api.FenceNode{{Node: "n2", State: "fenced", Attempts: 2, Failures: 1, By: "device:bmc-n2"}},
		Attempts: []api.FenceAttempt{{Target: "n2", Error: "level 1 bmc-n2: timeout", Start: time.Unix(0, 0)}, {Target: "n2", Level: 1, Devices: "bmc-n2", Start: time.Unix(1, 0)}},
	}
	var b bytes.Buffer
	printHistory(&b, h)
	out := b.String()
	for _, want := range []string{"fenced", "device:bmc-n2", "failed", "timeout"} {
		if !strings.Contains(out, want) {
			t.Errorf("history output lacks %q:\n%s", want, out)
		}
	}
}
