package parallel_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/bulkhead/bulkhead/internal/parallel"
)

// TestFor checks that every index runs exactly once, for any number of
// workers and iterations, and that no more than workers run at once.
func TestFor(t *testing.T) {
	for _, workers := range []int{-1, 0, 1, 2, 3, 8} {
		for _, n := range []int{0, 1, 2, 7, 100} {
			t.Run(fmt.Sprintf("workers=%d/n=%d", workers, n), func(t *testing.T) {
				calls := make([]atomic.Int32, n)
				var running, peak atomic.Int32
				parallel.For(workers, n, func(i int) {
					r := running.Add(1)
					for p := peak.Load(); r > p && !peak.CompareAndSwap(p, r); p = peak.Load() {
					}
					calls[i].Add(1)
					running.Add(-1)
				})
				for i := range calls {
					if c := calls[i].Load(); c != 1 {
						t.Errorf("f(%d) ran %d times", i, c)
					}
				}
				if p := peak.Load(); int(p) > max(workers, 1) {
					t.Errorf("%d calls at once with %d workers", p, workers)
				}
			})
		}
	}
}

// TestForInline checks that one worker runs the iterations in order on
// the calling goroutine.
func TestForInline(t *testing.T) {
	var got []int
	parallel.For(1, 5, func(i int) { got = append(got, i) }) // no lock: same goroutine
	if fmt.Sprint(got) != "[0 1 2 3 4]" {
		t.Errorf("order %v", got)
	}
}
