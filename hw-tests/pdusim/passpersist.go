package pdusim

import (
	"bufio"
	"io"
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
	return reply
}
