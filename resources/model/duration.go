package model

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Duration is a time span written as a Go duration ("10s", "1m30s") or as
// Pacemaker writes intervals: plain seconds ("10"), or with s/m/h/ms units.
type Duration time.Duration

// ParseDuration reads Pacemaker and Go spellings of a duration.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(strings.ToLower(s))
	if t == "" {
		return 0, nil
	}
	if n, err := strconv.ParseInt(t, 10, 64); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	for _, suf := range []struct {
		s string
		d time.Duration
	}{{"msec", time.Millisecond}, {"sec", time.Second}, {"min", time.Minute}, {"hr", time.Hour}} {
		if strings.HasSuffix(t, suf.s) {
			if n, err := strconv.ParseInt(strings.TrimSuffix(t, suf.s), 10, 64); err == nil {
				return time.Duration(n) * suf.d, nil
			}
		}
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return 0, fmt.Errorf("duration %q: want seconds or a duration such as 10s, 1m", s)
	}
	return d, nil
}

// UnmarshalYAML accepts "10s", "10" and 10.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes a Go duration string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// MarshalText writes a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText is the inverse of MarshalText.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	*d = Duration(v)
	return err
}

// NormalizeRole maps legacy role names (Master, Slave) to today's.
func NormalizeRole(r string) string {
	switch strings.ToLower(r) {
	case "master", "promoted":
		return RolePromoted
	case "slave", "unpromoted":
		return RoleUnpromoted
	case "started":
		return RoleStarted
	case "stopped":
		return RoleStopped
	case "":
		return ""
	}
	return r
}

// ParseBool reads Pacemaker booleans (true/false, yes/no, on/off, 1/0).
func ParseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "on", "y", "1":
		return true, true
	case "false", "no", "off", "n", "0":
		return false, true
	}
	return false, false
}
