//go:build linux

package netnstest_test

import (
	"net"
	"testing"

	"github.com/vishvananda/netns"

	"github.com/bulkhead/bulkhead/internal/testutil/netnstest"
)

// TestPrivilegedNewAndIn checks that New gives a namespace other than the
// test's, that In runs code inside it (it sees only a loopback interface)
// and brings the thread back, and that two namespaces differ.
func TestPrivilegedNewAndIn(t *testing.T) {
	host, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	a, b := netnstest.New(t), netnstest.New(t)
	if a.Equal(host) || b.Equal(host) || a.Equal(b) {
		t.Fatalf("namespaces not distinct: host %v, a %v, b %v", host, a, b)
	}
	var inside netns.NsHandle
	var ifaces []net.Interface
	netnstest.In(t, a, func() {
		inside, err = netns.Get()
		if err != nil {
			t.Fatal(err)
		}
		ifaces, err = net.Interfaces()
		if err != nil {
			t.Fatal(err)
		}
	})
	defer inside.Close()
	if !inside.Equal(a) {
		t.Errorf("In ran in %v, want %v", inside, a)
	}
	if len(ifaces) != 1 || ifaces[0].Name != "lo" {
		t.Errorf("interfaces in a new namespace: %v, want only lo", ifaces)
	}
	now, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer now.Close()
	if !now.Equal(host) {
		t.Errorf("after In the goroutine is in %v, want the host's %v", now, host)
	}
}
