package fence

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
)

// TestResolverAndOwnParams: a name no plugin registered is built by a
// resolver once, and a plugin with OwnParams has exactly its declared
// parameters and needs no ip.
func TestResolverAndOwnParams(t *testing.T) {
	var calls atomic.Int32
	own := &Plugin{
		Name:      "fence_unittest_resolved",
		OwnParams: true,
		Params: []Param{
			{Name: OptAction, Type: TypeString, Default: "off"},
			{Name: OptPlug, Type: TypeString, Required: true},
			{Name: OptPowerTimeout, Type: TypeSecond, Default: "1"},
		},
		Open: func(o Options) (Opener, error) {
			if o[OptPlug] == "" {
				return nil, errors.New("plug missing")
			}
			return testDev.opener(), nil
		},
	}
	RegisterResolver(func(name string) (*Plugin, error) {
		switch strings.TrimPrefix(name, "fence_") {
		case "unittest_resolved":
			calls.Add(1)
			return own, nil
		case "unittest_broken":
			return nil, errors.New("metadata unreadable")
		}
		return nil, nil
	})
	for i := 0; i < 3; i++ {
		p, err := Lookup("fence_unittest_resolved")
		if err != nil || p != own {
			t.Fatalf("Lookup = %v, %v", p, err)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("resolver ran %d times, want once", n)
	}
	if _, err := Lookup("fence_unittest_broken"); err == nil || !strings.Contains(err.Error(), "metadata unreadable") {
		t.Errorf("a resolver's error must reach the caller, got %v", err)
	}
	if _, err := Lookup("fence_unittest_nobody"); !errors.Is(err, ErrConfig) {
		t.Errorf("unknown name: %v, want ErrConfig", err)
	}

	if got := len(own.AllParams("")); got != 3 {
		t.Errorf("OwnParams plugin has %d parameters, want its 3", got)
	}
	if _, err := NewAgent("fence_unittest_resolved", map[string]string{"ip": "h"}); !errors.Is(err, ErrConfig) {
		t.Errorf("a common parameter the plugin does not declare must be refused, got %v", err)
	}
	a, err := NewAgent("fence_unittest_resolved", map[string]string{"plug": "n1"})
	if err != nil {
		t.Fatalf("no ip needed: %v", err)
	}
	testDev.state = PowerOn
	if res := a.Do(context.Background(), ActionStatus); !res.OK || res.State != PowerOn {
		t.Errorf("status = %v", res)
	}
}
