package agent

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	f, err := os.Open("testdata/classify.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	statuses := map[string]Status{"done": StatusDone, "timeout": StatusTimeout, "error": StatusError, "cancelled": StatusCancelled}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fs := strings.Fields(line)
		if len(fs) != 4 {
			t.Fatalf("testdata/classify.txt:%d: want 4 fields, got %q", n, line)
		}
		rc, _ := strconv.Atoi(fs[1])
		res := Result{Status: statuses[fs[0]], RC: RC(rc)}
		var got Class
		if fs[2] == "probe" {
			got = ClassifyProbe(res)
		} else {
			exp, _ := strconv.Atoi(fs[2])
			got = Classify(res, RC(exp))
		}
		if got.String() != fs[3] {
			t.Errorf("testdata/classify.txt:%d: %q: got %s", n, line, got)
		}
	}
}
