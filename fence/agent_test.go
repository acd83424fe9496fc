package fence

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testPlugin is a one-machine device backed by a fakeDevice.
var testDev = &fakeDevice{state: PowerOn}

func init() {
	Register(&Plugin{
		Name:     "fence_unittest",
		Aliases:  []Alias{{Name: "fence_unittest_slow", Defaults: map[string]string{OptPowerWait: "3"}}},
		Defaults: map[string]string{OptIPPort: "623"},
		Params:   []Param{{Name: OptMethod, Short: 'm', Type: TypeSelect, Default: "onoff", Choices: []string{"onoff", "cycle"}}},
		Open:     func(o Options) (Opener, error) { return testDev.opener(), nil },
	})
}

func TestNewAgent(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "pw")
	loose := filepath.Join(dir, "loose")
	os.WriteFile(good, []byte("s3cret\n"), 0o600)
	os.WriteFile(loose, []byte("s3cret\n"), 0o644)
	t.Setenv("UNITTEST_PW", "from-env")

	a, err := NewAgent("unittest", map[string]string{"ipaddr": "h", "login": "admin", "password_file": good, "power_wait": "0", "power_timeout": "0.1"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Options[OptIP] != "h" || a.Options[OptUsername] != "admin" || a.Options[OptPassword] != "s3cret" || a.Options[OptIPPort] != "623" {
		t.Errorf("options = %v", a.Options)
	}
	testDev.state = PowerOn
	if res := a.Off(context.Background()); !res.Fenced() {
		t.Errorf("Off: %v", res)
	}

	a, err = NewAgent("fence_unittest_slow", map[string]string{"ip": "h", "password_env": "UNITTEST_PW"})
	if err != nil || a.Options[OptPowerWait] != "3" || a.Options[OptPassword] != "from-env" {
		t.Errorf("alias defaults / password_env: %v, %v", a, err)
	}

	for _, bad := range []struct {
		name   string
		params map[string]string
		want   string
	}{
		{"unknown key", map[string]string{"ip": "h", "option": "status"}, `unknown parameter "option"`},
		{"loose password file", map[string]string{"ip": "h", "password_file": loose}, "chmod 600"},
		{"unset password env", map[string]string{"ip": "h", "password_env": "UNITTEST_NOPE"}, "not set"},
		{"missing ip", map[string]string{"username": "u"}, "fence address"},
		{"bad choice", map[string]string{"ip": "h", "method": "twice"}, "valid choice for --method"},
		{"bad seconds", map[string]string{"ip": "h", "power_timeout": "-1"}, "not a valid time"},
	} {
		_, err := NewAgent("unittest", bad.params)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: err = %v, want ErrConfig containing %q", bad.name, err, bad.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: error shows the password", bad.name)
		}
	}
	if _, err := NewAgent("fence_nosuch", nil); !errors.Is(err, ErrConfig) {
		t.Errorf("unknown plugin: %v", err)
	}
}
