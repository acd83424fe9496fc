package agent

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func loadMetadata(t testing.TB, name string) *Metadata {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "metadata", name))
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseMetadata(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

// Which action reloads and which parameters need a restart, as
// Pacemaker's controller decides it from the meta-data.
func TestMetadataReload(t *testing.T) {
	cases := []struct {
		file        string
		reload      Action
		restartOnly []string
		private     []string
	}{
		{"ocf10-reload.xml", Reload, []string{"state"}, []string{"passwd", "password", "user"}},
		{"ocf11-reload-agent.xml", ReloadAgent, []string{"name", "token", "port"}, []string{"token"}},
		// OCF 1.1 ignores the legacy reload action.
		{"ocf11-no-reload.xml", "", nil, []string{"passwd", "password", "user"}},
	}
	for _, c := range cases {
		m := loadMetadata(t, c.file)
		if got := m.ReloadAction(); got != c.reload {
			t.Errorf("%s: ReloadAction = %q, want %q", c.file, got, c.reload)
		}
		if got := m.RestartOnly(); !slices.Equal(got, c.restartOnly) {
			t.Errorf("%s: RestartOnly = %q, want %q", c.file, got, c.restartOnly)
		}
		if got := m.PrivateParams(); !slices.Equal(got, c.private) {
			t.Errorf("%s: PrivateParams = %q, want %q", c.file, got, c.private)
		}
	}
}

func TestMetadataRefused(t *testing.T) {
	for file, want := range map[string]string{
		"bad-name.xml":   `name "a-b" is not a parameter name`,
		"no-actions.xml": "lists no actions",
	} {
		b, err := os.ReadFile(filepath.Join("testdata", "metadata", file))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseMetadata(b); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want %q", file, err, want)
		}
	}
	if _, err := ParseMetadata([]byte("<resource-agent")); err == nil {
		t.Error("truncated XML accepted")
	}
}

func TestCheckParams(t *testing.T) {
	m := loadMetadata(t, "ocf11-reload-agent.xml")
	long := strings.Repeat("x", 5000)
	cases := []struct {
		params map[string]string
		want   []string
	}{
		{map[string]string{"name": "a", "level": "warn", "verbose": "yes", "port": "8080"}, nil},
		{map[string]string{"level": "info"}, []string{"parameter name: required by Reloadable, not set"}},
		{map[string]string{"name": "a", "colour": "red"}, []string{"parameter colour: unknown to Reloadable (its parameters: name, level, verbose, token, port)"}},
		{map[string]string{"name": "a", "port": "80a", "verbose": "maybe", "level": "loud"}, []string{
			`parameter level: "loud" is not one of debug, info, warn`,
			`parameter port: "80a" is not an integer`,
			`parameter verbose: "maybe" is not a boolean (want true or false)`}},
		{map[string]string{"name": "a", "port": long}, []string{`parameter port: "` + long[:40] + `"... (5000 bytes) is not an integer`}},
	}
	for i, c := range cases {
		var got []string
		for _, e := range m.CheckParams(c.params) {
			got = append(got, e.Error())
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("case %d: got\n%q\nwant\n%q", i, got, c.want)
		}
	}
}

// The registry runs meta-data once per agent and caches it.
func TestRegistryMetadata(t *testing.T) {
	root := t.TempDir()
	xml, err := os.ReadFile(filepath.Join("testdata", "metadata", "ocf11-reload-agent.xml"))
	if err != nil {
		t.Fatal(err)
	}
	count := filepath.Join(root, "count")
	writeScript(t, filepath.Join(root, "resource.d", "test"), "Reloadable",
		"echo x >> "+count+"\ncase $1 in meta-data) cat <<'XML'\n"+string(xml)+"XML\nexit 0;; esac\nexit 3\n")
	r := NewRegistry(Options{OCFRoot: root})
	inst := Instance{ID: "r", Class: "ocf", Provider: "test", Type: "Reloadable"}
	for range 3 {
		m, err := r.Metadata(context.Background(), inst)
		if err != nil || m.ReloadAction() != ReloadAgent {
			t.Fatalf("metadata: %+v, %v", m, err)
		}
	}
	if b, _ := os.ReadFile(count); strings.Count(string(b), "x") != 1 {
		t.Errorf("meta-data ran %d times, want once (cached)", strings.Count(string(b), "x"))
	}
	if m, err := r.Metadata(context.Background(), Instance{ID: "l", Class: "lsb", Type: "x"}); m != nil || err != nil {
		t.Errorf("lsb: %v %v, want none", m, err)
	}
	if _, err := r.Metadata(context.Background(), Instance{ID: "m", Class: "ocf", Provider: "test", Type: "Missing"}); err == nil {
		t.Error("missing agent: no error")
	}
}

func FuzzParseMetadata(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "metadata", "*.xml"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMetadata(b)
		if err != nil {
			return
		}
		if len(m.Actions) == 0 {
			t.Fatal("accepted meta-data without actions")
		}
		for _, p := range m.Params {
			if !validName(p.Name) {
				t.Fatalf("accepted parameter name %q", p.Name)
			}
		}
		_ = m.RestartOnly()
		_ = m.CheckParams(map[string]string{"x": string(b)})
	})
}
