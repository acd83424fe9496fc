// Command palisade is the operator CLI: it talks to the local palisaded
// over its unix socket (status, fence confirm, ...) and runs offline tools
// such as the scheduler simulator.
//
// Each subcommand lives in its own file and registers itself on rootCmd
// from an init function, so subcommands can be added independently.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
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

func main() {
	if err := rootCmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "palisade:", err)
		if ee, ok := err.(*exitError); ok {
			os.Exit(ee.code)
		}
		os.Exit(1)
	}
}
