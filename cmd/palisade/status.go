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

func init() {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show nodes, links, the membership view and drop counters",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), 5*time.Second)
			defer cancel()
			st, err := client().Status(ctx)
			if err != nil {
				return &exitError{exitCode(err), err}
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			printStatus(cmd.OutOrStdout(), st)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON (schema: cluster/api.Status)")
	rootCmd.AddCommand(cmd)
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
	fmt.Fprintf(w, "%s: %s; DC %s\n\n", view, strings.Join(members, " "), st.View.DC.Name)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	header := []string{"NODE", "ID", "STATE", "GENERATION", "LAST HEARD"}
	for _, l := range st.Links {
		header = append(header, strings.ToUpper(l.Name))
	}
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, n := range st.Nodes {
		state, heard := n.State, age(n.LastHeardMS)
		if n.Self {
			state, heard = "up (self)", "-"
		}
		row := []string{n.Name, fmt.Sprint(n.ID), state, fmt.Sprint(n.Generation), heard}
		for i := range st.Links {
			if n.Self || i >= len(n.Links) {
				row = append(row, "-")
				continue
			}
			row = append(row, fmt.Sprintf("%s %s", n.Links[i].State, age(n.Links[i].LastHeardMS)))
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()

	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
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
	if st.DC != nil {
		printDCStatus(w, st.DC)
	}
}
