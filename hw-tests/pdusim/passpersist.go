package pdusim

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ServePassPersist speaks snmpd's pass_persist protocol on r/w for the PDU
// whose state lives in dir, until r ends. snmpd sends "PING" (answer
// "PONG"), "get"/"getnext" + OID (answer OID, TYPE, VALUE or "NONE") and
// "set" + OID + "TYPE VALUE" (answer "DONE" or an error word).
func ServePassPersist(dir string, r io.Reader, w io.Writer) error {
	st := store{dir: dir}
	in := bufio.NewScanner(r)
	out := bufio.NewWriter(w)
	line := func() (string, bool) {
		if !in.Scan() {
			return "", false
		}
		return strings.TrimSpace(in.Text()), true
	}
	for {
		cmd, ok := line()
		if !ok {
			return in.Err()
		}
		var reply string
		switch strings.ToLower(cmd) {
		case "":
			continue
		case "ping":
			reply = "PONG\n"
		case "get", "getnext":
			oid, ok := line()
			if !ok {
				return in.Err()
			}
			reply = answerGet(st, strings.ToLower(cmd) == "getnext", oid)
		case "set":
			oid, ok1 := line()
			tv, ok2 := line()
			if !ok1 || !ok2 {
				return in.Err()
			}
			reply = answerSet(st, oid, tv) + "\n"
		default:
			reply = "NONE\n"
		}
		if _, err := out.WriteString(reply); err != nil {
			return err
		}
		if err := out.Flush(); err != nil {
			return err
		}
	}
}

func answerGet(st store, next bool, oidText string) string {
	oid, err := parseOID(oidText)
	if err != nil {
		return "NONE\n"
	}
	var found *varbind
	err = st.update(func(s *state) bool {
		s.Reads++
		vbs := objects(s)
		if !next {
			i := slices.IndexFunc(vbs, func(v varbind) bool { return slices.Equal(v.oid, oid) })
			if i >= 0 {
				found = &vbs[i]
			}
			return true
		}
		i := slices.IndexFunc(vbs, func(v varbind) bool { return slices.Compare(v.oid, oid) > 0 })
		if i >= 0 {
			found = &vbs[i]
		}
		return true
	})
	if err != nil || found == nil {
		return "NONE\n"
	}
	return oidString(found.oid) + "\n" + found.typ + "\n" + found.value + "\n"
}

func answerSet(st store, oidText, typeValue string) string {
	oid, err := parseOID(oidText)
	if err != nil || len(oid) < 2 {
		return "not-writable"
	}
	typ, val, _ := strings.Cut(typeValue, " ")
	reply := "DONE"
	err = st.update(func(s *state) bool {
		s.Sets = append(s.Sets, oidString(oid)+"="+strings.TrimSpace(val))
		idx, on, off, reboot, ok := writable(s.Kind, oid)
		switch {
		case !ok || idx < 1 || idx > len(s.Outlets):
			reply = "not-writable"
			return true
		case !strings.EqualFold(typ, "integer"):
			reply = "wrong-type"
			return true
		case s.FailSet != "":
			reply = s.FailSet
			return true
		}
		n, err := strconv.Atoi(strings.TrimSpace(val))
		if err != nil || n != on && n != off && n != reboot {
			reply = "wrong-value"
			return true
		}
		if s.IgnoreSet {
			return true
		}
		o := &s.Outlets[idx-1]
		now := time.Now().UnixNano()
		switch n {
		case on, off:
			want := n == on
			if o.on(now) != want || o.On != want {
				o.On, o.At = want, now+s.Transition
			}
		case reboot:
			// Off now, back on after the transition (at least 100 ms, so a
			// reader can see it off).
			o.On, o.At = true, now+max(s.Transition, int64(100*time.Millisecond))
		}
		return true
	})
	if err != nil {
		return "inconsistent-value" // the state could not be read: refuse
	}
	if reply == "DONE" {
		cutFeeds(st)
	}
	return reply
}

// cutFeeds runs the power-off hook of every feed whose outlets are now all
// off (before the SET is answered: the machine loses power when the PDU
// switches), or arranges it for when a delayed switch takes effect, and
// re-arms feeds that have an outlet on again.
func cutFeeds(st store) {
	var now []int
	var later []int64
	_ = st.update(func(s *state) bool {
		t := time.Now().UnixNano()
		changed := false
		for i := range s.Feeds {
			f := &s.Feeds[i]
			at := f.offAt(s, t)
			switch {
			case f.Cut && at == 0:
				f.Cut, changed = false, true // powered again
			case f.Cut:
			case at == t:
				f.Cut, f.CutAt, changed = true, t, true
				now = append(now, i)
			case at > t:
				later = append(later, at)
			}
		}
		return changed
	})
	for _, i := range now {
		runHook(st, i)
	}
	for _, at := range later {
		time.AfterFunc(time.Duration(at-time.Now().UnixNano()), func() { cutFeeds(st) })
	}
}

func runHook(st store, i int) {
	var cmd string
	_ = st.update(func(s *state) bool {
		cmd = s.Feeds[i].OnPowerOff
		return false
	})
	if cmd == "" {
		return
	}
	out, err := exec.Command("/bin/sh", "-c", cmd).CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "pdusim: power-off hook of feed %d: %v: %s\n", i, err, out)
	}
}
