package dcmsg

import (
	"fmt"
	"slices"
	"strings"

	"palisade/cluster/membership"
)

// Member is one node of a view with the generation (incarnation) it had
// when the view formed.
type Member struct {
	Name       string `json:"name"`
	Generation uint64 `json:"generation,omitempty"`
}

// View is a membership view as the DC layer sees it. Only an Agreed view
// (every member advertises it) confers authority: a DC decides, fences and
// starts only in an agreed view whose members hold quorum. A transitional
// view (some peers declared dead, the others not yet in agreement) only
// updates bookkeeping.
type View struct {
	ID      uint64   `json:"id"`
	Members []Member `json:"members"`
	DC      string   `json:"dc"`
	Agreed  bool     `json:"agreed"`
}

// Names returns the member names, sorted.
func (v View) Names() []string {
	out := make([]string, len(v.Members))
	for i, m := range v.Members {
		out[i] = m.Name
	}
	slices.Sort(out)
	return out
}

// Has reports whether node is a member.
func (v View) Has(node string) bool {
	return slices.ContainsFunc(v.Members, func(m Member) bool { return m.Name == node })
}

// Gens maps members to their generations.
func (v View) Gens() map[string]uint64 {
	out := make(map[string]uint64, len(v.Members))
	for _, m := range v.Members {
		out[m.Name] = m.Generation
	}
	return out
}

func (v View) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "view %d [", v.ID)
	for i, m := range v.Members {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(m.Name)
	}
	fmt.Fprintf(&b, "] dc=%s agreed=%v", v.DC, v.Agreed)
	return b.String()
}

// SimpleView builds an agreed view of names (generation 0), with the
// lowest name as DC; tests and tools use it.
func SimpleView(id uint64, names ...string) View {
	v := View{ID: id, Agreed: true}
	for _, n := range slices.Sorted(slices.Values(names)) {
		v.Members = append(v.Members, Member{Name: n})
	}
	if len(v.Members) > 0 {
		v.DC = v.Members[0].Name
	}
	return v
}

// FromMembership converts a membership view, naming its nodes with name.
func FromMembership(mv membership.View, name func(membership.NodeID) string) View {
	v := View{ID: mv.ID, DC: name(mv.DC), Agreed: mv.Agreed, Members: make([]Member, 0, len(mv.Members))}
	for _, m := range mv.Members {
		v.Members = append(v.Members, Member{Name: name(m.ID), Generation: m.Generation})
	}
	return v
}
