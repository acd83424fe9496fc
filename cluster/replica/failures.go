package replica

import (
	"slices"
	"time"

	"palisade/resources/model"
)

// FailureTimeout is rsc's failure-timeout meta (the primitive's, else its
// group's or clone's, else rsc_defaults), 0 when unset or invalid.
func FailureTimeout(cfg *model.Config, rsc string) time.Duration {
	if cfg == nil {
		return 0
	}
	v, ok := "", false
	var walk func(rs []*model.Resource, parents []*model.Resource) bool
	walk = func(rs []*model.Resource, parents []*model.Resource) bool {
		for _, r := range rs {
			if r.KindOf() == model.KindPrimitive && r.ID == rsc {
				for _, p := range append([]*model.Resource{r}, reversed(parents)...) {
					if v, ok = p.Meta["failure-timeout"]; ok {
						return true
					}
				}
				return true
			}
			if walk(r.Members, append(parents, r)) {
				return true
			}
		}
		return false
	}
	walk(cfg.Resources, nil)
	if !ok {
		v, ok = cfg.RscDefaults["failure-timeout"]
	}
	if !ok {
		return 0
	}
	d, err := model.ParseDuration(v)
	if err != nil || d < 0 {
		return 0
	}
	return d
}

func reversed(rs []*model.Resource) []*model.Resource {
	out := slices.Clone(rs)
	slices.Reverse(out)
	return out
}

// PrimitivesOf lists the primitives of resource id: itself, or the members
// of a group or clone.
func PrimitivesOf(cfg *model.Config, id string) []*model.Resource {
	if cfg == nil {
		return nil
	}
	var found *model.Resource
	var walk func([]*model.Resource)
	walk = func(rs []*model.Resource) {
		for _, r := range rs {
			if found != nil {
				return
			}
			if r.ID == id {
				found = r
				return
			}
			walk(r.Members)
		}
	}
	walk(cfg.Resources)
	if found == nil {
		return nil
	}
	if found.KindOf() == model.KindPrimitive {
		return []*model.Resource{found}
	}
	return Primitives(&model.Config{Resources: found.Members})
}
