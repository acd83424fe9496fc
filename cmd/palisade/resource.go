package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"palisade/cluster/dc"
	"palisade/cluster/node/control"
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
			ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
			defer cancel()
			var res struct {
				Resource string   `json:"resource"`
				Nodes    []string `json:"nodes"`
			}
			if err := control.Call(ctx, socketFlag, dc.CmdResourceCleanup, dc.CleanupArgs{Resource: args[0], Node: node, By: by}, &res); err != nil {
				return &exitError{1, fmt.Errorf("resource cleanup %s: %w", args[0], err)}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: fail counts cleared on %s; probing again\n", res.Resource, strings.Join(res.Nodes, ", "))
			return nil
		},
	}
	cleanup.Flags().StringVar(&node, "node", "", "only on this node (default: every member)")
	cleanup.Flags().StringVar(&by, "by", operatorName(), "who cleans up (logged)")
	resourceCmd.AddCommand(cleanup)

	var editBy string
	move := &cobra.Command{
		Use:   "move RESOURCE NODE",
		Short: "Run RESOURCE on NODE: adds location cli-prefer-RESOURCE at INFINITY (until clear)",
		Long: `Moves RESOURCE (a top-level primitive, group or clone) to NODE by adding the
location constraint cli-prefer-RESOURCE with score INFINITY to the cluster's
configuration, as "crm_resource --move" does. It stays there until
"palisade resource clear RESOURCE", also when NODE fails later and comes back.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runEdit(cmd, dc.Edit{Op: dc.EditMove, Resource: args[0], Node: args[1], By: editBy})
		},
	}
	ban := &cobra.Command{
		Use:   "ban RESOURCE NODE",
		Short: "Keep RESOURCE off NODE: adds location cli-ban-RESOURCE-on-NODE at -INFINITY (until clear)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runEdit(cmd, dc.Edit{Op: dc.EditBan, Resource: args[0], Node: args[1], By: editBy})
		},
	}
	clear := &cobra.Command{
		Use:   "clear RESOURCE",
		Short: "Remove the constraints that move and ban added for RESOURCE",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runEdit(cmd, dc.Edit{Op: dc.EditClear, Resource: args[0], By: editBy})
		},
	}
	for _, c := range []*cobra.Command{move, ban, clear} {
		c.Flags().StringVar(&editBy, "by", operatorName(), "who makes the change (logged)")
		resourceCmd.AddCommand(c)
	}
	rootCmd.AddCommand(resourceCmd)

	nodeCmd := &cobra.Command{Use: "node", Short: "Nodes: standby and online"}
	standby := &cobra.Command{
		Use:   "standby NODE",
		Short: "Put NODE in standby: its resources move away and nothing starts there",
		Long: `Sets NODE's standby flag in the cluster's configuration (Heartbeat's
hb_standby, "crm node standby"): the DC moves NODE's resources to other nodes
and starts nothing there until "palisade node online NODE". NODE stays a
member and keeps its vote.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runEdit(cmd, dc.Edit{Op: dc.EditStandby, Node: args[0], By: editBy})
		},
	}
	online := &cobra.Command{
		Use:   "online NODE",
		Short: "Take NODE out of standby",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runEdit(cmd, dc.Edit{Op: dc.EditOnline, Node: args[0], By: editBy})
		},
	}
	for _, c := range []*cobra.Command{standby, online} {
		c.Flags().StringVar(&editBy, "by", operatorName(), "who makes the change (logged)")
		nodeCmd.AddCommand(c)
	}
	rootCmd.AddCommand(nodeCmd)
}

// runEdit sends an edit of the replicated configuration to the local
// palisaded, which makes it on the running version and proposes it to the
// DC (redoing it if the configuration changed meanwhile).
func runEdit(cmd *cobra.Command, e dc.Edit) error {
	ctx, cancel := context.WithTimeout(cmd.Context(), dc.PushTimeout+5*time.Second)
	defer cancel()
	var res dc.ConfigResult
	if err := control.Call(ctx, socketFlag, dc.CmdConfigEdit, e, &res); err != nil {
		return &exitError{1, fmt.Errorf("%s: %w", e.Op, err)}
	}
	printPushResult(cmd.OutOrStdout(), strings.TrimSuffix(e.String(), " by "+e.By), res)
	return nil
}
