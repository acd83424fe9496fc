package agentcli

import (
	"strings"
	"testing"

	"palisade/fence"
)

// FuzzParse feeds arbitrary command lines (NUL-separated arguments) and
// stdin text to the parser and Normalize. They must never panic; an
// unknown key never reaches the options (stdin: it is only listed in
// Ignored); a stdin call is accepted only with an action line.
func FuzzParse(f *testing.F) {
	seeds := []struct{ args, stdin string }{
		{"-a\x00198.18.0.10\x00-l\x00admin\x00-p\x00pw\x00-P\x00-C\x003\x00-o\x00status", ""},
		{"-vvvPostatus\x00-a10.0.0.1", ""},
		{"--ip=h\x00--act=off\x00--power-timeout=2.5", ""},
		{"--port-as-ip\x00-n\x00h", ""},
		{"--\x00-a\x00x", ""},
		{"", "action=off\nipaddr=198.18.0.10\nlogin=admin\npasswd=pw\nport=n1\nnodename=n1\n"},
		{"", "# comment\n\nip=\"h\"\nlanplus=1\nverbose=1\n"},
		{"", "ipaddr=h\noption=status\n"},
		{"", "=\n==\nip\nlanplus=\n"},
		{"", "power-timeout=x\n"},
		{"", "action=off\nno_such_param=1\npasswd_typo=x\n"},
		{"", "target=0x20\naction=reboot\nhexadecimal_kg=00ff\n"},
	}
	for _, s := range seeds {
		f.Add(s.args, s.stdin)
	}
	p, err := fence.Lookup("fence_ipmilan")
	if err != nil {
		f.Fatal(err)
	}
	idx := p.Index("fence_ipmilan")
	f.Fuzz(func(t *testing.T, argStr, stdin string) {
		var args []string
		if argStr != "" {
			args = strings.Split(argStr, "\x00")
		}
		inv, err := Parse(args, strings.NewReader(stdin), idx, p.HasPlugs)
		if err != nil {
			return
		}
		for k := range inv.Raw {
			if _, ok := idx[k]; !ok {
				t.Fatalf("parser accepted unknown parameter %q", k)
			}
		}
		if inv.FromStdin && stdin != "" {
			if _, ok := inv.Raw[fence.OptAction]; !ok {
				t.Fatalf("stdin call accepted without an action line: %q", stdin)
			}
		}
		opts, err := fence.Normalize(p, "fence_ipmilan", inv.Raw)
		if err != nil {
			return
		}
		if _, err := fence.RequestFromOptions(fence.ActionStatus, opts); err != nil {
			t.Fatalf("normalized options rejected when building a request: %v", err)
		}
	})
}
