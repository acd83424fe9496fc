package agent

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// basePath is the PATH agents get: system directories only, so a test's
// or operator's PATH (with its own python3, ip, ...) never changes what a
// stock agent runs.
const basePath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// baseEnv is the sanitized environment every agent starts from; nothing of
// the daemon's own environment (secrets such as BMC passwords included)
// leaks into agents.
func baseEnv(extra map[string]string) []string {
	env := []string{"PATH=" + basePath, "LANG=C", "LC_ALL=C", "HOME=/root", "TERM=dumb"}
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		env = append(env, k+"="+extra[k])
	}
	return env
}

// validName reports whether s can be used in an environment variable name
// that a shell agent can read.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// ocfEnv builds the OCF environment for one action.
func ocfEnv(ocfRoot string, action Action, in Instance, extra map[string]string) ([]string, error) {
	env := baseEnv(extra)
	env = append(env,
		"OCF_ROOT="+ocfRoot,
		"OCF_RA_VERSION_MAJOR=1",
		"OCF_RA_VERSION_MINOR=1",
		"OCF_RESOURCE_INSTANCE="+in.ID,
		"OCF_RESOURCE_TYPE="+in.Type,
		"OCF_RESOURCE_PROVIDER="+in.Provider,
		"OCF_RESKEY_CRM_meta_timeout="+strconv.FormatInt(in.timeout().Milliseconds(), 10),
	)
	if action == Monitor || in.Interval > 0 {
		env = append(env, "OCF_RESKEY_CRM_meta_interval="+strconv.FormatInt(in.Interval.Milliseconds(), 10))
	}
	for _, k := range slices.Sorted(maps.Keys(in.Params)) {
		if !validName(k) {
			return nil, fmt.Errorf("resource %s: parameter name %q: want letters, digits and _", in.ID, k)
		}
		env = append(env, "OCF_RESKEY_"+k+"="+in.Params[k])
	}
	for _, k := range slices.Sorted(maps.Keys(in.Meta)) {
		v := in.Meta[k]
		// Pacemaker spells meta attributes with dashes (notify-type) and
		// exports them with underscores.
		k = strings.ReplaceAll(k, "-", "_")
		if !validName(k) {
			return nil, fmt.Errorf("resource %s: meta attribute name %q: want letters, digits and _", in.ID, k)
		}
		if k == "timeout" || k == "interval" {
			continue // taken from Instance.Timeout/Interval
		}
		env = append(env, "OCF_RESKEY_CRM_meta_"+k+"="+v)
	}
	return env, nil
}
