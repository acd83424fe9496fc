package hwtests

// Helper processes for the agent, executor and vip tests. Agents act on
// the network or mount namespace of their process, so the tests re-run
// this test binary inside a lab namespace (or a private mount namespace)
// as a small driver that reads actions on stdin and prints results and
// VIP events on stdout. TestDHelperProcess is that entry point; it skips
// when not started as a helper.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"github.com/mdlayher/ndp"
	"github.com/mdlayher/packet"

	"palisade/hw-tests/lab"
	"palisade/resources/agent"
	"palisade/resources/vip"
)

const helperEnv = "PA_D_HELPER"

func TestDHelperProcess(t *testing.T) {
	switch os.Getenv(helperEnv) {
	case "":
		t.Skip("not a test: entry point of the helper processes of the agent/vip tests")
	case "driver":
		runDriver()
	case "capture":
		runCapture(os.Getenv("PA_D_IFACE"))
	}
	os.Exit(0)
}

// runDriver runs agent actions read from stdin ("start", "monitor", ...,
// "reannounce", "quit") on the instance in $PA_D_INSTANCE and prints
// "result ACTION RC STATUS MILLISECONDS REASON" and "event KIND SEQ REASON"
// lines.
func runDriver() {
	var out sync.Mutex
	say := func(format string, args ...any) {
		out.Lock()
		defer out.Unlock()
		fmt.Printf(format+"\n", args...)
	}
	var in agent.Instance
	if err := json.Unmarshal([]byte(os.Getenv("PA_D_INSTANCE")), &in); err != nil {
		say("fatal bad instance: %v", err)
		return
	}
	v := vip.NewAgent(vip.Options{OnEvent: func(ev vip.Event) {
		say("event %s %d %s", strings.ReplaceAll(string(ev.Kind), " ", "_"), ev.Seq, ev.Reason)
	}})
	reg := agent.NewRegistry(agent.Options{})
	reg.RegisterBuiltin("vip", v)
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		cmd := strings.TrimSpace(sc.Text())
		switch cmd {
		case "quit":
			return
		case "reannounce":
			err := v.Reannounce(context.Background())
			say("result reannounce %d done 0 %q", map[bool]int{true: 0, false: 1}[err == nil], fmt.Sprint(err))
		default:
			res := reg.Run(context.Background(), agent.Action(cmd), in)
			reason := res.ExitReason
			if cmd == string(agent.MetaData) {
				reason = res.Output
			}
			say("result %s %d %s %d %q", cmd, res.RC, res.Status, res.Duration.Milliseconds(), reason)
		}
	}
}

// runCapture prints every ARP packet and IPv6 neighbour advertisement
// seen on iface: "arp OP SENDER_IP SENDER_MAC TARGET_IP TARGET_MAC" and
// "na TARGET OVERRIDE LLA".
func runCapture(iface string) {
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		fmt.Println("fatal", err)
		return
	}
	const ethPAll = 0x0003
	pc, err := packet.Listen(ifi, packet.Raw, ethPAll, nil)
	if err != nil {
		fmt.Println("fatal", err)
		return
	}
	fmt.Println("ready")
	buf := make([]byte, 2048)
	for {
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			fmt.Println("fatal", err)
			return
		}
		var f ethernet.Frame
		if f.UnmarshalBinary(buf[:n]) != nil {
			continue
		}
		switch f.EtherType {
		case ethernet.EtherTypeARP:
			var p arp.Packet
			if p.UnmarshalBinary(f.Payload) == nil {
				fmt.Println("arp", p.Operation, p.SenderIP, p.SenderHardwareAddr, p.TargetIP, p.TargetHardwareAddr)
			}
		case ethernet.EtherTypeIPv6:
			// Fixed 40-byte header, next header 58 (ICMPv6), no extensions.
			if len(f.Payload) < 41 || f.Payload[6] != 58 {
				continue
			}
			m, err := ndp.ParseMessage(f.Payload[40:])
			if na, ok := m.(*ndp.NeighborAdvertisement); err == nil && ok {
				lla := "-"
				for _, o := range na.Options {
					if l, ok := o.(*ndp.LinkLayerAddress); ok {
						lla = l.Addr.String()
					}
				}
				fmt.Println("na", na.TargetAddress, na.Override, lla, f.Source)
			}
		}
	}
}

// helperCmd is a helper process and the lines it printed.
type helperCmd struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	mu    sync.Mutex
	lines []string
	more  chan struct{} // signalled on every new line
}

// startHelper starts this test binary as a helper; wrap builds the
// command (a lab host's Command, or unshare).
func startHelper(t *testing.T, wrap func(name string, args ...string) *exec.Cmd, env ...string) *helperCmd {
	t.Helper()
	cmd := wrap(os.Args[0], "-test.run=^TestDHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting helper: %v", err)
	}
	h := &helperCmd{cmd: cmd, stdin: stdin, more: make(chan struct{}, 1)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			h.mu.Lock()
			h.lines = append(h.lines, sc.Text())
			h.mu.Unlock()
			select {
			case h.more <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		<-done
		cmd.Wait()
	})
	return h
}

// waitLine waits until a line satisfying match was printed (searching from
// line index from) and returns its index and text.
func (h *helperCmd) waitLine(t *testing.T, from int, timeout time.Duration, match func(string) bool) (int, string, bool) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		h.mu.Lock()
		for i := from; i < len(h.lines); i++ {
			if strings.HasPrefix(h.lines[i], "fatal") {
				h.mu.Unlock()
				t.Fatalf("helper: %s", h.lines[i])
			}
			if match(h.lines[i]) {
				s := h.lines[i]
				h.mu.Unlock()
				return i, s, true
			}
		}
		h.mu.Unlock()
		select {
		case <-h.more:
		case <-deadline:
			return 0, "", false
		}
	}
}

func (h *helperCmd) snapshot() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.lines...)
}

// driver drives agent actions in a helper.
type driver struct {
	*helperCmd
	next int
}

type driverResult struct {
	RC       agent.RC
	Status   string
	Reason   string
	Duration time.Duration
}

func startDriver(t *testing.T, wrap func(string, ...string) *exec.Cmd, in agent.Instance) *driver {
	t.Helper()
	b, _ := json.Marshal(in)
	return &driver{helperCmd: startHelper(t, wrap, helperEnv+"=driver", "PA_D_INSTANCE="+string(b))}
}

// do runs one action and returns its result.
func (d *driver) do(t *testing.T, action string) driverResult {
	t.Helper()
	if _, err := fmt.Fprintln(d.stdin, action); err != nil {
		t.Fatalf("%s: writing to driver: %v", action, err)
	}
	i, line, ok := d.waitLine(t, d.next, 60*time.Second, func(s string) bool { return strings.HasPrefix(s, "result "+action+" ") })
	if !ok {
		t.Fatalf("%s: no result from driver; output:\n%s", action, strings.Join(d.snapshot(), "\n"))
	}
	d.next = i + 1
	f := strings.SplitN(line, " ", 6)
	rc, _ := strconv.Atoi(f[2])
	ms, _ := strconv.Atoi(f[4])
	reason, _ := strconv.Unquote(f[5])
	t.Logf("%s: rc %d %s in %d ms", action, rc, f[3], ms)
	return driverResult{RC: agent.RC(rc), Status: f[3], Reason: reason, Duration: time.Duration(ms) * time.Millisecond}
}

// events returns the VIP events of a kind ("VIP_added", "GARP_sent") so far.
func (d *driver) events(kind string) []string {
	var out []string
	for _, l := range d.snapshot() {
		if strings.HasPrefix(l, "event "+kind+" ") {
			out = append(out, l)
		}
	}
	return out
}

// startCapture starts a packet capture on iface inside host.
func startCapture(t *testing.T, h *lab.Host, iface string) *helperCmd {
	t.Helper()
	c := startHelper(t, h.Command, helperEnv+"=capture", "PA_D_IFACE="+iface)
	if _, _, ok := c.waitLine(t, 0, 30*time.Second, func(s string) bool { return s == "ready" }); !ok {
		t.Fatal("capture helper did not start")
	}
	return c
}

// needLab skips unless network namespaces can be built, and builds a lab.
func needLab(t *testing.T, nodes int) *lab.Lab {
	t.Helper()
	if err := lab.Available(); err != nil {
		t.Skipf("network namespace lab unavailable: %v", err)
	}
	l, err := lab.New(lab.Options{Prefix: fmt.Sprintf("pa-d-%d", os.Getpid()%100000), Nodes: nodes, Links: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// mac returns the MAC of iface in host.
func macOf(t *testing.T, h *lab.Host, iface string) string {
	t.Helper()
	out, err := h.Run("cat", "/sys/class/net/"+iface+"/address")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}
