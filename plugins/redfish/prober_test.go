package redfish

import (
	"context"
	"testing"

	"palisade/fence"
	"palisade/hw-tests/redfishsim"
)

// TestProberKeptSession: the daemon's device monitor keeps one Redfish
// session for its checks; a session the BMC dropped is renewed, and a BMC
// that stops answering fails the check.
func TestProberKeptSession(t *testing.T) {
	s, err := redfishsim.Start(redfishsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	a, err := fence.NewAgent("fence_redfish", params(s))
	if err != nil {
		t.Fatal(err)
	}
	p := a.Prober()
	defer p.Close()
	ctx := context.Background()
	for i := range 3 {
		if r := p.Check(ctx); r.Err != nil || r.State != fence.PowerOn || r.Reused != (i > 0) {
			t.Fatalf("check %d: %+v", i, r)
		}
	}
	if _, created := s.Sessions(); created != 1 {
		t.Fatalf("%d sessions created for 3 checks, want 1", created)
	}
	s.DropSessions() // the BMC expired it
	if r := p.Check(ctx); r.Err != nil {
		t.Fatalf("check after the session expired: %+v", r)
	}
	s.Stop()
	if r := p.Check(ctx); r.Err == nil {
		t.Fatal("a stopped BMC passed the check")
	}
}

// BenchmarkProberCheck is one check of the daemon's device monitor on a
// kept session (compare BenchmarkStatusOneShot, a whole request).
func BenchmarkProberCheck(b *testing.B) {
	s, err := redfishsim.Start(redfishsim.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Stop()
	a, err := fence.NewAgent("fence_redfish", params(s))
	if err != nil {
		b.Fatal(err)
	}
	p := a.Prober()
	defer p.Close()
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r := p.Check(ctx); r.Err != nil {
			b.Fatal(r.Err)
		}
	}
}
