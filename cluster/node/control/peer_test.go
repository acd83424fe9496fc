package control

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func gid(g uint32) *uint32 { return &g }

func classify(cmd string) (change, by bool) {
	switch cmd {
	case "status", "help":
		return false, false
	case "confirm":
		return true, true
	}
	return true, false
}

func TestPolicy(t *testing.T) {
	p := Policy{ReadGID: gid(4001), AdminGID: gid(4002), Classify: classify}
	for _, c := range []struct {
		name string
		peer Peer
		cmd  string
		ok   bool
	}{
		{"root reads", Peer{UID: 0}, "status", true},
		{"root changes", Peer{UID: 0}, "confirm", true},
		{"reader reads", Peer{UID: 1000, GID: 100, Groups: []uint32{4001}}, "status", true},
		{"reader by primary group", Peer{UID: 1000, GID: 4001}, "status", true},
		{"reader cannot change", Peer{UID: 1000, GID: 100, Groups: []uint32{4001}}, "confirm", false},
		{"reader cannot run unknown commands", Peer{UID: 1000, Groups: []uint32{4001}}, "new-thing", false},
		{"admin changes", Peer{UID: 1001, Groups: []uint32{4002}}, "confirm", true},
		{"admin reads", Peer{UID: 1001, Groups: []uint32{4002}}, "status", true},
		{"stranger", Peer{UID: 1002, GID: 1002}, "status", false},
	} {
		_, _, err := p.allows(c.peer, c.cmd)
		if (err == nil) != c.ok {
			t.Errorf("%s: allowed=%v (%v), want %v", c.name, err == nil, err, c.ok)
		}
	}
	if _, _, err := (Policy{Classify: classify}).allows(Peer{UID: 1000, Groups: []uint32{4001}}, "status"); err == nil {
		t.Error("no group configured, yet a user may read")
	}
}

func TestStampBy(t *testing.T) {
	root := Peer{UID: 0, User: "root"}
	for _, c := range []struct {
		args, want string
	}{
		{`{"node":"n1","by":"alice"}`, "root (as alice)"},
		{`{"node":"n1","by":"root"}`, "root"},
		{`{"node":"n1"}`, "root"},
		{``, "root"},
	} {
		out, by, err := stampBy(json.RawMessage(c.args), root)
		if err != nil || by != c.want {
			t.Fatalf("%s: by %q, %v; want %q", c.args, by, err, c.want)
		}
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil || m["by"] != c.want {
			t.Fatalf("%s: args %s", c.args, out)
		}
		if strings.Contains(c.args, "n1") && m["node"] != "n1" {
			t.Fatalf("%s: lost a field: %s", c.args, out)
		}
	}
	if _, _, err := stampBy(json.RawMessage(`["x"]`), root); err == nil {
		t.Error("non-object args accepted")
	}
	if got := ByOf(Peer{UID: 4242}, ""); got != "uid 4242" {
		t.Errorf("ByOf without a user name: %q", got)
	}
}

// TestPeerCredentials connects as another user (a child process with
// uid 65534 and the read group) and checks that the server sees the
// kernel's credentials, lets it read, refuses a change, and stamps "by"
// from the credentials for root.
func TestPeerCredentials(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run a client under another uid")
	}
	if os.Getenv("CONTROL_TEST_CLIENT") != "" {
		return
	}
	dir := t.TempDir()
	// The client runs as nobody: let it reach the socket (both levels
	// of the test's temporary directory are 0700).
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "s.sock")
	srv, err := ListenWith(path, nil, Options{Policy: Policy{ReadGID: gid(4001), AdminGID: gid(4002), Classify: classify}})
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o666 {
		t.Fatalf("socket mode %v, %v; want 0666 with groups", fi.Mode(), err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- srv.Serve(ctx) }()
	defer func() { cancel(); <-done }()
	srv.Handle("status", func(ctx context.Context, _ json.RawMessage) (any, error) {
		p, _ := PeerFrom(ctx)
		return p, nil
	})
	srv.Handle("confirm", func(_ context.Context, args json.RawMessage) (any, error) {
		var a struct{ By string }
		json.Unmarshal(args, &a)
		return a.By, nil
	})

	// The test binary lives in a directory only root may enter: copy it.
	bin := filepath.Join(dir, "control.test")
	b, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(groups []uint32, cmd string) (string, error) {
		c := exec.Command(bin, "-test.run=^TestPeerClient$")
		c.Env = append(os.Environ(), "CONTROL_TEST_CLIENT="+path, "CONTROL_TEST_CMD="+cmd)
		c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, Groups: groups}}
		out, err := c.CombinedOutput()
		return string(out), err
	}
	out, err := run([]uint32{4001}, "status")
	if err != nil || !strings.Contains(out, `"uid":65534`) || !strings.Contains(out, "4001") {
		t.Fatalf("reader's status: %v\n%s", err, out)
	}
	out, err = run([]uint32{4001}, "confirm")
	if err != nil || !strings.Contains(out, "forbidden") || !strings.Contains(out, "permission denied") {
		t.Fatalf("reader's change was not refused: %v\n%s", err, out)
	}
	out, err = run(nil, "status")
	if err != nil || !strings.Contains(out, "forbidden") {
		t.Fatalf("a stranger read the status: %v\n%s", err, out)
	}
	out, err = run([]uint32{4002}, "confirm")
	if err != nil || !strings.Contains(out, "RESULT") || strings.Contains(out, "forbidden") {
		t.Fatalf("admin's change refused: %v\n%s", err, out)
	}
	var by string
	if err := Call(ctx, path, "confirm", map[string]string{"by": "mallory"}, &by); err != nil || !strings.HasPrefix(by, "root (as mallory)") {
		t.Fatalf("root's change: by %q, %v", by, err)
	}
}

// TestPeerClient is the child of TestPeerCredentials.
func TestPeerClient(t *testing.T) {
	path := os.Getenv("CONTROL_TEST_CLIENT")
	if path == "" {
		t.Skip("helper process of TestPeerCredentials")
	}
	var res json.RawMessage
	err := Call(context.Background(), path, os.Getenv("CONTROL_TEST_CMD"), map[string]string{"by": "claimed"}, &res)
	if err != nil {
		var ce *Error
		if e, ok := err.(*Error); ok {
			ce = e
		}
		if ce == nil {
			t.Fatalf("call: %v", err)
		}
		os.Stdout.WriteString("ERROR " + ce.Code + " " + ce.Message + "\n")
		return
	}
	os.Stdout.WriteString("RESULT " + string(res) + "\n")
}

// FuzzStampBy feeds a change request's args (from the socket) to the
// "by" stamping: errors or an object whose by is the credentials' name,
// every other field kept.
func FuzzStampBy(f *testing.F) {
	for _, s := range []string{`{"node":"n1","by":"alice"}`, `{}`, ``, `null`, `{"by":3}`, `[1]`, `{"yaml":"a: b\n","file":"x","by":"root"}`} {
		f.Add([]byte(s))
	}
	peer := Peer{UID: 1000, User: "bob"}
	f.Fuzz(func(t *testing.T, args []byte) {
		out, by, err := stampBy(args, peer)
		if err != nil {
			return
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("stamped args are not an object: %s", out)
		}
		var got string
		if json.Unmarshal(m["by"], &got) != nil || got != by || !strings.HasPrefix(by, "bob") {
			t.Fatalf("by %q (%s) for %q", by, m["by"], args)
		}
	})
}
