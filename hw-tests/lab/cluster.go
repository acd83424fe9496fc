package lab

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// ClusterOptions shape the palisade configuration WriteCluster writes.
type ClusterOptions struct {
	Name      string        // cluster name (default "lab")
	Keepalive time.Duration // default 100ms
	Warntime  time.Duration // default 300ms
	Deadtime  time.Duration // default 500ms
	Initdead  time.Duration // default 1s
	// Kinds gives each link's kind: "ucast" (default), "mcast" (group
	// 239.255.0.<link+1>) or "bcast".
	Kinds []string
	// Extra is YAML appended verbatim to every node's file: the quorum,
	// fencing and resources sections of later stages.
	Extra string
}

// Cluster is a palisade configuration for the lab's nodes: one file per
// node (they differ only in state_dir and socket), sharing one key file.
type Cluster struct {
	Dir       string
	KeyFile   string
	Configs   []string // Configs[i] is node i+1's cluster.yaml
	Sockets   []string // control socket per node
	StateDirs []string
}

// WriteCluster writes a palisade configuration under dir with one link per
// lab link (unicast unless Kinds says otherwise) (interfaces eth0, eth1, ...) and node ids 1..N named
// n1..nN.
func (l *Lab) WriteCluster(dir string, o ClusterOptions) (*Cluster, error) {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&o.Keepalive, 100*time.Millisecond)
	def(&o.Warntime, 300*time.Millisecond)
	def(&o.Deadtime, 500*time.Millisecond)
	def(&o.Initdead, time.Second)
	if o.Name == "" {
		o.Name = "lab"
	}
	c := &Cluster{Dir: dir, KeyFile: filepath.Join(dir, "authkey")}
	secret := make([]byte, 32)
	rand.Read(secret)
	if err := os.WriteFile(c.KeyFile, []byte("key 1 hex:"+hex.EncodeToString(secret)+"\nactive 1\n"), 0o600); err != nil {
		return nil, fmt.Errorf("lab: key file: %w", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "cluster:\n  name: %s\nnodes:\n", o.Name)
	for i, h := range l.Nodes {
		fmt.Fprintf(&b, "  - id: %d\n    name: n%d\n    addresses:\n", i+1, i+1)
		for j, a := range h.Addrs {
			fmt.Fprintf(&b, "      link%d: %s\n", j, a)
		}
	}
	b.WriteString("links:\n")
	for j := 0; j < l.Links; j++ {
		kind := "ucast"
		if j < len(o.Kinds) && o.Kinds[j] != "" {
			kind = o.Kinds[j]
		}
		fmt.Fprintf(&b, "  - name: link%d\n    kind: %s\n    interface: eth%d\n", j, kind, j)
		if kind == "mcast" {
			fmt.Fprintf(&b, "    group: 239.255.0.%d\n", j+1)
		}
	}
	fmt.Fprintf(&b, "timing:\n  keepalive: %v\n  warntime: %v\n  deadtime: %v\n  initdead: %v\nauth:\n  key_file: %s\n",
		o.Keepalive, o.Warntime, o.Deadtime, o.Initdead, c.KeyFile)
	for i := range l.Nodes {
		state := filepath.Join(dir, fmt.Sprintf("n%d", i+1))
		sock := filepath.Join(state, "palisade.sock")
		text := b.String() + fmt.Sprintf("state_dir: %s\nrun_dir: %s\nsocket: %s\n", state, filepath.Join(state, "run"), sock) + o.Extra
		path := filepath.Join(dir, fmt.Sprintf("n%d.yaml", i+1))
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			return nil, fmt.Errorf("lab: config: %w", err)
		}
		c.Configs = append(c.Configs, path)
		c.Sockets = append(c.Sockets, sock)
		c.StateDirs = append(c.StateDirs, state)
	}
	return c, nil
}

// Build compiles the module's commands (./cmd/...: palisaded, palisade,
// ...) into dir, so tests run from a clean clone without `make build`.
func Build(dir string) error {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		return fmt.Errorf("lab: finding the module root: %v", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	cmd := exec.Command("go", "build", "-o", dir+"/", "./cmd/...")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("lab: go build ./cmd/...: %w\n%s", err, out)
	}
	return nil
}
