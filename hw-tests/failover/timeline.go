package failover

import (
	"context"
	"fmt"
	"strings"
	"time"

	"palisade/cluster/eventlog"
)

// Step is one line of a failover timeline.
type Step struct {
	Name string
	At   time.Duration // CLOCK_MONOTONIC; 0 = not seen
	Who  string
}

// Timeline is what happened between the fault and the client's first
// answer from the new owner.
type Timeline struct {
	Fault    time.Duration
	Lost     string // n1..
	NewOwner string
	Steps    []Step
	// LastOld and FirstNew are the client's last answer from the old owner
	// and first (solicited) answer from the new one.
	LastOld, FirstNew time.Duration
}

// FailoverMS is the fault → first answer from the new owner, in ms.
func (t Timeline) FailoverMS() float64 { return float64(t.FirstNew-t.Fault) / 1e6 }

// step returns the time of the first step named name (0 if not seen).
func (t Timeline) step(name string) time.Duration {
	for _, s := range t.Steps {
		// Names are decorated ("BMC reports OFF, fence confirmed (bmc-n1)").
		if s.Name == name || strings.HasPrefix(s.Name, name) || strings.Contains(s.Name, name) {
			return s.At
		}
	}
	return 0
}

// ConfirmToAddedMS is the time from the fence confirmation to the VIP
// being on the new owner's interface (its kernel answers ARP from then
// on), from the event logs (both on CLOCK_MONOTONIC); -1 if not seen.
func (t Timeline) ConfirmToAddedMS() float64 {
	c, a := t.step("fence confirmed"), t.step("VIP added")
	if c == 0 || a == 0 {
		return -1
	}
	return float64(a-c) / 1e6
}

// ConfirmToAnswerMS is the time from the fence confirmation to the
// client's first answer from the new owner (resolution: the prober's
// interval); -1 if not seen.
func (t Timeline) ConfirmToAnswerMS() float64 {
	c := t.step("fence confirmed")
	if c == 0 {
		return -1
	}
	return float64(t.FirstNew-c) / 1e6
}

// GapMS is the client-observed gap: last answer from the old owner → first
// from the new one.
func (t Timeline) GapMS() float64 {
	if t.LastOld == 0 {
		return t.FailoverMS()
	}
	return float64(t.FirstNew-t.LastOld) / 1e6
}

func (t Timeline) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%9s  %s\n", "+0.0 ms", "fault injected on "+t.Lost)
	for _, s := range t.Steps {
		if s.At == 0 {
			fmt.Fprintf(&b, "%9s  %s\n", "-", s.Name+" (not seen)")
			continue
		}
		fmt.Fprintf(&b, "%9s  %s", fmt.Sprintf("+%.1f ms", float64(s.At-t.Fault)/1e6), s.Name)
		if s.Who != "" {
			fmt.Fprintf(&b, " [%s]", s.Who)
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "client-observed gap (last answer from %s -> first from %s): %.1f ms\n", t.Lost, t.NewOwner, t.GapMS())
	fmt.Fprintf(&b, "failover time: %.0f ms\n", t.FailoverMS())
	return b.String()
}

// WaitTakeover waits until the client gets a solicited ARP answer for the
// VIP from another node than lost (0-based) after fault, then builds the
// timeline from the event logs and the client's observations.
func (h *Harness) WaitTakeover(ctx context.Context, lost int, fault time.Duration, timeout time.Duration) (Timeline, error) {
	tl := Timeline{Fault: fault, Lost: fmt.Sprintf("n%d", lost+1)}
	var err error
	tl.NewOwner, tl.LastOld, tl.FirstNew, err = h.WaitNewOwner(ctx, lost, fault, timeout)
	if err != nil {
		return tl, err
	}
	// Let the GARP entries land in the logs.
	time.Sleep(50 * time.Millisecond)
	es, err := h.Entries()
	if err != nil {
		return tl, err
	}
	first := func(name string, match func(eventlog.Entry) bool) Step {
		for _, e := range es {
			if time.Duration(e.MonoNS) > fault && match(e) {
				return Step{Name: name, At: time.Duration(e.MonoNS), Who: e.Writer}
			}
		}
		return Step{Name: name}
	}
	owner := tl.NewOwner
	tl.Steps = []Step{
		first("heartbeat lost", func(e eventlog.Entry) bool { return e.Event == eventlog.HeartbeatLost && e.Target == tl.Lost }),
		first("node declared dead", func(e eventlog.Entry) bool { return e.Event == eventlog.NodeLost && e.Target == tl.Lost }),
		first("fence requested", func(e eventlog.Entry) bool { return e.Event == eventlog.FenceRequested && e.Target == tl.Lost }),
		confirmed(first("fence confirmed", func(e eventlog.Entry) bool {
			return e.Event == eventlog.FenceConfirmed && e.Target == tl.Lost
		}), es),
		first("VIP added", func(e eventlog.Entry) bool { return e.Event == eventlog.VIPAdded && e.Writer == owner }),
		first("GARP sent", func(e eventlog.Entry) bool { return e.Event == eventlog.GARPSent && e.Writer == owner }),
		{Name: "client's first reply from the new owner", At: tl.FirstNew, Who: owner},
	}
	return tl, nil
}

// WaitNewOwner waits for the client's first solicited ARP answer for the
// VIP from another node than lost after fault; it returns that node's
// name, the last answer from the old owner and the first from the new one.
func (h *Harness) WaitNewOwner(ctx context.Context, lost int, fault, timeout time.Duration) (owner string, lastOld, firstNew time.Duration, err error) {
	oldMAC := h.MACs[lost]
	deadline := time.Now().Add(timeout)
	for firstNew == 0 {
		for _, r := range h.Replies() {
			if r.Mono > fault && r.MAC != oldMAC && r.Solicited {
				firstNew = r.Mono
				for i, m := range h.MACs {
					if m == r.MAC {
						owner = fmt.Sprintf("n%d", i+1)
					}
				}
				break
			}
		}
		if firstNew != 0 {
			break
		}
		if time.Now().After(deadline) {
			return "", 0, 0, fmt.Errorf("no answer for %s from another node within %s after the fault", h.VIP, timeout)
		}
		select {
		case <-ctx.Done():
			return "", 0, 0, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	for _, r := range h.Replies() {
		if r.MAC == oldMAC && r.Mono <= firstNew {
			lastOld = r.Mono
		}
	}
	return owner, lastOld, firstNew, nil
}

// WaitHolder waits until some node answers the client for the VIP and
// returns its index.
func (h *Harness) WaitHolder(ctx context.Context, timeout time.Duration) (int, error) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		rs := h.Replies()
		for j := len(rs) - 1; j >= 0; j-- {
			if rs[j].Solicited {
				for i, m := range h.MACs {
					if m == rs[j].MAC {
						return i, nil
					}
				}
			}
		}
		select {
		case <-ctx.Done():
			return -1, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return -1, fmt.Errorf("nobody answered for %s within %s", h.VIP, timeout)
}

// confirmed names how the fence was confirmed: the BMC's OFF, or an
// operator.
func confirmed(s Step, es []eventlog.Entry) Step {
	for _, e := range es {
		if time.Duration(e.MonoNS) == s.At && e.Event == eventlog.FenceConfirmed {
			if strings.HasPrefix(e.By, "device:") {
				s.Name = "BMC reports OFF, fence confirmed (" + strings.TrimPrefix(e.By, "device:") + ")"
			} else {
				s.Name = "fence confirmed by " + e.By
			}
		}
	}
	return s
}

// DoubleAnswers returns the client's observations after since where the
// VIP was claimed by two different MACs within window (a duplicate VIP).
func (h *Harness) DoubleAnswers(since, window time.Duration) []string {
	var out []string
	rs := h.Replies()
	for i, r := range rs {
		if r.Mono <= since {
			continue
		}
		for _, q := range rs[i+1:] {
			if q.Mono-r.Mono > window {
				break
			}
			if q.MAC != r.MAC {
				out = append(out, fmt.Sprintf("+%.1f ms: %s and %s both answered for the VIP", float64(r.Mono-since)/1e6, r.MAC, q.MAC))
				break
			}
		}
	}
	return out
}

// OwnersAfter lists the distinct MACs that answered for the VIP after t
// (a confirmed fence must leave exactly one).
func (h *Harness) OwnersAfter(t time.Duration) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range h.Replies() {
		if r.Mono > t && !seen[r.MAC] {
			seen[r.MAC] = true
			out = append(out, r.MAC)
		}
	}
	return out
}

// FenceConfirmedAt is the first fence_confirmed entry for node (n1..) after
// since, 0 if none.
func (h *Harness) FenceConfirmedAt(node string, since time.Duration) time.Duration {
	es, _ := h.Entries()
	for _, e := range es {
		if e.Event == eventlog.FenceConfirmed && e.Target == node && time.Duration(e.MonoNS) > since {
			return time.Duration(e.MonoNS)
		}
	}
	return 0
}

// Overlaps lists the periods after since during which two MACs both kept
// answering for the VIP for longer than window: two owners at once. A
// MAC's answers form one run while they come less than four probe
// intervals apart.
func (h *Harness) Overlaps(since, window time.Duration) []string {
	type run struct {
		mac        string
		start, end time.Duration
	}
	gap := 4 * h.Opts.ProbeEvery
	var runs []run
	open := map[string]int{} // MAC → index of its current run
	for _, r := range h.Replies() {
		if r.Mono <= since {
			continue
		}
		if i, ok := open[r.MAC]; ok && r.Mono-runs[i].end <= gap {
			runs[i].end = r.Mono
			continue
		}
		open[r.MAC] = len(runs)
		runs = append(runs, run{r.MAC, r.Mono, r.Mono})
	}
	var out []string
	for i, a := range runs {
		for _, b := range runs[i+1:] {
			if a.mac == b.mac {
				continue
			}
			if o := min(a.end, b.end) - max(a.start, b.start); o > window {
				out = append(out, fmt.Sprintf("%s and %s both answered for %.0f ms from +%.1f ms", a.mac, b.mac,
					float64(o)/1e6, float64(max(a.start, b.start)-since)/1e6))
			}
		}
	}
	return out
}
