package importer

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// directive is one ha.cf line: a name and its whitespace-separated words.
type directive struct {
	line int
	name string
	args []string
}

func (d directive) text() string {
	return strings.TrimSpace(d.name + " " + strings.Join(d.args, " "))
}

// maxLine is Heartbeat's MAXLINE: longer lines were cut there, so a
// longer one is more likely a mistake than a configuration.
const maxLine = 512

// parseHaCf splits ha.cf into directives the way Heartbeat's parse_config
// does: '#' starts a comment anywhere on a line, words are separated by
// blanks (and commas, Heartbeat's DELIMS), blank lines are skipped.
func parseHaCf(name string, data []byte) ([]directive, error) {
	var out []directive
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if len(text) > maxLine {
			return nil, fmt.Errorf("%s:%d: line is %d characters long; Heartbeat reads at most %d", name, line, len(text), maxLine)
		}
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		f := strings.FieldsFunc(text, func(r rune) bool {
			return r == ' ' || r == '\t' || r == ',' || r == '\r' || r == '\f' || r == '\v'
		})
		if len(f) == 0 {
			continue
		}
		out = append(out, directive{line: line, name: f[0], args: f[1:]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	return out, nil
}

// heartbeatDuration reads Heartbeat's time syntax (get_msec): a number of
// seconds ("2", "0.5"), or of milliseconds or microseconds with an "ms" /
// "msec" / "us" / "usec" suffix, rounded to the millisecond. Other
// suffixes ("2s") are errors in Heartbeat too.
func heartbeatDuration(s string) (time.Duration, error) {
	num := strings.TrimRight(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
	unit := strings.ToLower(strings.TrimSpace(s[len(num):]))
	num = strings.TrimSpace(num)
	mult := 1000.0 // seconds → ms
	switch unit {
	case "":
	case "ms", "msec":
		mult = 1
	case "us", "usec":
		mult = 0.001
	default:
		return 0, fmt.Errorf("%q: want seconds (2, 0.5) or a number with ms or us (1500ms)", s)
	}
	if num == "" || strings.Trim(num, "0123456789.") != "" {
		return 0, fmt.Errorf("%q: want seconds (2, 0.5) or a number with ms or us (1500ms)", s)
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsInf(f, 0) || f*mult > 7*24*3600*1000 {
		return 0, fmt.Errorf("%q: not a usable time", s)
	}
	ms := math.Floor(f*mult + 0.5)
	return time.Duration(ms) * time.Millisecond, nil
}

// formatDuration writes a duration the way a person would in
// cluster.yaml: whole seconds as "30s", otherwise milliseconds.
func formatDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
}

// heartbeatBool is Heartbeat's cl_str_to_boolean.
func heartbeatBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "true", "on", "yes", "y", "1":
		return true, true
	case "false", "off", "no", "n", "0":
		return false, true
	}
	return false, false
}
