package transport

import (
	"net/netip"
	"strings"
	"testing"
)

func TestNewRefusesBadConfig(t *testing.T) {
	keys := testKeys(t, keyFile1)
	ucast := Link{Kind: Unicast, Peers: []Peer{{Node: 2, Addr: netip.MustParseAddrPort("127.0.0.2:694")}}}
	base := func() Config {
		return Config{Cluster: "c", Node: 1, Generation: 1, Nodes: []uint32{1, 2}, Keys: keys, Links: []Link{ucast}}
	}
	cases := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"no cluster", func(c *Config) { c.Cluster = "" }, "cluster name"},
		{"node 0", func(c *Config) { c.Node = 0 }, "own node id"},
		{"generation 0", func(c *Config) { c.Generation = 0 }, "generation"},
		{"no keys", func(c *Config) { c.Keys = nil }, "no keys"},
		{"no links", func(c *Config) { c.Links = nil }, "0 links"},
		{"duplicate node", func(c *Config) { c.Nodes = []uint32{1, 2, 2} }, "listed twice"},
		{"unknown peer", func(c *Config) { c.Links[0].Peers[0].Node = 5 }, "link link0: peer 127.0.0.2:694 is node 5"},
		{"multicast peer", func(c *Config) { c.Links[0].Peers[0].Addr = netip.MustParseAddrPort("239.1.1.1:694") }, "not a unicast address"},
		{"bad group", func(c *Config) {
			c.Links[0] = Link{Kind: Multicast, Interface: "lo", Group: netip.MustParseAddr("10.0.0.1")}
		}, "not a multicast address"},
		{"mcast no iface", func(c *Config) { c.Links[0] = Link{Kind: Multicast, Group: netip.MustParseAddr("239.1.1.1")} }, "needs an interface"},
		{"bcast no iface", func(c *Config) { c.Links[0] = Link{Kind: Broadcast} }, "needs an interface"},
		{"bcast v6", func(c *Config) {
			c.Links[0] = Link{Kind: Broadcast, Interface: "lo", BroadcastAddr: netip.MustParseAddr("ff02::1")}
		}, "only IPv4"},
		{"no kind", func(c *Config) { c.Links[0].Kind = 0 }, "want Unicast"},
	}
	for _, c := range cases {
		cfg := base()
		cfg.Links = []Link{ucast}
		cfg.Links[0].Peers = append([]Peer(nil), ucast.Peers...)
		c.mod(&cfg)
		_, err := New(cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
	if _, err := New(base()); err != nil {
		t.Errorf("valid config: %v", err)
	}
	// One node alone: a unicast link without peers is valid.
	alone := base()
	alone.Nodes = []uint32{1}
	alone.Links = []Link{{Kind: Unicast}}
	if _, err := New(alone); err != nil {
		t.Errorf("one-node config: %v", err)
	}
}

func TestStartRefusesMissingInterface(t *testing.T) {
	tr, err := New(Config{Cluster: "c", Node: 1, Generation: 1, Nodes: []uint32{1, 2}, Keys: testKeys(t, keyFile1),
		Links: []Link{{Name: "ring9", Kind: Broadcast, Interface: "no-such-if0"}}})
	if err != nil {
		t.Fatal(err)
	}
	err = tr.Start()
	if err == nil || !strings.Contains(err.Error(), `link ring9 (bcast): interface "no-such-if0"`) {
		t.Errorf("err = %v", err)
	}
}
