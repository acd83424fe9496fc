package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// manSection: Palisade's programs are administration commands.
const manSection = "8"

// daemonPages describes the programs that are not cobra commands; their
// OPTIONS section is their own -h output, so it cannot drift from the code.
var daemonPages = map[string]struct{ short, long string }{
	"palisaded": {"the Palisade cluster daemon",
		"palisaded runs one node of a Palisade cluster: it sends and checks signed heartbeats on every link, " +
			"agrees on membership and quorum with its peers, fences lost nodes through their fence devices before " +
			"anything of theirs starts elsewhere, and runs the resources the designated coordinator places on it. " +
			"It reads /etc/palisade/cluster.yaml (see palisade-config-import(8) to convert a Heartbeat or Pacemaker " +
			"configuration) and refuses to start on any error in it, every error at once, naming the file, line and key, " +
			"before it writes anything (check a file with palisade config check). Its own settings come from its flags, " +
			"PALISADED_* environment variables and /etc/palisade/palisaded.yaml, in that order. SIGHUP reloads " +
			"the file; SIGTERM makes the node leave the cluster cleanly (its resources move, nobody fences it)."},
	"palisade-arbiter": {"quorum arbiter for Palisade clusters",
		"palisade-arbiter is a small service on a third machine that breaks ties for two-node clusters and even " +
			"splits: it gives its vote to exactly one partition of each cluster it serves."},
}

func genManCmd() *cobra.Command {
	var dir string
	var daemons []string
	cmd := &cobra.Command{
		Use:    "gen-man --dir DIR [--daemon PATH]...",
		Short:  "Write the man pages (used by make install)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return genMan(dir, daemons)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "directory to write the pages to")
	cmd.Flags().StringArrayVar(&daemons, "daemon", nil, "a non-cobra program whose -h output makes its page (repeatable)")
	_ = cmd.MarkFlagRequired("dir")
	return cmd
}

func init() { rootCmd.AddCommand(genManCmd()) }

// manDate is SOURCE_DATE_EPOCH if set (reproducible builds), else now.
func manDate() (time.Time, error) {
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q: %w", s, err)
		}
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Now().UTC(), nil
}

// genMan writes palisade(8) and one page per subcommand from the cobra
// tree, and a page for each daemon from its -h output.
func genMan(dir string, daemons []string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("gen-man: %w", err)
	}
	date, err := manDate()
	if err != nil {
		return fmt.Errorf("gen-man: %w", err)
	}
	rootCmd.DisableAutoGenTag = true
	hdr := &doc.GenManHeader{Section: manSection, Source: "Palisade", Manual: "Palisade Manual", Date: &date}
	if err := doc.GenManTree(rootCmd, hdr, dir); err != nil {
		return fmt.Errorf("gen-man: %w", err)
	}
	for _, d := range daemons {
		page, err := daemonPage(d, date)
		if err != nil {
			return err
		}
		name := filepath.Base(d)
		if err := os.WriteFile(filepath.Join(dir, name+"."+manSection), page, 0o644); err != nil {
			return fmt.Errorf("gen-man: %w", err)
		}
	}
	return nil
}

// roffEscape makes text safe inside a .nf block: backslashes, and lines
// that would start with a control character.
func roffEscape(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			lines[i] = `\&` + l
		}
	}
	return strings.Join(lines, "\n")
}

// daemonPage runs `PROGRAM -h` and wraps its usage text in a man page.
func daemonPage(path string, date time.Time) ([]byte, error) {
	name := filepath.Base(path)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	c := exec.CommandContext(ctx, path, "-h")
	c.Stdout, c.Stderr = &out, &out
	c.Env = []string{"PATH=/usr/bin:/bin"} // no PALISADED_* settings from the builder's environment in the page
	if err := c.Run(); err != nil && out.Len() == 0 {
		return nil, fmt.Errorf("gen-man: %s -h: %w", path, err)
	}
	// The builder's path to the binary is not the installed one.
	usage := strings.ReplaceAll(strings.TrimSpace(out.String()), path, name)
	if !strings.Contains(usage, "-") {
		return nil, fmt.Errorf("gen-man: %s -h printed no options:\n%s", path, usage)
	}
	info, ok := daemonPages[name]
	if !ok {
		info.short = "part of Palisade"
	}
	var b strings.Builder
	fmt.Fprintf(&b, ".TH %q %q %q %q %q\n", strings.ToUpper(name), manSection, date.Format("Jan 2006"), "Palisade", "Palisade Manual")
	fmt.Fprintf(&b, ".nh\n.ad l\n.SH NAME\n%s \\- %s\n", strings.ReplaceAll(name, "-", `\-`), info.short)
	fmt.Fprintf(&b, ".SH SYNOPSIS\n.B %s\n[\\fIoptions\\fR]\n", name)
	if info.long != "" {
		fmt.Fprintf(&b, ".SH DESCRIPTION\n%s\n", roffEscape(info.long))
	}
	fmt.Fprintf(&b, ".SH OPTIONS\n.nf\n%s\n.fi\n", roffEscape(usage))
	b.WriteString(".SH SEE ALSO\n\\fBpalisade\\fP(8), \\fBpalisade\\-config\\-import\\fP(8), \\fBsystemctl\\fP(1)\n")
	return []byte(b.String()), nil
}
