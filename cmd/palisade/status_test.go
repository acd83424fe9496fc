package main

import (
	"strings"
	"testing"

	"palisade/cluster/api"
)

func ptr(v int64) *int64 { return &v }

func TestPrintStatus(t *testing.T) {
	st := api.Status{
		Cluster: "prod", Node: api.NodeRef{ID: 1, Name: "alpha"}, Generation: 7, UptimeMS: 61000,
		View: api.ViewStatus{ID: 4, Agreed: true, DC: api.NodeRef{ID: 1, Name: "alpha"},
			Members: []api.MemberStatus{{NodeRef: api.NodeRef{ID: 1, Name: "alpha"}, Generation: 7}, {NodeRef: api.NodeRef{ID: 2, Name: "beta"}, Generation: 3}}},
		Nodes: []api.NodeStatus{
			{NodeRef: api.NodeRef{ID: 1, Name: "alpha"}, Self: true, State: "up", Generation: 7},
			{NodeRef: api.NodeRef{ID: 2, Name: "beta"}, State: "up", Generation: 3, LastHeardMS: ptr(40),
				Links: []api.LinkStatus{{Name: "ring0", State: "up", LastHeardMS: ptr(40)}, {Name: "ring1", State: "dead", LastHeardMS: ptr(12500)}}},
			{NodeRef: api.NodeRef{ID: 3, Name: "gamma"}, State: "dead", Generation: 0,
				Links: []api.LinkStatus{{Name: "ring0", State: "dead"}, {Name: "ring1", State: "dead"}}},
		},
		Links:   []api.LinkTraffic{{Name: "ring0", Kind: "ucast", TxPackets: 10}, {Name: "ring1", Kind: "mcast"}},
		Dropped: map[string]uint64{"bad_mac": 2, "replay": 1, "truncated": 0},
	}
	var b strings.Builder
	printStatus(&b, st)
	want := `cluster prod, node alpha (id 1), generation 7, up 1m1s
view 4 (agreed): alpha beta; DC alpha

NODE   ID  STATE      GENERATION  LAST HEARD  RING0       RING1
alpha  1   up (self)  7           -           -           -
beta   2   up         3           40ms        up 40ms     dead 13s
gamma  3   dead       0           never       dead never  dead never

LINK   KIND   TX PKTS  TX BYTES  RX PKTS  RX BYTES  DUPLICATES  TX ERRORS
ring0  ucast  10       0         0        0         0           0
ring1  mcast  0        0         0        0         0           0

dropped: bad_mac=2 replay=1
`
	if got := b.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}
