package ping

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
)

// TestTracker runs testdata/*.txt (datadriven; -rewrite regenerates):
//
//	config interval=1s timeout=3s groups=uplink:100:198.18.0.254+198.18.0.253,storage:10:198.18.0.100
//	reply at=T addr=A [addr=B...]
//	status at=T
func TestTracker(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		var tr *Tracker
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "config":
				var iv, to time.Duration
				var groups string
				d.ScanArgs(t, "interval", &iv)
				d.ScanArgs(t, "timeout", &to)
				for _, a := range d.CmdArgs {
					if a.Key == "groups" {
						groups = strings.Join(a.Vals, ",")
					}
				}
				cfg := Config{Interval: iv, Timeout: to, Attribute: "pingd"}
				for _, g := range strings.Split(groups, ",") {
					f := strings.SplitN(g, ":", 3)
					grp := Group{Name: f[0]}
					grp.Weight = atoi(f[1])
					for _, a := range strings.Split(f[2], "+") {
						grp.Addresses = append(grp.Addresses, netip.MustParseAddr(a))
					}
					cfg.Groups = append(cfg.Groups, grp)
				}
				var err error
				if tr, err = NewTracker(cfg); err != nil {
					return "error: " + err.Error()
				}
				return ""
			case "reply":
				var at time.Duration
				d.ScanArgs(t, "at", &at)
				for _, a := range d.CmdArgs {
					if a.Key == "addr" {
						for _, v := range a.Vals {
							tr.Reply(netip.MustParseAddr(v), at)
						}
					}
				}
				return ""
			case "status":
				var at time.Duration
				d.ScanArgs(t, "at", &at)
				return tr.Status(at).String() + "\n"
			}
			d.Fatalf(t, "unknown directive %q", d.Cmd)
			return ""
		})
	})
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// TestPingLoopback sends real ICMP echo requests to loopback addresses
// (the only ones a unit test may ping; hw-tests ping inside namespaces).
func TestPingLoopback(t *testing.T) {
	cfg := Config{Interval: 50 * time.Millisecond, Timeout: 200 * time.Millisecond, Attribute: "pingd",
		Groups: []Group{{Name: "lo4", Weight: 10, Addresses: []netip.Addr{netip.MustParseAddr("127.0.0.1")}},
			{Name: "lo6", Weight: 5, Addresses: []netip.Addr{netip.MustParseAddr("::1")}}}}
	p, err := NewPinger(cfg, nil)
	if err != nil {
		t.Skipf("no ICMP socket on this host (needs root or net.ipv4.ping_group_range): %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(5 * time.Second)
	for p.Status().Score != 15 {
		if time.Now().After(deadline) {
			t.Fatalf("loopback never answered: %s", p.Status())
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case <-p.Changes():
	case <-time.After(time.Second):
		t.Fatal("no change notification when the groups came up")
	}
	if k, v := p.Status().NodeAttribute(); k != "pingd" || v != "15" {
		t.Fatalf("node attribute %s=%s", k, v)
	}
}
