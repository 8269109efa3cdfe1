//go:build linux

package dataplane

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vishvananda/netns"

	"github.com/bulkhead/bulkhead/nft"
)

// requireRoot skips a privileged test loudly when not root.
func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("SKIPPED %s: needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) to create network namespaces and program nftables; CI runs it as root", t.Name())
	}
}

// newNetNS creates a network namespace for the test, without entering it,
// and deletes it (closes its only handle) when the test ends. Nothing the
// test does in it reaches the host's namespace.
func newNetNS(t testing.TB) netns.NsHandle {
	t.Helper()
	requireRoot(t)
	var ns netns.NsHandle
	onThread(t, func() {
		var err error
		if ns, err = netns.New(); err != nil { // moves the thread into it
			t.Fatalf("new netns: %v", err)
		}
	})
	t.Cleanup(func() { ns.Close() })
	return ns
}

// inNetNS runs fn on a thread moved into ns.
func inNetNS(t testing.TB, ns netns.NsHandle, fn func()) {
	t.Helper()
	onThread(t, func() {
		if err := netns.Set(ns); err != nil {
			t.Fatalf("enter netns: %v", err)
		}
		fn()
	})
}

// onThread runs fn locked to a thread and moves the thread back to its
// network namespace after. If that fails, the thread stays locked, and Go
// discards it when the goroutine ends rather than running other code in
// the wrong namespace.
func onThread(t testing.TB, fn func()) {
	t.Helper()
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("current netns: %v", err)
	}
	defer orig.Close()
	defer func() {
		if err := netns.Set(orig); err != nil {
			t.Errorf("back to the original netns: %v", err)
			return
		}
		runtime.UnlockOSThread()
	}()
	fn()
}

var nftOnce sync.Once

// requireNft returns the path of the nft binary, installing the nftables
// package with apt if it is missing, as CI does.
func requireNft(t testing.TB) string {
	t.Helper()
	nftOnce.Do(func() {
		if _, err := exec.LookPath("nft"); err != nil {
			out, err := exec.Command("apt-get", "install", "-y", "-q", "nftables").CombinedOutput()
			if err != nil {
				t.Logf("apt-get install nftables: %v\n%s", err, out)
			}
		}
	})
	path, err := exec.LookPath("nft")
	if err != nil {
		t.Skipf("SKIPPED %s: the nft binary is missing and `apt-get install nftables` failed; this test compares with nft", t.Name())
	}
	return path
}

// nftIn runs nft with args in ns, feeding it stdin, and returns its
// output. The child inherits the namespace of the thread that starts it.
func nftIn(t testing.TB, ns netns.NsHandle, stdin string, args ...string) (string, error) {
	t.Helper()
	nftPath := requireNft(t)
	cmd := exec.Command(nftPath, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	var err error
	inNetNS(t, ns, func() { err = cmd.Run() })
	return out.String(), err
}

// mustNft is nftIn that fails the test on error.
func mustNft(t testing.TB, ns netns.NsHandle, stdin string, args ...string) string {
	t.Helper()
	out, err := nftIn(t, ns, stdin, args...)
	if err != nil {
		t.Fatalf("nft %s: %v\n%s\ninput:\n%s", strings.Join(args, " "), err, out, stdin)
	}
	return out
}

var handleRe = regexp.MustCompile(`(?m) # handle \d+$`)

// listTable returns `nft list table inet NAME` in ns, the way an operator
// sees the table.
func listTable(t testing.TB, ns netns.NsHandle, table string) string {
	t.Helper()
	return handleRe.ReplaceAllString(mustNft(t, ns, "", "list", "table", "inet", table), "")
}

// newApplier returns a Netlink applier for table in ns.
func newApplier(t testing.TB, ns netns.NsHandle, table string, opts ...func(*Config)) *Netlink {
	t.Helper()
	cfg := Config{Table: table, NetNS: int(ns)}
	for _, o := range opts {
		o(&cfg)
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// checkRead reads the table back and compares it with want.
func checkRead(t testing.TB, a Applier, want *nft.Ruleset) {
	t.Helper()
	got, err := a.Read(ctx(t))
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if want == nil || got == nil {
		if want != got {
			t.Fatalf("Read = %v, want %v", got, want)
		}
		return
	}
	if diff := cmp.Diff(nft.Render(want), nft.Render(got)); diff != "" {
		t.Fatalf("table read back differs from the ruleset (-want +got):\n%s", diff)
	}
}
