package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"palisade/cluster/config"
	"palisade/quorum/disk"
)

// palisade disk: the quorum disk's administration (sbd's create, dump,
// list and message).
func init() {
	var paths []string
	diskCmd := &cobra.Command{
		Use:   "disk",
		Short: "Quorum disk: create, dump, list, message NODE reset|off|clear|test",
		Long: `Administers the quorum disk (1 or 3 shared disks): formats it, shows its
header and slots, and writes messages into a node's mailbox. The disks are
given with -d (repeat it for three disks) or read from quorum.device.disk.paths
in the cluster configuration (--config, env PALISADE_CONFIG).`,
	}
	diskCmd.PersistentFlags().StringArrayVarP(&paths, "device", "d", nil, "quorum disk path (repeat for 3 disks)")

	// resolve returns the disk paths, the configured node names (in id
	// order) and the cluster name (from the configuration when -d is not
	// given, or when it is readable).
	resolve := func(needConfig bool) ([]string, []string, string, error) {
		var nodes []string
		cluster := ""
		c, cerr := config.Load(cliSettings.String(settingConfig), config.Options{SkipHostChecks: true})
		if cerr == nil {
			cluster = c.Name
			for _, n := range c.Nodes {
				nodes = append(nodes, n.Name)
			}
		}
		if len(paths) > 0 {
			return paths, nodes, cluster, nil
		}
		if cerr != nil {
			return nil, nil, "", fmt.Errorf("no -d given and %w", cerr)
		}
		q := c.Quorum
		if q.Device == nil || q.Device.Disk == nil {
			return nil, nil, "", fmt.Errorf("no -d given and %s has no quorum.device.disk", c.File)
		}
		return q.Device.Disk.Paths, nodes, cluster, nil
	}

	var nodesFlag []string
	var clusterFlag string
	var slots, sector int
	var force bool
	to := disk.DefaultTimeouts
	var msgwait time.Duration
	create := &cobra.Command{
		Use:   "create",
		Short: "Format the quorum disk(s): header with the timeouts, empty slots and mailboxes",
		Long: `Writes the header (the timeouts every node will use), zeroes every slot and
mailbox, and allocates slots to the nodes (--nodes, or the configuration's
nodes). Refuses a disk that already holds a quorum disk unless --force: stop
every node using it first. A regular file that is too small is extended.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ps, cfgNodes, cfgCluster, err := resolve(false)
			if err != nil {
				return err
			}
			nodes := nodesFlag
			if len(nodes) == 0 {
				nodes = cfgNodes
			}
			cluster := clusterFlag
			if cluster == "" {
				cluster = cfgCluster
			}
			if cluster == "" {
				return errors.New("give --cluster (no readable configuration names it)")
			}
			if msgwait == 0 {
				msgwait = 2 * to.Watchdog
			}
			t := to
			t.MsgWait = msgwait
			if err := t.Validate(); err != nil {
				return err
			}
			if err := disk.CheckTiming(disk.Timing{Disk: t, Watchdog: t.Watchdog}); err != nil {
				return err
			}
			h := disk.Header{SectorSize: sector, Slots: slots, Cluster: cluster, Timeouts: t}
			for _, p := range ps {
				if err := prepareDisk(p, h, force); err != nil {
					return err
				}
			}
			devs, ds := disk.OpenDevices(ps, 0)
			defer closeDisks(ds)
			if err := disk.Create(devs, h, nodes); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, d := range ds {
				note := "O_DIRECT"
				if f := d.File(); f != nil && !f.Direct {
					note = f.Note
				}
				fmt.Fprintf(out, "created quorum disk %s (%s)\n", d.Path, note)
			}
			fmt.Fprintf(out, "cluster %s, %d slots of %d bytes, nodes: %s\n", cluster, slots, sector, strings.Join(nodes, ", "))
			fmt.Fprintf(out, "watchdog %s, msgwait %s, loop %s, io-timeout %s, dead-after %s\n", t.Watchdog, t.MsgWait, t.Loop, t.IO, t.DeadAfter)
			return nil
		},
	}
	f := create.Flags()
	f.StringSliceVar(&nodesFlag, "nodes", nil, "nodes to allocate slots for, in order (default: the configuration's nodes)")
	f.StringVar(&clusterFlag, "cluster", "", "cluster name (default: the configuration's)")
	f.IntVar(&slots, "slots", disk.DefaultSlots, "number of node slots")
	f.IntVar(&sector, "sector-size", 4096, "sector size: 4096 (works on every disk) or 512")
	f.BoolVar(&force, "force", false, "overwrite an existing quorum disk")
	f.DurationVar(&to.Watchdog, "watchdog", to.Watchdog, "watchdog timeout of the nodes")
	f.DurationVar(&msgwait, "msgwait", 0, "time after which a pill's target counts as fenced (default 2 x watchdog)")
	f.DurationVar(&to.Loop, "loop", to.Loop, "disk loop period")
	f.DurationVar(&to.IO, "io-timeout", to.IO, "bound on one disk operation")
	f.DurationVar(&to.DeadAfter, "dead-after", to.DeadAfter, "a node whose counter stalls this long is dead on disk")

	dump := &cobra.Command{
		Use:   "dump",
		Short: "Show the quorum disk header(s): cluster, slots, timeouts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ps, _, _, err := resolve(true)
			if err != nil {
				return err
			}
			devs, ds := disk.OpenDevices(ps, 0)
			defer closeDisks(ds)
			bad := 0
			for i, d := range devs {
				h, err := disk.ReadHeader(d)
				if err != nil {
					fmt.Fprintf(cmd.OutOrStdout(), "%s: %v\n", d.Name, err)
					bad++
					continue
				}
				printHeader(cmd.OutOrStdout(), d.Name, h, ds[i])
			}
			if 2*bad >= len(devs) && bad > 0 {
				return &exitError{1, fmt.Errorf("%d of %d disks unreadable", bad, len(devs))}
			}
			return nil
		},
	}

	var noWait bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List the slots: node, state, role, counter, view, score, mailbox; and who is alive",
		Long: `Reads every slot twice, two loops apart (unless --no-wait), and marks a node
alive when its counter advanced in between.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ps, _, _, err := resolve(true)
			if err != nil {
				return err
			}
			devs, ds := disk.OpenDevices(ps, 0)
			defer closeDisks(ds)
			h, _, err := disk.ReadHeaders(devs)
			if err != nil {
				return err
			}
			first := readAll(devs, h)
			var second map[string][]disk.SlotCopy
			if !noWait {
				time.Sleep(2*h.Timeouts.Loop + h.Timeouts.IO)
				second = readAll(devs, h)
			}
			printSlots(cmd.OutOrStdout(), devs, h, first, second)
			return nil
		},
	}
	list.Flags().BoolVar(&noWait, "no-wait", false, "read once (no liveness column)")

	var from string
	var wait bool
	message := &cobra.Command{
		Use:   "message NODE reset|off|clear|test",
		Short: "Write a message into NODE's mailbox (reset/off fence it: done after msgwait)",
		Long: `reset and off are poison pills: the message is written to every disk and read
back (a majority must hold it), then the command waits msgwait, after which
NODE is dead (it read the pill and fenced itself, or its watchdog fired).
test waits for NODE to acknowledge (up to msgwait). clear empties the mailbox:
use it once a node fenced by a pill is known clean, if it refuses to start
(start_mode clean).`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			node := args[0]
			typ, err := disk.ParseMessageType(args[1])
			if err != nil {
				return err
			}
			ps, _, _, err := resolve(true)
			if err != nil {
				return err
			}
			devs, ds := disk.OpenDevices(ps, 0)
			defer closeDisks(ds)
			h, _, err := disk.ReadHeaders(devs)
			if err != nil {
				return err
			}
			nonce := uint64(time.Now().UnixNano()) | 1
			start := time.Now()
			res, err := disk.Deliver(devs, h, disk.Mailbox{Type: typ, Nonce: nonce, Sender: from, Target: node})
			if err != nil {
				return &exitError{1, err}
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%s message for %s written to slot %d, read back on %d of %d disks\n", typ, node, res.Slot, res.Verified, res.Disks)
			switch {
			case typ.IsPill() && wait:
				fmt.Fprintf(out, "waiting msgwait (%s)...\n", h.Timeouts.MsgWait)
				if err := sleepCtx(cmd.Context(), h.Timeouts.MsgWait-time.Since(start)); err != nil {
					return &exitError{1, fmt.Errorf("%s: not fenced: interrupted before msgwait passed", node)}
				}
				fmt.Fprintf(out, "%s fenced: %s pill delivered and msgwait %s passed\n", node, typ, h.Timeouts.MsgWait)
			case typ == disk.MsgTest && wait:
				for time.Since(start) < h.Timeouts.MsgWait {
					if disk.Acknowledged(devs, h, res.Slot, nonce) {
						fmt.Fprintf(out, "acknowledged by %s after %s\n", node, time.Since(start).Round(time.Millisecond))
						return nil
					}
					if err := sleepCtx(cmd.Context(), h.Timeouts.Loop/2); err != nil {
						return err
					}
				}
				return &exitError{1, fmt.Errorf("%s did not acknowledge the test message within msgwait %s (is its disk loop running?)", node, h.Timeouts.MsgWait)}
			}
			return nil
		},
	}
	host, _ := os.Hostname()
	message.Flags().StringVar(&from, "from", host, "sender name written with the message")
	message.Flags().BoolVar(&wait, "wait", true, "wait msgwait after a pill, or for a test's acknowledgement")

	diskCmd.AddCommand(create, dump, list, message)
	rootCmd.AddCommand(diskCmd)
}

func closeDisks(ds []*disk.Disk) {
	for _, d := range ds {
		d.Close()
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// prepareDisk refuses to overwrite a quorum disk without force, checks
// the size, and extends a regular file that is too small.
func prepareDisk(path string, h disk.Header, force bool) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	size := st.Size()
	if st.Mode()&os.ModeDevice != 0 {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		n, err := f.Seek(0, io.SeekEnd)
		ss, err2 := unix.IoctlGetInt(int(f.Fd()), unix.BLKSSZGET)
		f.Close()
		if err != nil || err2 != nil {
			return fmt.Errorf("%s: reading the device size: %v", path, errors.Join(err, err2))
		}
		if ss > h.SectorSize {
			return fmt.Errorf("%s: logical sector size %d is larger than --sector-size %d", path, ss, h.SectorSize)
		}
		size = n
	} else if size < h.Size() {
		if err := os.Truncate(path, h.Size()); err != nil {
			return err
		}
		size = h.Size()
	}
	if size < h.Size() {
		return fmt.Errorf("%s: %d bytes, but %d slots of %d bytes need %d", path, size, h.Slots, h.SectorSize, h.Size())
	}
	devs, ds := disk.OpenDevices([]string{path}, 0)
	defer closeDisks(ds)
	if old, err := disk.ReadHeader(devs[0]); err == nil && !force {
		return fmt.Errorf("%s already holds a quorum disk (cluster %s, created %s): stop every node using it and add --force to overwrite it", path, old.Cluster, old.Created.Format(time.RFC3339))
	}
	return nil
}

func printHeader(w io.Writer, name string, h disk.Header, d *disk.Disk) {
	fmt.Fprintf(w, "==== %s\n", name)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "version\t%d\n", disk.Version)
	fmt.Fprintf(tw, "cluster\t%s\n", h.Cluster)
	fmt.Fprintf(tw, "uuid\t%x\n", h.UUID)
	fmt.Fprintf(tw, "created\t%s\n", h.Created.Format(time.RFC3339))
	fmt.Fprintf(tw, "sector size\t%d\n", h.SectorSize)
	fmt.Fprintf(tw, "slots\t%d\n", h.Slots)
	fmt.Fprintf(tw, "timeout (watchdog)\t%s\n", h.Timeouts.Watchdog)
	fmt.Fprintf(tw, "timeout (msgwait)\t%s\n", h.Timeouts.MsgWait)
	fmt.Fprintf(tw, "timeout (loop)\t%s\n", h.Timeouts.Loop)
	fmt.Fprintf(tw, "timeout (io)\t%s\n", h.Timeouts.IO)
	fmt.Fprintf(tw, "timeout (dead-after)\t%s\n", h.Timeouts.DeadAfter)
	if f := d.File(); f != nil {
		mode := "O_DIRECT|O_SYNC"
		if !f.Direct {
			mode = f.Note
		}
		fmt.Fprintf(tw, "access\t%s\n", mode)
	}
	tw.Flush()
}

func readAll(devs []*disk.Device, h disk.Header) map[string][]disk.SlotCopy {
	out := map[string][]disk.SlotCopy{}
	for _, d := range devs {
		if s, err := disk.ReadSlots(d, h); err == nil {
			out[d.Name] = s
		}
	}
	return out
}

func printSlots(w io.Writer, devs []*disk.Device, h disk.Header, first, second map[string][]disk.SlotCopy) {
	for _, d := range devs {
		slots, ok := first[d.Name]
		if !ok {
			fmt.Fprintf(w, "==== %s: unreadable\n", d.Name)
			continue
		}
		fmt.Fprintf(w, "==== %s\n", d.Name)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		head := "SLOT\tNODE\tSTATE\tROLE\tCOUNTER\tVIEW\tSCORE\tDECISION\tMAILBOX"
		if second != nil {
			head += "\tALIVE"
		}
		fmt.Fprintln(tw, head)
		for i, s := range slots {
			if s.Slot == nil {
				if s.Err != nil {
					fmt.Fprintf(tw, "%d\t?\t%v\n", i, s.Err)
				}
				continue
			}
			sl := s.Slot
			dec := "-"
			if sl.Role == disk.RoleMaster {
				dec = fmt.Sprintf("#%d v%d %s", sl.Decision.Seq, sl.Decision.View, names(slots, sl.Decision.Members))
			}
			mb := "-"
			if s.Mailbox.Type != disk.MsgNone {
				mb = fmt.Sprintf("%s from %s", s.Mailbox.Type, s.Mailbox.Sender)
				if sl.Handled == s.Mailbox.Nonce {
					mb += " (handled)"
				}
			}
			line := fmt.Sprintf("%d\t%s\t%s\t%s\t%d\tv%d %s\t%d\t%s\t%s", i, sl.Name, sl.State, sl.Role, sl.Counter, sl.View, names(slots, sl.Members), sl.Score, dec, mb)
			if second != nil {
				alive := "no"
				if ss := second[d.Name]; ss != nil && ss[i].Slot != nil && ss[i].Slot.Counter > sl.Counter {
					alive = "yes"
				}
				line += "\t" + alive
			}
			fmt.Fprintln(tw, line)
		}
		tw.Flush()
	}
}

func names(slots []disk.SlotCopy, m disk.Bitmap) string {
	var out []string
	for _, i := range m.Indices() {
		if i < len(slots) && slots[i].Slot != nil {
			out = append(out, slots[i].Slot.Name)
		} else {
			out = append(out, fmt.Sprintf("#%d", i))
		}
	}
	return "{" + strings.Join(out, ",") + "}"
}
