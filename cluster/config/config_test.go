package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"gopkg.in/yaml.v3"

	"palisade/cluster/config/strict"
	"palisade/fence/topology"
	"palisade/resources/model"
)

// TestDecode runs testdata/*.txt with github.com/cockroachdb/datadriven;
// `go test -run TestDecode -rewrite` regenerates the expected output
// (review the diff). Commands:
//
//	parse [file=NAME]
//	<a whole cluster.yaml>
//	----
//	<a summary of every section, or every error of every section>
//
//	document [file=NAME]
//	<what `palisade config check` / `config push` read: a cluster.yaml or a resources section>
//	----
//	<the resources section's summary, or the errors>
//
// NAME (default cluster.yaml) names the file in errors; relative paths in
// it resolve against its directory.
func TestDecode(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		if filepath.Ext(path) == ".txt" { // not the fuzz corpus
			datadriven.RunTest(t, path, decodeDirective)
		}
	})
}

func decodeDirective(t *testing.T, d *datadriven.TestData) string {
	file := "cluster.yaml"
	if d.HasArg("file") {
		d.ScanArgs(t, "file", &file)
	}
	switch d.Cmd {
	case "parse":
		c, err := Parse(file, []byte(d.Input))
		if err != nil {
			return err.Error()
		}
		return summary(c)
	case "document":
		doc, err := ParseDocument(file, []byte(d.Input))
		if err != nil {
			return err.Error()
		}
		kind := "resources section"
		if doc.Cluster != nil {
			kind = "cluster.yaml " + doc.Cluster.Name
		}
		if doc.Resources == nil {
			return kind + ": no resources section"
		}
		return fmt.Sprintf("%s: admin_epoch=%d resources=%d constraints=%d options=%+v", kind, doc.AdminEpoch,
			len(doc.Resources.Resources), len(doc.Resources.Constraints.Locations)+len(doc.Resources.Constraints.Colocations)+len(doc.Resources.Constraints.Orders),
			effective(doc.Resources.Options))
	}
	d.Fatalf(t, "unknown command %q", d.Cmd)
	return ""
}

// effective prints the options with Pacemaker's defaults filled in.
func effective(o model.Options) string {
	return fmt.Sprintf("stonith=%v fatal=%v policy=%s action=%s placement=%s", o.Stonith(), o.StartFatal(), o.QuorumPolicy(), o.FenceAction(), o.Placement())
}

func summary(c *Cluster) string {
	var b strings.Builder
	fmt.Fprintf(&b, "cluster %s nodes=", c.Name)
	for i, n := range c.Nodes {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%d(%s)", n.ID, n.Name)
	}
	b.WriteString(" links=")
	for i, l := range c.Links {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s/%s/%s:%d", l.Name, l.Kind, l.Interface, l.Port)
		if l.Group.IsValid() {
			fmt.Fprintf(&b, "/%v/ttl%d", l.Group, l.TTL)
		}
	}
	t := c.Timing
	fmt.Fprintf(&b, " timing=%v/%v/%v/%v key=%s state=%s socket=%s quorum=%s/%d fencing=%v/%d resources=%v",
		t.Keepalive, t.Warntime, t.Deadtime, t.Initdead, c.KeyFile, c.StateDir, c.Socket,
		c.Quorum.Policy, c.Quorum.Config.ExpectedVotes, c.Fencing.Enabled, len(c.Fencing.Devices), c.Resources != nil)
	// What the daemon runs with, the file's sections and its resources'
	// options together (the one place: options.go).
	fmt.Fprintf(&b, "\nin force: no-quorum-policy=%s fence-action=%s fencing=%v start-failure-is-fatal=%v",
		c.NoQuorumPolicy(c.Resources), c.FenceAction(c.Resources), c.FencingEnabled(c.Resources),
		c.Resources == nil || c.Resources.Options.StartFatal())
	if c.Alerts.Command != "" {
		fmt.Fprintf(&b, "\nalerts: %s (timeout %v)", c.Alerts.Command, c.Alerts.Timeout)
	}
	return b.String()
}

const hostCfg = `cluster: {name: prod}
nodes:
  - {id: 1, name: a, addresses: {ring0: 127.0.0.1}}
links:
  - name: ring0
    kind: ucast
    interface: %s
auth:
  key_file: %s
timing: {keepalive: 1s, warntime: 5s, deadtime: 10s}
`

func writeHostCfg(t *testing.T, iface string, keyMode os.FileMode) string {
	dir := t.TempDir()
	key := filepath.Join(dir, "authkey")
	if err := os.WriteFile(key, []byte("auth 1\n1 sha1 a-secret-of-16-bytes-or-more\n"), keyMode); err != nil {
		t.Fatal(err)
	}
	os.Chmod(key, keyMode) // bypass umask
	path := filepath.Join(dir, "cluster.yaml")
	if err := os.WriteFile(path, fmt.Appendf(nil, hostCfg, iface, key), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadHostChecks(t *testing.T) {
	path := writeHostCfg(t, "lo", 0o600)
	c, err := Load(path, Options{})
	if err != nil {
		t.Fatalf("good config refused: %v", err)
	}
	if self, err := c.Self("a"); err != nil || self.ID != 1 {
		t.Fatalf("Self(a) = %v, %v", self, err)
	}
	if _, err := c.Self("zz"); err == nil {
		t.Fatal("Self(zz) found a node")
	}

	_, err = Load(writeHostCfg(t, "nosuch0", 0o600), Options{})
	var es Errors
	if !errors.As(err, &es) || len(es) != 1 || es[0].Line != 7 || es[0].Key != "links[0].interface" {
		t.Fatalf("missing interface: got %v", err)
	}
	// A node's own interface override is what the host check looks at.
	over := writeHostCfg(t, "nosuch0", 0o600)
	raw, _ := os.ReadFile(over)
	os.WriteFile(over, []byte(strings.Replace(string(raw), "addresses: {ring0: 127.0.0.1}}", "addresses: {ring0: 127.0.0.1}, interfaces: {ring0: lo}}", 1)), 0o644)
	c, err = Load(over, Options{Self: "a"})
	if err != nil {
		t.Fatalf("override to lo refused: %v", err)
	}
	if ifc := c.LinkInterface(c.Nodes[0], c.Links[0]); ifc != "lo" {
		t.Fatalf("LinkInterface = %q, want the node's override lo", ifc)
	}
	raw, _ = os.ReadFile(over)
	os.WriteFile(over, []byte(strings.Replace(string(raw), "interfaces: {ring0: lo}", "interfaces: {ring0: nosuch1}", 1)), 0o644)
	_, err = Load(over, Options{Self: "a"})
	if !errors.As(err, &es) || len(es) != 1 || es[0].Key != "nodes[id=1].interfaces.ring0" || !strings.Contains(es[0].Reason, "nosuch1") {
		t.Fatalf("missing override interface: got %v", err)
	}
	if _, err := Load(writeHostCfg(t, "nosuch0", 0o600), Options{SkipHostChecks: true}); err != nil {
		t.Fatalf("SkipHostChecks still checked: %v", err)
	}

	_, err = Load(writeHostCfg(t, "lo", 0o644), Options{})
	if !errors.As(err, &es) || len(es) != 1 || es[0].Line != 9 || !strings.Contains(es[0].Reason, "0644") {
		t.Fatalf("key mode 0644: got %v", err)
	}
	t.Log(err)
}

// TestLoadEveryProblemAtOnce: a file with a problem in a section and a
// host that lacks what the file names reports both in one go, each at its
// line; a weak key is one of them, with the advice to make a new one.
func TestLoadEveryProblemAtOnce(t *testing.T) {
	path := writeHostCfg(t, "nosuch0", 0o600)
	key := filepath.Join(filepath.Dir(path), "authkey")
	if err := os.WriteFile(key, []byte("auth 1\n1 sha1 a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	bad := string(raw) + "quorum: {no_quorum_policy: panic}\nfencing: {action: shutdown}\nresources: {options: {no-quorum-policy: sucide}}\n"
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path, Options{})
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("want Errors, got %v", err)
	}
	var keys []string
	for _, e := range es {
		keys = append(keys, fmt.Sprintf("%d %s", e.Line, e.Key))
	}
	want := []string{"7 links[0].interface", "9 auth.key_file", "11 quorum.no_quorum_policy", "12 fencing.action", "13 resources.options.no-quorum-policy"}
	if !slices.Equal(keys, want) {
		t.Fatalf("got %q\nwant %q\n%v", keys, want, err)
	}
	if !strings.Contains(es[1].Reason, "palisade keygen") {
		t.Fatalf("weak key: %s", es[1])
	}
	t.Log(err)
}

// TestLoadCheckDevice: palisaded checks each fence device as it will build
// it, and the problem is reported at the device's line with the others.
func TestLoadCheckDevice(t *testing.T) {
	path := writeHostCfg(t, "lo", 0o600)
	raw, _ := os.ReadFile(path)
	bad := string(raw) + "fencing:\n  devices:\n    - {name: bmc-a, plugin: fence_nosuch}\n    - {name: bmc-b, plugin: fence_ok}\n"
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	check := func(d topology.Device) error {
		if d.Plugin != "fence_ok" {
			return fmt.Errorf("device %s: no fence plugin %s", d.Name, d.Plugin)
		}
		return nil
	}
	_, err := Load(path, Options{CheckDevice: check})
	want := path + `:13: fencing.devices[0]: device bmc-a: no fence plugin fence_nosuch`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

// TestLongValueShortError: an error quotes at most a short prefix of any
// value, wherever the value is: a 50 MB value gives a short error. (One
// value is 50 MB, 4 MB under the race detector; the others, 256 KB, take
// every other path at a fraction of the time: what is quoted does not
// depend on the size.)
func TestLongValueShortError(t *testing.T) {
	_, err := Parse("cluster.yaml", []byte("cluster: {name: "+strings.Repeat("x", hugeValue)+"}\n"))
	if err == nil || len(err.Error()) > 2000 || !strings.Contains(err.Error(), fmt.Sprintf("(%d bytes)", hugeValue)) {
		t.Fatalf("%d-byte value: %d-byte error: %.300s", hugeValue, len(fmt.Sprint(err)), err)
	}
	t.Log(err)
	huge := strings.Repeat("x", 256<<10)
	base := "cluster: {name: prod}\nnodes: [{id: 1, addresses: {ring0: 198.18.0.1}}]\nlinks: [{name: ring0, kind: ucast}]\nauth: {key_file: /k}\n"
	for _, in := range []string{
		"cluster: {name: " + huge + "}\n",                                                      // a value of this package's
		base + "timing: {keepalive: " + huge + "}\n",                                           // a duration
		base + huge + ": 1\n",                                                                  // a key
		base + "quorum: {no_quorum_policy: " + huge + "}\n",                                    // the quorum section's
		base + "quorum: {device: {model: " + huge + "}}\n",                                     // the quorum device's
		base + "fencing: {devices: [{name: a, plugin: " + huge + "}, {name: a, plugin: x}]}\n", // the fencing section's
		base + "fencing: {topology: {n1: [[" + huge + "]]}}\n",                                 // a reference
		base + "resources: {resources: [{id: " + huge + "}, {id: " + huge + "}]}\n",            // the model's own check
		base + "resources: {options: {stonith-action: " + huge + "}}\n",                        // an option word
		base + "resources: {resources: [{id: a, ops: [{name: monitor, interval: " + huge + "}]}]}\n",
		base + "alerts: {timeout: " + huge + "}\n",
	} {
		_, err := Parse("cluster.yaml", []byte(in))
		if err == nil {
			t.Fatalf("accepted %.80q", in)
		}
		if n := len(err.Error()); n > 2000 {
			t.Errorf("%d-byte error for %.80q…: %.300s", n, in, err)
		}
	}
}

// TestReadmeExample keeps the configuration example in README.md valid:
// the one decoder palisaded runs at start-up accepts every section.
func TestReadmeExample(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	i := strings.Index(text, "## Configuration")
	if i < 0 {
		t.Fatal("README.md has no Configuration section")
	}
	text = text[i:]
	start := strings.Index(text, "```yaml\n")
	if start < 0 {
		t.Fatal("README.md Configuration section has no yaml block")
	}
	text = text[start+len("```yaml\n"):]
	block := text[:strings.Index(text, "```")]
	c, err := Parse("README.md", []byte(block))
	if err != nil {
		t.Fatalf("README example refused by the configuration decoder: %v", err)
	}
	if c.Resources == nil || len(c.Fencing.Devices) == 0 {
		t.Fatalf("README example lost a section: %+v", c)
	}
}

// FuzzParse: any file gives a complete, valid configuration or errors
// naming the file, the same errors every time.
func FuzzParse(f *testing.F) {
	for _, in := range seeds(f, "parse") {
		f.Add(in)
	}
	f.Add([]byte("nodes: *a"))
	f.Add([]byte("- - -"))
	f.Add([]byte("a: &a [*a]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data)
		if _, err2 := Parse("fuzz.yaml", data); fmt.Sprint(err) != fmt.Sprint(err2) {
			t.Fatalf("two decodes, two results:\n%v\n%v", err, err2)
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error without the file: %v", err)
			}
			return
		}
		if c.Name == "" || len(c.Nodes) == 0 || len(c.Links) == 0 || c.Quorum == nil || c.Fencing == nil {
			t.Fatalf("accepted an incomplete config: %+v", c)
		}
		if verr := c.Timing.Validate(); verr != nil {
			t.Fatalf("accepted invalid timing: %v", verr)
		}
		if c.Resources != nil {
			if err := c.Resources.Validate(); err != nil {
				t.Fatalf("accepted an invalid resources section: %v", err)
			}
		}
	})
}

// FuzzParseDocument: what `palisade config push` and `config check` read.
// An accepted resources section is valid, and what `config show` prints
// of it reads back as the same configuration.
func FuzzParseDocument(f *testing.F) {
	for _, in := range seeds(f, "document") {
		f.Add(in)
	}
	f.Add([]byte("admin_epoch: 2\nresources:\n  - {id: a, type: Dummy}\n"))
	f.Add([]byte("constraints: {locations: [{id: l, rsc: a, node: n1, score: INFINITY}]}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		doc, err := ParseDocument("fuzz.yaml", b)
		if err != nil {
			var es strict.Errors
			if !errors.As(err, &es) || !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("not an Errors naming the file: %v", err)
			}
			return
		}
		if doc.Resources == nil {
			if doc.Cluster == nil {
				t.Fatal("a resources section decoded to nothing")
			}
			return
		}
		if err := doc.Resources.Validate(); err != nil {
			t.Fatalf("accepted an invalid configuration: %v", err)
		}
		// As `config show` prints it: admin_epoch, then the section.
		out, err := yaml.Marshal(struct {
			AdminEpoch   uint64 `yaml:"admin_epoch"`
			model.Config `yaml:",inline"`
		}{doc.AdminEpoch, *doc.Resources})
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		again, err := ParseDocument("again.yaml", out)
		if err != nil {
			t.Fatalf("re-encoded configuration refused: %v\n%s", err, out)
		}
		a, _ := yaml.Marshal(struct {
			AdminEpoch   uint64 `yaml:"admin_epoch"`
			model.Config `yaml:",inline"`
		}{again.AdminEpoch, *again.Resources})
		if string(a) != string(out) {
			t.Fatalf("round trip changed the configuration:\n%s\n%s", out, a)
		}
	})
}

// seeds are the inputs of the testdata directives cmd: the lines between
// the command line and "----".
func seeds(f *testing.F, cmd string) [][]byte {
	files, _ := filepath.Glob("testdata/*.txt")
	var out [][]byte
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		var in []string
		reading := false
		for _, line := range strings.Split(string(raw), "\n") {
			switch {
			case reading && line == "----":
				out = append(out, []byte(strings.Join(in, "\n")+"\n"))
				reading, in = false, nil
			case reading:
				in = append(in, line)
			case line == cmd || strings.HasPrefix(line, cmd+" "):
				reading = true
			}
		}
	}
	if len(out) == 0 {
		f.Fatalf("no %s directives in testdata", cmd)
	}
	return out
}
