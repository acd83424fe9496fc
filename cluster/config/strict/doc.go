// Package strict is the machinery of Palisade's one configuration decoder:
// one error type, one wording and one collector for every section of
// cluster.yaml (and every other YAML input an operator writes), so that a
// file is checked in one pass and every problem is reported at once:
//
//	FILE:LINE: key.path: problem, valid keys here: a, b, c
//
// A Collector gathers the problems of one file. Sections are walked from
// the yaml.v3 node tree, so every problem keeps the line of the file it is
// on, also inside a section decoded by another package:
//
//	c := strict.New("/etc/palisade/cluster.yaml")
//	c.Fields(root, "", map[string]func(v *yaml.Node, key string){
//		"timing": func(v *yaml.Node, key string) { ... },
//	})
//	var cfg model.Config
//	c.DecodeStrict(section, "resources", &cfg)   // by the target type's yaml tags
//	return c.Err()                               // nil or Errors, sorted by line
//
// The packages that own a section (quorum, fence/topology,
// resources/model, cluster/alert) keep its meaning and report through the
// Collector they are given; cluster/config puts the sections together.
//
// Values from the file are quoted with Quote, which keeps a short prefix:
// an error about a 50 MB value is one short line. Error also caps a key
// path and a reason, for messages built elsewhere.
package strict
