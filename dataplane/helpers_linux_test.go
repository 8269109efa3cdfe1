//go:build linux

package dataplane

import (
	"bytes"
	"context"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vishvananda/netns"

	"github.com/bulkhead/bulkhead/internal/testutil/netnstest"
	"github.com/bulkhead/bulkhead/nft"
)

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
	netnstest.In(t, ns, func() { err = cmd.Run() })
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

// intervalOf returns the interval flags of rs's sets and maps, as the
// applier's table gives them to a commit.
func intervalOf(rs *nft.Ruleset) func(string) bool {
	return func(name string) bool {
		if s := rs.Set(name); s != nil {
			return s.Interval
		}
		if m := rs.Map(name); m != nil {
			return m.Interval
		}
		return false
	}
}
