package apcsnmp

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/gosnmp/gosnmp"

	"palisade/fence"
)

// OIDSysObjectID is sysObjectID.0, which tells the PDU family.
const OIDSysObjectID = ".1.3.6.1.2.1.1.2.0"

// Table is one family of outlet tables, as fence_apc_snmp knows them: where
// an outlet's state is read, where it is switched, where the outlet names
// are, and the values meaning on and off.
type Table struct {
	Name string
	// Status and Control are OID prefixes; the outlet index (or switch and
	// outlet, see Switches) completes them.
	Status, Control string
	// Names is the column of outlet names walked by list and to resolve a
	// plug given by name.
	Names             string
	StateOn, StateOff int
	// Busy are status values that mean "not off" without being on: a
	// pending reboot or a delayed command (the outlet still has, or will
	// soon have, power).
	Busy            []int
	TurnOn, TurnOff int
	// Switches: outlets are addressed as SWITCH.1.OUTLET (MasterSwitch plus).
	Switches bool
}

// The tables fence_apc_snmp (fence-agents 4.12) drives, with its OIDs and
// values; Busy values are from PowerNet-MIB.
var (
	// APC Switched Rack PDU: rPDUOutletControl / rPDUOutletStatus.
	TableRackPDU = Table{Name: "APC rPDU",
		Status: ".1.3.6.1.4.1.318.1.1.12.3.5.1.1.4", Control: ".1.3.6.1.4.1.318.1.1.12.3.3.1.1.4",
		Names: ".1.3.6.1.4.1.318.1.1.12.3.5.1.1.2", StateOn: 1, StateOff: 2, TurnOn: 1, TurnOff: 2}
	// APC MasterSwitch plus: per switch.
	TableMasterSwitchPlus = Table{Name: "APC Master Switch+",
		Status: ".1.3.6.1.4.1.318.1.1.6.7.1.1.5", Control: ".1.3.6.1.4.1.318.1.1.6.5.1.1.5",
		Names: ".1.3.6.1.4.1.318.1.1.6.7.1.1.4", StateOn: 1, StateOff: 2, TurnOn: 1, TurnOff: 3, Switches: true}
	// The old MasterSwitch sPDUOutletCtl table, served by every APC PDU:
	// the fallback for any other sysObjectID.
	TableMasterSwitch = Table{Name: "APC Master Switch (fallback)",
		Status: ".1.3.6.1.4.1.318.1.1.4.4.2.1.3", Control: ".1.3.6.1.4.1.318.1.1.4.4.2.1.3",
		Names: ".1.3.6.1.4.1.318.1.1.4.4.2.1.4", StateOn: 1, StateOff: 2,
		// outletReboot(3), outletOnWithDelay(5), outletOffWithDelay(6),
		// outletRebootWithDelay(7)
		Busy: []int{3, 5, 6, 7}, TurnOn: 1, TurnOff: 2}
	// MasterSwitch with firmware 6.x: old table to read, rPDU table to switch.
	TableMasterSwitch6 = Table{Name: "APC Master Switch with firmware v6.x",
		Status: ".1.3.6.1.4.1.318.1.1.4.4.2.1.3", Control: ".1.3.6.1.4.1.318.1.1.12.3.3.1.1.4",
		Names: ".1.3.6.1.4.1.318.1.1.4.4.2.1.4", StateOn: 1, StateOff: 2, Busy: []int{3, 5, 6, 7}, TurnOn: 1, TurnOff: 2}
	TableTripplite = Table{Name: "Tripplite",
		Status: ".1.3.6.1.4.1.850.10.2.3.5.1.2.1", Control: ".1.3.6.1.4.1.850.10.2.3.5.1.4.1",
		Names: ".1.3.6.1.4.1.850.10.2.3.5.1.5", StateOn: 2, StateOff: 1, TurnOn: 2, TurnOff: 1}
	TableTrippliteLX = Table{Name: "Tripplite LX",
		Status: ".1.3.6.1.4.1.850.1.1.3.2.3.3.1.1.4.1", Control: ".1.3.6.1.4.1.850.1.1.3.2.3.3.1.1.6.1",
		Names: ".1.3.6.1.4.1.850.1.1.3.2.3.3.1.1.2.1", StateOn: 2, StateOff: 1, TurnOn: 2, TurnOff: 1}
)

// tableBySysObjectID is fence_apc_snmp's agents_dir.
var tableBySysObjectID = map[string]Table{
	".1.3.6.1.4.1.318.1.3.4.5": TableRackPDU,
	".1.3.6.1.4.1.318.1.3.4.4": TableMasterSwitchPlus,
	".1.3.6.1.4.1.850.1":       TableTripplite,
	".1.3.6.1.4.1.850.1.1.1":   TableTrippliteLX,
	".1.3.6.1.4.1.318.1.3.4.6": TableMasterSwitch6,
}

// ChooseTable picks the table for a sysObjectID value as the reference
// agent does: an exact match, else the old MasterSwitch table.
func ChooseTable(v gosnmp.SnmpPDU) Table {
	oid, ok := v.Value.(string)
	if v.Type != gosnmp.ObjectIdentifier || !ok {
		return TableMasterSwitch
	}
	if !strings.HasPrefix(oid, ".") {
		oid = "." + oid
	}
	if t, ok := tableBySysObjectID[oid]; ok {
		return t
	}
	return TableMasterSwitch
}

// Outlet is one resolved plug: its index, and its switch on MasterSwitch
// plus units.
type Outlet struct {
	Switch, Index int
}

func (o Outlet) String() string {
	if o.Switch > 0 {
		return fmt.Sprintf("%d:%d", o.Switch, o.Index)
	}
	return strconv.Itoa(o.Index)
}

func (t Table) suffix(o Outlet) string {
	if t.Switches {
		return fmt.Sprintf(".%d.1.%d", max(o.Switch, 1), o.Index)
	}
	return "." + strconv.Itoa(o.Index)
}

// StatusOID and ControlOID are the objects of one outlet.
func (t Table) StatusOID(o Outlet) string  { return t.Status + t.suffix(o) }
func (t Table) ControlOID(o Outlet) string { return t.Control + t.suffix(o) }

// State maps an outlet status value. Only the table's "off" value is OFF;
// on and the busy values are ON (the outlet has or will have power); any
// other value, a missing object or a wrong type is an error, never OFF
// (the reference agent reports OFF for anything that is not "on").
func (t Table) State(v gosnmp.SnmpPDU) (fence.PowerState, error) {
	switch v.Type {
	case gosnmp.Integer, gosnmp.Gauge32, gosnmp.Uinteger32, gosnmp.Counter32:
	case gosnmp.NoSuchObject, gosnmp.NoSuchInstance, gosnmp.EndOfMibView, gosnmp.Null:
		return fence.PowerUnknown, fmt.Errorf("%s: no such outlet (%s)", v.Name, v.Type)
	default:
		return fence.PowerUnknown, fmt.Errorf("%s: outlet state has type %s, want INTEGER", v.Name, v.Type)
	}
	n := gosnmp.ToBigInt(v.Value).Int64()
	switch {
	case n == int64(t.StateOff):
		return fence.PowerOff, nil
	case n == int64(t.StateOn):
		return fence.PowerOn, nil
	}
	for _, b := range t.Busy {
		if n == int64(b) {
			return fence.PowerOn, nil
		}
	}
	return fence.PowerUnknown, fmt.Errorf("%s: outlet state %d is neither on (%d) nor off (%d)", v.Name, n, t.StateOn, t.StateOff)
}

// NameEntry decodes one row of the outlet name column: the outlet it
// belongs to (from the OID suffix) and its name.
func (t Table) NameEntry(v gosnmp.SnmpPDU) (Outlet, string, bool) {
	if !strings.HasPrefix(v.Name, t.Names+".") {
		return Outlet{}, "", false
	}
	parts := strings.Split(strings.TrimPrefix(v.Name, t.Names+"."), ".")
	idx, err := strconv.Atoi(parts[len(parts)-1])
	if err != nil || idx <= 0 {
		return Outlet{}, "", false
	}
	o := Outlet{Index: idx}
	if t.Switches {
		if len(parts) < 3 {
			return Outlet{}, "", false
		}
		sw, err := strconv.Atoi(parts[len(parts)-3])
		if err != nil || sw <= 0 {
			return Outlet{}, "", false
		}
		o.Switch = sw
	}
	var name string
	switch val := v.Value.(type) {
	case []byte:
		name = string(val)
	case string:
		name = val
	default:
		return Outlet{}, "", false
	}
	return o, cleanName(name), true
}

// cleanName strips the quotes the reference strips and anything that
// would break a "N,name" line.
func cleanName(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	return strings.Trim(s, "\"")
}

// PlugRef is one outlet of the plug option: by number (Outlet) or by the
// name the PDU knows it by (Name, resolved by walking the name column).
type PlugRef struct {
	Outlet Outlet
	Name   string
}

// ParsePlugs splits the plug option (several outlets with plug_separator,
// each a number, SWITCH:NUMBER or an outlet name), keeping their order.
func ParsePlugs(plug, sep string, switches bool) ([]PlugRef, error) {
	if sep == "" {
		sep = ","
	}
	if strings.TrimSpace(plug) == "" {
		return nil, fmt.Errorf("%w: no outlet given (plug)", fence.ErrConfig)
	}
	var refs []PlugRef
	for _, p := range strings.Split(plug, sep) {
		p = strings.TrimSpace(p)
		if p == "" {
			return nil, fmt.Errorf("%w: empty outlet in plug %q", fence.ErrConfig, plug)
		}
		if sw, n, ok := strings.Cut(p, ":"); ok && isNumber(sw) && isNumber(n) && atoi(n) > 0 {
			o := Outlet{Index: atoi(n)}
			if switches {
				o.Switch = atoi(sw)
			} else if atoi(sw) != 1 {
				// Only MasterSwitch plus units have switches; "1:N" is the
				// reference's notation for N elsewhere.
				return nil, fmt.Errorf("%w: plug %q names switch %s, but this PDU has no switches", fence.ErrStatus, p, sw)
			}
			refs = append(refs, PlugRef{Outlet: o})
			continue
		}
		if isNumber(p) && atoi(p) > 0 {
			o := Outlet{Index: atoi(p)}
			if switches {
				o.Switch = 1
			}
			refs = append(refs, PlugRef{Outlet: o})
			continue
		}
		refs = append(refs, PlugRef{Name: p})
	}
	return refs, nil
}

func isNumber(s string) bool {
	if s == "" || len(s) > 6 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }
