package alert

import (
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"palisade/cluster/config/strict"
)

// Decode reads the `alerts:` section of cluster.yaml:
//
//	alerts:
//	  command: /usr/local/bin/page-oncall   # run with sh -c
//	  recipient: ops@example.com            # PALISADE_ALERT_RECIPIENT, CRM_alert_recipient
//	  timeout: 30s                          # the process group is killed after it
//
// Unknown keys are errors, all reported at once as FILE:LINE: key: problem
// (strict.Errors; cluster/config decodes the section with the rest of the
// file through DecodeWith). A nil node is an empty section (no command:
// alerts are only logged).
func Decode(file string, n *yaml.Node) (Config, error) {
	c := strict.New(file)
	cfg := DecodeWith(c, n)
	return cfg, c.Err()
}

// DecodeWith decodes the alerts section into c, the collector of the
// whole file.
func DecodeWith(c *strict.Collector, n *yaml.Node) Config {
	cfg := Config{Timeout: defaultTimeout}
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n == nil || n.ShortTag() == "!!null" {
		return cfg
	}
	c.Fields(n, "alerts", map[string]func(*yaml.Node, string){
		"command": func(v *yaml.Node, key string) {
			if s, ok := c.Scalar(v, key); ok {
				if strings.TrimSpace(s) == "" {
					c.Errorf(v, key, "empty command (leave the key out to only log alerts)")
				}
				cfg.Command = s
			}
		},
		"recipient": func(v *yaml.Node, key string) {
			if s, ok := c.Scalar(v, key); ok {
				cfg.Recipient = s
			}
		},
		"timeout": func(v *yaml.Node, key string) {
			s, ok := c.Scalar(v, key)
			if !ok {
				return
			}
			d, err := time.ParseDuration(s)
			if err != nil || d <= 0 || d > time.Hour {
				c.Errorf(v, key, "%s: want a duration such as 30s (at most 1h)", strict.Quote(s))
				return
			}
			cfg.Timeout = d
		},
	})
	return cfg
}
