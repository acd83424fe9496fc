package apcsnmp

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gosnmp/gosnmp"

	"palisade/fence"
)

func TestChooseTable(t *testing.T) {
	for _, tc := range []struct {
		v    gosnmp.SnmpPDU
		want string
	}{
		{gosnmp.SnmpPDU{Type: gosnmp.ObjectIdentifier, Value: ".1.3.6.1.4.1.318.1.3.4.5"}, "APC rPDU"},
		{gosnmp.SnmpPDU{Type: gosnmp.ObjectIdentifier, Value: "1.3.6.1.4.1.318.1.3.4.5"}, "APC rPDU"},
		{gosnmp.SnmpPDU{Type: gosnmp.ObjectIdentifier, Value: ".1.3.6.1.4.1.318.1.3.4.4"}, "APC Master Switch+"},
		{gosnmp.SnmpPDU{Type: gosnmp.ObjectIdentifier, Value: ".1.3.6.1.4.1.318.1.3.4.6"}, "APC Master Switch with firmware v6.x"},
		{gosnmp.SnmpPDU{Type: gosnmp.ObjectIdentifier, Value: ".1.3.6.1.4.1.850.1"}, "Tripplite"},
		{gosnmp.SnmpPDU{Type: gosnmp.ObjectIdentifier, Value: ".1.3.6.1.4.1.850.1.1.1"}, "Tripplite LX"},
		{gosnmp.SnmpPDU{Type: gosnmp.ObjectIdentifier, Value: ".1.3.6.1.4.1.318.1.3.4.2"}, "APC Master Switch (fallback)"},
		{gosnmp.SnmpPDU{Type: gosnmp.ObjectIdentifier, Value: ".1.3.6.1.4.1.318.1.3.4.55"}, "APC Master Switch (fallback)"},
		{gosnmp.SnmpPDU{Type: gosnmp.OctetString, Value: []byte(".1.3.6.1.4.1.318.1.3.4.5")}, "APC Master Switch (fallback)"},
		{gosnmp.SnmpPDU{Type: gosnmp.NoSuchObject}, "APC Master Switch (fallback)"},
	} {
		if got := ChooseTable(tc.v).Name; got != tc.want {
			t.Errorf("sysObjectID %v (%s): %s, want %s", tc.v.Value, tc.v.Type, got, tc.want)
		}
	}
}

// TestState: only the table's "off" value is OFF; busy values are ON;
// everything else is an error, never OFF.
func TestState(t *testing.T) {
	i := func(n int) gosnmp.SnmpPDU { return gosnmp.SnmpPDU{Name: ".1.2", Type: gosnmp.Integer, Value: n} }
	for _, tc := range []struct {
		table Table
		v     gosnmp.SnmpPDU
		want  fence.PowerState
		err   string
	}{
		{TableRackPDU, i(1), fence.PowerOn, ""},
		{TableRackPDU, i(2), fence.PowerOff, ""},
		{TableRackPDU, i(3), fence.PowerUnknown, "neither on (1) nor off (2)"},
		{TableMasterSwitch, i(3), fence.PowerOn, ""}, // outletReboot
		{TableMasterSwitch, i(6), fence.PowerOn, ""}, // outletOffWithDelay: still on
		{TableMasterSwitch, i(4), fence.PowerUnknown, "neither"},
		{TableTripplite, i(1), fence.PowerOff, ""},
		{TableTripplite, i(2), fence.PowerOn, ""},
		{TableRackPDU, gosnmp.SnmpPDU{Name: ".1.2", Type: gosnmp.NoSuchInstance}, fence.PowerUnknown, "no such outlet"},
		{TableRackPDU, gosnmp.SnmpPDU{Name: ".1.2", Type: gosnmp.OctetString, Value: []byte("2")}, fence.PowerUnknown, "want INTEGER"},
	} {
		got, err := tc.table.State(tc.v)
		if got != tc.want || (tc.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s %v: %s %v, want %s %q", tc.table.Name, tc.v.Value, got, err, tc.want, tc.err)
		}
	}
}

func TestNameEntry(t *testing.T) {
	v := func(name string, val any) gosnmp.SnmpPDU {
		return gosnmp.SnmpPDU{Name: name, Type: gosnmp.OctetString, Value: val}
	}
	for _, tc := range []struct {
		table Table
		v     gosnmp.SnmpPDU
		want  string
	}{
		{TableRackPDU, v(TableRackPDU.Names+".3", []byte("web-1")), "3=web-1"},
		{TableMasterSwitch, v(TableMasterSwitch.Names+".12", []byte("\"db\"\x00")), "12=db"},
		{TableMasterSwitchPlus, v(TableMasterSwitchPlus.Names+".2.1.7", []byte("n7")), "2:7=n7"},
		{TableMasterSwitchPlus, v(TableMasterSwitchPlus.Names+".7", []byte("n7")), "-"},
		{TableRackPDU, v(TableRackPDU.Names+"9.3", []byte("x")), "-"},
		{TableRackPDU, v(TableRackPDU.Names+".0", []byte("x")), "-"},
		{TableRackPDU, gosnmp.SnmpPDU{Name: TableRackPDU.Names + ".1", Type: gosnmp.Integer, Value: 5}, "-"},
	} {
		got := "-"
		if o, name, ok := tc.table.NameEntry(tc.v); ok {
			got = o.String() + "=" + name
		}
		if got != tc.want {
			t.Errorf("%s %s: %s, want %s", tc.table.Name, tc.v.Name, got, tc.want)
		}
	}
}

func TestParsePlugs(t *testing.T) {
	for _, tc := range []struct {
		plug, sep string
		switches  bool
		want      string
	}{
		{"3", "", false, "3"},
		{"3,4", ",", false, "3 4"},
		{"web-1;4", ";", false, "name:web-1 4"},
		{"1:5", ",", false, "5"},
		{"2:5", ",", true, "2:5"},
		{"5", ",", true, "1:5"},
		{"2:5", ",", false, "error: has no switches"},
		{"3,,4", ",", false, "error: empty outlet"},
		{"", ",", false, "error: no outlet"},
		{"0", ",", false, "name:0"},
	} {
		refs, err := ParsePlugs(tc.plug, tc.sep, tc.switches)
		var parts []string
		for _, r := range refs {
			if r.Name != "" {
				parts = append(parts, "name:"+r.Name)
			} else {
				parts = append(parts, r.Outlet.String())
			}
		}
		got := strings.Join(parts, " ")
		if err != nil {
			got = "error: " + err.Error()
		}
		if !strings.HasPrefix(got, tc.want) && !(strings.HasPrefix(tc.want, "error: ") && strings.Contains(got, strings.TrimPrefix(tc.want, "error: "))) {
			t.Errorf("ParsePlugs(%q, %q, %v) = %s, want %s", tc.plug, tc.sep, tc.switches, got, tc.want)
		}
	}
}

func TestConfigFromOptions(t *testing.T) {
	base := func(kv ...string) fence.Options {
		o := fence.Options{"ip": "pdu", "community": "private", "snmp_version": "1", "ipport": "161"}
		for i := 0; i+1 < len(kv); i += 2 {
			o[kv[i]] = kv[i+1]
		}
		return o
	}
	for _, tc := range []struct {
		o    fence.Options
		want string
	}{
		{base(), "v=1 level=0 auth=1 priv=1"},
		{base("snmp_version", "3", "username", "u"), "v=3 level=0 auth=1 priv=1"},
		{base("snmp_version", "3", "username", "u", "password", "authpass", "snmp_sec_level", "authNoPriv"), "v=3 level=1 auth=2 priv=1"},
		{base("snmp_version", "3", "username", "u", "password", "authpass", "snmp_priv_passwd", "privpass"), "v=3 level=3 auth=2 priv=2"},
		{base("snmp_version", "3", "username", "u", "password", "authpass", "snmp_priv_passwd", "privpass", "snmp_auth_prot", "SHA", "snmp_priv_prot", "AES"), "v=3 level=3 auth=3 priv=3"},
		{base("snmp_version", "3", "username", "u", "password", "short", "snmp_sec_level", "authNoPriv"), "error: at least 8"},
		{base("snmp_version", "3", "snmp_sec_level", "authNoPriv", "password", "authpass"), "error: user name"},
		{base("snmp_version", "3", "username", "u", "snmp_sec_level", "authPriv", "password", "authpass"), "error: privacy passphrase"},
		{base("ipport", "99999"), "error: not a UDP port"},
		{base("community", ""), "error: needs a community"},
	} {
		c, err := ConfigFromOptions(tc.o)
		got := fmt.Sprintf("v=%s level=%d auth=%d priv=%d", map[gosnmp.SnmpVersion]string{gosnmp.Version1: "1", gosnmp.Version2c: "2c", gosnmp.Version3: "3"}[c.Version], c.Level, c.AuthProto, c.PrivProto)
		if err != nil {
			got = "error: " + err.Error()
			if !errors.Is(err, fence.ErrConfig) {
				t.Errorf("%v: error %v is not ErrConfig", tc.o, err)
			}
		}
		if !strings.HasPrefix(got, tc.want) && !(strings.HasPrefix(tc.want, "error: ") && strings.Contains(got, strings.TrimPrefix(tc.want, "error: "))) {
			t.Errorf("%v: %s, want %s", tc.o, got, tc.want)
		}
	}
}
