package hwtests

import (
	"strings"
	"testing"
	"time"

	"palisade/hw-tests/lab"
	"palisade/resources/agent"
)

func vipInstance(id string, params map[string]string) agent.Instance {
	return agent.Instance{ID: id, Class: "palisade", Type: "vip", Params: params, Timeout: 20 * time.Second}
}

// TestVIPStartAnnounceStop: start adds the address and the peer sees the
// gratuitous ARP request+reply pairs; the peer can reach the VIP; monitor
// notices an address removed behind the agent's back; stop removes it.
func TestVIPStartAnnounceStop(t *testing.T) {
	l := needLab(t, 2)
	n1, n2 := l.Nodes[0], l.Nodes[1]
	capt := startCapture(t, n2, "eth0")
	d := startDriver(t, n1.Command, vipInstance("vip1", map[string]string{
		"ip": "198.18.0.50", "arp_count": "3", "arp_interval": "100", "dad_timeout": "200", "label": "svc"}))

	if r := d.do(t, "monitor"); r.RC != agent.NotRunning {
		t.Fatalf("monitor before start: %+v", r)
	}
	if r := d.do(t, "start"); r.RC != agent.OK {
		t.Fatalf("start: %+v", r)
	}
	out, err := n1.Run("ip", "-4", "addr", "show", "dev", "eth0")
	if err != nil || !strings.Contains(out, "198.18.0.50/24") || !strings.Contains(out, "eth0:svc") {
		t.Fatalf("address (prefix from the subnet, label) not on eth0: %v\n%s", err, out)
	}
	mac := macOf(t, n1, "eth0")
	for _, op := range []string{"OperationRequest", "OperationReply"} {
		want := "arp " + op + " 198.18.0.50 " + mac + " 198.18.0.50 "
		if _, _, ok := capt.waitLine(t, 0, 10*time.Second, func(s string) bool { return strings.HasPrefix(s, want) }); !ok {
			t.Fatalf("peer saw no gratuitous ARP %s; capture:\n%s", op, strings.Join(capt.snapshot(), "\n"))
		}
	}
	// The probe before the address was added has sender IP 0.0.0.0.
	if _, _, ok := capt.waitLine(t, 0, time.Second, func(s string) bool {
		return strings.HasPrefix(s, "arp OperationRequest 0.0.0.0 "+mac+" 198.18.0.50")
	}); !ok {
		t.Errorf("no ARP probe seen before start")
	}
	// The whole burst: 3 pairs.
	if _, _, ok := d.waitLine(t, 0, 10*time.Second, func(s string) bool { return strings.HasPrefix(s, "event GARP_sent 3 ") }); !ok {
		t.Fatalf("burst incomplete: %v", d.events("GARP_sent"))
	}
	if n := len(d.events("VIP_added")); n != 1 {
		t.Errorf("%d VIP added events", n)
	}
	// The peer resolves the VIP to n1 (ping is not installed; arping is).
	if out, err := n2.Run("arping", "-c", "1", "-w", "2", "-I", "eth0", "198.18.0.50"); err != nil || !strings.Contains(strings.ToLower(out), mac) {
		t.Errorf("peer cannot resolve the VIP to %s: %v\n%s", mac, err, out)
	}
	if r := d.do(t, "monitor"); r.RC != agent.OK {
		t.Fatalf("monitor after start: %+v", r)
	}
	if r := d.do(t, "reannounce"); r.RC != agent.OK {
		t.Fatalf("reannounce: %+v", r)
	}
	if len(d.events("GARP_sent")) < 6 {
		t.Errorf("reannounce sent no new burst: %v", d.events("GARP_sent"))
	}

	// Someone removes the address: monitor must notice.
	if _, err := n1.Run("ip", "addr", "del", "198.18.0.50/24", "dev", "eth0"); err != nil {
		t.Fatal(err)
	}
	if r := d.do(t, "monitor"); r.RC != agent.NotRunning {
		t.Fatalf("monitor after removal: %+v", r)
	}
	if r := d.do(t, "start"); r.RC != agent.OK {
		t.Fatalf("restart: %+v", r)
	}
	if r := d.do(t, "stop"); r.RC != agent.OK {
		t.Fatalf("stop: %+v", r)
	}
	if out, _ := n1.Run("ip", "addr", "show", "dev", "eth0"); strings.Contains(out, "198.18.0.50") {
		t.Fatalf("stop left the address:\n%s", out)
	}
	if r := d.do(t, "monitor"); r.RC != agent.NotRunning {
		t.Fatalf("monitor after stop: %+v", r)
	}
	if r := d.do(t, "stop"); r.RC != agent.OK {
		t.Fatalf("second stop must succeed: %+v", r)
	}
}

// TestVIPRefusesDuplicate: when the peer already holds the address,
// start fails naming the peer's MAC and the address is not added.
func TestVIPRefusesDuplicate(t *testing.T) {
	l := needLab(t, 2)
	n1, n2 := l.Nodes[0], l.Nodes[1]
	if _, err := n2.Run("ip", "addr", "add", "198.18.0.60/24", "dev", "eth0"); err != nil {
		t.Fatal(err)
	}
	d := startDriver(t, n1.Command, vipInstance("vip2", map[string]string{"ip": "198.18.0.60", "nic": "eth0", "cidr_netmask": "24"}))
	r := d.do(t, "start")
	if r.RC != agent.ErrGeneric || !strings.Contains(r.Reason, macOf(t, n2, "eth0")) {
		t.Fatalf("start with a duplicate: %+v", r)
	}
	if out, _ := n1.Run("ip", "addr", "show", "dev", "eth0"); strings.Contains(out, "198.18.0.60") {
		t.Fatalf("duplicate address was added:\n%s", out)
	}
	if len(d.events("duplicate_address")) != 1 {
		t.Errorf("no duplicate event: %v", d.snapshot())
	}
	if r := d.do(t, "monitor"); r.RC != agent.NotRunning {
		t.Fatalf("monitor: %+v", r)
	}
}

// TestVIPIPv6: start probes with a neighbour solicitation, adds an IPv6
// VIP and sends unsolicited neighbour advertisements with the override
// flag; a duplicate is refused naming the holder's MAC.
func TestVIPIPv6(t *testing.T) {
	l := needLab(t, 2)
	n1, n2 := l.Nodes[0], l.Nodes[1]
	if out, err := n1.Run("sysctl", "-n", "net.ipv6.conf.eth0.disable_ipv6"); err != nil || strings.TrimSpace(out) != "0" {
		t.Skipf("IPv6 disabled in the lab namespaces (%v %s)", err, out)
	}
	// Link-local addresses are tentative for a second after the lab comes
	// up; the NS probe needs n1's.
	waitNoTentative(t, n1)
	capt := startCapture(t, n2, "eth0")
	d := startDriver(t, n1.Command, vipInstance("vip6", map[string]string{
		"ip": "2001:db8::50", "cidr_netmask": "64", "nic": "eth0", "arp_count": "2", "arp_interval": "100"}))
	if r := d.do(t, "start"); r.RC != agent.OK {
		t.Fatalf("start: %+v", r)
	}
	want := "na 2001:db8::50 true " + macOf(t, n1, "eth0")
	if _, _, ok := capt.waitLine(t, 0, 10*time.Second, func(s string) bool { return strings.HasPrefix(s, want) }); !ok {
		t.Fatalf("peer saw no unsolicited NA; capture:\n%s", strings.Join(capt.snapshot(), "\n"))
	}
	if r := d.do(t, "stop"); r.RC != agent.OK {
		t.Fatalf("stop: %+v", r)
	}

	if _, err := n2.Run("ip", "addr", "add", "2001:db8::60/64", "dev", "eth0"); err != nil {
		t.Fatal(err)
	}
	waitNoTentative(t, n2) // n2's own DAD must finish before it defends the address
	d6 := startDriver(t, n1.Command, vipInstance("vip6b", map[string]string{"ip": "2001:db8::60", "cidr_netmask": "64", "nic": "eth0"}))
	if r := d6.do(t, "start"); r.RC != agent.ErrGeneric || !strings.Contains(r.Reason, macOf(t, n2, "eth0")) {
		t.Fatalf("start with an IPv6 duplicate: %+v", r)
	}
	if out, _ := n1.Run("ip", "addr", "show", "dev", "eth0"); strings.Contains(out, "2001:db8::60") {
		t.Fatalf("duplicate left on the interface:\n%s", out)
	}
}

// TestVIPTakeoverUpdatesNeighbours is the failover case: a client has
// learnt the VIP's MAC from the old owner; after the old owner stops and a
// new one starts, the gratuitous ARP alone (no new request from the
// client) moves the client's neighbour entry to the new owner.
func TestVIPTakeoverUpdatesNeighbours(t *testing.T) {
	l := needLab(t, 3)
	n1, n2, client := l.Nodes[0], l.Nodes[1], l.Nodes[2]
	params := map[string]string{"ip": "198.18.0.80", "arp_count": "3", "arp_interval": "100", "dad_timeout": "100"}
	d1 := startDriver(t, n1.Command, vipInstance("vip", params))
	if r := d1.do(t, "start"); r.RC != agent.OK {
		t.Fatalf("n1 start: %+v", r)
	}
	// One UDP datagram makes the client's kernel resolve the VIP.
	if out, err := client.Run("bash", "-c", "echo x > /dev/udp/198.18.0.80/9"); err != nil {
		t.Fatalf("client traffic: %v %s", err, out)
	}
	mac1, mac2 := macOf(t, n1, "eth0"), macOf(t, n2, "eth0")
	waitNeigh(t, client, "198.18.0.80", mac1)

	if r := d1.do(t, "stop"); r.RC != agent.OK {
		t.Fatalf("n1 stop: %+v", r)
	}
	d2 := startDriver(t, n2.Command, vipInstance("vip", params))
	if r := d2.do(t, "start"); r.RC != agent.OK {
		t.Fatalf("n2 start: %+v", r)
	}
	waitNeigh(t, client, "198.18.0.80", mac2)
}

// waitNeigh waits until host's neighbour entry for ip has mac.
func waitNeigh(t *testing.T, h *lab.Host, ip, mac string) {
	t.Helper()
	var out string
	for range 50 {
		out, _ = h.Run("ip", "neigh", "show", ip, "dev", "eth0")
		if strings.Contains(out, "lladdr "+mac) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: neighbour entry for %s is %q, want lladdr %s", h.Name, ip, strings.TrimSpace(out), mac)
}

// waitNoTentative waits until no IPv6 address of h's eth0 is tentative.
func waitNoTentative(t *testing.T, h *lab.Host) {
	t.Helper()
	for i := 0; ; i++ {
		out, _ := h.Run("ip", "-6", "addr", "show", "dev", "eth0")
		if !strings.Contains(out, "tentative") {
			return
		}
		if i == 100 {
			t.Fatalf("%s: addresses stay tentative:\n%s", h.Name, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestVIPReannounceTimer: with reannounce_interval set, a started VIP keeps
// announcing itself until it is stopped.
func TestVIPReannounceTimer(t *testing.T) {
	l := needLab(t, 2)
	d := startDriver(t, l.Nodes[0].Command, vipInstance("vipt", map[string]string{
		"ip": "198.18.0.90", "arp_count": "1", "dad_timeout": "50", "reannounce_interval": "100"}))
	if r := d.do(t, "start"); r.RC != agent.OK {
		t.Fatalf("start: %+v", r)
	}
	timer := func(s string) bool { return strings.HasPrefix(s, "event GARP_sent 1 timer") }
	i, _, ok := d.waitLine(t, 0, 10*time.Second, timer)
	if !ok {
		t.Fatalf("no timer re-announcement: %v", d.snapshot())
	}
	if _, _, ok := d.waitLine(t, i+1, 10*time.Second, timer); !ok {
		t.Fatalf("timer fired only once: %v", d.snapshot())
	}
	if r := d.do(t, "stop"); r.RC != agent.OK {
		t.Fatalf("stop: %+v", r)
	}
	n := len(d.events("GARP_sent"))
	time.Sleep(300 * time.Millisecond)
	if m := len(d.events("GARP_sent")); m != n {
		t.Fatalf("announcements continued after stop: %d → %d", n, m)
	}
}
