package quorum

import (
	"strings"
	"testing"
	"time"
)

const arbiterYAML = `no_quorum_policy: suicide
device:
  model: arbiter
  arbiter:
    address: 198.18.0.9
    ca_file: /etc/palisade/arbiter/ca.pem
    cert_file: /etc/palisade/arbiter/prod.pem
    key_file: /etc/palisade/arbiter/prod.key
watchdog: {device: /dev/watchdog}
heuristics:
  ping_groups:
    - {name: uplink, addresses: [198.18.0.254, 198.18.0.253], weight: 100}
    - {name: storage, addresses: ["fd00::1"]}
`

func TestDecodeArbiterDevice(t *testing.T) {
	s, err := decodeString(t, arbiterYAML)
	if err != nil {
		t.Fatal(err)
	}
	d := s.Device
	if s.Policy != PolicySuicide || d == nil || d.Model != DeviceArbiter || d.Algorithm != AlgorithmFFSplit || d.TieBreaker != "n1" {
		t.Fatalf("section %+v device %+v", s, d)
	}
	a := d.Arbiter
	if a.Address != "198.18.0.9:5403" || a.ServerName != "198.18.0.9" || a.Interval != time.Second || a.ConnectTimeout != 2*time.Second {
		t.Fatalf("arbiter %+v", a)
	}
	if s.Config.Device.Model != DeviceArbiter {
		t.Fatalf("Config.Device not set: %+v", s.Config.Device)
	}
	h := s.Heuristics
	if h.Interval != time.Second || h.Timeout != 3*time.Second || h.Attribute != "pingd" || len(h.PingGroups) != 2 ||
		h.PingGroups[0].Weight != 100 || h.PingGroups[1].Weight != 1 || h.PingGroups[1].Addresses[0].String() != "fd00::1" {
		t.Fatalf("heuristics %+v", h)
	}
	c, err := New(s.Config)
	if err != nil || c.DeviceVotes() != 1 {
		t.Fatalf("New: %v, votes %d", err, c.DeviceVotes())
	}
}

func TestDecodeDiskDevice(t *testing.T) {
	s, err := decodeString(t, "device:\n  model: disk\n  tie_breaker: n2\n  disk:\n    paths: [/dev/sdb, /dev/sdc, /dev/sdd]\n    min_score: 50\n    start_mode: clean\nwatchdog:\n  device: stand-in:/run/wd.log\n  timeout: 2s\n")
	if err != nil {
		t.Fatal(err)
	}
	d := s.Device
	if d.Algorithm != AlgorithmLMS || d.TieBreaker != "n2" || len(d.Disk.Paths) != 3 || !d.Disk.Evict || d.Disk.MinScore != 50 || d.Disk.StartMode != "clean" {
		t.Fatalf("device %+v disk %+v", d, d.Disk)
	}
	if w := s.Watchdog; w == nil || w.Device != "stand-in:/run/wd.log" || w.Timeout != 2*time.Second {
		t.Fatalf("watchdog %+v", w)
	}
}

// Every mistake is reported at once, with its line, key and what is valid.
func TestDecodeDeviceErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"device:\n  modle: disk\n", "cluster.yaml:2: quorum.device.modle: unknown key, valid keys here: algorithm, arbiter, disk, model, tie_breaker, votes\n" +
			"cluster.yaml:2: quorum.device.model: missing: want disk or arbiter"},
		{"device:\n  model: disk\n  disk:\n    paths: [/dev/sdb, /dev/sdc]\n", "cluster.yaml:4: quorum.device.disk.paths: 2 disks: want 1 or 3"},
		{"device:\n  model: disk\n  disk:\n    paths: [sdb]\n", "cluster.yaml:4: quorum.device.disk.paths: bad value \"sdb\": want an absolute path"},
		{"device:\n  model: disk\n", "cluster.yaml:2: quorum.device.disk: missing: model disk needs paths"},
		{"device:\n  model: arbiter\n  arbiter:\n    address: \"host:99999\"\n", "cluster.yaml:4: quorum.device.arbiter.address: bad value \"host:99999\""},
		{"device:\n  model: arbiter\n  arbiter:\n    address: a\n", "quorum.device.arbiter.ca_file: missing"},
		{"device:\n  model: arbiter\n  tie_breaker: n9\n  arbiter: {address: a, ca_file: /a, cert_file: /b, key_file: /c}\n", "cluster.yaml:3: quorum.device.tie_breaker: \"n9\" is not a configured node (nodes: n1, n2)"},
		{"device:\n  model: arbiter\n  algorithm: raft\n  arbiter: {address: a, ca_file: /a, cert_file: /b, key_file: /c}\n", "cluster.yaml:3: quorum.device.algorithm: algorithm \"raft\": want ffsplit or lms"},
		{"two_node: true\ndevice:\n  model: arbiter\n  arbiter: {address: a, ca_file: /a, cert_file: /b, key_file: /c}\n", "two_node cannot be combined with a quorum device"},
		{"heuristics:\n  interval: 2s\n  timeout: 3s\n  ping_groups: [{name: a, addresses: [1.2.3.4]}]\n", "cluster.yaml:3: quorum.heuristics.timeout: 3s is less than twice interval (2s)"},
		{"heuristics:\n  ping_groups:\n    - {name: a, addresses: [1.2.3.400]}\n    - {name: a, addresses: [1.2.3.4, 1.2.3.4], weight: -1}\n",
			"cluster.yaml:3: quorum.heuristics.ping_groups[0].addresses: bad value \"1.2.3.400\": want an IPv4 or IPv6 address\n" +
				"cluster.yaml:4: quorum.heuristics.ping_groups[1].addresses: 1.2.3.4 listed twice\n" +
				"cluster.yaml:4: quorum.heuristics.ping_groups[1].weight: bad value -1: want 0..1000000\n" +
				"cluster.yaml:4: quorum.heuristics.ping_groups[1].name: \"a\" used by two groups"},
		{"heuristics: {attribute: \"9x\"}\n", "quorum.heuristics.attribute: bad value \"9x\""},
		{"no_quorum_policy: suicide\n", "cluster.yaml:1: quorum.watchdog: missing: no_quorum_policy suicide needs this node's watchdog"},
		{"device:\n  model: disk\n  disk: {paths: [/dev/sdb]}\n", "cluster.yaml:1: quorum.watchdog: missing: a quorum disk needs this node's watchdog"},
		{"watchdog: {timeout: 1500ms}\n", "cluster.yaml:1: quorum.watchdog.device: missing: want the watchdog device, such as /dev/watchdog\n" +
			"cluster.yaml:1: quorum.watchdog.timeout: bad value 1.5s: watchdog drivers count whole seconds"},
		{"watchdog: {device: \"stand-in:wd.log\", timout: 1s}\n", "cluster.yaml:1: quorum.watchdog.device: bad value \"stand-in:wd.log\": a stand-in needs an absolute file path (stand-in:/run/palisade/watchdog.log)\n" +
			"cluster.yaml:1: quorum.watchdog.timout: unknown key, valid keys here: device, timeout"},
	} {
		_, err := decodeString(t, tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q:\ngot  %v\nwant %s", tc.in, err, tc.want)
		}
	}
}
