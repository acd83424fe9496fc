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
	if t[0] == 'p' {
		return parseISODuration(s, t)
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

// parseISODuration reads an ISO 8601 duration as Pacemaker does for
// intervals and timeouts ("PT10S", "P1DT2H"; Pacemaker also takes "P10S").
// An M before the T is months (30 days), after it minutes.
func parseISODuration(orig, t string) (time.Duration, error) {
	var total time.Duration
	inTime := false
	num := ""
	for _, c := range t[1:] {
		switch {
		case c >= '0' && c <= '9':
			num += string(c)
			continue
		case c == 't':
			if num != "" {
				return 0, fmt.Errorf("duration %q: number before T", orig)
			}
			inTime = true
			continue
		}
		if num == "" {
			return 0, fmt.Errorf("duration %q: %c without a number", orig, c)
		}
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("duration %q: %w", orig, err)
		}
		num = ""
		unit := time.Duration(0)
		switch c {
		case 'y':
			unit = 365 * 24 * time.Hour
		case 'w':
			unit = 7 * 24 * time.Hour
		case 'd':
			unit = 24 * time.Hour
		case 'h':
			unit = time.Hour
		case 'm':
			if inTime {
				unit = time.Minute
			} else {
				unit = 30 * 24 * time.Hour
			}
		case 's':
			unit = time.Second
		default:
			return 0, fmt.Errorf("duration %q: unit %c: want Y, M, W, D, H or S", orig, c)
		}
		total += time.Duration(n) * unit
	}
	if num != "" {
		return 0, fmt.Errorf("duration %q: number without a unit", orig)
	}
	return total, nil
}
