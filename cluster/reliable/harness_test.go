package reliable

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"palisade/cluster/wire"
)

// netFrame is a frame in flight in the simulated network.
type netFrame struct {
	from, to uint32
	gen      uint64 // sender's generation (transport header)
	typ      wire.Type
	payload  []byte
}

// sim is a set of endpoints and the frames between them, all in logical
// time: nothing moves unless a test command moves it.
type sim struct {
	t     testing.TB
	nodes map[uint32]*Endpoint
	net   []netFrame
	out   *strings.Builder
}

func newSim(t testing.TB) *sim {
	return &sim{t: t, nodes: map[uint32]*Endpoint{}, out: &strings.Builder{}}
}

func (s *sim) ids() []uint32 {
	var ids []uint32
	for id := range s.nodes {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// collect takes Ready from every node: frames go into the network,
// deliveries and failures are printed.
func (s *sim) collect() {
	for _, id := range s.ids() {
		e := s.nodes[id]
		rd := e.Ready()
		for _, f := range rd.Frames {
			nf := netFrame{from: id, to: f.To, gen: e.cfg.Generation, typ: f.Type, payload: f.Payload}
			s.net = append(s.net, nf)
			fmt.Fprintf(s.out, "out %s\n", fmtFrame(nf))
		}
		for _, d := range rd.Delivered {
			fmt.Fprintf(s.out, "deliver %d<-%d g%d %q\n", id, d.From, d.Generation, d.Payload)
		}
		for _, f := range rd.Failed {
			fmt.Fprintf(s.out, "fail %d->%d %q: %v\n", id, f.To, f.Payload, f.Err)
		}
	}
}

func fmtFrame(f netFrame) string {
	switch f.typ {
	case wire.TypeReliableData:
		d, err := decodeData(f.payload)
		if err != nil {
			return err.Error()
		}
		return fmt.Sprintf("%d->%d data dst=g%d e%d s%d %q", f.from, f.to, d.dstGen, d.epoch, d.seq, d.payload)
	case wire.TypeReliableAck:
		a, err := decodeAck(f.payload)
		if err != nil {
			return err.Error()
		}
		return fmt.Sprintf("%d->%d ack dst=g%d e%d cum=%d sack=%b", f.from, f.to, a.dstGen, a.epoch, a.cum, a.sack)
	}
	return fmt.Sprintf("%d->%d %s", f.from, f.to, f.typ)
}

// step hands one in-flight frame to its destination (if it exists).
func (s *sim) step(f netFrame) {
	e := s.nodes[f.to]
	if e == nil {
		return
	}
	if err := e.Step(f.from, f.gen, f.typ, f.payload); err != nil {
		fmt.Fprintf(s.out, "step error: %v\n", err)
	}
}

func (s *sim) newNode(id uint32, args map[string]string) {
	cfg := Config{Self: id}
	for k, v := range args {
		n, err := strconv.Atoi(v)
		if err != nil {
			s.t.Fatalf("%s=%s: %v", k, v, err)
		}
		switch k {
		case "gen":
			cfg.Generation = uint64(n)
		case "sendbuf":
			cfg.SendBuffer = n
		case "window":
			cfg.Window = n
		case "recvbuf":
			cfg.RecvBuffer = n
		case "rto":
			cfg.RetransmitTicks = n
		case "maxrto":
			cfg.MaxRetransmitTicks = n
		default:
			s.t.Fatalf("unknown node option %s", k)
		}
	}
	e, err := New(cfg)
	if err != nil {
		fmt.Fprintf(s.out, "error: %v\n", err)
		return
	}
	s.nodes[id] = e
}

// simCommands are extra commands registered by other test files.
var simCommands = map[string]func(s *sim, pos []string){}

// run executes one command and returns its output.
func (s *sim) run(cmd string) string {
	s.out.Reset()
	f := strings.Fields(cmd)
	args := map[string]string{}
	var pos []string
	for _, a := range f[1:] {
		if k, v, ok := strings.Cut(a, "="); ok {
			args[k] = v
		} else {
			pos = append(pos, a)
		}
	}
	num := func(i int) uint32 {
		n, err := strconv.Atoi(pos[i])
		if err != nil {
			s.t.Fatalf("%q: argument %d: %v", cmd, i, err)
		}
		return uint32(n)
	}
	switch f[0] {
	case "node", "restart":
		// restart drops the old endpoint's state (and its frames in flight
		// stay in flight: they may still arrive).
		s.newNode(num(0), args)
	case "send":
		// send FROM TO payload...
		if err := s.nodes[num(0)].Send(num(1), []byte(strings.Join(pos[2:], " "))); err != nil {
			fmt.Fprintf(s.out, "error: %v\n", err)
		}
	case "tick":
		n := 1
		if len(pos) > 0 {
			n = int(num(0))
		}
		for range n {
			for _, id := range s.ids() {
				s.nodes[id].Tick()
			}
		}
	case "advance":
		// advance N: every node moves N ticks at once (Endpoint.Advance).
		for _, id := range s.ids() {
			s.nodes[id].Advance(int(num(0)))
		}
	case "next-due":
		// next-due NODE: Endpoint.NextDue.
		if n, ok := s.nodes[num(0)].NextDue(); ok {
			fmt.Fprintf(s.out, "next retransmission in %d ticks\n", n)
		} else {
			fmt.Fprintf(s.out, "nothing in flight\n")
		}
	case "observe":
		s.nodes[num(0)].Observe(num(1), uint64(num(2)))
	case "forget":
		s.nodes[num(0)].Forget(num(1))
	case "net":
		for i, nf := range s.net {
			fmt.Fprintf(s.out, "#%d %s\n", i, fmtFrame(nf))
		}
	case "drop":
		// drop [i ...]: drop those in-flight frames, or all of them.
		if len(pos) == 0 {
			s.net = nil
			break
		}
		var keep []netFrame
		for i, nf := range s.net {
			if !slices.Contains(pos, strconv.Itoa(i)) {
				keep = append(keep, nf)
			}
		}
		s.net = keep
	case "dup":
		for i := range pos {
			s.net = append(s.net, s.net[num(i)])
		}
	case "flush":
		// flush [reverse]: deliver everything in flight (not what the
		// steps produce: that waits for the next flush).
		batch := s.net
		s.net = nil
		if slices.Contains(pos, "reverse") {
			slices.Reverse(batch)
		}
		for _, nf := range batch {
			s.step(nf)
		}
	case "pending":
		fmt.Fprintf(s.out, "pending %d->%d: %d\n", num(0), num(1), s.nodes[num(0)].Pending(num(1)))
	case "raw":
		// raw FROM TO GEN data|ack HEX: a hand-made frame.
		typ := wire.TypeReliableData
		if pos[3] == "ack" {
			typ = wire.TypeReliableAck
		}
		var b []byte
		fmt.Sscanf(pos[4], "%x", &b)
		s.step(netFrame{from: num(0), to: num(1), gen: uint64(num(2)), typ: typ, payload: b})
	default:
		fn, ok := simCommands[f[0]]
		if !ok {
			s.t.Fatalf("unknown command %q", cmd)
		}
		fn(s, pos)
	}
	s.collect()
	if s.out.Len() == 0 {
		return "ok\n"
	}
	return s.out.String()
}

func init() {
	simCommands["stats"] = func(s *sim, pos []string) {
		for _, id := range s.ids() {
			fmt.Fprintf(s.out, "%d: %+v\n", id, s.nodes[id].Stats())
		}
	}
}
