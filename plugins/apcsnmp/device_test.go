package apcsnmp

import (
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"palisade/fence"
	"palisade/hw-tests/pdusim"
)

var helper string

// TestMain builds the simulator's pass_persist helper once.
func TestMain(m *testing.M) {
	code := func() int {
		if pdusim.Available() == nil {
			dir, err := os.MkdirTemp("", "apcsnmp-test-")
			if err != nil {
				panic(err)
			}
			defer os.RemoveAll(dir)
			if helper, err = pdusim.BuildHelper(dir); err != nil {
				panic(err)
			}
		}
		return m.Run()
	}()
	os.Exit(code)
}

func startPDU(t testing.TB, o pdusim.Options) *pdusim.Sim {
	t.Helper()
	if err := pdusim.Available(); err != nil {
		t.Skip(err)
	}
	o.Helper = helper
	s, err := pdusim.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// creds are the options for each SNMP flavour the simulator serves.
func creds(s *pdusim.Sim) map[string]map[string]string {
	return map[string]map[string]string{
		"v1":  {"snmp_version": "1", "community": s.Community},
		"v2c": {"snmp_version": "2c", "community": s.Community},
		"v3 authNoPriv SHA": {"snmp_version": "3", "username": s.AuthUser, "password": s.AuthPass,
			"snmp_sec_level": "authNoPriv", "snmp_auth_prot": "SHA"},
		"v3 authPriv SHA AES": {"snmp_version": "3", "username": s.PrivUser, "password": s.PrivAuthPass,
			"snmp_priv_passwd": s.PrivPass, "snmp_auth_prot": "SHA", "snmp_priv_prot": "AES"},
		"v3 authNoPriv MD5 (default)": {"snmp_version": "3", "username": s.MD5User, "password": s.MD5Pass, "snmp_sec_level": "authNoPriv"},
	}
}

func pduAgent(t *testing.T, s *pdusim.Sim, c map[string]string, kv ...string) *fence.Agent {
	t.Helper()
	p := map[string]string{"ip": s.Host, "ipport": strconv.Itoa(s.Port), "power_timeout": "3", "stonith_status_sleep": "0.05"}
	for k, v := range c {
		p[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		p[kv[i]] = kv[i+1]
	}
	a, err := fence.NewAgent("fence_apc_snmp", p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func run(t *testing.T, a *fence.Agent, act fence.Action) fence.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return a.Do(ctx, act)
}

// TestActionsEveryVersionAndTable: status, off, on and reboot of one
// outlet by number and by name, over every SNMP flavour, on both tables.
func TestActionsEveryVersionAndTable(t *testing.T) {
	for _, kind := range []pdusim.Kind{pdusim.RackPDU, pdusim.MasterSwitch} {
		s := startPDU(t, pdusim.Options{Kind: kind, Transition: 80 * time.Millisecond})
		for name, c := range creds(s) {
			t.Run(string(kind)+" "+name, func(t *testing.T) {
				if err := s.Reset(true); err != nil {
					t.Fatal(err)
				}
				for _, plug := range []string{"3", "node5"} {
					a := pduAgent(t, s, c, "plug", plug)
					n := 3
					if plug == "node5" {
						n = 5
					}
					for _, st := range []struct {
						act fence.Action
						on  bool
					}{{fence.ActionStatus, true}, {fence.ActionOff, false}, {fence.ActionStatus, false}, {fence.ActionOn, true}, {fence.ActionReboot, true}} {
						res := run(t, a, st.act)
						if !res.OK {
							t.Fatalf("plug %s %s: %v", plug, st.act, res)
						}
						if on, _ := s.Outlet(n); on != st.on {
							t.Fatalf("plug %s %s: outlet %d on=%v, want %v", plug, st.act, n, on, st.on)
						}
					}
				}
				outs, _ := s.Outlets()
				for i, on := range outs {
					if !on {
						t.Errorf("outlet %d was switched although never named", i+1)
					}
				}
			})
		}
		if kind == pdusim.RackPDU {
			sets, _ := s.Sets()
			for _, set := range sets {
				if !strings.HasPrefix(set, ".1.3.6.1.4.1.318.1.1.12.3.3.1.1.4.") {
					t.Errorf("rack PDU switched through %s, want rPDUOutletControlOutletCommand", set)
				}
			}
		}
	}
}

// TestSeveralOutletsPerNode: plug "2,4" is both off (verified), then both
// on; status is ON while either is on.
func TestSeveralOutletsPerNode(t *testing.T) {
	s := startPDU(t, pdusim.Options{})
	a := pduAgent(t, s, creds(s)["v2c"], "plug", "2,node4")
	if err := s.SetOutlets(false, 2); err != nil {
		t.Fatal(err)
	}
	if res := run(t, a, fence.ActionStatus); !res.OK || res.State != fence.PowerOn {
		t.Fatalf("status with one of two on: %v", res)
	}
	s.Sets()
	res := run(t, a, fence.ActionReboot)
	if !res.Fenced() || res.State != fence.PowerOn {
		t.Fatalf("reboot: %v", res)
	}
	sets, _ := s.Sets()
	want := []string{
		".1.3.6.1.4.1.318.1.1.12.3.3.1.1.4.2=2", ".1.3.6.1.4.1.318.1.1.12.3.3.1.1.4.4=2",
		".1.3.6.1.4.1.318.1.1.12.3.3.1.1.4.2=1", ".1.3.6.1.4.1.318.1.1.12.3.3.1.1.4.4=1",
	}
	if strings.Join(sets, " ") != strings.Join(want, " ") {
		t.Errorf("SETs %v, want all off then all on %v", sets, want)
	}
	res = run(t, pduAgent(t, s, creds(s)["v1"], "plug", "2;4", "plug_separator", ";"), fence.ActionOff)
	if !res.Fenced() {
		t.Fatalf("off with plug_separator ';': %v", res)
	}
	if on2, _ := s.Outlet(2); on2 {
		t.Error("outlet 2 still on")
	}
	if on4, _ := s.Outlet(4); on4 {
		t.Error("outlet 4 still on")
	}
}

func TestListAndMonitor(t *testing.T) {
	s := startPDU(t, pdusim.Options{Kind: pdusim.MasterSwitch, Outlets: []string{"alpha", "beta", "gamma"}, Off: []int{2}})
	a := pduAgent(t, s, creds(s)["v3 authPriv SHA AES"])
	res := run(t, a, fence.ActionListStatus)
	if !res.OK || len(res.Plugs) != 3 {
		t.Fatalf("list-status: %v", res)
	}
	var got []string
	for _, p := range res.Plugs {
		got = append(got, p.ID+","+p.Alias+","+p.State.String())
	}
	if want := "1,alpha,ON 2,beta,OFF 3,gamma,ON"; strings.Join(got, " ") != want {
		t.Errorf("list-status %q, want %q", strings.Join(got, " "), want)
	}
	if res := run(t, a, fence.ActionMonitor); !res.OK {
		t.Errorf("monitor: %v", res)
	}
}

func TestFailures(t *testing.T) {
	s := startPDU(t, pdusim.Options{})
	c := creds(s)
	t.Run("SET refused", func(t *testing.T) {
		s.Reset(true)
		s.FailSets("wrong-value")
		res := run(t, pduAgent(t, s, c["v2c"], "plug", "1"), fence.ActionOff)
		if res.OK || !strings.Contains(res.Err.Error(), "wrongValue") || res.Elapsed > 2*time.Second {
			t.Errorf("refused SET: %v", res)
		}
	})
	t.Run("SET ignored", func(t *testing.T) {
		s.Reset(true)
		s.IgnoreSets(true)
		res := run(t, pduAgent(t, s, c["v1"], "plug", "1", "power_timeout", "0.3"), fence.ActionOff)
		if res.OK || !errors.Is(res.Err, fence.ErrTimedOutOff) {
			t.Errorf("PDU that ignores SETs: %v", res)
		}
	})
	s.Reset(true)
	t.Run("unknown outlet name", func(t *testing.T) {
		res := run(t, pduAgent(t, s, c["v1"], "plug", "nosuch"), fence.ActionOff)
		if res.OK || !strings.Contains(res.Err.Error(), "can't find port with name nosuch") {
			t.Errorf("unknown name: %v", res)
		}
	})
	t.Run("outlet number out of range", func(t *testing.T) {
		res := run(t, pduAgent(t, s, c["v1"], "plug", "42"), fence.ActionOff)
		if res.OK || !errors.Is(res.Err, fence.ErrStatus) || !strings.Contains(res.Err.Error(), "noSuchName") {
			t.Errorf("outlet 42 (v1): %v", res)
		}
		res = run(t, pduAgent(t, s, c["v2c"], "plug", "42"), fence.ActionStatus)
		if res.OK || !strings.Contains(res.Err.Error(), "no such outlet") {
			t.Errorf("outlet 42 (v2c): %v", res)
		}
	})
	t.Run("wrong v3 passphrase", func(t *testing.T) {
		res := run(t, pduAgent(t, s, c["v3 authNoPriv SHA"], "plug", "1", "password", "wrong-pass-1"), fence.ActionStatus)
		if res.OK || !errors.Is(res.Err, fence.ErrLoginDenied) || strings.Contains(res.Err.Error(), "wrong-pass-1") {
			t.Errorf("wrong passphrase: %v", res)
		}
	})
	t.Run("unknown v3 user", func(t *testing.T) {
		res := run(t, pduAgent(t, s, c["v3 authNoPriv SHA"], "plug", "1", "username", "mallory"), fence.ActionStatus)
		if res.OK || !errors.Is(res.Err, fence.ErrLoginDenied) {
			t.Errorf("unknown user: %v", res)
		}
	})
	t.Run("read-only community", func(t *testing.T) {
		res := run(t, pduAgent(t, s, c["v2c"], "plug", "1", "community", s.ReadCommunity), fence.ActionOff)
		if res.OK || !strings.Contains(res.Err.Error(), "noAccess") {
			t.Errorf("SET with the read-only community: %v", res)
		}
		if on, _ := s.Outlet(1); !on {
			t.Error("outlet switched with a read-only community")
		}
	})
	t.Run("nothing listening", func(t *testing.T) {
		// An ICMP port unreachable: reported at once, not tried again.
		pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port)
		pc.Close()
		start := time.Now()
		res := run(t, pduAgent(t, s, c["v2c"], "plug", "1", "ipport", port, "login_timeout", "2"), fence.ActionStatus)
		if res.OK || !errors.Is(res.Err, fence.ErrUnreachable) || errors.Is(res.Err, fence.ErrNoAnswer) || time.Since(start) > time.Second {
			t.Errorf("nothing listening: %v after %s", res, time.Since(start))
		}
	})
	t.Run("wrong community", func(t *testing.T) {
		start := time.Now()
		// Dropped silently by the agent: no answer, so tried again
		// (login_timeout each) for the silent-device budget (power_timeout).
		res := run(t, pduAgent(t, s, c["v1"], "plug", "1", "community", "nope", "login_timeout", "0.3", "power_timeout", "1"), fence.ActionStatus)
		if res.OK || !errors.Is(res.Err, fence.ErrNoAnswer) || !strings.Contains(res.Err.Error(), "login attempts") || time.Since(start) > 3*time.Second {
			t.Errorf("wrong community: %v after %s", res, time.Since(start))
		}
	})
}

// BenchmarkStatusKeptSocket is the daemon's monitor: one Device (one UDP
// socket, the table known) kept open, one status read per iteration.
func BenchmarkStatusKeptSocket(b *testing.B) {
	s := startPDU(b, pdusim.Options{})
	for name, c := range map[string]map[string]string{"v2c": creds(s)["v2c"], "v3 authPriv": creds(s)["v3 authPriv SHA AES"]} {
		b.Run(name, func(b *testing.B) {
			o := fence.Options{"ip": s.Host, "ipport": strconv.Itoa(s.Port)}
			for k, v := range c {
				o[k] = v
			}
			cfg, err := ConfigFromOptions(o)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			d, err := cfg.Open(ctx)
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if st, err := d.Status(ctx, "3"); err != nil || st != fence.PowerOn {
					b.Fatal(st, err)
				}
			}
		})
	}
}
