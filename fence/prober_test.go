package fence

import (
	"context"
	"errors"
	"testing"
)

// proberAgent is an Agent over a scripted device, the way NewAgent builds
// one, with keep deciding Plugin.KeepSession.
func proberAgent(dev *fakeDevice, keep bool, opens *int) *Agent {
	p := &Plugin{Name: "fence_probertest", KeepSession: keep}
	return &Agent{Plugin: p, Name: p.Name, Options: Options{OptLoginTimeout: "1", OptShellTimeout: "1"}, Clock: logical(),
		open: func(ctx context.Context) (Device, error) { *opens++; dev.closed = false; return dev, nil }}
}

// TestProberKeepsSession: a plugin that allows it keeps one session for
// every check; a check that fails on it is tried on a new session.
func TestProberKeepsSession(t *testing.T) {
	dev := &fakeDevice{state: PowerOn}
	opens := 0
	p := proberAgent(dev, true, &opens).Prober()
	for i := range 3 {
		r := p.Check(context.Background())
		if r.Err != nil || r.State != PowerOn || r.Reused != (i > 0) {
			t.Fatalf("check %d: %+v", i, r)
		}
	}
	if opens != 1 || dev.closed {
		t.Fatalf("%d logins (closed %v), want one kept session", opens, dev.closed)
	}
	// The session broke (one silent read): the check logs in again and
	// succeeds on the new session.
	dev.silentReads = 1
	if r := p.Check(context.Background()); r.Err != nil {
		t.Fatalf("check after a broken session: %+v", r)
	}
	if opens != 2 {
		t.Fatalf("%d logins, want a second one after the broken session", opens)
	}
	// A device that cannot read its state fails the check, and the
	// session is not kept.
	dev.statusErr = errors.New("completion code 0xc0")
	if r := p.Check(context.Background()); r.Err == nil || !errors.Is(r.Err, ErrStatus) {
		t.Fatalf("unreadable state passed the check: %+v", r)
	}
	if !dev.closed {
		t.Error("a failing session was kept")
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestProberNoKeep: other plugins log in for every check.
func TestProberNoKeep(t *testing.T) {
	dev := &fakeDevice{state: PowerOff}
	opens := 0
	p := proberAgent(dev, false, &opens).Prober()
	for range 2 {
		if r := p.Check(context.Background()); r.Err != nil || r.Reused || r.State != PowerOff {
			t.Fatalf("check: %+v", r)
		}
	}
	if opens != 2 || !dev.closed {
		t.Fatalf("%d logins (closed %v), want one per check", opens, dev.closed)
	}
}
