package importer

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"golang.org/x/tools/txtar"
	"gopkg.in/yaml.v3"

	"palisade/cluster/auth"
	"palisade/cluster/config"
	"palisade/fence"
	_ "palisade/plugins/ipmi" // the converted devices must be accepted by the real plugin
	"palisade/resources/model"
	"palisade/resources/scheduler"
)

// fakeHost answers from the test's arguments.
type fakeHost struct {
	name   string
	ifaces map[string][]netip.Prefix
	hosts  map[string][]netip.Addr
}

func (h *fakeHost) Hostname() (string, error) {
	if h.name == "" {
		return "", fmt.Errorf("no host name")
	}
	return h.name, nil
}

func (h *fakeHost) InterfacePrefixes(ifname string) ([]netip.Prefix, error) {
	p, ok := h.ifaces[ifname]
	if !ok {
		return nil, fmt.Errorf("no interface %s", ifname)
	}
	return p, nil
}

func (h *fakeHost) LookupHost(name string) ([]netip.Addr, error) {
	a, ok := h.hosts[name]
	if !ok {
		return nil, fmt.Errorf("%s: not found", name)
	}
	return a, nil
}

// TestImport runs the golden cases in testdata: each `import` takes a
// txtar archive of input files (ha.cf, haresources, authkeys, cib.xml or
// crm.txt) or a dir= of them, and prints the report and every file
// written. `place` then runs the scheduler on the last converted
// resources. Rewrite with -rewrite.
func TestImport(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		if filepath.Ext(path) != ".txt" {
			return
		}
		var last *Result
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "import":
				res, out := runImport(t, d)
				last = res
				return out
			case "place":
				return place(t, d, last)
			}
			t.Fatalf("unknown command %q", d.Cmd)
			return ""
		})
	})
}

func runImport(t *testing.T, d *datadriven.TestData) (*Result, string) {
	files := map[string]*Source{}
	if d.HasArg("dir") {
		var dir string
		d.ScanArgs(t, "dir", &dir)
		ents, err := os.ReadDir(filepath.Join("testdata", dir))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			data, err := os.ReadFile(filepath.Join("testdata", dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			files[e.Name()] = &Source{Name: e.Name(), Data: data, Mode: 0o600}
		}
	}
	for _, f := range txtar.Parse([]byte(d.Input)).Files {
		files[f.Name] = &Source{Name: f.Name, Data: f.Data, Mode: 0o600}
	}
	host := &fakeHost{ifaces: map[string][]netip.Prefix{}, hosts: map[string][]netip.Addr{}}
	var opts Options
	useHost := false
	for _, a := range d.CmdArgs {
		switch a.Key {
		case "dir":
		case "host":
			host.name, useHost = a.Vals[0], true
		case "iface":
			useHost = true
			for _, v := range a.Vals {
				ifc, p, _ := strings.Cut(v, "=")
				host.ifaces[ifc] = append(host.ifaces[ifc], netip.MustParsePrefix(p))
			}
		case "hosts":
			useHost = true
			for _, v := range a.Vals {
				n, ip, _ := strings.Cut(v, "=")
				host.hosts[n] = append(host.hosts[n], netip.MustParseAddr(ip))
			}
		case "address":
			for _, v := range a.Vals {
				h, err := ParseAddressHint(v)
				if err != nil {
					t.Fatal(err)
				}
				opts.Addresses = append(opts.Addresses, h)
			}
		case "local":
			opts.LocalNode = a.Vals[0]
		case "name":
			opts.ClusterName = a.Vals[0]
		case "keyfile":
			opts.KeyFile = a.Vals[0]
		case "authkeys-mode":
			var m uint32
			if _, err := fmt.Sscanf(a.Vals[0], "%o", &m); err != nil {
				t.Fatal(err)
			}
			files["authkeys"].Mode = os.FileMode(m)
		case "scripts":
		default:
			t.Fatalf("unknown argument %s", a.Key)
		}
	}
	if useHost {
		opts.Host = host
	}
	var in Input
	if f := files["ha.cf"]; f != nil {
		in.Heartbeat = &HeartbeatFiles{HaCf: f, Haresources: files["haresources"], Authkeys: files["authkeys"], ResourceScripts: map[string]bool{}}
		if d.HasArg("scripts") {
			for _, a := range d.CmdArgs {
				if a.Key == "scripts" {
					for _, v := range a.Vals {
						in.Heartbeat.ResourceScripts[v] = true
					}
				}
			}
		}
	}
	if f := files["cib.xml"]; f != nil {
		in.CIB = f
	} else if f := files["crm.txt"]; f != nil {
		in.CIB = f
	}
	res, err := Import(in, opts)
	if err != nil {
		return nil, "error: " + err.Error() + "\n"
	}
	check(t, res)
	var b strings.Builder
	b.WriteString(res.Report.String())
	if res.Report.Complete() {
		b.WriteString("complete\n")
	} else {
		fmt.Fprintf(&b, "incomplete: %d not converted\n", len(res.Report.NotConverted))
	}
	name := "cluster.yaml"
	if res.ResourcesOnly {
		name = "resources.yaml"
	}
	fmt.Fprintf(&b, "-- %s --\n%s", name, res.ClusterYAML)
	for _, s := range res.Secrets {
		fmt.Fprintf(&b, "-- %s --\n%s", s.Path, s.Data)
	}
	return res, b.String()
}

// check verifies a result the way the daemon would read it: the YAML
// through every decoder, the key file through the auth parser, the fence
// devices through the real plugin's parameter check.
func check(t *testing.T, res *Result) {
	t.Helper()
	if res.ResourcesOnly {
		// Even an incomplete conversion writes a valid section (what
		// could not be converted is left out).
		if err := validateResources("resources.yaml", res.ClusterYAML); err != nil {
			t.Fatalf("converted resources do not validate: %v", err)
		}
		return
	}
	cl, err := config.Parse("cluster.yaml", res.ClusterYAML)
	if err != nil {
		if !res.Report.Complete() {
			return // an incomplete conversion need not validate
		}
		t.Fatalf("converted cluster.yaml refused: %v", err)
	}
	if err := validateCluster("cluster.yaml", res.ClusterYAML); err != nil {
		t.Fatalf("converted cluster.yaml refused: %v", err)
	}
	secrets := map[string][]byte{}
	for _, s := range res.Secrets {
		secrets[s.Path] = s.Data
	}
	if kf, ok := secrets[cl.KeyFile]; ok {
		if _, err := auth.Parse(cl.KeyFile, kf); err != nil {
			t.Fatalf("converted key file refused: %v", err)
		}
	}
	for _, dev := range cl.Fencing.Devices {
		p, err := fence.Lookup(dev.Plugin)
		if err != nil {
			t.Fatalf("device %s: %v", dev.Name, err)
		}
		params := map[string]string{}
		for k, v := range dev.Params {
			params[k] = v
		}
		delete(params, "password_file") // read at fence time; the file is in Secrets
		if _, ok := secrets[dev.Params["password_file"]]; dev.Params["password_file"] != "" && !ok {
			t.Fatalf("device %s: password file %s not among the secrets", dev.Name, dev.Params["password_file"])
		}
		if _, err := fence.Normalize(p, dev.Plugin, params); err != nil {
			t.Fatalf("device %s: the plugin refuses the converted parameters: %v", dev.Name, err)
		}
	}
}

// TestIPMIParams: every device parameter the importer keeps for an IPMI
// device is one the built-in fence_ipmilan plugin accepts.
func TestIPMIParams(t *testing.T) {
	p, err := fence.Lookup("fence_ipmilan")
	if err != nil {
		t.Fatal(err)
	}
	idx := p.Index("fence_ipmilan")
	for name := range ipmiParams {
		if _, ok := idx[name]; !ok {
			t.Errorf("importer keeps %q, which the fence_ipmilan plugin does not accept", name)
		}
	}
}

// place runs the scheduler on the last import's resources:
// place online=(n1,n2) running=(rsc@node,...).
func place(t *testing.T, d *datadriven.TestData, res *Result) string {
	if res == nil {
		t.Fatal("place before a successful import")
	}
	var cfg model.Config
	if res.ResourcesOnly {
		if err := yaml.Unmarshal(res.ClusterYAML, &cfg); err != nil {
			t.Fatal(err)
		}
	} else {
		cl, err := config.Parse("cluster.yaml", res.ClusterYAML)
		if err != nil {
			t.Fatal(err)
		}
		if cl.Resources != nil {
			cfg = *cl.Resources
		}
	}
	st := &model.Status{}
	for _, a := range d.CmdArgs {
		switch a.Key {
		case "online":
			for _, n := range a.Vals {
				st.Nodes = append(st.Nodes, model.NodeState{Name: n, State: model.NodeOnline})
			}
		case "running":
			for _, v := range a.Vals {
				r, n, _ := strings.Cut(v, "@")
				st.Resources = append(st.Resources, model.ResourceStatus{Rsc: r, Node: n})
			}
		default:
			t.Fatalf("unknown argument %s", a.Key)
		}
	}
	out := scheduler.Schedule(scheduler.Input{Config: &cfg, Status: st})
	lines := strings.Split(strings.TrimSpace(scheduler.FormatPlacement(out)), "\n")
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}
