package model

import (
	"gopkg.in/yaml.v3"

	"palisade/cluster/config/strict"
)

// DecodeError is one problem in a YAML input: the configuration's one
// error type (cluster/config/strict), FILE:LINE: key.path: reason.
type DecodeError = strict.Error

// DecodeErrors is every problem found in one input, in file order.
type DecodeErrors = strict.Errors

// StrictDecoder decodes a yaml.Node tree into a model type and refuses
// unknown keys, duplicate keys and values of the wrong type, naming the
// line of each (see strict.Collector.DecodeStrict, which it runs):
//
//	var cfg model.Config
//	err := model.StrictDecoder{File: "cluster.yaml", Path: "resources"}.Decode(section, &cfg)
//	// cluster.yaml:21: resources.resources[0].tpye: unknown key, valid keys here: class, id, ...
//
// cluster/config decodes the resources section of cluster.yaml with the
// same walk, reporting into the file's one collector.
type StrictDecoder struct {
	File string // names the input in errors
	Path string // key path of the node, e.g. "resources"; empty at a document's top
	// ExtraKeys are keys of the top mapping that the caller reads itself
	// (cluster/config's admin_epoch): the walk skips them and lists them
	// among the valid keys there.
	ExtraKeys []string
}

// Decode checks n against the type out points to, then decodes it. A nil
// node, an empty document or a null leaves out unchanged. The error is a
// DecodeErrors.
func (d StrictDecoder) Decode(n *yaml.Node, out any) error {
	c := strict.New(d.File)
	c.DecodeStrict(n, d.Path, out, d.ExtraKeys...)
	return c.Err()
}

// SyntaxError turns the error of yaml.Unmarshal into a DecodeErrors that
// names file and line.
func SyntaxError(file string, err error) error { return strict.SyntaxError(file, err) }
