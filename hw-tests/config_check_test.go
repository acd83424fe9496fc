package hwtests

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"palisade/hw-tests/lab"
)

// The one configuration decoder at the programs' entry points: palisaded
// refuses a bad file with every error of every section at once and writes
// nothing; `palisade config check` reports the same errors offline (exit 2)
// and accepts the fixed file (exit 0); a 50 MB value gives a short error.

// badSections has a mistake in the fencing section (a typo and a device no
// plugin builds), in the quorum section and in the resources section.
const badSections = `quorum: {no_quorum_policy: sucide}
fencing:
  actoin: reboot
  devices:
    - {name: bmc-n1, plugin: fence_nosuch, params: {ip: 198.18.0.201}}
  topology: {n1: [[bmc-n1]]}
resources:
  resources:
    - {id: vip, tpye: IPaddr2}
`

func TestConfigRefusedLeavesNothing(t *testing.T) {
	if err := lab.Available(); err != nil {
		t.Skip(err)
	}
	palisaded, palisade := binPath(t, "palisaded"), binPath(t, "palisade")
	l, err := lab.New(lab.Options{Prefix: fmt.Sprintf("pa-c-%d", os.Getpid()), Nodes: 1, Links: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	c, err := l.WriteCluster(t.TempDir(), lab.ClusterOptions{Extra: badSections})
	if err != nil {
		t.Fatal(err)
	}
	file := c.Configs[0]
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) string { return fmt.Sprintf("%s:%d: ", file, lineOf(t, string(data), s)) }
	want := []string{
		at("no_quorum_policy: sucide") + "quorum.no_quorum_policy: \"sucide\": want one of stop, freeze, ignore, demote, suicide",
		at("actoin:") + "fencing.actoin: unknown key, valid keys here: action,",
		at("tpye:") + "resources.resources[0].tpye: unknown key, valid keys here: bundle, class,",
	}
	out, err := l.Nodes[0].Run(palisaded, "--config", file, "--node", "1")
	if err == nil || !strings.Contains(out, "configuration refused:") {
		t.Fatalf("palisaded accepted a bad file (err %v):\n%s", err, out)
	}
	// The daemon also builds every fence device before it starts.
	for _, w := range append(want, at("fence_nosuch")+`fencing.devices[0]: invalid fence device configuration: unknown fence agent "fence_nosuch"`) {
		if !strings.Contains(out, w) {
			t.Errorf("palisaded's refusal lacks %q:\n%s", w, out)
		}
	}
	if _, err := os.Stat(c.StateDirs[0]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused configuration left its state dir %s behind (%v)", c.StateDirs[0], err)
	}

	// The same errors offline, with no daemon and no namespace.
	cmd := exec.Command(palisade, "config", "check", file)
	outb, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("config check of a bad file: %v, want exit 2\n%s", err, outb)
	}
	for _, w := range want {
		if !strings.Contains(string(outb), w) {
			t.Errorf("config check lacks %q:\n%s", w, outb)
		}
	}
	t.Logf("config check:\n%s", outb)

	// Fixed, the file is valid to config check and palisaded checks it
	// the same way (up to the device, which only the daemon builds).
	good := strings.NewReplacer("sucide", "stop", "actoin", "action", "fence_nosuch", "fence_ipmilan", "tpye", "type").Replace(badSections)
	fixed := strings.Replace(string(data), badSections, good, 1)
	if err := os.WriteFile(file, []byte(fixed), 0o644); err != nil {
		t.Fatal(err)
	}
	if outb, err := exec.Command(palisade, "config", "check", file).CombinedOutput(); err != nil || !strings.Contains(string(outb), "valid cluster.yaml: cluster lab, 1 nodes") {
		t.Fatalf("config check of the fixed file: %v\n%s", err, outb)
	}

	// A 50 MB value: a short error naming where it is.
	huge := strings.Replace(fixed, "name: lab", "name: "+strings.Repeat("x", 50<<20), 1)
	if err := os.WriteFile(file, []byte(huge), 0o644); err != nil {
		t.Fatal(err)
	}
	outb, err = exec.Command(palisade, "config", "check", file).CombinedOutput()
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || len(outb) > 4096 || !strings.Contains(string(outb), at("name: lab")+"cluster.name: \"xxxx") || !strings.Contains(string(outb), "refused: 1 problem") ||
		!strings.Contains(string(outb), "(52428800 bytes)") {
		t.Fatalf("50 MB value: %v, %d bytes:\n%.2000s", err, len(outb), outb)
	}
	t.Logf("50 MB value, %d-byte report:\n%s", len(outb), outb)
}

// lineOf is the 1-based line of text holding s.
func lineOf(t *testing.T, text, s string) int {
	t.Helper()
	i := strings.Index(text, s)
	if i < 0 {
		t.Fatalf("%q not in the file", s)
	}
	return strings.Count(text[:i], "\n") + 1
}
