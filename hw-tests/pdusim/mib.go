package pdusim

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Kind is the APC outlet table the simulated PDU serves, chosen (by real
// PDUs and by fence_apc_snmp) from sysObjectID.
type Kind string

const (
	// RackPDU is an APC Switched Rack PDU (AP79xx): sysObjectID
	// masterSwitchrPDU, rPDUOutletControlOutletCommand to switch and
	// rPDUOutletStatusOutletState to read.
	RackPDU Kind = "rpdu"
	// MasterSwitch is the old MasterSwitch table every APC PDU also serves:
	// sPDUOutletCtl, read and written at the same OID.
	MasterSwitch Kind = "masterswitch"
)

// PowerNet-MIB (enterprise 318) objects, written out from the MIB rather
// than shared with the plugin, so a mistake on one side shows.
const (
	apc = ".1.3.6.1.4.1.318"

	sysObjRackPDU      = apc + ".1.3.4.5" // masterSwitchrPDU
	sysObjMasterSwitch = apc + ".1.3.4.2" // masterSwitchV2: no specific table, the fallback

	rPDUOutletControlIndex   = apc + ".1.1.12.3.3.1.1.1"
	rPDUOutletControlName    = apc + ".1.1.12.3.3.1.1.2"
	rPDUOutletControlCommand = apc + ".1.1.12.3.3.1.1.4" // immediateOn(1) immediateOff(2) immediateReboot(3)
	rPDUOutletStatusIndex    = apc + ".1.1.12.3.5.1.1.1"
	rPDUOutletStatusName     = apc + ".1.1.12.3.5.1.1.2"
	rPDUOutletStatusState    = apc + ".1.1.12.3.5.1.1.4" // outletStatusOn(1) outletStatusOff(2)

	sPDUOutletCtlIndex = apc + ".1.1.4.4.2.1.1"
	sPDUOutletCtl      = apc + ".1.1.4.4.2.1.3" // outletOn(1) outletOff(2) outletReboot(3)
	sPDUOutletCtlName  = apc + ".1.1.4.4.2.1.4"
)

func (k Kind) sysObjectID() string {
	if k == MasterSwitch {
		return sysObjMasterSwitch
	}
	return sysObjRackPDU
}

// varbind is one object as pass_persist prints it.
type varbind struct {
	oid   []int
	typ   string // "integer" or "string"
	value string
}

func parseOID(s string) ([]int, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), ".")
	if s == "" {
		return nil, fmt.Errorf("empty OID")
	}
	parts := strings.Split(s, ".")
	out := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("bad OID %q", s)
		}
		out[i] = n
	}
	return out, nil
}

func mustOID(s string) []int {
	o, err := parseOID(s)
	if err != nil {
		panic(err)
	}
	return o
}

func oidString(o []int) string {
	var b strings.Builder
	for _, n := range o {
		b.WriteByte('.')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

func child(base string, idx int) []int { return append(mustOID(base), idx) }

// objects lists the MIB objects of st, sorted by OID.
func objects(st *state) []varbind {
	var vbs []varbind
	add := func(base string, idx int, typ, val string) {
		vbs = append(vbs, varbind{oid: child(base, idx), typ: typ, value: val})
	}
	for i, o := range st.Outlets {
		n := i + 1
		state := "2"
		if o.on(st.now()) {
			state = "1"
		}
		switch st.Kind {
		case RackPDU:
			add(rPDUOutletControlIndex, n, "integer", strconv.Itoa(n))
			add(rPDUOutletControlName, n, "string", o.Name)
			add(rPDUOutletControlCommand, n, "integer", state)
			add(rPDUOutletStatusIndex, n, "integer", strconv.Itoa(n))
			add(rPDUOutletStatusName, n, "string", o.Name)
			add(rPDUOutletStatusState, n, "integer", state)
			// Rack PDUs serve the old table as well.
			fallthrough
		case MasterSwitch:
			add(sPDUOutletCtlIndex, n, "integer", strconv.Itoa(n))
			add(sPDUOutletCtl, n, "integer", state)
			add(sPDUOutletCtlName, n, "string", o.Name)
		}
	}
	slices.SortFunc(vbs, func(a, b varbind) int { return slices.Compare(a.oid, b.oid) })
	return vbs
}

// writable reports which outlet a SET of oid switches, and with which
// values meaning on and off.
func writable(k Kind, oid []int) (outlet int, on, off, reboot int, ok bool) {
	base := oid[:len(oid)-1]
	idx := oid[len(oid)-1]
	switch {
	case k == RackPDU && slices.Equal(base, mustOID(rPDUOutletControlCommand)):
		return idx, 1, 2, 3, true
	case slices.Equal(base, mustOID(sPDUOutletCtl)):
		return idx, 1, 2, 3, true
	}
	return 0, 0, 0, 0, false
}
