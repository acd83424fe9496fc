package model

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestStrictDecoderErrors(t *testing.T) {
	const resourceKeys = "bundle, class, id, kind, members, meta, ops, params, provider, type, utilization"
	for _, c := range []struct{ in, want string }{
		{"config:\n  resources:\n    - id: a\n      tpye: Dummy\n",
			"doc.yaml:4: config.resources[0].tpye: unknown key, valid keys here: " + resourceKeys},
		{"config: {resources: [{id: g, kind: group, members: [{id: a, colour: red}]}]}",
			"doc.yaml:1: config.resources[0].members[0].colour: unknown key, valid keys here: " + resourceKeys},
		{"config:\n  options:\n    stonith-enable: true\n",
			"doc.yaml:3: config.options.stonith-enable: unknown key, valid keys here: maintenance-mode, no-quorum-policy, node-health-base, node-health-green, " +
				"node-health-red, node-health-strategy, node-health-yellow, placement-strategy, shutdown-lock, shutdown-lock-limit, " +
				"start-failure-is-fatal, stonith-action, stonith-enabled, stop-all-resources, stop-orphan-resources, symmetric-cluster"},
		{"config: {constraints: {location: []}}",
			"doc.yaml:1: config.constraints.location: unknown key, valid keys here: colocations, locations, orders, tickets"},
		{"config: {resources: [{id: a, ops: [{name: monitor, interval: ten}]}]}",
			`doc.yaml:1: config.resources[0].ops[0].interval: duration "ten": want seconds or a duration such as 10s, 1m`},
		{"config: {constraints: {colocations: [{id: c, rsc: a, with: b, score: lots}]}}",
			`doc.yaml:1: config.constraints.colocations[0].score: score "lots": want an integer or [+-]INFINITY`},
		{"config: {options: {stonith-enabled: maybe, symmetric-cluster: [1]}}",
			"doc.yaml:1: config.options.stonith-enabled: \"maybe\": want true or false\n" +
				"doc.yaml:1: config.options.symmetric-cluster: is a list, want true or false"},
		{"config:\n  nodes: [{name: n1, utilization: {cpu: many}}]\nstatus: {failures: [{rsc: a, node: n1, count: 1, last-failure: yesterday}]}",
			"doc.yaml:2: config.nodes[0].utilization.cpu: \"many\": want a whole number\n" +
				"doc.yaml:3: status.failures[0].last-failure: \"yesterday\": want a time such as 2026-01-01T10:00:00Z"},
		{"config: {resources: {id: a}}", "doc.yaml:1: config.resources: is a mapping, want a list"},
		{"config: {rsc_defaults: {a: {b: c}}}", "doc.yaml:1: config.rsc_defaults.a: is a mapping, want a value"},
		{"config:\n  resources:\n    - id: a\n      id: b\n", "doc.yaml:4: config.resources[0].id: duplicate key (first on line 3)"},
		{"status: {nodes: [{name: n1, state: online, stanby: true}]}",
			"doc.yaml:1: status.nodes[0].stanby: unknown key, valid keys here: attributes, maintenance, name, pending, probed, shutdown, standby, state"},
		{"base: &b {type: Dummy}\nconfig: {resources: [{<<: *b, id: a, bogus: 1}]}",
			"doc.yaml:1: base: unknown key, valid keys here: config, now, status\n" +
				"doc.yaml:2: config.resources[0].bogus: unknown key, valid keys here: " + resourceKeys},
		{"base: &b {typo: Dummy}\n", "doc.yaml:1: base: unknown key, valid keys here: config, now, status"},
		{"config: {resources: [{<<: 3, id: a}]}", `doc.yaml:1: config.resources[0].<<: is the value "3", want a mapping or a list of mappings to merge`},
		{"now: x\n", `doc.yaml:1: now: "x": want a time such as 2026-01-01T10:00:00Z`},
		{"- a\n", "doc.yaml:1: is a list, want a mapping"},
		{"config: [\n", "doc.yaml:1: YAML syntax: did not find expected node content"},
		{"", "doc.yaml: empty document, want the keys config and status (and now)"},
		{"config: {resources: [{id: a}, {id: a}]}", `doc.yaml: config: resource "a": id already used by a primitive`},
	} {
		_, err := DecodeYAMLFile("doc.yaml", []byte(c.in))
		if err == nil || err.Error() != c.want {
			t.Errorf("DecodeYAMLFile(%q):\n got %v\nwant %s", c.in, err, c.want)
		}
	}
}

func TestStrictDecoderSection(t *testing.T) {
	// A section of a bigger file keeps the file's lines and is named by
	// its path; ExtraKeys are skipped and listed.
	src := "cluster: {name: x}\nresources:\n  admin_epoch: 3\n  resources:\n    - id: a\n      tpye: Dummy\n  bogus: 1\n"
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	section := doc.Content[0].Content[3]
	var c Config
	err := StrictDecoder{File: "c.yaml", Path: "resources", ExtraKeys: []string{"admin_epoch"}}.Decode(section, &c)
	want := "c.yaml:6: resources.resources[0].tpye: unknown key, valid keys here: bundle, class, id, kind, members, meta, ops, params, provider, type, utilization\n" +
		"c.yaml:7: resources.bogus: unknown key, valid keys here: admin_epoch, constraints, nodes, options, resources, rsc_defaults"
	var es DecodeErrors
	if err == nil || err.Error() != want || !errors.As(err, &es) || len(es) != 2 || es[0].Line != 6 {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	ok := "resources:\n  admin_epoch: 3\n  resources: [{id: a, type: Dummy}]\n"
	if err := yaml.Unmarshal([]byte(ok), &doc); err != nil {
		t.Fatal(err)
	}
	c = Config{}
	if err := (StrictDecoder{File: "c.yaml", Path: "resources", ExtraKeys: []string{"admin_epoch"}}).Decode(doc.Content[0].Content[1], &c); err != nil || len(c.Resources) != 1 || c.Resources[0].Type != "Dummy" {
		t.Fatalf("valid section: %v %+v", err, c)
	}
}

func TestStrictDecoderAliasBomb(t *testing.T) {
	// Aliases are checked once per node and type: a billion laughs, by
	// members or by merge keys, finishes at once (yaml.v3's own decoder
	// then refuses the expansion).
	for _, via := range []string{"members", "merge"} {
		var b strings.Builder
		b.WriteString("config:\n  resources:\n    - &r0 {id: r0, type: Dummy}\n")
		for i := 1; i <= 9; i++ {
			refs := strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*r%d, ", i-1), 9), ", ")
			if via == "members" {
				fmt.Fprintf(&b, "    - &r%d {id: r%d, kind: group, members: [%s]}\n", i, i, refs)
			} else {
				fmt.Fprintf(&b, "    - &r%d {<<: [%s], id: r%d}\n", i, refs, i)
			}
		}
		_, err := DecodeYAML([]byte(b.String()))
		if err == nil || !strings.Contains(err.Error(), "excessive aliasing") {
			t.Errorf("%s: %v, want yaml.v3's excessive aliasing", via, err)
		}
	}
}

// FuzzStrictDecoder checks the walk against yaml.v3's own strict decoder:
// whatever the walk accepts, yaml.v3 with KnownFields accepts too, with
// the same result.
func FuzzStrictDecoder(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte("base: &b {type: Dummy}\nconfig: {resources: [{<<: *b, id: a}]}"))
	f.Add([]byte("config: {resources: [{id: a, ops: [{name: monitor, interval: 10}]}], rsc_defaults: {a: 1}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var n yaml.Node
		if yaml.Unmarshal(data, &n) != nil {
			return
		}
		var got Document
		if err := (StrictDecoder{}).Decode(&n, &got); err != nil {
			return
		}
		var want Document
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&want); err != nil && len(n.Content) > 0 {
			t.Fatalf("walk accepted what yaml.v3 refuses: %v", err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("walk decoded %+v, yaml.v3 %+v", got, want)
		}
	})
}

// TestStrictDecoderMultipleActive: the multiple-active meta attribute is
// accepted on resources and in rsc_defaults (meta maps take any name).
func TestStrictDecoderMultipleActive(t *testing.T) {
	in := "config:\n  rsc_defaults: {multiple-active: stop_only}\n" +
		"  resources:\n    - {id: a, type: Dummy, meta: {multiple-active: block}}\n" +
		"    - {id: g, kind: group, meta: {multiple-active: stop_unexpected}, members: [{id: b, type: Dummy}]}\n"
	doc, err := DecodeYAMLFile("doc.yaml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	c := doc.Config
	if c.RscDefaults["multiple-active"] != "stop_only" || c.Resources[0].Meta["multiple-active"] != "block" ||
		c.Resources[1].Meta["multiple-active"] != "stop_unexpected" {
		t.Errorf("multiple-active not decoded: %+v %+v %+v", c.RscDefaults, c.Resources[0].Meta, c.Resources[1].Meta)
	}
}
