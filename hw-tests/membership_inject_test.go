package hwtests

// The forged / replayed / wrong-key packet test. Two helper processes run
// inside the lab: "capture" on n1 reads one authentic heartbeat of n2 with a
// raw UDP socket, and "inject" on the client sends n1 a replay of it, a
// tampered copy, packets signed with a wrong key, with an unknown key id,
// for another cluster, and garbage. n1 must drop and count each, and keep
// n2 up.

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"palisade/cluster/api"
	"palisade/cluster/wire"
)

const fHelperEnv = "PA_F_HELPER"

func TestFHelperProcess(t *testing.T) {
	var err error
	switch os.Getenv(fHelperEnv) {
	case "":
		t.Skip("not a test: entry point of the membership test's capture/inject helpers")
	case "capture":
		err = captureHeartbeat(uint32(2), 694)
	case "inject":
		err = injectPackets(os.Getenv("PA_F_TARGET"), os.Getenv("PA_F_PACKET"))
	}
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// captureHeartbeat prints the hex of one UDP payload to port from node.
func captureHeartbeat(from uint32, port int) error {
	c, err := net.ListenPacket("ip4:udp", "0.0.0.0")
	if err != nil {
		return fmt.Errorf("raw socket: %w", err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 65536)
	for {
		n, _, err := c.ReadFrom(buf)
		if err != nil {
			return fmt.Errorf("capturing: %w", err)
		}
		if n < 8+wire.MinPacket || int(binary.BigEndian.Uint16(buf[2:4])) != port {
			continue
		}
		pkt := buf[8:n]
		if wire.Type(pkt[3]) == wire.TypeHeartbeat && binary.BigEndian.Uint32(pkt[6:10]) == from {
			fmt.Println("packet", hex.EncodeToString(pkt))
			return nil
		}
	}
}

func injectPackets(target, packetHex string) error {
	pkt, err := hex.DecodeString(packetHex)
	if err != nil || len(pkt) < wire.MinPacket {
		return fmt.Errorf("bad captured packet %q", packetHex)
	}
	c, err := net.Dial("udp", target)
	if err != nil {
		return err
	}
	defer c.Close()
	from := binary.BigEndian.Uint32(pkt[6:10])
	gen := binary.BigEndian.Uint64(pkt[14:22])
	seq := binary.BigEndian.Uint64(pkt[22:30])
	cluster := string(pkt[39 : 39+int(pkt[38])])

	tampered := append([]byte(nil), pkt...)
	binary.BigEndian.PutUint64(tampered[22:30], seq+1000) // a fresh seq, but the MAC no longer matches

	sign := func(keyID uint16, cluster string) []byte {
		secret := make([]byte, 32)
		rand.Read(secret)
		out, err := wire.NewEncoder(wire.Key{ID: keyID, Secret: secret}).Append(nil, &wire.Header{
			Type: wire.TypeHeartbeat, From: from, Generation: gen, Seq: seq + 2000, SentAt: time.Now().UnixNano(), Cluster: cluster,
		}, nil)
		if err != nil {
			panic(err)
		}
		return out
	}
	sends := []struct {
		what string
		b    []byte
	}{
		{"replay", pkt},
		{"forged", tampered},
		{"wrong_key", sign(1, cluster)},
		{"unknown_key_id", sign(77, cluster)},
		{"wrong_cluster", sign(1, "other")},
		{"garbage", []byte("PL\x01\x01not a packet")},
	}
	for _, s := range sends {
		if _, err := c.Write(s.b); err != nil {
			return fmt.Errorf("sending %s: %w", s.what, err)
		}
		fmt.Println("sent", s.what)
	}
	return nil
}

func testInjection(t *testing.T, m *meshCluster) {
	n1 := m.lab.Nodes[0]
	before, err := m.status(0)
	if err != nil {
		t.Fatal(err)
	}
	cmd := n1.Command(os.Args[0], "-test.run=^TestFHelperProcess$")
	cmd.Env = append(os.Environ(), fHelperEnv+"=capture")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("capture helper: %v\n%s", err, out)
	}
	var packet string
	for _, line := range strings.Split(string(out), "\n") {
		if h, ok := strings.CutPrefix(line, "packet "); ok {
			packet = h
		}
	}
	if packet == "" {
		t.Fatalf("capture helper printed no packet:\n%s", out)
	}
	// Send from the client namespace to n1 over link 0.
	cmd = m.lab.Client.Command(os.Args[0], "-test.run=^TestFHelperProcess$")
	cmd.Env = append(os.Environ(), fHelperEnv+"=inject",
		"PA_F_TARGET="+net.JoinHostPort(n1.Addrs[0].String(), "694"), "PA_F_PACKET="+packet)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("inject helper: %v\n%s", err, out)
	}
	want := map[string]uint64{"replay": 1, "bad_mac": 2, "unknown_key": 1, "wrong_cluster": 1}
	st := m.waitFor(t, 0, 5*time.Second, "injected packets counted", func(st api.Status) bool {
		for reason, n := range want {
			if st.Dropped[reason] < before.Dropped[reason]+n {
				return false
			}
		}
		junk := st.Dropped["malformed"] + st.Dropped["truncated"]
		return junk > before.Dropped["malformed"]+before.Dropped["truncated"]
	})
	for _, r := range []string{"replay", "bad_mac", "unknown_key", "wrong_cluster", "malformed", "truncated"} {
		t.Logf("dropped %-13s before %d after %d", r, before.Dropped[r], st.Dropped[r])
	}
	if p := peer(st, 2); p.State != "up" || !st.View.Agreed || st.View.ID != before.View.ID {
		t.Fatalf("injection disturbed membership: n2 %s, view %d agreed=%v (was %d)", p.State, st.View.ID, st.View.Agreed, before.View.ID)
	}
}
