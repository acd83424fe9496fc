package model

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Infinity is Pacemaker's INFINITY: scores are clamped to ±Infinity.
const Infinity = 1000000

// Score is a placement score in [-Infinity, +Infinity].
type Score int

// Add is Pacemaker's score addition: -INFINITY wins over everything, then
// +INFINITY, and finite sums are clamped.
func Add(a, b Score) Score {
	switch {
	case a <= -Infinity || b <= -Infinity:
		return -Infinity
	case a >= Infinity || b >= Infinity:
		return Infinity
	}
	return Clamp(int64(a) + int64(b))
}

// Clamp bounds v to [-Infinity, +Infinity].
func Clamp(v int64) Score {
	if v >= Infinity {
		return Infinity
	}
	if v <= -Infinity {
		return -Infinity
	}
	return Score(v)
}

// ParseScore reads an integer or INFINITY, +INFINITY, -INFINITY (any case,
// also "inf"). Out-of-range integers are clamped.
func ParseScore(s string) (Score, error) {
	t := strings.TrimSpace(s)
	switch strings.ToUpper(t) {
	case "INFINITY", "+INFINITY", "INF", "+INF":
		return Infinity, nil
	case "-INFINITY", "-INF":
		return -Infinity, nil
	case "":
		return 0, fmt.Errorf("empty score: want an integer or [+-]INFINITY")
	}
	v, err := strconv.ParseInt(strings.TrimPrefix(t, "+"), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("score %q: want an integer or [+-]INFINITY", s)
	}
	return Clamp(v), nil
}

// String prints INFINITY, -INFINITY or the integer, as crm_simulate does.
func (s Score) String() string {
	switch {
	case s >= Infinity:
		return "INFINITY"
	case s <= -Infinity:
		return "-INFINITY"
	}
	return strconv.Itoa(int(s))
}

// UnmarshalYAML accepts integers and INFINITY spellings.
func (s *Score) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseScore(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*s = v
	return nil
}

// MarshalYAML writes the crm spelling.
func (s Score) MarshalYAML() (any, error) {
	if s >= Infinity || s <= -Infinity {
		return s.String(), nil
	}
	return int(s), nil
}

// MarshalText lets JSON and maps print INFINITY spellings.
func (s Score) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText is the inverse of MarshalText.
func (s *Score) UnmarshalText(b []byte) error {
	v, err := ParseScore(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}
