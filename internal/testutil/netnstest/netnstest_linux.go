//go:build linux

package netnstest

import (
	"os"
	"runtime"
	"testing"

	"github.com/vishvananda/netns"
)

// RequireRoot skips a privileged test loudly when the process is not
// root: creating network namespaces and programming nftables in them need
// CAP_SYS_ADMIN and CAP_NET_ADMIN. CI runs as root, so there it runs.
func RequireRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skipf("SKIPPED %s: needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN) to create network namespaces and program nftables in them; "+
			"run it as root (sudo go test), as CI does", tb.Name())
	}
}

// New creates a network namespace for the test without entering it, and
// deletes it, by closing its only handle, when the test ends. It skips
// the test without root (RequireRoot). The namespace is created on a
// throwaway thread: the caller's thread never changes namespace, and a
// thread that cannot go back to its own namespace stays locked, so Go
// discards it rather than run other code in the wrong namespace.
func New(tb testing.TB) netns.NsHandle {
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
		ns, err = netns.New() // moves the thread into it
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

// In runs fn with the calling goroutine locked to a thread moved into ns,
// then moves the thread back. fn may call tb.Fatal: it runs on the
// caller's goroutine. Goroutines fn starts do not run in ns; processes it
// starts do (they inherit the thread's namespace). If the thread cannot
// go back, it stays locked and Go discards it when the goroutine ends.
func In(tb testing.TB, ns netns.NsHandle, fn func()) {
	tb.Helper()
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		tb.Fatalf("current network namespace: %v", err)
	}
	defer orig.Close()
	defer func() {
		if err := netns.Set(orig); err != nil {
			tb.Errorf("back to the original network namespace: %v", err)
			return
		}
		runtime.UnlockOSThread()
	}()
	if err := netns.Set(ns); err != nil {
		tb.Fatalf("enter network namespace: %v", err)
	}
	fn()
}
