package testutil_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/bulkhead/bulkhead/internal/testutil"
)

// TestSyncBuffer writes from several goroutines while the test polls (run
// with -race to check the locking), then checks that nothing was lost and
// that Take empties the buffer.
func TestSyncBuffer(t *testing.T) {
	var b testutil.SyncBuffer
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 100 {
				fmt.Fprintf(&b, "w%d-%d\n", w, i)
			}
		})
	}
	for range 10 {
		_ = b.String()
	}
	wg.Wait()
	if got := strings.Count(b.String(), "\n"); got != 400 {
		t.Fatalf("%d lines, want 400", got)
	}
	if got := strings.Count(b.Take(), "\n"); got != 400 {
		t.Errorf("Take returned %d lines, want 400", got)
	}
	if got := b.Take(); got != "" {
		t.Errorf("Take after Take = %q, want nothing", got)
	}
	b.Write([]byte("x"))
	if got := b.String(); got != "x" {
		t.Errorf("String = %q after Take and one write", got)
	}
}
