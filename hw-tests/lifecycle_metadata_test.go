package hwtests

import (
	"context"
	"os"
	"strings"
	"testing"

	"palisade/resources/agent"
)

// Every stock OCF agent's meta-data parses, and what it says about
// reloads is what Pacemaker's controller reads from it (Dummy: OCF 1.0
// reload, its unique parameter state needs a restart).
func TestAgentMetadataStock(t *testing.T) {
	dir := "/usr/lib/ocf/resource.d/heartbeat"
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Skipf("no stock OCF agents (%v): Debian package resource-agents", err)
	}
	reg := agent.NewRegistry(agent.Options{})
	reloads := 0
	agents := 0
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue // shell function libraries, not agents
		}
		agents++
		inst := agent.Instance{ID: "md", Class: "ocf", Provider: "heartbeat", Type: e.Name()}
		m, err := reg.Metadata(context.Background(), inst)
		if err != nil {
			t.Errorf("%s: %v", e.Name(), err)
			continue
		}
		if m.ReloadAction() != "" {
			reloads++
		}
	}
	t.Logf("%d stock agents, %d can reload", agents, reloads)
	m, err := reg.Metadata(context.Background(), agent.Instance{ID: "d", Class: "ocf", Provider: "heartbeat", Type: "Dummy"})
	if err != nil {
		t.Fatal(err)
	}
	if m.ReloadAction() != agent.Reload || len(m.RestartOnly()) != 1 || m.RestartOnly()[0] != "state" {
		t.Errorf("Dummy: reload %q, restart-only %q; want reload and [state]", m.ReloadAction(), m.RestartOnly())
	}
}
