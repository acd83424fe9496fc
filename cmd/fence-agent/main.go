// Command fence-agent is Palisade's multi-call fence agent. It is installed
// under Palisade's own names (fence_palisade_ipmilan, fence_palisade_ilo4,
// ...: `make install-fence`), beside the distribution's agents, and on
// request under the names of the ClusterLabs agents it replaces
// (fence_ipmilan, fence_ilo4, ...: `make install-fence-agents-names`). It
// dispatches on the name it was run as, speaking the fence-agents protocol:
// the same options, stdin form, output lines, exit codes and metadata XML.
// Every personality answers to both forms of its name.
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
	_ "palisade/plugins/ipmi"
)

func main() {
	args := os.Args
	if base := filepath.Base(args[0]); !strings.HasPrefix(base, "fence_") {
		if len(args) == 2 && args[1] == "--names" {
			for _, n := range fence.Names() {
				fmt.Println(n)
			}
			return
		}
		if len(args) < 2 || strings.HasPrefix(args[1], "-") {
			fmt.Fprintf(os.Stderr, "usage: %s fence_NAME [options]  (or run it as a symlink named fence_NAME or fence_palisade_NAME)\n       %s --names\nknown agents: %s\n",
				base, base, strings.Join(fence.Names(), " "))
			os.Exit(agentcli.ExitFailed)
		}
		args = args[1:]
	}
	os.Exit(agentcli.Main(args, os.Stdin, os.Stdout, os.Stderr))
}
