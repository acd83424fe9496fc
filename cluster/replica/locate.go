package replica

import (
	"gopkg.in/yaml.v3"
)

// LocateParam returns the line of resource rsc's parameter param in a
// configuration file (a whole cluster.yaml or its resources section): the
// parameter's own line, else (param "" or not set) that of the resource's
// params or id; 0 when the resource is not in it. Problems found by the
// agents are reported at these lines.
func LocateParam(data []byte, rsc, param string) int {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return 0
	}
	return LocateParamIn(&doc, rsc, param)
}

// LocateParamIn is LocateParam on a parsed document or section node.
func LocateParamIn(n *yaml.Node, rsc, param string) int {
	if n == nil {
		return 0
	}
	if n.Kind == yaml.MappingNode {
		if line := resourceLine(n, rsc, param); line > 0 {
			return line
		}
	}
	for _, c := range n.Content {
		if line := LocateParamIn(c, rsc, param); line > 0 {
			return line
		}
	}
	return 0
}

// resourceLine: n is the mapping of resource rsc (id: rsc with a kind of
// resource's keys next to it): the line of its parameter.
func resourceLine(n *yaml.Node, rsc, param string) int {
	var id, params, paramsKey *yaml.Node
	resourceish := false
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "id":
			if v.Kind == yaml.ScalarNode && v.Value == rsc {
				id = k
			}
		case "params":
			params, paramsKey = v, k
		case "type", "class", "provider", "kind", "members", "ops", "meta":
			resourceish = true
		}
	}
	if id == nil || !resourceish && params == nil {
		return 0
	}
	if params != nil && params.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(params.Content); i += 2 {
			if param != "" && params.Content[i].Value == param {
				return params.Content[i].Line
			}
		}
		return paramsKey.Line
	}
	return id.Line
}
