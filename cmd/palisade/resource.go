package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"palisade/cluster/api"
)

func init() {
	resourceCmd := &cobra.Command{Use: "resource", Short: "Resources: clear fail counts, move, ban"}

	var node, by string
	cleanup := &cobra.Command{
		Use:   "cleanup RESOURCE",
		Short: "Clear RESOURCE's fail counts (all nodes, or --node) and probe it again",
		Long: `Clears the fail counts of RESOURCE (every primitive of it, for a group or
clone), as Pacemaker's "crm_resource --cleanup" does: a resource banned from a
node by migration-threshold or a failed start may run there again. Each node
asked probes the resource again and reports what really runs, and the DC
reschedules. Without --node every member of the partition is asked. Fail counts
also expire by themselves after the resource's failure-timeout, if it has one.
The cleanup is written to the event log with your name.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), api.OperatorTimeout+2*time.Second)
			defer cancel()
			res, err := client().Cleanup(ctx, api.CleanupRequest{Resource: args[0], Node: node, By: by})
			if err != nil {
				return &exitError{exitCode(err), fmt.Errorf("resource cleanup %s: %w", args[0], err)}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: fail counts cleared on %s; probing again\n", res.Resource, strings.Join(res.Nodes, ", "))
			return nil
		},
	}
	cleanup.Flags().StringVar(&node, "node", "", "only on this node (default: every member)")
	cleanup.Flags().StringVar(&by, "by", operatorName(), "who cleans up (logged)")
	resourceCmd.AddCommand(cleanup)
	move := editCommand("move RESOURCE NODE", "Run RESOURCE on NODE: adds location cli-prefer-RESOURCE at INFINITY (until clear)",
		`Moves RESOURCE (a top-level primitive, group or clone) to NODE by adding the
location constraint cli-prefer-RESOURCE with score INFINITY to the cluster's
configuration, as "crm_resource --move" does. It stays there until
"palisade resource clear RESOURCE", also when NODE fails later and comes back.`,
		func(a []string, by string) api.Edit {
			return api.Edit{Op: api.EditMove, Resource: a[0], Node: a[1], By: by}
		})
	ban := editCommand("ban RESOURCE NODE", "Keep RESOURCE off NODE: adds location cli-ban-RESOURCE-on-NODE at -INFINITY (until clear)", "",
		func(a []string, by string) api.Edit {
			return api.Edit{Op: api.EditBan, Resource: a[0], Node: a[1], By: by}
		})
	clear := editCommand("clear RESOURCE", "Remove the constraints that move and ban added for RESOURCE", "",
		func(a []string, by string) api.Edit { return api.Edit{Op: api.EditClear, Resource: a[0], By: by} })
	resourceCmd.AddCommand(move, ban, clear)
	rootCmd.AddCommand(resourceCmd)

	nodeCmd := &cobra.Command{Use: "node", Short: "Nodes: standby and online, maintenance and ready"}
	standby := editCommand("standby [NODE]", "Put NODE (default: this node) in standby: its resources move away and nothing starts there",
		`Sets NODE's standby flag in the cluster's configuration (Heartbeat's
hb_standby, "crm node standby"): the DC moves NODE's resources to other nodes
and starts nothing there until "palisade node online NODE". NODE stays a
member and keeps its vote. Without NODE, the node palisaded runs on.`,
		func(a []string, by string) api.Edit { return api.Edit{Op: api.EditStandby, Node: first(a), By: by} })
	online := editCommand("online [NODE]", "Take NODE (default: this node) out of standby", "",
		func(a []string, by string) api.Edit { return api.Edit{Op: api.EditOnline, Node: first(a), By: by} })
	maintenance := editCommand("maintenance [NODE]", "Put NODE (default: this node) in maintenance: its resources are left alone",
		`Sets NODE's maintenance flag in the cluster's configuration ("crm node
maintenance"): what runs there is neither monitored, stopped nor moved, and
nothing starts there, until "palisade node ready NODE".`,
		func(a []string, by string) api.Edit { return api.Edit{Op: api.EditMaintenance, Node: first(a), By: by} })
	ready := editCommand("ready [NODE]", "Take NODE (default: this node) out of maintenance", "",
		func(a []string, by string) api.Edit { return api.Edit{Op: api.EditReady, Node: first(a), By: by} })
	nodeCmd.AddCommand(standby, online, maintenance, ready)
	rootCmd.AddCommand(nodeCmd)
}

// editCommand builds a command that makes one edit of the replicated
// configuration; use names the arguments ("move RESOURCE NODE"), optional
// ones in brackets ("standby [NODE]").
func editCommand(use, short, long string, edit func(args []string, by string) api.Edit) *cobra.Command {
	var by string
	words := strings.Fields(use)[1:]
	required := 0
	for _, w := range words {
		if !strings.HasPrefix(w, "[") {
			required++
		}
	}
	c := &cobra.Command{
		Use: use, Short: short, Long: long,
		Args: cobra.RangeArgs(required, len(words)),
		RunE: func(cmd *cobra.Command, args []string) error { return runEdit(cmd, edit(args, by)) },
	}
	c.Flags().StringVar(&by, "by", operatorName(), "who makes the change (logged)")
	return c
}

// runEdit sends an edit of the replicated configuration to the local
// palisaded, which makes it on the running version and proposes it to the
// DC (redoing it if the configuration changed meanwhile).
func runEdit(cmd *cobra.Command, e api.Edit) error {
	ctx, cancel := context.WithTimeout(cmd.Context(), api.PushTimeout+5*time.Second)
	defer cancel()
	res, err := client().Edit(ctx, e)
	if err != nil {
		return &exitError{exitCode(err), fmt.Errorf("%s: %w", e.Op, err)}
	}
	printPushResult(cmd.OutOrStdout(), strings.TrimSuffix(e.String(), " by "+e.By), res)
	return nil
}

// first is the first argument, "" when there is none.
func first(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[0]
}
