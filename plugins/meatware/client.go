package meatware

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"time"
)

// ClientMain is meatclient, Heartbeat's command for confirming a manual
// fence: "meatclient -c NODE" asks the operator to make sure NODE is off,
// then tells the waiting request. -y skips the question (scripts), -d
// names the socket directory. Exit 0 confirmed, 1 otherwise.
func ClientMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("meatclient", flag.ContinueOnError)
	fs.SetOutput(stderr)
	node := fs.String("c", "", "confirm that `NODE` was powered off (or disconnected from everything shared)")
	dir := fs.String("d", envOr("PALISADE_MEATWARE_DIR", DefaultDir), "`directory` of the confirmation sockets")
	yes := fs.Bool("y", false, "do not ask (for scripts)")
	if err := fs.Parse(args); err != nil {
		return 1
	}
	if *node == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: meatclient -c NODE [-y] [-d DIR]")
		return 1
	}
	if !*yes {
		fmt.Fprintf(stdout, "WARNING!\n\nIf node %q has not been manually powered off or disconnected from all shared resources and networks, "+
			"data on shared disks may become corrupted and migrated services might not work as expected.\n"+
			"Please verify that the name above corresponds to the node you just powered off.\n\nPROCEED? [yN] ", *node)
		answer, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			fmt.Fprintf(stderr, "meatclient: reading the answer: %v\n", err)
			return 1
		}
		if a := strings.TrimSpace(answer); a != "y" && a != "Y" {
			fmt.Fprintln(stdout, "meatclient: operation canceled.")
			return 1
		}
	}
	who := "meatclient"
	if u, err := user.Current(); err == nil {
		who += " (user " + u.Username + ")"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := Confirm(ctx, *dir, *node, who); err != nil {
		fmt.Fprintf(stderr, "meatclient: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "meatclient: fence of %s confirmed.\n", *node)
	return 0
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
