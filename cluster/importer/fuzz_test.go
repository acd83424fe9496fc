package importer

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

// FuzzImport feeds arbitrary ha.cf, haresources, authkeys and CIB / crm
// text to the importer. It must never panic, a complete conversion must
// validate (Import checks that itself and errors otherwise), and no
// authkeys secret may appear in the YAML or the report. The seed corpus
// is every input of the golden cases in testdata.
func FuzzImport(f *testing.F) {
	paths, _ := filepath.Glob("testdata/*.txt")
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		for _, block := range strings.Split(string(data), "\n----\n") {
			_, body, ok := strings.Cut(block, "\n-- ")
			if !ok {
				continue
			}
			ar := txtar.Parse([]byte("-- " + body))
			files := map[string][]byte{}
			for _, fl := range ar.Files {
				files[fl.Name] = fl.Data
			}
			cib := files["cib.xml"]
			if cib == nil {
				cib = files["crm.txt"]
			}
			f.Add(files["ha.cf"], files["haresources"], files["authkeys"], cib)
		}
	}
	f.Fuzz(func(t *testing.T, hacf, hares, authkeys, cib []byte) {
		var in Input
		if len(hacf) > 0 {
			in.Heartbeat = &HeartbeatFiles{HaCf: &Source{Name: "ha.cf", Data: hacf}, Authkeys: &Source{Name: "authkeys", Data: authkeys}}
			if len(hares) > 0 {
				in.Heartbeat.Haresources = &Source{Name: "haresources", Data: hares}
			}
		}
		if len(cib) > 0 {
			in.CIB = &Source{Name: "cib.xml", Data: cib}
		}
		if in.Heartbeat == nil && in.CIB == nil {
			return
		}
		res, err := Import(in, Options{Addresses: []AddressHint{}})
		if err != nil {
			return
		}
		out := append(append([]byte{}, res.ClusterYAML...), res.Report.String()...)
		for _, line := range strings.Split(string(authkeys), "\n") {
			if i := strings.IndexByte(line, '#'); i >= 0 {
				line = line[:i]
			}
			w := strings.Fields(line)
			if len(w) < 3 || len(w[2]) < 8 {
				continue
			}
			secret := []byte(w[2])
			if bytes.Contains(hacf, secret) || bytes.Contains(hares, secret) || bytes.Contains(cib, secret) {
				continue // the same word elsewhere in the input may be shown
			}
			if bytes.Contains(out, secret) {
				t.Fatalf("authkeys secret %q appears in the output", secret)
			}
		}
	})
}
