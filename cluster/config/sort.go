package config

import (
	"cmp"
	"slices"
)

func sortNodes(ns []Node) {
	slices.SortFunc(ns, func(a, b Node) int { return cmp.Compare(a.ID, b.ID) })
}
