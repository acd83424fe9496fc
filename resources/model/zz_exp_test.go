package model

import "testing"

func TestZZExp(t *testing.T) {
	for _, in := range []string{
		"config:\n  resources:\n    - id: a\n      tpye: Dummy\n",
		"config: {resources: [{id: a, ops: [{name: monitor, interval: ten}]}]}",
		"config: {constraints: {colocations: [{id: c, rsc: a, with: b, score: lots}]}}",
		"config: {options: {stonith-enabled: maybe, symmetric-cluster: [1]}}",
		"config: {nodes: [{name: n1, utilization: {cpu: many}}]}\nstatus: {failures: [{rsc: a, node: n1, count: 1, last-failure: yesterday}]}",
		"config: {resources: {id: a}}",
		"config: {resources: [{id: a, id: b}]}",
		"base: &b {type: Dummy}\nconfig: {resources: [{<<: *b, id: a, bogus: 1}]}",
		"config: [",
		"",
		"now: x\n",
		"config: {rsc_defaults: {a: {b: c}}}",
		"- a",
	} {
		_, err := DecodeYAML([]byte(in))
		t.Logf("%q\n%v", in, err)
	}
}
