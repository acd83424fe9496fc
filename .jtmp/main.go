package main

import (
	"fmt"
	"os"
	"runtime"
	"time"

	"palisade/cluster/dc"
)

func main() {
	b, _ := os.ReadFile(os.Args[1])
	t := time.Now()
	cfg, a, err := dc.DecodeConfig("x.yaml", b)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	es := fmt.Sprint(err)
	if len(es) > 300 {
		es = es[:300]
	}
	fmt.Println(cfg != nil, a, es, time.Since(t), ms.TotalAlloc>>20, "MiB")
}
