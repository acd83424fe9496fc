package agent

import (
	"context"
	"testing"
	"time"
)

// BenchmarkOCFRun measures the fixed cost of one agent action: fork/exec
// of a shell script with the OCF environment, output capture and reaping.
func BenchmarkOCFRun(b *testing.B) {
	root := b.TempDir()
	writeScriptB(b, root)
	o := &OCF{Root: root}
	in := Instance{ID: "r", Provider: "test", Type: "true", Timeout: 10 * time.Second,
		Params: map[string]string{"a": "1", "b": "2"}}
	ctx := context.Background()
	for b.Loop() {
		if res := o.Run(ctx, Monitor, in); res.RC != OK {
			b.Fatalf("rc %d: %s", res.RC, res.ExitReason)
		}
	}
}
