package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"palisade/cluster/api"
)

// printQuorumDetail prints what feeds the partition's quorum besides the
// nodes' votes (printPartition prints those): the quorum device and its
// health, the ping heuristics, the watchdog and a self-fence.
//
//	quorum device: arbiter 198.18.0.9:5403 (ffsplit, 1 vote): VOTING for this partition (lease 5.8s left); connected to arb-1
//	heuristics: pingd=100: uplink up (198.18.0.254)
//	watchdog: /dev/watchdog, timeout 5s, fed
func printQuorumDetail(w io.Writer, q *api.QuorumStatus) {
	if q == nil {
		return
	}
	if d := q.Device; d != nil {
		where := d.Address
		if d.Model == "disk" {
			where = strings.Join(d.Paths, ",")
		}
		verdict := "not voting for this partition"
		switch {
		case d.Voting:
			verdict = fmt.Sprintf("VOTING for this partition (lease %s left)", (time.Duration(d.LeaseLeftMS) * time.Millisecond).String())
		case d.Pending:
			verdict = "no verdict on this view yet"
		}
		plural := "s"
		if d.Votes == 1 {
			plural = ""
		}
		line := fmt.Sprintf("quorum device: %s %s (%s, %d vote%s): %s", d.Model, where, d.Algorithm, d.Votes, plural, verdict)
		switch d.Model {
		case "arbiter":
			if d.Connected {
				line += "; connected to " + d.Server
			}
			if d.Verdict != "" {
				line += "; last verdict " + d.Verdict
				if d.Reason != "" {
					line += " (" + d.Reason + ")"
				}
			}
		case "disk":
			line += fmt.Sprintf("; %d of %d disks reached", d.Reached, d.Disks)
			if d.Master != "" {
				line += ", master " + d.Master
			}
		}
		fmt.Fprintln(w, line)
		if d.Problem != "" {
			fmt.Fprintf(w, "quorum device PROBLEM: %s\n", d.Problem)
		}
		if len(d.Slots) > 0 {
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "DISK SLOT\tNODE\tALIVE\tSTATE\tROLE\tSCORE\tVIEW")
			for _, s := range d.Slots {
				fmt.Fprintf(tw, "%d\t%s\t%v\t%s\t%s\t%d\t%d\n", s.Slot, s.Node, s.Alive, s.State, s.Role, s.Score, s.View)
			}
			tw.Flush()
		}
	}
	if h := q.Heuristics; h != nil {
		var gs []string
		for _, g := range h.Groups {
			st := "DOWN"
			if g.Up {
				st = "up (" + strings.Join(g.Answering, " ") + ")"
			}
			gs = append(gs, fmt.Sprintf("%s %s", g.Name, st))
		}
		fmt.Fprintf(w, "heuristics: %s=%d: %s\n", h.Attribute, h.Score, strings.Join(gs, ", "))
	}
	if wd := q.Watchdog; wd != nil {
		fed := "fed"
		if !wd.Feeding {
			fed = "NOT FED: " + wd.Why
		}
		fmt.Fprintf(w, "watchdog: %s, timeout %s, %s\n", wd.Device, time.Duration(wd.TimeoutMS)*time.Millisecond, fed)
	}
	if q.SelfFenced != "" {
		fmt.Fprintf(w, "THIS NODE FENCED ITSELF: %s\n", q.SelfFenced)
	}
}
