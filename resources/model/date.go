package model

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DateExpression is a rule condition on the evaluation time (Pacemaker's
// date_expression). Operation: in_range (default: Start <= now <= End, or
// Start plus Duration), gt (after Start), lt (before End) or date_spec
// (every field of Spec matches: hours, minutes, seconds, monthdays,
// weekdays (1 = Monday), yeardays, months, weeks (ISO), years, weekyears;
// each "N" or "N-M").
type DateExpression struct {
	Operation string            `yaml:"operation,omitempty" json:"operation,omitempty"`
	Start     string            `yaml:"start,omitempty" json:"start,omitempty"`
	End       string            `yaml:"end,omitempty" json:"end,omitempty"`
	Duration  map[string]string `yaml:"duration,omitempty" json:"duration,omitempty"`
	Spec      map[string]string `yaml:"spec,omitempty" json:"spec,omitempty"`
}

// Match evaluates the expression at now.
func (d DateExpression) Match(now time.Time) (bool, error) {
	parse := func(v string) (time.Time, bool, error) {
		if v == "" {
			return time.Time{}, false, nil
		}
		t, err := ParseISODate(v)
		return t, err == nil, err
	}
	start, hasStart, err := parse(d.Start)
	if err != nil {
		return false, err
	}
	end, hasEnd, err := parse(d.End)
	if err != nil {
		return false, err
	}
	switch strings.ToLower(d.Operation) {
	case "gt":
		return hasStart && now.After(start), nil
	case "lt":
		return hasEnd && now.Before(end), nil
	case "date_spec":
		return d.specMatches(now)
	case "", "in_range":
		if !hasEnd && len(d.Duration) > 0 && hasStart {
			end, err = addDuration(start, d.Duration)
			if err != nil {
				return false, err
			}
			hasEnd = true
		}
		if !hasStart && !hasEnd {
			return false, fmt.Errorf("in_range needs start or end")
		}
		if hasStart && now.Before(start) {
			return false, nil
		}
		if hasEnd && now.After(end) {
			return false, nil
		}
		return true, nil
	}
	return false, fmt.Errorf("date operation %q: want in_range, gt, lt or date_spec", d.Operation)
}

func addDuration(t time.Time, d map[string]string) (time.Time, error) {
	get := func(k string) (int, error) {
		v, ok := d[k]
		if !ok {
			return 0, nil
		}
		return strconv.Atoi(strings.TrimSpace(v))
	}
	var f [7]int
	for i, k := range []string{"years", "months", "weeks", "days", "hours", "minutes", "seconds"} {
		n, err := get(k)
		if err != nil {
			return t, fmt.Errorf("duration %s=%q: %w", k, d[k], err)
		}
		f[i] = n
	}
	t = t.AddDate(f[0], f[1], 7*f[2]+f[3])
	return t.Add(time.Duration(f[4])*time.Hour + time.Duration(f[5])*time.Minute + time.Duration(f[6])*time.Second), nil
}

func (d DateExpression) specMatches(now time.Time) (bool, error) {
	wy, wk := now.ISOWeek()
	wd := int(now.Weekday())
	if wd == 0 {
		wd = 7
	}
	values := map[string]int{
		"hours": now.Hour(), "minutes": now.Minute(), "seconds": now.Second(),
		"monthdays": now.Day(), "weekdays": wd, "yeardays": now.YearDay(),
		"months": int(now.Month()), "weeks": wk, "years": now.Year(), "weekyears": wy,
	}
	for _, k := range SortedKeys(d.Spec) {
		if k == "id" {
			continue
		}
		v, ok := values[k]
		if !ok {
			return false, fmt.Errorf("date_spec field %q is not supported", k)
		}
		lo, hi, err := specRange(d.Spec[k])
		if err != nil {
			return false, fmt.Errorf("date_spec %s=%q: %w", k, d.Spec[k], err)
		}
		if v < lo || v > hi {
			return false, nil
		}
	}
	return true, nil
}

func specRange(v string) (int, int, error) {
	v = strings.TrimSpace(v)
	if a, b, ok := strings.Cut(v, "-"); ok {
		lo, err1 := strconv.Atoi(strings.TrimSpace(a))
		hi, err2 := strconv.Atoi(strings.TrimSpace(b))
		if err1 != nil || err2 != nil {
			return 0, 0, fmt.Errorf("want N or N-M")
		}
		return lo, hi, nil
	}
	n, err := strconv.Atoi(v)
	return n, n, err
}

// ParseISODate reads the ISO 8601 date-times Pacemaker accepts:
// "2019-09-20 15:10:52 +00:00", "2019-09-20T15:10:52Z", "2019-09-20",
// with an optional zone (Z, +hh, +hhmm, +hh:mm; none is UTC).
func ParseISODate(v string) (time.Time, error) {
	s := strings.TrimSpace(v)
	datePart, rest, _ := strings.Cut(strings.Replace(s, "T", " ", 1), " ")
	rest = strings.TrimSpace(rest)
	day, err := time.Parse("2006-01-02", datePart)
	if err != nil {
		return time.Time{}, fmt.Errorf("date %q: want YYYY-MM-DD[ hh:mm:ss[ zone]]", v)
	}
	// Split the time of day from the zone.
	clock, zone := rest, ""
	if i := strings.IndexAny(rest, "Z+-"); i >= 0 {
		clock, zone = strings.TrimSpace(rest[:i]), strings.TrimSpace(rest[i:])
	}
	var h, m, sec int
	if clock != "" {
		parts := strings.Split(clock, ":")
		vals := []*int{&h, &m, &sec}
		if len(parts) > 3 {
			return time.Time{}, fmt.Errorf("date %q: bad time of day", v)
		}
		for i, p := range parts {
			n, err := strconv.Atoi(p)
			if err != nil {
				return time.Time{}, fmt.Errorf("date %q: bad time of day", v)
			}
			*vals[i] = n
		}
	}
	offset := 0
	if zone != "" && zone != "Z" {
		sign := 1
		if zone[0] == '-' {
			sign = -1
		}
		z := strings.ReplaceAll(zone[1:], ":", "")
		var zh, zm int
		switch len(z) {
		case 2:
			zh, err = strconv.Atoi(z)
		case 4:
			zh, err = strconv.Atoi(z[:2])
			if err == nil {
				zm, err = strconv.Atoi(z[2:])
			}
		default:
			err = fmt.Errorf("bad zone")
		}
		if err != nil {
			return time.Time{}, fmt.Errorf("date %q: bad zone %q", v, zone)
		}
		offset = sign * (zh*3600 + zm*60)
	}
	t := time.Date(day.Year(), day.Month(), day.Day(), h, m, sec, 0, time.FixedZone("", offset))
	return t.UTC(), nil
}

// ResolveValueSource returns rules whose expressions with value-source
// param or meta compare against the named instance (params) or meta
// attribute of the constrained resource, as Pacemaker does in location
// rules; a missing attribute compares as empty.
func ResolveValueSource(rules []Rule, params, meta map[string]string) []Rule {
	if !hasValueSource(rules) {
		return rules
	}
	out := make([]Rule, len(rules))
	for i, rule := range rules {
		rule.Expressions = append([]Expression(nil), rule.Expressions...)
		for j, e := range rule.Expressions {
			switch e.ValueSource {
			case "param":
				e.Value = params[e.Value]
			case "meta":
				e.Value = meta[e.Value]
			}
			e.ValueSource = ""
			rule.Expressions[j] = e
		}
		rule.Rules = ResolveValueSource(rule.Rules, params, meta)
		out[i] = rule
	}
	return out
}

func hasValueSource(rules []Rule) bool {
	for _, r := range rules {
		for _, e := range r.Expressions {
			if e.ValueSource != "" {
				return true
			}
		}
		if hasValueSource(r.Rules) {
			return true
		}
	}
	return false
}
