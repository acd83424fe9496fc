// Command palisade is the operator CLI: it talks to the local palisaded
// over its unix socket (status, fence confirm, ...) and runs offline tools
// such as the scheduler simulator.
//
// Each subcommand lives in its own file and registers itself on rootCmd
// from an init function, so subcommands can be added independently.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"palisade/cluster/api"
)

var rootCmd = &cobra.Command{
	Use:           "palisade",
	Short:         "Operator CLI for the Palisade HA cluster",
	SilenceUsage:  true,
	SilenceErrors: true,
}

// exitError lets a subcommand choose the process exit code while still
// printing a message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

func (e *exitError) Unwrap() error { return e.err }

func main() {
	if err := rootCmd.Execute(); err != nil {
		var quiet silentError
		if !errors.As(err, &quiet) {
			// A degraded status already said why, in its output (JSON
			// readers get nothing else on the terminal).
			fmt.Fprintln(os.Stderr, "palisade:", err)
		}
		if ee, ok := err.(*exitError); ok {
			os.Exit(ee.code)
		}
		os.Exit(1)
	}
}

// Exit codes shared by the subcommands that talk to palisaded.
const (
	exitRefused     = 1 // the cluster refused or could not do it now
	exitBadInput    = 2 // the request itself is wrong (unknown node, bad file)
	exitUnreachable = 3 // no palisaded answered on the socket
)

// client is the typed control API client for the socket setting.
func client() api.Client { return api.Client{Socket: socketPath()} }

// exitCode maps a control API error to the process exit code: the code
// the daemon gave the refusal, or "unreachable" when no daemon answered.
func exitCode(err error) int {
	switch api.CodeOf(err) {
	case "":
		return exitUnreachable
	case api.BadRequest, api.Invalid, api.UnknownNode, api.UnknownResource:
		return exitBadInput
	default:
		return exitRefused
	}
}
