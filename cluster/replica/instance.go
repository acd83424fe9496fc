package replica

import (
	"strings"
	"time"

	"palisade/resources/agent"
	"palisade/resources/model"
)

// FindPrimitive walks groups and clones for the primitive id (clone
// instances "id:N" resolve to their primitive).
func FindPrimitive(cfg *model.Config, id string) *model.Resource {
	if cfg == nil {
		return nil
	}
	var walk func([]*model.Resource) *model.Resource
	walk = func(rs []*model.Resource) *model.Resource {
		for _, r := range rs {
			if r.KindOf() == model.KindPrimitive && r.ID == id {
				return r
			}
			if m := walk(r.Members); m != nil {
				return m
			}
		}
		return nil
	}
	if p := walk(cfg.Resources); p != nil {
		return p
	}
	if base, _, ok := strings.Cut(id, ":"); ok {
		id = base
		return walk(cfg.Resources)
	}
	return nil
}

// Primitives lists every primitive of the configuration.
func Primitives(cfg *model.Config) []*model.Resource {
	var out []*model.Resource
	var walk func([]*model.Resource)
	walk = func(rs []*model.Resource) {
		for _, r := range rs {
			if r.KindOf() == model.KindPrimitive {
				out = append(out, r)
			}
			walk(r.Members)
		}
	}
	if cfg != nil {
		walk(cfg.Resources)
	}
	return out
}

// Instance is the agent's view of a primitive for one op (interval 0:
// a one-shot op such as start or validate-all): class and provider defaults
// applied, the op's timeout.
func Instance(r *model.Resource, op string, interval time.Duration) agent.Instance {
	in := agent.Instance{ID: r.ID, Class: r.Class, Provider: r.Provider, Type: r.Type, Params: r.Params, Meta: r.Meta, Interval: interval}
	if in.Class == "" {
		in.Class = "ocf"
	}
	if in.Class == "ocf" && in.Provider == "" {
		in.Provider = "heartbeat"
	}
	for _, o := range r.Ops {
		if o.Name == op && time.Duration(o.Interval) == interval && o.Timeout > 0 {
			in.Timeout = time.Duration(o.Timeout)
		}
	}
	return in
}

// OnFailOf returns the configured on-fail of op (with interval), "" if none.
func OnFailOf(r *model.Resource, op string, interval time.Duration) string {
	for _, o := range r.Ops {
		if o.Name == op && time.Duration(o.Interval) == interval {
			return o.OnFail
		}
	}
	return ""
}
