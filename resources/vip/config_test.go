package vip

import (
	"strings"
	"testing"
	"time"
)

func TestParseParams(t *testing.T) {
	c, err := ParseParams(map[string]string{"ip": "198.18.0.50", "cidr_netmask": "24", "nic": "eth0",
		"label": "web", "arp_count": "3", "arp_interval": "100", "dad_timeout": "0", "reannounce_interval": "5000"})
	if err != nil {
		t.Fatal(err)
	}
	if c.IP.String() != "198.18.0.50" || c.Prefix != 24 || c.Count != 3 || c.Interval != 100*time.Millisecond ||
		c.DADTimeout != 0 || c.Reannounce != 5*time.Second || c.label("eth0") != "eth0:web" {
		t.Fatalf("got %+v", c)
	}
	c, err = ParseParams(map[string]string{"ip": "2001:db8::50"})
	if err != nil || c.Prefix != -1 || c.Count != DefaultCount || c.DADTimeout != DefaultDADTimeout {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	bad := []map[string]string{
		{},
		{"ip": "198.18.0.300"},
		{"ip": "224.0.0.1"},
		{"ip": "198.18.0.50", "cidr_netmask": "33"},
		{"ip": "2001:db8::1", "label": "x"},
		{"ip": "198.18.0.50", "arp_count": "0"},
		{"ip": "198.18.0.50", "nic": "a/b"},
		{"ip": "198.18.0.50", "colour": "red"},
	}
	for _, p := range bad {
		if _, err := ParseParams(p); err == nil {
			t.Errorf("%v accepted", p)
		} else if !strings.Contains(err.Error(), "parameter") {
			t.Errorf("%v: error does not name the parameter: %v", p, err)
		}
	}
}

func FuzzParseParams(f *testing.F) {
	f.Add("198.18.0.50", "24", "eth0", "web", "5", "200")
	f.Add("2001:db8::1", "64", "", "", "1", "1")
	f.Add("::ffff:198.18.0.1", "", "x", "", "", "")
	f.Fuzz(func(t *testing.T, ip, mask, nic, label, count, ivl string) {
		c, err := ParseParams(map[string]string{"ip": ip, "cidr_netmask": mask, "nic": nic, "label": label,
			"arp_count": count, "arp_interval": ivl})
		if err != nil {
			return
		}
		if !c.IP.IsValid() || c.Prefix > c.IP.BitLen() || c.Count < 1 || c.Interval <= 0 {
			t.Fatalf("accepted an invalid config: %+v", c)
		}
		if l := c.label("eth0"); len(l) > 15 {
			t.Fatalf("label %q too long", l)
		}
	})
}
