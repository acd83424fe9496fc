//go:build !race

package config

// hugeValue is the size of the long value TestLongValueShortError quotes.
const hugeValue = 50 << 20
