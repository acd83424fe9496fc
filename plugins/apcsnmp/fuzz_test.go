package apcsnmp

import (
	"context"
	"strings"
	"testing"
	"unicode"

	"github.com/gosnmp/gosnmp"

	"palisade/fence"
)

func fuzzClient(v gosnmp.SnmpVersion) *gosnmp.GoSNMP {
	g := &gosnmp.GoSNMP{Version: v, Community: "private", Context: context.Background(), Logger: gosnmp.NewLogger(nil)}
	if v == gosnmp.Version3 {
		g.SecurityModel = gosnmp.UserSecurityModel
		g.MsgFlags = gosnmp.NoAuthNoPriv
		g.SecurityParameters = &gosnmp.UsmSecurityParameters{UserName: "fence"}
	}
	return g
}

// FuzzSNMPResponse decodes arbitrary datagrams as a PDU's answer (v1, v2c
// or v3, chosen by the first byte) and runs everything this plugin does
// with an answer: the error-status check, the table choice from
// sysObjectID, the outlet state mapping and the name column decoding. It
// must never panic; OFF comes only from an INTEGER equal to the table's
// off value; names are printable single-line text.
func FuzzSNMPResponse(f *testing.F) {
	versions := []gosnmp.SnmpVersion{gosnmp.Version1, gosnmp.Version2c, gosnmp.Version3}
	answers := [][]gosnmp.SnmpPDU{
		{{Name: OIDSysObjectID, Type: gosnmp.ObjectIdentifier, Value: ".1.3.6.1.4.1.318.1.3.4.5"}},
		{{Name: TableRackPDU.StatusOID(Outlet{Index: 3}), Type: gosnmp.Integer, Value: 2}},
		{{Name: TableMasterSwitch.StatusOID(Outlet{Index: 1}), Type: gosnmp.Integer, Value: 1},
			{Name: TableMasterSwitch.StatusOID(Outlet{Index: 2}), Type: gosnmp.Integer, Value: 7}},
		{{Name: TableRackPDU.Names + ".1", Type: gosnmp.OctetString, Value: []byte("node1")}},
		{{Name: TableMasterSwitchPlus.Names + ".2.1.5", Type: gosnmp.OctetString, Value: []byte("\"web\"")}},
		{{Name: TableRackPDU.StatusOID(Outlet{Index: 42}), Type: gosnmp.NoSuchInstance}},
	}
	for i, a := range answers {
		v := versions[i%2] // v3 seeds would need engine parameters
		b, err := fuzzClient(v).SnmpEncodePacket(gosnmp.GetResponse, a, 0, 0)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(append([]byte{byte(i % 2)}, b...))
	}
	f.Add([]byte{2, 0x30, 0x03, 0x02, 0x01, 0x03})
	f.Add([]byte{0})
	tables := []Table{TableRackPDU, TableMasterSwitchPlus, TableMasterSwitch, TableMasterSwitch6, TableTripplite, TableTrippliteLX}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		g := fuzzClient(versions[int(data[0])%3])
		p, err := g.SnmpDecodePacket(data[1:])
		if err != nil || p == nil {
			return
		}
		oids := make([]string, len(p.Variables))
		for i, v := range p.Variables {
			oids[i] = v.Name
		}
		_ = checkPacket("GET", p, oids)
		for _, v := range p.Variables {
			_ = ChooseTable(v)
			for _, tb := range tables {
				st, err := tb.State(v)
				if st == fence.PowerOff {
					if err != nil || gosnmp.ToBigInt(v.Value).Int64() != int64(tb.StateOff) {
						t.Fatalf("%s: OFF from %s %v", tb.Name, v.Type, v.Value)
					}
					switch v.Type {
					case gosnmp.Integer, gosnmp.Gauge32, gosnmp.Uinteger32, gosnmp.Counter32:
					default:
						t.Fatalf("%s: OFF from type %s", tb.Name, v.Type)
					}
				}
				if (st == fence.PowerUnknown) != (err != nil) {
					t.Fatalf("%s: state %s with error %v", tb.Name, st, err)
				}
				if o, name, ok := tb.NameEntry(v); ok {
					if o.Index <= 0 || strings.IndexFunc(name, unicode.IsControl) >= 0 {
						t.Fatalf("%s: outlet %v name %q", tb.Name, o, name)
					}
				}
			}
		}
	})
}
