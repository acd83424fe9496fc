package alert

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestDecode(t *testing.T) {
	parse := func(s string) *yaml.Node {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(s), &n); err != nil {
			t.Fatal(err)
		}
		return &n
	}
	cfg, err := Decode("c.yaml", parse("command: /usr/local/bin/page\nrecipient: ops@example.com\ntimeout: 5s\n"))
	if err != nil || cfg.Command != "/usr/local/bin/page" || cfg.Recipient != "ops@example.com" || cfg.Timeout != 5*time.Second {
		t.Fatalf("%+v %v", cfg, err)
	}
	if cfg, err := Decode("c.yaml", nil); err != nil || cfg.Command != "" || cfg.Timeout != defaultTimeout {
		t.Fatalf("empty section: %+v %v", cfg, err)
	}
	_, err = Decode("c.yaml", parse("comand: x\ntimeout: forever\ncommand: ''\n"))
	want := []string{
		"c.yaml:1: alerts.comand: unknown key, valid keys here: command, recipient, timeout",
		`c.yaml:2: alerts.timeout: "forever": want a duration such as 30s (at most 1h)`,
		"c.yaml:3: alerts.command: empty command (leave the key out to only log alerts)",
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Fatalf("errors:\n%v\nwant:\n%s", err, strings.Join(want, "\n"))
	}
}

// FuzzDecode: any YAML gives a config or an error naming the file, never
// a panic, and a decoded timeout is always usable.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		"command: /usr/local/bin/page\nrecipient: ops@example.com\ntimeout: 5s\n",
		"command: sh /usr/share/pacemaker/alerts/alert_file.sh.sample\nrecipient: /var/log/palisade-alerts.log\n",
		"comand: x\ntimeout: forever\n",
		"[1, 2]\n",
		"command: {a: b}\n",
		"timeout: -1s\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var n yaml.Node
		if yaml.Unmarshal([]byte(s), &n) != nil || len(n.Content) == 0 {
			return
		}
		cfg, err := Decode("f.yaml", &n)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.yaml:") {
				t.Fatalf("error without the file: %v", err)
			}
			return
		}
		if cfg.Timeout <= 0 || cfg.Timeout > time.Hour {
			t.Fatalf("timeout %v accepted", cfg.Timeout)
		}
	})
}
