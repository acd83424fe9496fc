package agent

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLSBStatusMapping(t *testing.T) {
	dir := t.TempDir()
	codeFile := filepath.Join(dir, "code")
	writeScript(t, dir, "svc", `case "$1" in
start|stop) exit 0 ;;
status) exit $(cat `+codeFile+`) ;;
*) exit 3 ;;
esac
`)
	l := &LSB{Dir: dir}
	in := Instance{ID: "svc", Class: "lsb", Type: "svc", Timeout: 5 * time.Second}
	for code, want := range map[string]RC{"0": OK, "1": NotRunning, "2": NotRunning, "3": NotRunning, "4": ErrGeneric, "150": ErrGeneric} {
		os.WriteFile(codeFile, []byte(code), 0o644)
		if res := l.Run(context.Background(), Monitor, in); res.RC != want {
			t.Errorf("status exit %s: got %d, want %d", code, res.RC, want)
		}
	}
	if res := l.Run(context.Background(), Start, in); res.RC != OK {
		t.Errorf("start: %+v", res)
	}
	if res := l.Run(context.Background(), Promote, in); res.RC != ErrUnimplemented {
		t.Errorf("promote: %+v", res)
	}
}

func TestHeartbeatScript(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	log := filepath.Join(dir, "args")
	writeScript(t, filepath.Join(dir, "resource.d"), "IPaddr", `echo "$@" >> `+log+`
for last; do :; done
case "$last" in
start) touch `+state+` ;;
stop) rm -f `+state+` ;;
status) if [ -f `+state+` ]; then echo running; else echo stopped; fi ;;
esac
exit 0
`)
	h := &Heartbeat{Dir: filepath.Join(dir, "resource.d"), InitDir: filepath.Join(dir, "init.d")}
	in, err := ParseHaresource("IPaddr::198.18.0.50/24/eth0::extra")
	if err != nil {
		t.Fatal(err)
	}
	in.Timeout = 5 * time.Second
	steps := []struct {
		a    Action
		want RC
	}{{Monitor, NotRunning}, {Start, OK}, {Monitor, OK}, {Stop, OK}, {Monitor, NotRunning}}
	for _, s := range steps {
		if res := h.Run(context.Background(), s.a, in); res.RC != s.want {
			t.Fatalf("%s: got %d (%s), want %d", s.a, res.RC, res.Output, s.want)
		}
	}
	b, _ := os.ReadFile(log)
	if first := strings.SplitN(string(b), "\n", 2)[0]; first != "198.18.0.50/24/eth0 extra status" {
		t.Errorf("argv = %q", first)
	}
}

func TestHeartbeatFallsBackToInitScript(t *testing.T) {
	dir := t.TempDir()
	writeScript(t, filepath.Join(dir, "init.d"), "httpd", "[ \"$1\" = status ] && exit 3\nexit 0\n")
	h := &Heartbeat{Dir: filepath.Join(dir, "resource.d"), InitDir: filepath.Join(dir, "init.d")}
	in, _ := ParseHaresource("httpd")
	if res := h.Run(context.Background(), Monitor, in); res.RC != NotRunning {
		t.Fatalf("got %+v", res)
	}
}

func TestParseHaresource(t *testing.T) {
	in, err := ParseHaresource("Filesystem::/dev/sdb1::/data::ext4")
	if err != nil {
		t.Fatal(err)
	}
	if in.Type != "Filesystem" || in.Params["1"] != "/dev/sdb1" || in.Params["3"] != "ext4" || len(in.Params) != 3 {
		t.Fatalf("got %+v", in)
	}
	for _, bad := range []string{"", "::x", "../x::y", "a/b"} {
		if _, err := ParseHaresource(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzParseHaresource(f *testing.F) {
	for _, s := range []string{"IPaddr::198.18.0.50/24/eth0", "httpd", "Filesystem::/dev/sdb1::/data::ext4", "::", "a::::b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		in, err := ParseHaresource(s)
		if err != nil {
			return
		}
		if _, err := positional(in); err != nil {
			t.Fatalf("parsed %q but params are not positional: %v", s, err)
		}
		if strings.Join(append([]string{in.Type}, mustArgs(in)...), "::") != s {
			t.Fatalf("round trip of %q failed", s)
		}
	})
}

func mustArgs(in Instance) []string {
	a, _ := positional(in)
	return a
}

func TestRegistry(t *testing.T) {
	r := NewRegistry(Options{OCFRoot: t.TempDir()})
	r.RegisterBuiltin("echo", AgentFunc(func(_ context.Context, a Action, in Instance) Result {
		return Result{RC: OK, Output: string(a) + " " + in.ID}
	}))
	if res := r.Run(context.Background(), Start, Instance{ID: "v", Class: "palisade", Type: "echo"}); res.Output != "start v" {
		t.Errorf("builtin: %+v", res)
	}
	if res := r.Run(context.Background(), Start, Instance{ID: "v", Class: "palisade", Type: "nope"}); res.RC != ErrInstalled {
		t.Errorf("missing builtin: %+v", res)
	}
	if res := r.Run(context.Background(), Start, Instance{ID: "v", Class: "systemd", Type: "x"}); res.RC != ErrInstalled {
		t.Errorf("unknown class: %+v", res)
	}
}

func TestHaresourceToOCF(t *testing.T) {
	cases := []struct {
		word, typ string
		params    map[string]string
		ok        bool
	}{
		{"IPaddr::198.18.0.50/24/eth0", "IPaddr2", map[string]string{"ip": "198.18.0.50", "cidr_netmask": "24", "nic": "eth0"}, true},
		{"IPaddr::198.18.0.51", "IPaddr2", map[string]string{"ip": "198.18.0.51"}, true},
		{"Filesystem::/dev/sdb1::/data::ext4", "Filesystem", map[string]string{"device": "/dev/sdb1", "directory": "/data", "fstype": "ext4"}, true},
		{"drbddisk::r0", "drbddisk", map[string]string{"1": "r0"}, false},
	}
	for _, c := range cases {
		in, _ := ParseHaresource(c.word)
		out, ok, err := HaresourceToOCF(in)
		if err != nil || ok != c.ok || out.Type != c.typ || len(out.Params) != len(c.params) {
			t.Errorf("%s: got %+v ok=%v err=%v", c.word, out, ok, err)
			continue
		}
		for k, v := range c.params {
			if out.Params[k] != v {
				t.Errorf("%s: param %s = %q, want %q", c.word, k, out.Params[k], v)
			}
		}
	}
	in, _ := ParseHaresource("IPaddr::1/2/3/4/5")
	if _, _, err := HaresourceToOCF(in); err == nil {
		t.Error("too many IPaddr fields accepted")
	}
}
