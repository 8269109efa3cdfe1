//go:build linux

package agenttest

import (
	"os"
	"runtime"
	"testing"

	"github.com/vishvananda/netns"
)

// RequireRoot skips a privileged test loudly when not root.
func RequireRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skipf("SKIPPED %s: needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) to create a network namespace and program nftables in it; CI runs it as root", tb.Name())
	}
}

// NewNetNS creates a network namespace for the test without entering it
// (the creating thread goes back to its own namespace, or dies locked if
// it cannot), and deletes it, by closing its only handle, when the test
// ends. Nothing done in it reaches the host's namespace.
func NewNetNS(tb testing.TB) netns.NsHandle {
	tb.Helper()
	RequireRoot(tb)
	var ns netns.NsHandle
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		orig, e := netns.Get()
		if e != nil {
			err = e
			runtime.UnlockOSThread()
			return
		}
		defer orig.Close()
		ns, err = netns.New()
		if netns.Set(orig) == nil {
			runtime.UnlockOSThread()
		}
	}()
	<-done
	if err != nil {
		tb.Fatalf("new network namespace: %v", err)
	}
	tb.Cleanup(func() { ns.Close() })
	return ns
}
