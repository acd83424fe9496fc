package agentcli

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strings"

	"palisade/fence"
)

// Invocation is a parsed fence-agents call: raw values under canonical
// parameter names (not yet validated or defaulted; fence.Normalize does
// that), plus what only the command line carries.
type Invocation struct {
	Raw map[string]string
	// Verbose is the number of -v flags (or 1 for verbose=1 on stdin).
	Verbose int
	// FromStdin: the call had no arguments and options were read from stdin.
	FromStdin bool
	// Unused are non-option arguments, which fence-agents warns about.
	Unused []string
	// Ignored are the stdin lines whose key the agent does not know, as
	// read ("no_such_param=1"). fence-agents warns about each and goes on,
	// and so do we: Pacemaker passes every instance attribute of the
	// stonith resource, including options of other fence-agents versions.
	Ignored []string
}

// Parse reads a fence-agents call the way fencing.py does: options from
// args when there are any, otherwise key=value lines from stdin. idx is the
// plugin's parameter table (fence.Plugin.Index). hasPlugs is false for
// single-machine devices, where -n/--plug needs --port-as-ip on the command
// line.
func Parse(args []string, stdin io.Reader, idx fence.ParamIndex, hasPlugs bool) (*Invocation, error) {
	if len(args) > 0 {
		return parseArgs(args, idx, hasPlugs)
	}
	if stdin == nil {
		return &Invocation{Raw: map[string]string{}, FromStdin: true}, nil
	}
	return parseStdin(stdin, idx)
}

// longNames lists the long options in a stable order for prefix matching.
func longNames(idx fence.ParamIndex) map[string]fence.Param {
	m := map[string]fence.Param{}
	for _, p := range idx {
		m[p.Long()] = p
	}
	return m
}

func parseArgs(args []string, idx fence.ParamIndex, hasPlugs bool) (*Invocation, error) {
	inv := &Invocation{Raw: map[string]string{}}
	longs := longNames(idx)
	shorts := map[byte]fence.Param{}
	for _, p := range longs {
		if p.Short != 0 {
			shorts[p.Short] = p
		}
	}
	set := func(p fence.Param, v string) {
		inv.Raw[p.Name] = v
		if p.Name == fence.OptVerbose {
			inv.Verbose++
		}
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			inv.Unused = append(inv.Unused, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "--"):
			name, val, hasVal := strings.Cut(a[2:], "=")
			p, err := matchLong(longs, name)
			if err != nil {
				return nil, err
			}
			switch {
			case !p.TakesValue() && hasVal:
				return nil, fmt.Errorf("option --%s must not have an argument", p.Long())
			case !p.TakesValue():
				set(p, "")
			case hasVal:
				set(p, val)
			case i+1 < len(args):
				i++
				set(p, args[i])
			default:
				return nil, fmt.Errorf("option --%s requires argument", p.Long())
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			for j := 1; j < len(a); j++ {
				p, ok := shorts[a[j]]
				if !ok {
					return nil, fmt.Errorf("option -%c not recognized", a[j])
				}
				if !p.TakesValue() {
					set(p, "")
					continue
				}
				if j+1 < len(a) {
					set(p, a[j+1:])
				} else if i+1 < len(args) {
					i++
					set(p, args[i])
				} else {
					return nil, fmt.Errorf("option -%c requires argument", a[j])
				}
				break
			}
		default:
			inv.Unused = append(inv.Unused, a)
		}
	}
	if _, ok := inv.Raw[fence.OptVerboseLevel]; !ok && inv.Verbose > 0 {
		inv.Raw[fence.OptVerboseLevel] = fmt.Sprint(inv.Verbose)
	}
	if _, plug := inv.Raw[fence.OptPlug]; plug && !hasPlugs {
		if _, asIP := inv.Raw[fence.OptPortAsIP]; !asIP {
			return nil, fmt.Errorf("option -n/--plug is not recognized (without --port-as-ip)")
		}
	}
	return inv, nil
}

// matchLong resolves a long option like Python's getopt: an exact name, or
// a prefix of exactly one name.
func matchLong(longs map[string]fence.Param, name string) (fence.Param, error) {
	if p, ok := longs[name]; ok {
		return p, nil
	}
	var found []fence.Param
	for l, p := range longs {
		if name != "" && strings.HasPrefix(l, name) {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return fence.Param{}, fmt.Errorf("option --%s not recognized", name)
	}
	return fence.Param{}, fmt.Errorf("option --%s not a unique prefix", name)
}

var quoted = regexp.MustCompile(`^"(.*)"$`)

// maxStdin bounds what we read from stdin: a fence call is a few hundred
// bytes, so anything larger is a mistake, not a configuration.
const maxStdin = 1 << 20

func parseStdin(r io.Reader, idx fence.ParamIndex) (*Invocation, error) {
	inv := &Invocation{Raw: map[string]string{}, FromStdin: true}
	sawAction := false
	sc := bufio.NewScanner(io.LimitReader(r, maxStdin))
	sc.Buffer(make([]byte, 64*1024), maxStdin)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		name, val, _ := strings.Cut(s, "=")
		name = strings.TrimSpace(name)
		val = quoted.ReplaceAllString(val, "$1")
		if name == "nodename" {
			continue // Pacemaker's target node; fence-agents ignores it too
		}
		p, ok := idx[name]
		if !ok {
			p, ok = idx[strings.ReplaceAll(name, "-", "_")]
		}
		if !ok {
			inv.Ignored = append(inv.Ignored, redactLine(name, s))
			continue
		}
		if p.Name == fence.OptAction {
			sawAction = true
		}
		if p.Type == fence.TypeBoolean {
			b, valid := parseStdinBool(val)
			if !valid {
				return nil, fmt.Errorf("stdin line %d: parameter %q needs a boolean value (1/0, yes/no, on/off, true/false), got %q", line, name, val)
			}
			val = b
		}
		inv.Raw[p.Name] = val
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading stdin after line %d: %w", line, err)
	}
	if !sawAction {
		// fence-agents would run its default action, reboot. Without an
		// action line the caller's intent is unknown (an ignored key may be
		// a misspelt action, such as option=status), so nothing is done.
		why := "no action= line on stdin"
		if len(inv.Ignored) > 0 {
			why += fmt.Sprintf(" (ignored: %s)", quoteList(inv.Ignored))
		}
		return nil, fmt.Errorf("%s; refusing to run the default action (reboot) without being asked: add action=status, action=off, ... (an unknown key may be a misspelt action)", why)
	}
	if v, ok := inv.Raw[fence.OptVerbose]; ok && v == "1" {
		inv.Verbose = 1
		if _, set := inv.Raw[fence.OptVerboseLevel]; !set {
			inv.Raw[fence.OptVerboseLevel] = "1"
		}
	}
	if v, ok := inv.Raw[fence.OptVerbose]; ok && v == "0" {
		delete(inv.Raw, fence.OptVerbose)
	}
	return inv, nil
}

// secretish matches key names whose value may be a secret (a misspelt
// passwd, a key of another agent): the warning shows the key but not the
// value, since stderr ends up in Pacemaker's log.
var secretish = regexp.MustCompile(`(?i)pass|pw|word|secret|key|token|community|cred|auth`)

func redactLine(name, line string) string {
	if secretish.MatchString(name) && strings.Contains(line, "=") {
		return name + "=[hidden]"
	}
	return line
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = "'" + s + "'"
	}
	return strings.Join(q, ", ")
}

func parseStdinBool(v string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "yes", "on", "true":
		return "1", true
	case "0", "no", "off", "false":
		return "0", true
	}
	return "", false
}
