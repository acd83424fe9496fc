// Command fence-agent is Palisade's multi-call fence agent. It is installed
// under Palisade's own names (fence_palisade_ipmilan, fence_palisade_ilo4,
// ...: `make install-fence`), beside the distribution's agents, and on
// request under the names of the ClusterLabs agents it replaces
// (fence_ipmilan, fence_ilo4, ...: `make install-fence-agents-names`). It
// dispatches on the name it was run as, speaking the fence-agents protocol:
// the same options, stdin form, output lines, exit codes and metadata XML.
// Every personality answers to both forms of its name.
//
// Installed as meatclient, it is Heartbeat's command that confirms a
// manual fence ("meatclient -c NODE"): it lives here, beside the
// fence_manual device it talks to, so one binary carries all of fencing.
// Run under the name of an installed ClusterLabs agent that Palisade has
// no plugin for (fence_virsh, ...), it runs that agent through
// plugins/external, with Palisade's checks.
//
// Run as "fence-agent NAME [options]" it behaves as NAME, which is handy
// before the symlinks exist. "fence-agent --names" prints the fence-agents
// names of every registered personality, one per line (the Makefile makes
// the symlinks from it, so personalities added later are installed too).
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"palisade/fence"
	"palisade/fence/agentcli"
	_ "palisade/plugins/apcsnmp"
	_ "palisade/plugins/external"
	_ "palisade/plugins/ipmi"
	"palisade/plugins/meatware"
	_ "palisade/plugins/redfish"
	_ "palisade/plugins/watchdog"
)

func main() {
	args := os.Args
	base := filepath.Base(args[0])
	if base != "meatclient" && !strings.HasPrefix(base, "fence_") {
		if len(args) == 2 && args[1] == "--names" {
			for _, n := range fence.Names() {
				fmt.Println(n)
			}
			return
		}
		if len(args) < 2 || strings.HasPrefix(args[1], "-") {
			fmt.Fprintf(os.Stderr, "usage: %s fence_NAME [options]  (or run it as a symlink named fence_NAME or fence_palisade_NAME)\n       %s meatclient -c NODE\n       %s --names\nknown agents: %s\n",
				base, base, base, strings.Join(fence.Names(), " "))
			os.Exit(agentcli.ExitFailed)
		}
		args = args[1:]
		base = filepath.Base(args[0])
	}
	if base == "meatclient" {
		os.Exit(meatware.ClientMain(args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(agentcli.Main(args, os.Stdin, os.Stdout, os.Stderr))
}
