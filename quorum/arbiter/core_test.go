package arbiter

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"palisade/quorum/arbitration"
)

// sim is an arbiter core and its clients (Sessions) over a network that
// delivers at once unless a node's link is cut. It checks the safety
// invariant after every step: in each cluster, every node that counts the
// vote reports the same view.
type sim struct {
	core    *Core
	lease   time.Duration
	grace   time.Duration
	now     time.Duration
	nextID  ClientID
	clients map[string]*simClient // by node name
	out     []string
}

type simClient struct {
	node, cluster string
	cert          string // the cluster name in the client's certificate
	hello         *Hello
	sess          *Session
	id            ClientID // 0: not connected
	cut           bool
}

func newSim(lease, grace time.Duration) *sim {
	return &sim{core: NewCore(CoreConfig{Lease: lease, Grace: grace, ServerID: "test"}), lease: lease, grace: grace, clients: map[string]*simClient{}}
}

func (s *sim) byID(id ClientID) *simClient {
	for _, c := range s.clients {
		if c.id == id && id != 0 {
			return c
		}
	}
	return nil
}

// deliver performs the core's outputs, and the clients' answers, until
// quiet.
func (s *sim) deliver(outs []Output) {
	for len(outs) > 0 {
		o := outs[0]
		outs = outs[1:]
		if o.Note != "" {
			s.out = append(s.out, "note: "+o.Note)
			continue
		}
		c := s.byID(o.To)
		if c == nil {
			continue
		}
		if o.Msg != nil && !c.cut {
			s.out = append(s.out, fmt.Sprintf("arbiter -> %s: %s", c.node, describe(o.Msg)))
			switch m := o.Msg.(type) {
			case *Welcome:
				c.sess.SetLease(time.Duration(m.LeaseMS) * time.Millisecond)
				if r := c.sess.NextReport(s.now); r != nil {
					outs = append(outs, s.send(c, r)...)
				}
			case *Vote:
				if rel := c.sess.OnVote(m, s.now); rel != nil {
					outs = append(outs, s.send(c, rel)...)
				}
			}
		}
		if o.Close {
			s.out = append(s.out, fmt.Sprintf("arbiter closes %s", c.node))
			c.id = 0
		}
	}
}

func (s *sim) send(c *simClient, m Message) []Output {
	if c.id == 0 || c.cut {
		return nil
	}
	s.out = append(s.out, fmt.Sprintf("%s -> arbiter: %s", c.node, describe(m)))
	// Every message crosses the wire format, so the tests also run the codec.
	b, err := AppendFrame(nil, m)
	if err != nil {
		panic(err)
	}
	dm, _, err := DecodeFrame(b)
	if err != nil {
		panic(err)
	}
	switch m := dm.(type) {
	case *Hello:
		return s.core.Hello(c.id, c.cert, m, s.now)
	case *Report:
		return s.core.Report(c.id, m, s.now)
	case *Release:
		return s.core.Release(c.id, m, s.now)
	}
	return nil
}

func (s *sim) connect(c *simClient) {
	s.nextID++
	c.id = s.nextID
	c.sess.Reconnected()
	s.deliver(s.send(c, c.hello))
}

// counting returns, per cluster, the nodes that count the vote and the
// keys they report, and fails on two keys in one cluster.
func (s *sim) check(t *testing.T) string {
	t.Helper()
	byCluster := map[string][]string{}
	keys := map[string]map[arbitration.Key]bool{}
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range s.clients {
			if !yield(n) {
				return
			}
		}
	})
	for _, n := range names {
		c := s.clients[n]
		if c.sess.Voting(s.now) {
			byCluster[c.cluster] = append(byCluster[c.cluster], n)
			if keys[c.cluster] == nil {
				keys[c.cluster] = map[arbitration.Key]bool{}
			}
			keys[c.cluster][c.sess.view] = true
		}
	}
	var b strings.Builder
	cls := make([]string, 0, len(byCluster))
	for cl := range byCluster {
		cls = append(cls, cl)
	}
	sort.Strings(cls)
	for _, cl := range cls {
		if len(keys[cl]) > 1 {
			t.Fatalf("at %s cluster %s: two partitions count the vote: %v", s.now, cl, keys[cl])
		}
		for k := range keys[cl] {
			fmt.Fprintf(&b, "counting %s: %s %s\n", cl, strings.Join(byCluster[cl], ","), k)
		}
	}
	if b.Len() == 0 {
		b.WriteString("counting: nobody\n")
	}
	return b.String()
}

// TestCore runs testdata/*.txt with github.com/cockroachdb/datadriven
// (`go test -rewrite` regenerates the expected output; review the diff).
//
//	server lease=5s [grace=0s]               a new core (and forgets the clients)
//	connect node=n1 cluster=c1 nodes=n1,n2 [alg=ffsplit|lms] [tb=n1] [cert=c1] at=T
//	view node=n1 v=2 members=n1,n2 [score=N] [held] at=T   a view change, reported at once
//	report node=n1 at=T                      the periodic report
//	cut node=n1 / heal node=n1               drop / deliver the node's messages (connection stays open)
//	disconnect node=n1 at=T                  the connection closes
//	tick at=T
//	restart at=T [grace=D]                   the arbiter restarts: every connection closes, clients reconnect
//
// Each directive prints the messages exchanged, the core's notes, and who
// counts the vote; the invariant (one partition per cluster) is checked
// after every directive.
func TestCore(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		if !strings.HasSuffix(path, ".txt") {
			return
		}
		var s *sim
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			args := map[string]string{}
			for _, a := range d.CmdArgs {
				args[a.Key] = strings.Join(a.Vals, ",")
			}
			dur := func(k string) time.Duration {
				v, err := time.ParseDuration(args[k])
				if err != nil {
					d.Fatalf(t, "%s: %v", k, err)
				}
				return v
			}
			if d.Cmd == "server" {
				grace := time.Duration(0)
				if _, ok := args["grace"]; ok {
					grace = dur("grace")
				}
				s = newSim(dur("lease"), grace)
				if grace == 0 {
					// grace=0s means none at all (NewCore would default it to the lease).
					s.grace = -1
					s.core.cfg.Grace = -1
				}
				return ""
			}
			if s == nil {
				d.Fatalf(t, "server first")
			}
			if _, ok := args["at"]; ok {
				at := dur("at")
				if at < s.now {
					d.Fatalf(t, "time goes backwards: %s < %s", at, s.now)
				}
				s.now = at
			}
			s.out = nil
			c := s.clients[args["node"]]
			switch d.Cmd {
			case "connect":
				if c == nil {
					h := &Hello{Cluster: args["cluster"], Node: args["node"], Algorithm: "ffsplit", TieBreaker: args["tb"]}
					if a, ok := args["alg"]; ok {
						h.Algorithm = a
					}
					for _, n := range strings.Split(args["nodes"], ",") {
						name, votes, ok := strings.Cut(n, ":")
						v := 1
						if ok {
							v, _ = strconv.Atoi(votes)
						}
						h.Nodes = append(h.Nodes, NodeVotes{Name: name, Votes: v})
					}
					c = &simClient{node: args["node"], cluster: args["cluster"], cert: args["cluster"], hello: h, sess: NewSession(s.lease)}
					if cert, ok := args["cert"]; ok {
						c.cert = cert
					}
					s.clients[c.node] = c
				}
				s.connect(c)
			case "view":
				view, _ := strconv.ParseUint(args["v"], 10, 64)
				score, _ := strconv.Atoi(args["score"])
				_, held := args["held"]
				c.sess.SetView(view, strings.Split(args["members"], ","), score, held, s.now)
				s.deliver(s.send(c, c.sess.NextReport(s.now)))
			case "report":
				s.deliver(s.send(c, c.sess.NextReport(s.now)))
			case "cut":
				c.cut = true
			case "heal":
				c.cut = false
			case "disconnect":
				id := c.id
				c.id = 0
				s.deliver(s.core.Disconnect(id, s.now))
			case "tick":
				s.deliver(s.core.Tick(s.now))
			case "restart":
				if _, ok := args["grace"]; ok {
					s.grace = dur("grace")
				}
				s.core = NewCore(CoreConfig{Lease: s.lease, Grace: s.grace, ServerID: "test2"})
				for _, n := range slices.Sorted(mapKeys(s.clients)) {
					if cc := s.clients[n]; !cc.cut {
						s.connect(cc)
					} else {
						cc.id = 0
					}
				}
			default:
				d.Fatalf(t, "unknown directive %q", d.Cmd)
			}
			if len(s.out) == 0 {
				return s.check(t)
			}
			return strings.Join(s.out, "\n") + "\n" + s.check(t)
		})
	})
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
