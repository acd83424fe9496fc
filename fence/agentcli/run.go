// Package agentcli is the ClusterLabs fence-agents command-line protocol,
// implemented once for every plugin: options and short letters as fencing.py
// spells them, the stdin key=value form (read only when there are no
// arguments), legacy names, actions, output lines, exit codes, and metadata
// XML generated from the plugin's declared parameters.
//
// cmd/fence-agent calls Main with os.Args; tests call it with their own
// streams. Exit codes: 0 success (or status ON), 2 status OFF, 1 failure.
package agentcli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"palisade/fence"
)

// Exit codes of fence-agents.
const (
	ExitOK     = 0
	ExitFailed = 1
	ExitOff    = 2
)

// Version is printed by --version.
const Version = "palisade-fence-agent 0.1 (fence-agents 4.12 protocol)"

// Main runs one fence-agents call. args[0] selects the plugin by its
// basename (fence_ipmilan, fence_ilo4, ...).
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	name := filepath.Base(args[0])
	p, err := fence.Lookup(name)
	if err != nil {
		fmt.Fprintf(stderr, "ERROR: %v\n", err)
		return ExitFailed
	}
	return run(p, name, args[1:], stdin, stdout, stderr)
}

func run(p *fence.Plugin, name string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	logw := stderr
	usageErr := func(msg string) int {
		fmt.Fprintf(logw, "ERROR: %s\nERROR: Please use '-h' for usage\n", msg)
		return ExitFailed
	}
	inv, err := Parse(args, stdin, p.Index(name), p.HasPlugs)
	if err != nil {
		return usageErr("Parse error: " + err.Error())
	}
	for _, line := range inv.Ignored {
		// fencing.py's text; it prints it through Python's root logger
		// ("WARNING:root:Parse error: ...").
		fmt.Fprintf(stderr, "WARNING: Parse error: Ignoring unknown option '%s'\n", line)
	}
	if len(inv.Unused) > 0 {
		fmt.Fprintf(stderr, "WARNING: Unused arguments on command line: %q\n", inv.Unused)
	}
	opts, err := fence.Normalize(p, name, inv.Raw)
	if err != nil {
		return usageErr("Failed: " + err.Error())
	}
	if opts.Bool(fence.OptQuiet) {
		logw = io.Discard
	}

	// help, metadata and version need nothing else to be valid.
	if _, ok := inv.Raw[fence.OptHelp]; ok && opts.Bool(fence.OptHelp) {
		WriteUsage(stdout, p, name)
		return ExitOK
	}
	action, ok := fence.ParseAction(opts[fence.OptAction])
	if ok && action == fence.ActionManpage {
		WriteUsage(stdout, p, name)
		return ExitOK
	}
	if ok && action == fence.ActionMetadata {
		if err := WriteMetadata(stdout, p, name); err != nil {
			return ExitFailed
		}
		return ExitOK
	}
	if _, ok := inv.Raw[fence.OptVersion]; ok && opts.Bool(fence.OptVersion) {
		fmt.Fprintln(stdout, Version)
		return ExitOK
	}
	if !ok || !slices.Contains(p.AllActions(false), action) {
		return usageErr(fmt.Sprintf("Failed: Unrecognised action '%s'", opts[fence.OptAction]))
	}

	logger, closeLog, err := newLogger(logw, opts)
	if err != nil {
		return usageErr("Failed: Unable to create file " + opts[fence.OptDebugFile])
	}
	defer closeLog()
	slog.SetDefault(logger)

	if action == fence.ActionValidateAll {
		if err := validate(p, opts); err != nil {
			fmt.Fprintf(logw, "ERROR: Failed: %v\n", err)
			return usageErr("validate-all failed")
		}
		return ExitOK
	}
	if opts[fence.OptIP] == "" && !p.OwnParams {
		return usageErr("Failed: You have to enter fence address")
	}

	agent, err := fence.NewAgentFromOptions(p, name, opts)
	if err != nil {
		return usageErr("Failed: " + err.Error())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res := agent.Do(ctx, action)
	return report(res, opts, stdout, logw)
}

// validate is validate-all: everything that can be checked without the device.
func validate(p *fence.Plugin, opts fence.Options) error {
	if opts[fence.OptIP] == "" && !p.OwnParams {
		return fmt.Errorf("you have to enter fence address")
	}
	cp := fence.Options{}
	for k, v := range opts {
		cp[k] = v
	}
	if _, err := p.Open(cp); err != nil {
		return err
	}
	return nil
}

// report prints the fence-agents output lines for res and returns the exit code.
func report(res fence.Result, opts fence.Options, stdout, logw io.Writer) int {
	for _, w := range res.Warnings {
		fmt.Fprintf(logw, "ERROR: %s\n", w)
	}
	if !res.OK {
		fmt.Fprintf(logw, "ERROR: %s\n", res.Message())
		if res.Err != nil {
			fmt.Fprintf(logw, "ERROR: %v\n", res.Err)
		}
		return ExitFailed
	}
	switch res.Action {
	case fence.ActionStatus:
		fmt.Fprintf(stdout, "Status: %s\n", res.State)
		if res.State == fence.PowerOff {
			return ExitOff
		}
	case fence.ActionOn, fence.ActionOff:
		if res.Already {
			fmt.Fprintf(stdout, "Success: Already %s\n", res.State)
		} else {
			fmt.Fprintf(stdout, "Success: Powered %s\n", strings.ToUpper(string(res.Action)))
		}
	case fence.ActionReboot, fence.ActionDiag:
		fmt.Fprintln(stdout, "Success: Rebooted")
	case fence.ActionList, fence.ActionListStatus:
		if res.ListUnsupported {
			fmt.Fprintln(stdout, "NOTICE: List option is not working on this device yet")
			return ExitOK
		}
		sep := opts[fence.OptSeparator]
		if sep == "" {
			sep = ","
		}
		for _, pl := range res.Plugs {
			if res.Action == fence.ActionList {
				fmt.Fprintln(stdout, pl.ID+sep+pl.Alias)
			} else {
				fmt.Fprintln(stdout, pl.ID+sep+pl.Alias+sep+pl.State.String())
			}
		}
	}
	return ExitOK
}

// newLogger logs to stderr (errors and warnings, debug with -v) and, with
// --debug-file, everything to that file.
func newLogger(w io.Writer, opts fence.Options) (*slog.Logger, func(), error) {
	level := slog.LevelWarn
	if opts.Int(fence.OptVerboseLevel) > 0 || opts.Bool(fence.OptVerbose) {
		level = slog.LevelDebug
	}
	h := slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})
	if path := opts[fence.OptDebugFile]; path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, nil, err
		}
		fh := slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug})
		return slog.New(teeHandler{h, fh}), func() { f.Close() }, nil
	}
	return slog.New(h), func() {}, nil
}
