package hwtests

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"palisade/hw-tests/ipmisim"
	"palisade/hw-tests/pacemaker"
)

// pacemakerCluster builds a Pacemaker cluster whose nodes have our agent as
// fence_palisade_ipmilan, fence_palisade_redfish and
// fence_palisade_apc_snmp (and optionally as fence_ipmilan), or skips when
// Pacemaker, corosync or ipmi_sim cannot run here.
func pacemakerCluster(t *testing.T, tag string, nodes int, cib pacemaker.CIB, oursAsReference bool) *pacemaker.Cluster {
	t.Helper()
	if err := pacemaker.Available(); err != nil {
		t.Skip(err)
	}
	if err := ipmisim.Available(); err != nil {
		t.Skip(err)
	}
	agent := filepath.Join(palisadeBins(t), "fence-agent")
	agents := map[string]string{"fence_palisade_ipmilan": agent, "fence_palisade_redfish": agent, "fence_palisade_apc_snmp": agent}
	if oursAsReference {
		agents["fence_ipmilan"] = agent
	}
	c, err := pacemaker.New(pacemaker.Options{Prefix: fmt.Sprintf("pa-%s-%d", tag, os.Getpid()), Nodes: nodes, Agents: agents, CIB: cib.XML()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, n := range c.Nodes {
				b, _ := os.ReadFile(n.LogPath())
				lines := strings.Split(string(b), "\n")
				if len(lines) > 150 {
					lines = lines[len(lines)-150:]
				}
				t.Logf("%s pacemaker.log (tail):\n%s", n.Name, strings.Join(lines, "\n"))
			}
		}
		if err := c.Close(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return c
}

// bmcIn starts an ipmi_sim at addr:623 in the cluster's client namespace.
func bmcIn(t *testing.T, c *pacemaker.Cluster, addr string, o ipmisim.Options) *ipmisim.Sim {
	t.Helper()
	o.Netns, o.Host, o.Port = c.Lab.Client.Name, addr, 623
	sim, err := ipmisim.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Stop() })
	return sim
}

// waitDC waits until n is online and a DC is elected.
func waitDC(t *testing.T, n *pacemaker.Node, within time.Duration) {
	t.Helper()
	err := pacemaker.WaitFor(within, n.Name+" has a DC", func() (bool, string) {
		out, err := n.RunWithin(5*time.Second, "crmadmin", "-D", "-t", "2000")
		return err == nil && strings.Contains(out, "Designated Controller is:"), out
	})
	if err != nil {
		t.Fatal(err)
	}
}

// runRC runs a command in node n and returns its exit code and output.
func runRC(n *pacemaker.Node, argv ...string) (int, string) {
	out, err := n.Run(argv...)
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, out
	case errors.As(err, &ee):
		return ee.ExitCode(), out
	}
	return -1, out + err.Error()
}

// waitBMC waits until sim answers an IPMI status from node n (ipmitool,
// lanplus with cipher suite 3): a restarted simulator takes a moment, and
// a hung one that was resumed answers its backlog first.
func waitBMC(t *testing.T, n *pacemaker.Node, sim *ipmisim.Sim) {
	t.Helper()
	err := pacemaker.WaitFor(20*time.Second, "BMC "+sim.Addr()+" answering", func() (bool, string) {
		out, err := n.RunWithin(5*time.Second, "ipmitool", "-I", "lanplus", "-C", "3", "-H", sim.Host, "-p", strconv.Itoa(sim.Port),
			"-U", sim.User, "-P", sim.Password, "-N", "1", "-R", "1", "chassis", "power", "status")
		return err == nil && strings.Contains(out, "Chassis Power is"), out
	})
	if err != nil {
		t.Fatal(err)
	}
}
