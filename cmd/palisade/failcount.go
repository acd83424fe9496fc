package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"palisade/cluster/api"
	"palisade/resources/model"
)

func init() {
	fc := &cobra.Command{Use: "failcount", Short: "Fail counts (crm_failcount): show them, reset them"}
	var node string
	var asJSON bool
	show := &cobra.Command{
		Use:   "show [RESOURCE]",
		Short: "Show the fail counts of every resource, or of RESOURCE (a group or clone: its primitives)",
		Long: `Lists the fail counts the cluster holds (the replicated status, the same on
every node): resource, node, the operation that failed, the count (INFINITY
bans the resource from the node) and the time of the last failure. A resource
is banned from a node once its count reaches migration-threshold.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), 5*time.Second)
			defer cancel()
			st, err := client().Status(ctx)
			if err != nil {
				return &exitError{exitCode(err), fmt.Errorf("failcount show: %w", err)}
			}
			if st.DC == nil {
				return &exitError{exitRefused, fmt.Errorf("failcount show: the daemon has no DC layer")}
			}
			fs, err := failCounts(st.DC, first(args), node)
			if err != nil {
				return &exitError{exitBadInput, err}
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(fs)
			}
			printFailCounts(cmd.OutOrStdout(), fs)
			return nil
		},
	}
	show.Flags().StringVar(&node, "node", "", "only on this node")
	show.Flags().BoolVar(&asJSON, "json", false, "print JSON: [{rsc, node, op, count, last-failure}]")

	var rnode, by string
	reset := &cobra.Command{
		Use:   "reset RESOURCE",
		Short: "Reset RESOURCE's fail counts (all nodes, or --node): the same as palisade resource cleanup",
		Long: `Resets the fail counts of RESOURCE (every primitive of a group or clone) on
every member, or on --node only, as "crm_failcount --delete" and "crm_resource
--cleanup" do: the nodes asked clear them, probe the resource again and
report, and the DC reschedules (a resource banned by migration-threshold may
run there again). Decided by the DC; recorded in the event log with your name.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), api.OperatorTimeout+2*time.Second)
			defer cancel()
			res, err := client().Cleanup(ctx, api.CleanupRequest{Resource: args[0], Node: rnode, By: by})
			if err != nil {
				return &exitError{exitCode(err), fmt.Errorf("failcount reset %s: %w", args[0], err)}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: fail counts reset on %s; probing again\n", res.Resource, strings.Join(res.Nodes, ", "))
			return nil
		},
	}
	reset.Flags().StringVar(&rnode, "node", "", "only on this node (default: every member)")
	reset.Flags().StringVar(&by, "by", operatorName(), "who resets (logged with the name the kernel gives your uid)")
	fc.AddCommand(show, reset)
	rootCmd.AddCommand(fc)
}

// failCounts selects the status's fail counts of rsc (a primitive, or
// every primitive of a group or clone; "" every resource) on node ("" every
// node).
func failCounts(d *api.DCStatus, rsc, node string) ([]model.Failure, error) {
	var prims []string
	if rsc != "" {
		prims = primitivesOf(d.Resources, rsc)
		if prims == nil && len(d.Resources) > 0 {
			var ids []string
			for _, r := range d.Resources {
				ids = append(ids, r.ID)
			}
			return nil, fmt.Errorf("failcount: unknown resource %q (resources: %s)", rsc, strings.Join(ids, ", "))
		}
		if prims == nil {
			prims = []string{rsc} // an older daemon: no tree to expand
		}
	}
	out := []model.Failure{}
	for _, f := range d.Status.Failures {
		if f.Count <= 0 || node != "" && f.Node != node {
			continue
		}
		if prims != nil && !slices.ContainsFunc(prims, func(p string) bool { _, ok := instanceOfPrim(f.Rsc, p); return ok }) {
			continue
		}
		out = append(out, f)
	}
	return out, nil
}

// primitivesOf is the primitives of resource id in the tree (nil if id is
// not in it).
func primitivesOf(rs []api.Resource, id string) []string {
	var all func(r api.Resource) []string
	all = func(r api.Resource) []string {
		if len(r.Members) == 0 && r.Kind == model.KindPrimitive {
			return []string{r.ID}
		}
		var out []string
		for _, m := range r.Members {
			out = append(out, all(m)...)
		}
		return out
	}
	for _, r := range rs {
		if r.ID == id {
			return all(r)
		}
		if p := primitivesOf(r.Members, id); p != nil {
			return p
		}
	}
	return nil
}

func printFailCounts(w io.Writer, fs []model.Failure) {
	if len(fs) == 0 {
		fmt.Fprintln(w, "no fail counts")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RESOURCE\tNODE\tOPERATION\tCOUNT\tLAST FAILURE")
	for _, f := range fs {
		last := ""
		if !f.LastFailure.IsZero() {
			last = f.LastFailure.Local().Format(time.DateTime)
		}
		count := fmt.Sprint(int64(f.Count))
		if f.Count >= model.Infinity {
			count = "INFINITY"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.Rsc, f.Node, f.Op, count, last)
	}
	tw.Flush()
}
