package apcsnmp

import (
	"context"
	"strconv"
	"testing"

	"palisade/fence"
	"palisade/hw-tests/pdusim"
)

func proberAgent(t testing.TB, s *pdusim.Sim, c map[string]string) *fence.Agent {
	t.Helper()
	p := map[string]string{"ip": s.Host, "ipport": strconv.Itoa(s.Port), "plug": "3", "login_timeout": "2", "shell_timeout": "2"}
	for k, v := range c {
		p[k] = v
	}
	a, err := fence.NewAgent("fence_apc_snmp", p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestProberKeptSocket: the daemon's device monitor keeps one SNMP socket
// (and, for v3, the discovered engine) for its checks, and a PDU that
// stops answering fails the check.
func TestProberKeptSocket(t *testing.T) {
	s := startPDU(t, pdusim.Options{})
	for _, name := range []string{"v2c", "v3 authPriv SHA AES"} {
		t.Run(name, func(t *testing.T) {
			p := proberAgent(t, s, creds(s)[name]).Prober()
			defer p.Close()
			for i := range 3 {
				if r := p.Check(context.Background()); r.Err != nil || r.Reused != (i > 0) {
					t.Fatalf("check %d: %+v", i, r)
				}
			}
		})
	}
	// The check reads the node's outlets: a plug the PDU does not have
	// (a typo in the topology) fails it, before a fence would.
	c := creds(s)["v2c"]
	missing := map[string]string{"plug": "42"}
	for k, v := range c {
		missing[k] = v
	}
	if r := proberAgent(t, s, missing).Prober().Check(context.Background()); r.Err == nil || fence.Classify(r.Err) != fence.ClassStatus {
		t.Fatalf("check of a missing outlet: %+v", r)
	}
	p := proberAgent(t, s, c).Prober()
	defer p.Close()
	if r := p.Check(context.Background()); r.Err != nil {
		t.Fatal(r.Err)
	}
	s.Stop()
	if r := p.Check(context.Background()); r.Err == nil {
		t.Fatal("a stopped PDU passed the check")
	}
}

// BenchmarkProberCheck is one check of the daemon's device monitor on a
// kept socket.
func BenchmarkProberCheck(b *testing.B) {
	s := startPDU(b, pdusim.Options{})
	for _, name := range []string{"v2c", "v3 authPriv SHA AES"} {
		b.Run(name, func(b *testing.B) {
			p := proberAgent(b, s, creds(s)[name]).Prober()
			defer p.Close()
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if r := p.Check(ctx); r.Err != nil {
					b.Fatal(r.Err)
				}
			}
		})
	}
}
