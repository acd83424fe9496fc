package agent

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

type checkedBuiltin struct{ AgentFunc }

func (checkedBuiltin) CheckParams(p map[string]string) []ParamError {
	if p["ip"] == "" {
		return []ParamError{{Param: "ip", Msg: "required"}}
	}
	return nil
}

func TestRegistryValidate(t *testing.T) {
	root := t.TempDir()
	meta := `<resource-agent name="Check"><version>1.0</version><parameters>
<parameter name="dir" required="1"/><parameter name="count"><content type="integer"/></parameter>
</parameters><actions><action name="start"/><action name="validate-all"/></actions></resource-agent>`
	writeScript(t, filepath.Join(root, "resource.d", "test"), "Check", `case $1 in
meta-data) cat <<'XML'
`+meta+`
XML
exit 0;;
validate-all) [ -d "$OCF_RESKEY_dir" ] && exit 0; echo "ocf-exit-reason:directory $OCF_RESKEY_dir does not exist" >&2; exit 6;;
esac
exit 3
`)
	r := NewRegistry(Options{OCFRoot: root})
	r.RegisterBuiltin("vip", checkedBuiltin{AgentFunc(func(context.Context, Action, Instance) Result {
		return Result{RC: OK, Output: `<resource-agent name="vip"><actions><action name="start"/></actions></resource-agent>`}
	})})
	ctx := context.Background()
	check := func(inst Instance, local bool, want string) {
		t.Helper()
		var got []string
		for _, e := range r.Validate(ctx, inst, local) {
			got = append(got, e.Error())
		}
		if strings.Join(got, "; ") != want {
			t.Errorf("%s %v local=%v: %q, want %q", inst.Type, inst.Params, local, strings.Join(got, "; "), want)
		}
	}
	ocf := func(params map[string]string) Instance {
		return Instance{ID: "c", Class: "ocf", Provider: "test", Type: "Check", Params: params}
	}
	check(ocf(map[string]string{"dir": root}), true, "")
	check(ocf(map[string]string{"count": "x"}), false, `parameter dir: required by Check, not set; parameter count: "x" is not an integer`)
	check(ocf(map[string]string{"dir": "/nonexistent/x"}), false, "")
	check(ocf(map[string]string{"dir": "/nonexistent/x"}), true, "validate-all: rc 6 (not configured): directory /nonexistent/x does not exist")
	// Not installed: an error only where it may run.
	missing := Instance{ID: "m", Class: "ocf", Provider: "test", Type: "Missing"}
	check(missing, false, "")
	if errs := r.Validate(ctx, missing, true); len(errs) != 1 || !strings.Contains(errs[0].Msg, "agent ocf:test:Missing is not installed on this node") {
		t.Errorf("missing agent where it may run: %v", errs)
	}
	check(Instance{ID: "v", Class: "palisade", Type: "vip"}, false, "parameter ip: required")
	check(Instance{ID: "v", Class: "palisade", Type: "nope"}, false, "no built-in agent palisade:nope")
}
