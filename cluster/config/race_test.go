//go:build race

package config

// The race detector makes parsing a 50 MB file take minutes; what is
// quoted does not depend on the size, and hw-tests checks 50 MB through
// the built `palisade config check`.
const hugeValue = 4 << 20
