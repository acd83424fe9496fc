package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"palisade/cluster/dc"
	"palisade/cluster/eventlog"
	"palisade/cluster/node/control"
)

func init() {
	fenceCmd := &cobra.Command{Use: "fence", Short: "Fencing: operator confirmation and fence history"}

	var by string
	var yes bool
	confirm := &cobra.Command{
		Use:   "confirm NODE",
		Short: "Confirm by hand that NODE is powered off (meatware); unblocks its resources",
		Long: `Records an operator's statement that NODE is down, as when its fence device is
unreachable and someone checked the machine is off (pulled the power cord).
Its resources are then recovered elsewhere. If NODE is in fact still running,
its resources will run twice: check before you confirm. The confirmation is
written to the event log with your name. It is decided by the DC, whichever
node you type it on: the DC's answer (or its refusal, e.g. NODE is still a
member, or this partition has no quorum) is what this command prints.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			node := args[0]
			if !yes {
				fmt.Fprintf(cmd.ErrOrStderr(), "Node %s must be powered off before you confirm. Type its name to confirm: ", node)
				line, _ := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				if strings.TrimSpace(line) != node {
					return &exitError{2, fmt.Errorf("confirmation of %s aborted", node)}
				}
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), dc.OperatorTimeout+2*time.Second)
			defer cancel()
			var res map[string]string
			if err := control.Call(ctx, socketFlag, dc.CmdFenceConfirm, dc.ConfirmArgs{Node: node, By: by}, &res); err != nil {
				return &exitError{1, fmt.Errorf("fence confirm %s: %w", node, err)}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: fencing confirmed by operator %s (%s)\n", node, by, res["result"])
			return nil
		},
	}
	confirm.Flags().StringVar(&by, "by", operatorName(), "who confirms (logged)")
	confirm.Flags().BoolVar(&yes, "yes", false, "do not ask for the node name again")

	var asJSON bool
	var logPath string
	history := &cobra.Command{
		Use:   "history",
		Short: "Show each node's fencing state and the recent fence attempts",
		Long: `Asks palisaded for the recovery gate's node states and the fencer's attempts.
With --event-log, reads the fence entries of an event log file instead (works
without a running daemon).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := cmd.OutOrStdout()
			if logPath != "" {
				f, err := os.Open(logPath)
				if err != nil {
					return &exitError{1, fmt.Errorf("fence history: %w", err)}
				}
				defer f.Close()
				es, err := eventlog.Read(f)
				if err != nil {
					return &exitError{1, fmt.Errorf("fence history: %s: %w", logPath, err)}
				}
				return printFenceLog(w, es, asJSON)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 5*time.Second)
			defer cancel()
			var h dc.History
			if err := control.Call(ctx, socketFlag, dc.CmdFenceHistory, nil, &h); err != nil {
				return &exitError{3, fmt.Errorf("fence history: %w", err)}
			}
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(h)
			}
			printHistory(w, h)
			return nil
		},
	}
	history.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	history.Flags().StringVar(&logPath, "event-log", "", "read fence entries from this event log file")

	fenceCmd.AddCommand(confirm, history)
	rootCmd.AddCommand(fenceCmd)
}

func operatorName() string {
	for _, k := range []string{"SUDO_USER", "USER", "LOGNAME"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return "unknown"
}

func printHistory(w io.Writer, h dc.History) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tSTATE\tMEMBER\tATTEMPTS\tFAILURES\tCONFIRMED BY")
	for _, n := range h.Nodes {
		fmt.Fprintf(tw, "%s\t%s\t%v\t%d\t%d\t%s\n", n.Node, n.State, n.Member, n.Attempts, n.Failures, n.By)
	}
	tw.Flush()
	if len(h.Attempts) == 0 {
		return
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STARTED\tTARGET\tRESULT\tLEVEL\tDEVICES\tELAPSED\tERROR")
	for _, a := range h.Attempts {
		res := "failed"
		if a.Level > 0 && a.Error == "" {
			res = "fenced"
		}
		errText := a.Error
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", a.Start.UTC().Format(time.RFC3339), a.Target, res, a.Level, a.Devices, a.Elapsed.Round(time.Millisecond), errText)
	}
	tw.Flush()
}

func printFenceLog(w io.Writer, es []eventlog.Entry, asJSON bool) error {
	enc := json.NewEncoder(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if !asJSON {
		fmt.Fprintln(tw, "TIME\tWRITER\tEVENT\tTARGET\tATTEMPT\tBY/DEVICE\tDETAIL")
	}
	for _, e := range es {
		if !strings.HasPrefix(e.Event, "fence_") && e.Event != eventlog.Alert {
			continue
		}
		if asJSON {
			if err := enc.Encode(e); err != nil {
				return err
			}
			continue
		}
		who := e.By
		if who == "" {
			who = e.Device
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", e.Wall, e.Writer, e.Event, e.Target, e.Attempt, who, e.Detail)
	}
	return tw.Flush()
}
