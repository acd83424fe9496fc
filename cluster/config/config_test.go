package config

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite expected outputs in testdata")

// Each testdata file is a YAML configuration, a "----" line, and either the
// summary of the parsed configuration or the expected errors, one a line.
func TestParseTestdata(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txt")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			in, want, ok := strings.Cut(string(raw), "\n----\n")
			if !ok {
				t.Fatalf("%s: no ---- separator", f)
			}
			// Relative paths resolve against the config file's directory;
			// name the file as if it lived in testdata/ for stable output.
			name := "cluster.yaml"
			if strings.Contains(in, "key_file: authkey") {
				name = "testdata/cluster.yaml"
			}
			c, err := Parse(name, []byte(in))
			got := summary(c, err)
			if *update {
				os.WriteFile(f, []byte(in+"\n----\n"+got+"\n"), 0o644)
				return
			}
			if got != strings.TrimSpace(want) {
				t.Errorf("got:\n%s\nwant:\n%s", got, strings.TrimSpace(want))
			}
		})
	}
}

func summary(c *Cluster, err error) string {
	if err != nil {
		return err.Error()
	}
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
	fmt.Fprintf(&b, " timing=%v/%v/%v/%v key=%s state=%s socket=%s quorum=%v fencing=%v resources=%v",
		t.Keepalive, t.Warntime, t.Deadtime, t.Initdead, c.KeyFile, c.StateDir, c.Socket,
		c.Quorum != nil, c.Fencing != nil, c.Resources != nil)
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
	if err := os.WriteFile(key, []byte("auth 1\n1 sha1 secret\n"), keyMode); err != nil {
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

func TestLoadEnvOverride(t *testing.T) {
	path := writeHostCfg(t, "lo", 0o600)
	t.Setenv("PALISADE_SOCKET", "/tmp/x.sock")
	c, err := Load(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Socket != "/tmp/x.sock" {
		t.Fatalf("socket %q, want the env override", c.Socket)
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.txt")
	for _, file := range files {
		raw, _ := os.ReadFile(file)
		in, _, _ := strings.Cut(string(raw), "\n----\n")
		f.Add([]byte(in))
	}
	f.Add([]byte("nodes: *a"))
	f.Add([]byte("- - -"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data)
		if err == nil && (c.Name == "" || len(c.Nodes) == 0 || len(c.Links) == 0) {
			t.Fatalf("accepted an incomplete config: %+v", c)
		}
		if err == nil {
			if verr := c.Timing.Validate(); verr != nil {
				t.Fatalf("accepted invalid timing: %v", verr)
			}
		}
	})
}
