// Command fence-agent is Palisade's multi-call fence agent. It is installed
// under the names of the ClusterLabs agents it replaces (fence_ipmilan,
// fence_ipmilanplus, fence_idrac, fence_ilo3, fence_ilo4, fence_ilo5,
// fence_imm) and dispatches on the name it was run as, speaking the
// fence-agents protocol: the same options, stdin form, output lines, exit
// codes and metadata XML.
//
// Run as "fence-agent NAME [options]" it behaves as NAME, which is handy
// before the symlinks exist.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"palisade/fence"
	"palisade/fence/agentcli"
	_ "palisade/plugins/apcsnmp"
	_ "palisade/plugins/ipmi"
	_ "palisade/plugins/redfish"
	_ "palisade/plugins/watchdog"
)

func main() {
	args := os.Args
	if base := filepath.Base(args[0]); !strings.HasPrefix(base, "fence_") {
		if len(args) < 2 || strings.HasPrefix(args[1], "-") {
			fmt.Fprintf(os.Stderr, "usage: %s fence_NAME [options]  (or run it as a symlink named fence_NAME)\nknown agents: %s\n",
				base, strings.Join(fence.Names(), " "))
			os.Exit(agentcli.ExitFailed)
		}
		args = args[1:]
	}
	os.Exit(agentcli.Main(args, os.Stdin, os.Stdout, os.Stderr))
}
