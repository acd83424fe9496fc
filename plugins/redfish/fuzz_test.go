package redfish

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"palisade/fence"
	"palisade/hw-tests/redfishsim"
)

// FuzzRedfishResponse feeds arbitrary bodies (with a status) to the code
// that reads what a BMC sends: the ComputerSystem decoder, the PowerState
// mapping and the error-body decoder. They must never panic; OFF is
// reported only for a body whose PowerState is exactly "Off"; an error
// message always names the status and stays one bounded line.
func FuzzRedfishResponse(f *testing.F) {
	seeds := []string{
		`{"@odata.id":"/redfish/v1/Systems/1","Id":"1","PowerState":"On","Actions":{"#ComputerSystem.Reset":{"target":"/redfish/v1/Systems/1/Actions/ComputerSystem.Reset","ResetType@Redfish.AllowableValues":["On","ForceOff"]}}}`,
		`{"PowerState":"Off"}`,
		`{"PowerState":"PoweringOff"}`,
		`{"PowerState":"Paused"}`,
		`{"PowerState":"off"}`,
		`{"PowerState":null,"Actions":{"#ComputerSystem.Reset":{"@Redfish.ActionInfo":"/x"}}}`,
		redfishsim.ErrorBody("Base.1.8.ActionParameterValueNotInList", "The value X for the parameter ResetType is not in the list of acceptable values.", "Choose a value."),
		`{"error":{"code":"Base.1.0.GeneralError","message":"m","@Message.ExtendedInfo":[{"MessageId":"a"},1,"x",{"Message":"\u0000\n"}]}}`,
		`{"@Message.ExtendedInfo":[{"MessageId":"Base.1.0.Success","Message":"ok"}]}`,
		`<html><body>Service Unavailable</body></html>`,
		``, `null`, `[]`, `{"error":null}`, `{"error":[]}`,
	}
	for i, s := range seeds {
		f.Add(uint16(200+100*(i%4)), []byte(s))
	}
	f.Fuzz(func(t *testing.T, status uint16, body []byte) {
		cs, err := decodeSystem(body)
		if err == nil {
			st, final := powerOf(cs.PowerState)
			if st == fence.PowerOff {
				var raw map[string]any
				if json.Unmarshal(body, &raw) != nil || raw["PowerState"] != "Off" {
					// Decoders may accept a body json.Unmarshal into a map
					// refuses (duplicate keys keep the last); check the
					// decoded field then.
					if string(cs.PowerState) != "Off" {
						t.Fatalf("OFF from PowerState %q", cs.PowerState)
					}
				}
			}
			if !final && st != fence.PowerUnknown {
				t.Fatalf("a transitional state mapped to %s", st)
			}
		}
		code := int(status)%600 + 1
		e := httpErrorFrom("GET /x", code, body)
		msg := e.Error()
		if !strings.Contains(msg, fmt.Sprintf("HTTP %d", code)) {
			t.Fatalf("error %q does not name status %d", msg, code)
		}
		if strings.ContainsAny(msg, "\n\r\x00") {
			t.Fatalf("error is not one clean line: %q", msg)
		}
		if len(msg) > 20*maxText {
			t.Fatalf("error of %d bytes", len(msg))
		}
		if utf8.Valid(body) && !utf8.ValidString(msg) {
			t.Fatalf("valid UTF-8 body made an invalid message %q", msg)
		}
	})
}

// BenchmarkStatusKeptSession is the daemon's monitor: one Device (one TLS
// connection, one session) kept open, one status read per iteration.
func BenchmarkStatusKeptSession(b *testing.B) {
	s, err := redfishsim.Start(redfishsim.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Stop()
	cfg, err := ConfigFromOptions(fence.Options(params(s)))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	d, err := cfg.Open(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if st, err := d.Status(ctx, ""); err != nil || st != fence.PowerOn {
			b.Fatal(st, err)
		}
	}
}

// BenchmarkStatusOneShot is one whole status request as fence_redfish runs
// it in-process: connect, TLS, session, discovery, read, delete session.
func BenchmarkStatusOneShot(b *testing.B) {
	s, err := redfishsim.Start(redfishsim.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Stop()
	a, err := fence.NewAgent("fence_redfish", params(s))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if res := a.Do(ctx, fence.ActionStatus); !res.OK {
			b.Fatal(res)
		}
	}
}
