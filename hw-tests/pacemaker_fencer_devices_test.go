package hwtests

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"palisade/hw-tests/pacemaker"
	"palisade/hw-tests/pdusim"
	"palisade/hw-tests/redfishsim"
)

// The Redfish and APC SNMP personalities of TestPacemakerFencer.

// redfishFencerDevice is redfishsim at https://198.18.0.202:443 in the
// cluster's client namespace. Both agents skip certificate checks
// (ssl_insecure): the fencer's environment cannot point them at the
// simulator's CA.
func redfishFencerDevice(t *testing.T, c *pacemaker.Cluster) *fencerDevice {
	const addr = "198.18.0.202"
	if err := c.AddBMCAddr(addr); err != nil {
		t.Fatal(err)
	}
	n1 := c.Nodes[0]
	sim, err := redfishsim.Start(redfishsim.Options{Host: addr, Port: 443, Netns: c.Lab.Client.Name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Stop)
	ready := func() {
		t.Helper()
		err := pacemaker.WaitFor(20*time.Second, "Redfish "+addr+" answering", func() (bool, string) {
			out, err := n1.RunWithin(5*time.Second, "curl", "-sk", "--max-time", "2", "https://"+addr+"/redfish/v1")
			return err == nil && strings.Contains(out, "RedfishVersion"), out
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	ready()
	return &fencerDevice{
		agent:     "fence_redfish",
		metaParam: "systems_uri",
		conn: [][2]string{{"ip", addr}, {"ipport", "443"}, {"username", sim.User}, {"password", sim.Password},
			{"ssl_insecure", "1"}},
		hostAttrs: func(target string) [][2]string { return [][2]string{{"pcmk_host_list", target}} },
		power:     func() (bool, error) { return sim.Power(), nil },
		setPower:  func(on bool) error { sim.SetPower(on); return nil },
		offs: func() int {
			k := 0
			for _, r := range sim.Resets() {
				switch r {
				case "ForceOff", "GracefulShutdown", "ForceRestart", "PowerCycle":
					k++
				}
			}
			return k
		},
		secret: []fencerFailure{{step: "wrong-password", extra: [][2]string{{"password", "wrong"}},
			want: []string{"Unable to connect/login to fencing device: login denied"}}},
		hang: func() func() {
			sim.Hang(true)
			return func() { sim.Hang(false); ready() }
		},
		stop: func() func() {
			if err := sim.ClosePort(); err != nil {
				t.Fatal(err)
			}
			return func() {
				if err := sim.OpenPort(); err != nil {
					t.Fatal(err)
				}
				ready()
			}
		},
		hungWant:    []string{"device not answering", "no answer from " + addr + ":443"},
		stoppedWant: []string{"device not answering", "connection refused"},
		differs: map[string]string{"query-stopped": "list on a device with a single target prints the reference's notice " +
			"without contacting it (as fence_ipmilan does); fence_redfish 4.12 looks up the system first and fails"},
	}
}

// apcFencerDevice is an APC rack PDU (snmpd with pdusim) at
// 198.18.0.203:161 in the cluster's client namespace; the fence targets
// are mapped to outlet 3. The device speaks SNMP v3 (authNoPriv, SHA), so
// a wrong password is refused by the agent (a report), and a wrong v2c
// community is what it is on a real PDU: no answer at all.
func apcFencerDevice(t *testing.T, c *pacemaker.Cluster) *fencerDevice {
	const addr, outlet = "198.18.0.203", 3
	if err := pdusim.Available(); err != nil {
		t.Skip(err)
	}
	if _, err := os.Stat("/usr/bin/snmpget"); err != nil {
		t.Skipf("the reference agent needs net-snmp's tools (Debian package snmp): %v", err)
	}
	if err := c.AddBMCAddr(addr); err != nil {
		t.Fatal(err)
	}
	n1 := c.Nodes[0]
	helper, err := pdusim.BuildHelper(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var sim *pdusim.Sim
	ready := func() {
		t.Helper()
		err := pacemaker.WaitFor(20*time.Second, "PDU "+addr+" answering", func() (bool, string) {
			out, err := n1.RunWithin(5*time.Second, "snmpget", "-v2c", "-c", sim.ReadCommunity, "-t", "1", "-r", "0", "-On", addr,
				".1.3.6.1.2.1.1.2.0")
			return err == nil && strings.Contains(out, ".1.3.6.1.4.1.318"), out
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	start := func() {
		t.Helper()
		// Its own directory, kept after Stop, so a stopped PDU's outlets
		// can still be read.
		s, err := pdusim.Start(pdusim.Options{Kind: pdusim.RackPDU, Host: addr, Port: 161, Netns: c.Lab.Client.Name,
			Helper: helper, Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Stop)
		sim = s
		ready()
	}
	start()
	offs := 0 // Sets forgets what it returns: a running count
	return &fencerDevice{
		agent:     "fence_apc_snmp",
		metaParam: "snmp_version",
		conn: [][2]string{{"ip", addr}, {"ipport", "161"}, {"snmp_version", "3"}, {"username", sim.AuthUser},
			{"password", sim.AuthPass}, {"snmp_sec_level", "authNoPriv"}, {"snmp_auth_prot", "SHA"}},
		hostAttrs: func(target string) [][2]string {
			return [][2]string{{"pcmk_host_list", target}, {"pcmk_host_map", target + ":" + strconv.Itoa(outlet)}}
		},
		power: func() (bool, error) {
			// A reboot SET (3) is off now, on 100 ms later: read the end.
			for deadline := time.Now().Add(5 * time.Second); !sim.Settled() && time.Now().Before(deadline); {
				time.Sleep(20 * time.Millisecond)
			}
			return sim.Outlet(outlet)
		},
		setPower: func(on bool) error { return sim.SetOutlets(on, outlet) },
		offs: func() int {
			// Off (2) or reboot (3) on an outlet control OID.
			sets, _ := sim.Sets()
			for _, s := range sets {
				if strings.HasSuffix(s, "=2") || strings.HasSuffix(s, "=3") {
					offs++
				}
			}
			return offs
		},
		secret: []fencerFailure{
			{step: "wrong-password", extra: [][2]string{{"password", "wrong-pass-1"}},
				want: []string{"Unable to connect/login to fencing device: login denied", "rejected the SNMP v3 user, passphrase or protocols"}},
			{step: "wrong-community", extra: append([][2]string{{"snmp_version", "2c"}, {"community", "nope"}}, fencerQuick...),
				want: []string{"device not answering", "no answer from " + addr + ":161"}},
		},
		hang: func() func() {
			syscall.Kill(sim.PID(), syscall.SIGSTOP)
			return func() { syscall.Kill(sim.PID(), syscall.SIGCONT); ready() }
		},
		stop: func() func() {
			sim.Stop()
			return start
		},
		hungWant:    []string{"device not answering", "no answer from " + addr + ":161"},
		stoppedWant: []string{"device not answering", "connection refused"},
	}
}
