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

	"palisade/cluster/api"
	"palisade/cluster/eventlog"
)

func init() {
	fenceCmd := &cobra.Command{Use: "fence", Short: "Fencing: operator confirmation, fence history and fence devices"}

	var by string
	var yes bool
	confirm := &cobra.Command{
		Use:   "confirm NODE",
		Short: "Confirm by hand that NODE is powered off (meatware); unblocks its resources",
		Long: `Records an operator's statement that NODE is down, as when its fence device is
unreachable and someone checked the machine is off (pulled the power cord).
Its resources are then recovered elsewhere. If NODE is in fact still running,
its resources will run twice: check before you confirm. The confirmation is
written to the event log and the fence history with your name.

If a manual fence level (fence_manual, meatware) of NODE waits on the node
you type it on, the confirmation releases it: the fence attempt succeeds
through that device and the DC records NODE fenced by it. Otherwise the DC
decides, whichever node you type it on: it records NODE fenced by the
operator (withdrawing a fence attempt still running for it), or refuses,
e.g. NODE is still a member, or this partition has no quorum. Its answer is
what this command prints.`,
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
			ctx, cancel := context.WithTimeout(cmd.Context(), api.OperatorTimeout+2*time.Second)
			defer cancel()
			res, err := client().Confirm(ctx, api.ConfirmRequest{Node: node, By: by})
			if err != nil {
				return &exitError{exitCode(err), fmt.Errorf("fence confirm %s: %w", node, err)}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: fencing confirmed by operator %s (%s)\n", node, by, res.Result)
			return nil
		},
	}
	confirm.Flags().StringVar(&by, "by", operatorName(), "who confirms (logged)")
	confirm.Flags().BoolVar(&yes, "yes", false, "do not ask for the node name again")

	var asJSON bool
	var logPath string
	history := &cobra.Command{
		Use:   "history",
		Short: "Show each node's fencing state and the cluster-wide fence history",
		Long: `Asks palisaded for the recovery gate's node states and the cluster-wide fence
history: every fence attempt (target, action, result, the level and devices,
who asked, which node ran it, why, and what each device did), operator
confirmations and refused fence orders. The DC replicates the history (its
newest entries) to every member, which keeps it across restarts, so every
node shows the same.
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
			h, err := client().History(ctx)
			if err != nil {
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

	var devJSON bool
	devices := &cobra.Command{
		Use:   "devices",
		Short: "List the fence devices with their last monitor check",
		Long: `Asks palisaded for its fence devices and what its device monitor saw at the
last check of each: the result, when, how long it took (on a kept-alive
session where the plugin allows), and how many checks failed in a row. A
device that fails fencing.monitor.failures checks in a row raises an alert.
Each node checks the devices itself: ask the node you care about.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), 5*time.Second)
			defer cancel()
			d, err := client().Devices(ctx)
			if err != nil {
				return &exitError{3, fmt.Errorf("fence devices: %w", err)}
			}
			w := cmd.OutOrStdout()
			if devJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(d)
			}
			printDevices(w, d, time.Now())
			return nil
		},
	}
	devices.Flags().BoolVar(&devJSON, "json", false, "print JSON")

	fenceCmd.AddCommand(confirm, history, devices)
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

func printHistory(w io.Writer, h api.History) {
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
	fmt.Fprintln(tw, "STARTED\tTARGET\tACTION\tRESULT\tLEVEL\tDEVICES\tASKED BY\tRAN ON\tELAPSED\tREASON")
	for _, a := range h.Attempts {
		level := "-"
		if a.Level > 0 {
			level = fmt.Sprint(a.Level)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.Start.UTC().Format("2006-01-02T15:04:05.000Z"), a.Target, dash(a.Action),
			attemptResult(a), level, dash(a.Devices), dash(a.Origin), dash(a.Executor), a.Elapsed.Round(time.Millisecond), dash(a.Reason))
	}
	tw.Flush()
	// The steps of the attempts that did not simply succeed: what each
	// device did, in the words of its class (refused is not timed out).
	for _, a := range h.Attempts {
		if a.Fenced() && len(a.Steps) <= 1 && (len(a.Steps) == 0 || a.Steps[0].Note == "") {
			continue
		}
		if len(a.Steps) == 0 && a.Error == "" {
			continue
		}
		fmt.Fprintf(w, "\n%s %s of %s (%s):\n", a.Start.UTC().Format("2006-01-02T15:04:05.000Z"), dash(a.Action), a.Target, attemptResult(a))
		if a.Error != "" {
			fmt.Fprintf(w, "  %s\n", a.Error)
		}
		for _, s := range a.Steps {
			line := fmt.Sprintf("  level %d %s: %s after %s", s.Level, s.Device, dash(s.Result), s.Elapsed.Round(time.Millisecond))
			if s.Delay > 0 {
				line += fmt.Sprintf(" (waited %s first)", s.Delay.Round(time.Millisecond))
			}
			if s.Error != "" {
				line += ": " + s.Error
			}
			if s.Note != "" {
				line += " (" + s.Note + ")"
			}
			fmt.Fprintln(w, line)
		}
	}
}

// attemptResult is the RESULT column: fenced (or confirmed) for an entry
// that proves the target off, else what it failed of.
func attemptResult(a api.FenceAttempt) string {
	switch {
	case a.Fenced() && a.Action == "confirm":
		return "confirmed"
	case a.Fenced():
		return "fenced"
	case a.Result != "":
		return a.Result
	}
	return "failed"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// printDevices is `palisade fence devices`; now dates the checks.
func printDevices(w io.Writer, d api.Devices, now time.Time) {
	if d.Interval > 0 {
		fmt.Fprintf(w, "fence devices as %s sees them (checked every %s)\n", d.Node, d.Interval)
	} else {
		fmt.Fprintf(w, "fence devices as %s sees them (monitoring is off: fencing.monitor.interval 0)\n", d.Node)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DEVICE\tPLUGIN\tTARGETS\tLAST CHECK\tRESULT\tLATENCY\tSESSION\tFAILED IN A ROW\tCHECKS\tDETAIL")
	for _, c := range d.Devices {
		targets := dash(strings.Join(c.Targets, ","))
		switch {
		case c.Unmonitored != "":
			fmt.Fprintf(tw, "%s\t%s\t%s\t-\tnot checked\t-\t-\t-\t-\t%s\n", c.Name, c.Plugin, targets, c.Unmonitored)
			continue
		case !c.Checked:
			fmt.Fprintf(tw, "%s\t%s\t%s\tnot yet\t-\t-\t-\t-\t0\t-\n", c.Name, c.Plugin, targets)
			continue
		}
		ago := now.Sub(c.Time).Round(time.Second)
		if ago < 0 {
			ago = 0
		}
		session := "new"
		if c.Reused {
			session = "kept"
		}
		failed := fmt.Sprint(c.Failures)
		if c.Alerted {
			failed += " (alerted)"
		}
		detail := c.State
		if c.Error != "" {
			detail = c.Error
		}
		if c.Skipped > 0 {
			detail = strings.TrimSpace(fmt.Sprintf("%s (%d checks skipped during fences)", detail, c.Skipped))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s ago\t%s\t%s\t%s\t%s\t%d\t%s\n", c.Name, c.Plugin, targets, ago, dash(c.Result),
			c.Latency.Round(10*time.Microsecond), session, failed, c.Checks, dash(detail))
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
