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
	resourceCmd := &cobra.Command{Use: "resource", Short: "Resources: clear fail counts"}

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
	rootCmd.AddCommand(resourceCmd)
}
