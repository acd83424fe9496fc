package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"palisade/cluster/api"
	"palisade/resources/model"
)

// printDCStatus prints the DC layer's status section the way an operator
// reads crm_mon: quorum and DC, where each resource runs, fail counts, and
// every node whose fencing is not settled.
func printDCStatus(w io.Writer, s *api.DCStatus) {
	q := "NO QUORUM"
	if s.Quorate {
		q = "quorate"
	}
	dcName := s.DC
	if dcName == "" {
		dcName = "none"
	}
	fmt.Fprintf(w, "\npartition: %s, DC %s, members %s; configuration %s\n",
		q, dcName, strings.Join(s.Members, " "), s.CIB)
	if len(s.Standby) > 0 {
		fmt.Fprintf(w, "standby: %s (palisade node online NODE)\n", strings.Join(s.Standby, " "))
	}
	printQuorum(w, s.Quorum) // status_quorum.go

	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RESOURCE\tNODE\tROLE\tFAILED")
	rs := slices.Clone(s.Status.Resources)
	slices.SortFunc(rs, func(a, b2 model.ResourceStatus) int {
		return strings.Compare(a.Rsc+"@"+a.Node, b2.Rsc+"@"+b2.Node)
	})
	for _, r := range rs {
		role := r.Role
		if role == "" {
			role = "Started"
		}
		failed := ""
		if r.Failed {
			failed = "FAILED"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Rsc, r.Node, role, failed)
	}
	if len(rs) == 0 {
		fmt.Fprintln(tw, "(nothing running)\t\t\t")
	}
	tw.Flush()

	for _, f := range s.Status.Failures {
		last := ""
		if !f.LastFailure.IsZero() {
			last = ", last " + f.LastFailure.Local().Format(time.DateTime)
		}
		fmt.Fprintf(w, "fail count: %s on %s: %s %s%s\n", f.Rsc, f.Node, f.Op, f.Count, last)
	}
	if len(s.Status.Failures) > 0 {
		fmt.Fprintln(w, "(clear with: palisade resource cleanup RESOURCE [--node NODE]; failure-timeout clears them by itself)")
	}
	for _, a := range s.Inflight {
		fmt.Fprintf(w, "in flight: %s %s on %s\n", a.Op, a.Resource, a.Node)
	}

	// Only nodes whose fencing needs attention: a clean member is the
	// normal case and would only add noise at 3 a.m.
	var fence []api.FenceNode
	for _, n := range s.Fencing {
		if n.State != "member" || !n.Member {
			fence = append(fence, n)
		}
	}
	if len(fence) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "FENCING\tSTATE\tATTEMPTS\tFAILURES\tWHY / CONFIRMED BY")
		for _, n := range fence {
			why := n.Reason
			if n.By != "" {
				why = n.By
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", n.Node, n.State, n.Attempts, n.Failures, why)
		}
		tw.Flush()
	}
}
