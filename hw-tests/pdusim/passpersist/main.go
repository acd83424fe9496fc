// Command passpersist is the pass_persist program of hw-tests/pdusim:
// snmpd runs it as "passpersist STATEDIR" for the APC enterprise subtree
// and talks to it on stdin/stdout.
package main

import (
	"fmt"
	"os"

	"palisade/hw-tests/pdusim"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: passpersist STATEDIR")
		os.Exit(2)
	}
	if err := pdusim.ServePassPersist(os.Args[1], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "passpersist:", err)
		os.Exit(1)
	}
}
