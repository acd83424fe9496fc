package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"palisade/cluster/dc"
)

func main() {
	for _, f := range os.Args[1:] {
		raw, _ := os.ReadFile(f)
		s := string(raw)
		var b []byte
		if strings.HasPrefix(s, "go test fuzz v1\n") {
			l := strings.TrimSpace(strings.TrimPrefix(s, "go test fuzz v1\n"))
			l = strings.TrimSuffix(strings.TrimPrefix(l, "[]byte("), ")")
			u, err := strconv.Unquote(l)
			if err != nil {
				fmt.Println(f, "unquote", err)
				continue
			}
			b = []byte(u)
		} else {
			b = raw
		}
		t := time.Now()
		_, _, err := dc.DecodeConfig("x.yaml", b)
		if d := time.Since(t); d > 20*time.Millisecond || len(os.Args) == 2 {
			es := fmt.Sprint(err)
			if len(es) > 200 {
				es = es[:200]
			}
			fmt.Println(f, d, len(b), es)
		}
	}
}
