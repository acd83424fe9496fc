package dc

import (
	"os"
	"strings"
	"testing"

	"palisade/cluster/config"
	"palisade/fence/topology"
	"palisade/quorum"
)

// TestReadmeExample keeps the configuration example in README.md valid:
// every section must pass the same decoders palisaded uses at start-up.
func TestReadmeExample(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	i := strings.Index(text, "## Configuration")
	if i < 0 {
		t.Fatal("README.md has no Configuration section")
	}
	text = text[i:]
	start := strings.Index(text, "```yaml\n")
	if start < 0 {
		t.Fatal("README.md Configuration section has no yaml block")
	}
	text = text[start+len("```yaml\n"):]
	block := text[:strings.Index(text, "```")]

	c, err := config.Parse("README.md", []byte(block))
	if err != nil {
		t.Fatalf("README example refused by the config loader: %v", err)
	}
	names := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		names[i] = n.Name
	}
	if _, err := quorum.Decode(c.File, c.Quorum, names); err != nil {
		t.Errorf("quorum section: %v", err)
	}
	if _, err := topology.Decode(c.File, c.Fencing); err != nil {
		t.Errorf("fencing section: %v", err)
	}
	if _, err := decodeResources(c.File, c.Resources); err != nil {
		t.Errorf("resources section: %v", err)
	}
}
