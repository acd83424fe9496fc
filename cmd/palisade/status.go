package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"palisade/cluster/api"
)

// Exit codes of `palisade status` (a monitoring check's OK, WARNING and
// UNKNOWN).
const (
	statusHealthy  = 0
	statusDegraded = 1
	statusUnknown  = exitUnreachable
)

func init() {
	var asJSON bool
	var watch bool
	var interval time.Duration
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the cluster as crm_mon -1rf does: quorum, nodes, resources, fail counts, fencing, links",
		Long: `Shows what the local palisaded knows: the cluster name and DC, quorum (votes
and every source of votes), every node's state (online, standby, shutting
down, pending, UNCLEAN, fenced, offline), the resources nested in their groups
and clones with role, node, fail counts and last failure, fencing that is
pending or failing, actions in flight, and the health of every heartbeat link.

--json prints the same as JSON, schema palisade.status/v1 (documented in
cluster/api/schema.go and the README). --watch redraws in place every
--interval until q is pressed, like crm_mon -i.

Exit status: 0 healthy, 1 degraded (no quorum, a node UNCLEAN or lost, a
fence pending or failing, a resource failed, stopped or with a fail count),
3 no status (no daemon answered, or it refused). The reasons are listed
under "health".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if watch {
				return watchStatus(cmd.Context(), interval)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 5*time.Second)
			defer cancel()
			st, err := client().Status(ctx)
			if err != nil {
				return &exitError{statusUnknown, err}
			}
			h := health(st)
			if asJSON {
				st.Health = &h
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(st); err != nil {
					return err
				}
			} else {
				printStatus(cmd.OutOrStdout(), st)
			}
			if h.State != api.Healthy {
				return &exitError{statusDegraded, silentError{fmt.Sprintf("cluster degraded: %s", strings.Join(h.Problems, "; "))}}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON (schema palisade.status/v1: cluster/api.Status)")
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "redraw in place until q is pressed (crm_mon -i)")
	cmd.Flags().DurationVarP(&interval, "interval", "i", 2*time.Second, "refresh interval of --watch")
	rootCmd.AddCommand(cmd)
}

// silentError is an exit status whose reason was already printed.
type silentError struct{ msg string }

func (e silentError) Error() string { return e.msg }

// health is the daemon's verdict, or the client's own for an older daemon.
func health(st api.Status) api.Health {
	if st.Health != nil {
		return *st.Health
	}
	return st.Assess()
}

func age(ms *int64) string {
	if ms == nil {
		return "never"
	}
	d := time.Duration(*ms) * time.Millisecond
	if d < 10*time.Second {
		return d.String()
	}
	return d.Round(time.Second).String()
}

func printStatus(w io.Writer, st api.Status) {
	view := fmt.Sprintf("view %d", st.View.ID)
	switch {
	case st.View.ID == 0:
		view = "view forming (waiting for initdead)"
	case st.View.Agreed:
		view += " (agreed)"
	default:
		view += " (not yet agreed)"
	}
	fmt.Fprintf(w, "cluster %s, node %s (id %d), generation %d, up %s\n", st.Cluster, st.Node.Name, st.Node.ID,
		st.Generation, (time.Duration(st.UptimeMS) * time.Millisecond).Round(time.Second))
	var members []string
	for _, m := range st.View.Members {
		members = append(members, m.Name)
	}
	fmt.Fprintf(w, "%s: %s; DC %s\n", view, strings.Join(members, " "), st.View.DC.Name)
	if st.DC != nil {
		printPartition(w, st.DC)
	}
	h := health(st)
	fmt.Fprintf(w, "health: %s\n", strings.ToUpper(h.State))
	for _, p := range h.Problems {
		fmt.Fprintf(w, "  problem: %s\n", p)
	}
	for _, p := range h.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", p)
	}

	fmt.Fprintln(w)
	printNodes(w, st)
	if st.DC != nil {
		printResources(w, st.DC)
		printFencing(w, st.DC)
	}

	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "LINK\tKIND\tTX PKTS\tTX BYTES\tRX PKTS\tRX BYTES\tDUPLICATES\tTX ERRORS")
	for _, l := range st.Links {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\n", l.Name, l.Kind, l.TxPackets, l.TxBytes, l.RxPackets, l.RxBytes, l.Duplicates, l.TxErrors)
	}
	tw.Flush()

	var drops []string
	var zero int
	for _, r := range slices.Sorted(maps.Keys(st.Dropped)) {
		if st.Dropped[r] == 0 {
			zero++
			continue
		}
		drops = append(drops, fmt.Sprintf("%s=%d", r, st.Dropped[r]))
	}
	if len(drops) == 0 {
		fmt.Fprintf(w, "\ndropped: none (%d reasons counted)\n", zero)
	} else {
		fmt.Fprintf(w, "\ndropped: %s\n", strings.Join(drops, " "))
	}
}

// printNodes is the node list joined with each node's heartbeat links
// (their health as this node sees it).
func printNodes(w io.Writer, st api.Status) {
	cluster := map[string]api.ClusterNode{}
	if st.DC != nil {
		for _, n := range st.DC.NodeStates {
			cluster[n.Name] = n
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	header := []string{"NODE", "ID", "STATE", "HEARTBEAT", "GENERATION", "LAST HEARD"}
	for _, l := range st.Links {
		header = append(header, strings.ToUpper(l.Name))
	}
	header = append(header, "DETAIL")
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, n := range st.Nodes {
		state, heard, hb := n.State, age(n.LastHeardMS), n.State
		if cn, ok := cluster[n.Name]; ok {
			state = nodeWord(cn)
		}
		if n.Self {
			heard, hb = "-", "self"
		}
		row := []string{n.Name, fmt.Sprint(n.ID), state, hb, fmt.Sprint(n.Generation), heard}
		for i := range st.Links {
			if n.Self || i >= len(n.Links) {
				row = append(row, "-")
				continue
			}
			row = append(row, fmt.Sprintf("%s %s", n.Links[i].State, age(n.Links[i].LastHeardMS)))
		}
		row = append(row, cluster[n.Name].Detail)
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
}

// nodeWord is a node's state as crm_mon words it.
func nodeWord(n api.ClusterNode) string {
	s := n.State
	switch n.State {
	case api.NodeUnclean:
		s = "UNCLEAN"
	case api.NodeFenced:
		s = "OFFLINE (fenced)"
	case api.NodeOffline:
		s = "OFFLINE"
	case api.NodeLost:
		s = "LOST"
	}
	var tags []string
	if n.DC {
		tags = append(tags, "DC")
	}
	if n.Self {
		tags = append(tags, "self")
	}
	if len(tags) > 0 {
		s += " (" + strings.Join(tags, ", ") + ")"
	}
	return s
}

// printPartition is the DC layer's headline: partition, quorum and its
// sources, configuration.
func printPartition(w io.Writer, s *api.DCStatus) {
	q := "NO QUORUM"
	switch {
	case s.Quorate:
		q = "quorate"
	case s.Quorum != nil && s.Quorum.Pending:
		q = "NO QUORUM (undecided: waiting for the quorum device)"
	}
	cfg := fmt.Sprintf("configuration %s", s.CIB)
	if s.FenceAction != "" {
		cfg += ", fence action " + s.FenceAction
	}
	fmt.Fprintf(w, "partition: %s, DC %s, members %s; %s\n", q, orNone(s.DC), strings.Join(s.Members, " "), cfg)
	if qs := s.Quorum; qs != nil {
		line := fmt.Sprintf("quorum: %d of %d votes, %d needed", qs.Votes, qs.Expected, qs.Needed)
		if qs.Reason != "" {
			line += " (" + qs.Reason + ")"
		}
		if len(qs.Policies) > 0 {
			line += "; " + strings.Join(qs.Policies, ", ")
		}
		fmt.Fprintln(w, line)
		var src []string
		for _, so := range qs.Sources {
			t := fmt.Sprintf("%s %d/%d %s", so.Name, so.Votes, so.MaxVotes, so.State)
			if so.Kind == api.SourceDevice {
				t = "device " + t
			}
			if so.Detail != "" {
				t += " (" + so.Detail + ")"
			}
			src = append(src, t)
		}
		fmt.Fprintf(w, "  votes: %s\n", strings.Join(src, ", "))
		printQuorumDetail(w, qs) // status_quorum.go
	}
	if len(s.Standby) > 0 {
		fmt.Fprintf(w, "standby: %s (palisade node online NODE)\n", strings.Join(s.Standby, " "))
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// printResources is the resource tree as a table: groups and clones with
// their members indented, one row per instance, fail counts and the last
// failure on the row of their node.
func printResources(w io.Writer, s *api.DCStatus) {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RESOURCE\tAGENT\tROLE\tNODE\tFAIL COUNT\tLAST FAILURE")
	if len(s.Resources) == 0 {
		// An older daemon, or no configuration: the flat status.
		for _, r := range s.Status.Resources {
			role := r.Role
			if role == "" {
				role = "Started"
			}
			if r.Failed {
				role = api.RoleFailed
			}
			fmt.Fprintf(tw, "%s\t\t%s\t%s\t\t\n", r.Rsc, role, r.Node)
		}
		if len(s.Status.Resources) == 0 {
			fmt.Fprintln(tw, "(no resources)\t\t\t\t\t")
		}
	}
	for _, r := range s.Resources {
		resourceRows(tw, r, "")
	}
	tw.Flush()
	if hasFailCounts(s.Resources) {
		fmt.Fprintln(w, "(clear fail counts with: palisade failcount reset RESOURCE [--node NODE]; failure-timeout clears them by itself)")
	}
	for _, a := range s.Inflight {
		fmt.Fprintf(w, "in flight: %s %s on %s\n", a.Op, a.Resource, a.Node)
	}
}

func hasFailCounts(rs []api.Resource) bool {
	for _, r := range rs {
		if len(r.FailCounts) > 0 || hasFailCounts(r.Members) {
			return true
		}
	}
	return false
}

func resourceRows(tw io.Writer, r api.Resource, indent string) {
	if len(r.Members) > 0 || r.Kind != "primitive" {
		kind := r.Kind
		if r.Promotable {
			kind += ", promotable"
		}
		role := r.State
		if r.TargetRole != "" {
			role += " (target " + r.TargetRole + ")"
		}
		fmt.Fprintf(tw, "%s%s\t%s\t%s\t\t\t\n", indent, r.ID, kind, role)
		for _, m := range r.Members {
			resourceRows(tw, m, indent+"  ")
		}
		return
	}
	fails := map[string][]api.FailCount{}
	for _, f := range r.FailCounts {
		fails[f.Node] = append(fails[f.Node], f)
	}
	name := indent + r.ID
	row := func(role, node string) {
		count, last := failCells(fails[node])
		delete(fails, node)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", name, r.Agent, role, node, count, last)
		name = ""
	}
	for _, in := range r.Instances {
		role := in.Role
		switch {
		case in.Failed:
			role = api.RoleFailed
		case in.Unclean:
			role += " (UNCLEAN)"
		}
		if in.Pending != "" && in.Role != "Starting" {
			role += " (" + in.Pending + " pending)"
		}
		node := in.Node
		if in.Instance != "" {
			node += " [" + in.Instance + "]"
		}
		row(role, node)
	}
	if len(r.Instances) == 0 {
		role := api.RoleStopped
		if r.TargetRole == api.RoleStopped {
			role += " (target Stopped)"
		}
		count, last := "", ""
		if len(r.FailCounts) == 0 {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", name, r.Agent, role, "-", count, last)
			return
		}
		row(role, "-")
	}
	for _, node := range slices.Sorted(maps.Keys(fails)) {
		count, last := failCells(fails[node])
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", name, r.Agent, "", node, count, last)
		name = ""
	}
}

func failCells(fs []api.FailCount) (count, last string) {
	var parts []string
	var latest time.Time
	for _, f := range fs {
		c := fmt.Sprint(f.Count)
		if f.Count >= 1000000 {
			c = "INFINITY"
		}
		if f.Op != "" {
			c += " (" + f.Op + ")"
		}
		parts = append(parts, c)
		if f.LastFailure.After(latest) {
			latest = f.LastFailure
		}
	}
	if !latest.IsZero() {
		last = latest.Local().Format(time.DateTime)
	}
	return strings.Join(parts, ", "), last
}

// printFencing lists every node whose fencing is not settled: a clean
// member is the normal case and would only add noise at 3 a.m.
func printFencing(w io.Writer, s *api.DCStatus) {
	var rows []string
	for _, f := range s.FenceOps {
		rows = append(rows, fmt.Sprintf("%s\t%s\t%d\t%d\t%s", f.Target, f.State, f.Attempts, f.Failures, f.Reason))
	}
	for _, n := range s.Fencing {
		if n.State == "fenced" && !n.Member {
			rows = append(rows, fmt.Sprintf("%s\t%s\t%d\t%d\t%s", n.Node, "fenced", n.Attempts, n.Failures, "confirmed by "+n.By))
		}
	}
	if len(s.FenceOps) == 0 && len(s.NodeStates) == 0 {
		// An older daemon: the gate's records as they are.
		for _, n := range s.Fencing {
			if n.State != "member" && n.State != "fenced" || !n.Member && n.State == "member" {
				rows = append(rows, fmt.Sprintf("%s\t%s\t%d\t%d\t%s", n.Node, n.State, n.Attempts, n.Failures, n.Reason))
			}
		}
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FENCING\tSTATE\tATTEMPTS\tFAILURES\tWHY / CONFIRMED BY")
	for _, r := range rows {
		fmt.Fprintln(tw, r)
	}
	tw.Flush()
}
