package alert

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Decode reads the proposed `alerts:` section of cluster.yaml:
//
//	alerts:
//	  command: /usr/local/bin/page-oncall   # run with sh -c
//	  recipient: ops@example.com            # PALISADE_ALERT_RECIPIENT, CRM_alert_recipient
//	  timeout: 30s                          # the process group is killed after it
//
// Unknown keys are errors, all reported at once as FILE:LINE: key: problem.
// A nil node is an empty section (no command: alerts are only logged).
func Decode(file string, n *yaml.Node) (Config, error) {
	cfg := Config{Timeout: defaultTimeout}
	if n == nil {
		return cfg, nil
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n.Kind != yaml.MappingNode {
		return cfg, fmt.Errorf("%s:%d: alerts: want a mapping with command, recipient, timeout", file, n.Line)
	}
	var errs []string
	errf := func(at *yaml.Node, key, format string, args ...any) {
		errs = append(errs, fmt.Sprintf("%s:%d: alerts.%s: %s", file, at.Line, key, fmt.Sprintf(format, args...)))
	}
	valid := []string{"command", "recipient", "timeout"}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind != yaml.ScalarNode {
			errf(v, k.Value, "want a single value")
			continue
		}
		switch k.Value {
		case "command":
			if strings.TrimSpace(v.Value) == "" {
				errf(v, k.Value, "empty command (leave the key out to only log alerts)")
			}
			cfg.Command = v.Value
		case "recipient":
			cfg.Recipient = v.Value
		case "timeout":
			d, err := time.ParseDuration(v.Value)
			if err != nil || d <= 0 || d > time.Hour {
				errf(v, k.Value, "%q: want a duration such as 30s (at most 1h)", v.Value)
				continue
			}
			cfg.Timeout = d
		default:
			sort.Strings(valid)
			errf(k, k.Value, "unknown key, valid keys here: %s", strings.Join(valid, ", "))
		}
	}
	if len(errs) > 0 {
		return cfg, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return cfg, nil
}
