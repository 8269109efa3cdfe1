// Package parallel runs the iterations of a loop on several goroutines.
// It never decides how many: callers pass the number of workers (usually
// runtime.GOMAXPROCS(0) or an option), and it never starts more than
// there are iterations.
package parallel

import (
	"sync"
	"sync/atomic"
)

// For calls f(0) ... f(n-1) on up to workers goroutines and returns when
// every call has returned. The workers take the next index one at a time,
// so iterations of uneven cost balance out. With at most one worker or
// one iteration, f runs in order on the calling goroutine. f must be safe
// to call concurrently for distinct indexes.
func For(workers, n int, f func(i int)) {
	workers = min(workers, n)
	if workers <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
}
