package executor

import (
	"context"
	"sync"
	"testing"
)

func TestFIFOLocksOrderAndAbandon(t *testing.T) {
	var f fifoLocks
	ctx := context.Background()
	if err := f.lock(ctx, "r"); err != nil {
		t.Fatal(err)
	}
	// A waiter that gives up leaves the queue without blocking others.
	cctx, cancel := context.WithCancel(ctx)
	gaveUp := make(chan error)
	go func() { gaveUp <- f.lock(cctx, "r") }()
	var order []int
	var mu sync.Mutex
	var wg sync.WaitGroup
	turns := make([]chan struct{}, 5)
	for i := range turns {
		turns[i] = f.enqueue("r") // queued in this order
		wg.Go(func() {
			<-turns[i]
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			f.unlock("r")
		})
	}
	cancel()
	if err := <-gaveUp; err == nil {
		t.Fatal("cancelled lock succeeded")
	}
	f.unlock("r")
	wg.Wait()
	for i, v := range order {
		if v != i {
			t.Fatalf("order %v", order)
		}
	}
	if len(f.holders) != 0 {
		t.Fatalf("queue not empty: %v", f.holders)
	}
}
