//go:build linux

package dataplane

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/bulkhead/bulkhead/internal/testutil/netnstest"
)

// topo is three private network namespaces, client A and server B routed
// through R, which runs the ruleset under test:
//
//	A a0 ---- r0 R r1 ---- b0 B
//	10.0.1.0/24, fd00:1::/64    10.0.2.0/24, fd00:2::/64
//
// The addresses exist only in these namespaces, which have no link to the
// host's. Neighbours are static, so that IPv6 neighbour discovery, which
// R's input and output chains would filter, is never needed.
type topo struct {
	A, R, B      netns.NsHandle
	addrA, addrB []netip.Addr // several per family, to vary sources
	addrR        []netip.Addr // R's address on A's side, per family
	addrRB       []netip.Addr // R's address on B's side, per family
}

type link struct {
	ns   netns.NsHandle
	name string
	mac  net.HardwareAddr
}

func newTopo(t *testing.T) *topo {
	t.Helper()
	tp := &topo{A: netnstest.New(t), R: netnstest.New(t), B: netnstest.New(t)}
	mac := func(i byte) net.HardwareAddr { return net.HardwareAddr{0x02, 0, 0, 0, 0, i} }
	a0, r0 := link{tp.A, "a0", mac(1)}, link{tp.R, "r0", mac(2)}
	r1, b0 := link{tp.R, "r1", mac(3)}, link{tp.B, "b0", mac(4)}
	veth(t, a0, r0)
	veth(t, r1, b0)
	p := netip.MustParseAddr
	tp.addrA = []netip.Addr{p("10.0.1.2"), p("10.0.1.3"), p("fd00:1::2"), p("fd00:1::3")}
	tp.addrB = []netip.Addr{p("10.0.2.2"), p("10.0.2.3"), p("fd00:2::2"), p("fd00:2::3")}
	tp.addrR = []netip.Addr{p("10.0.1.1"), p("fd00:1::1")}
	tp.addrRB = []netip.Addr{p("10.0.2.1"), p("fd00:2::1")}
	configure(t, a0, tp.addrA, r0.mac, tp.addrR)
	configure(t, r0, tp.addrR, a0.mac, tp.addrA)
	configure(t, r1, tp.addrRB, b0.mac, tp.addrB)
	configure(t, b0, tp.addrB, r1.mac, tp.addrRB)
	route(t, a0, tp.addrR)
	route(t, b0, tp.addrRB)
	netnstest.In(t, tp.R, func() {
		for _, f := range []string{"/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv6/conf/all/forwarding"} {
			if err := os.WriteFile(f, []byte("1"), 0o644); err != nil {
				t.Fatalf("R: %s: %v", f, err)
			}
		}
	})
	return tp
}

func handle(t *testing.T, ns netns.NsHandle) *netlink.Handle {
	t.Helper()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

func veth(t *testing.T, x, y link) {
	t.Helper()
	v := &netlink.Veth{
		LinkAttrs:        netlink.LinkAttrs{Name: x.name, HardwareAddr: x.mac},
		PeerName:         y.name,
		PeerHardwareAddr: y.mac,
		PeerNamespace:    netlink.NsFd(int(y.ns)),
	}
	if err := handle(t, x.ns).LinkAdd(v); err != nil {
		t.Fatalf("veth %s-%s: %v", x.name, y.name, err)
	}
}

// configure brings l and lo up, gives l addrs (without duplicate address
// detection) and adds permanent neighbours for the peer's addresses.
func configure(t *testing.T, l link, addrs []netip.Addr, peerMAC net.HardwareAddr, peerAddrs []netip.Addr) {
	t.Helper()
	h := handle(t, l.ns)
	lo, err := h.LinkByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.LinkSetUp(lo); err != nil {
		t.Fatal(err)
	}
	dev, err := h.LinkByName(l.name)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		bits := 24
		if a.Is6() {
			bits = 64
		}
		addr := &netlink.Addr{IPNet: ipNet(a, bits), Flags: unix.IFA_F_NODAD}
		if err := h.AddrAdd(dev, addr); err != nil {
			t.Fatalf("%s: address %v: %v", l.name, a, err)
		}
	}
	if err := h.LinkSetUp(dev); err != nil {
		t.Fatal(err)
	}
	for _, a := range peerAddrs {
		fam := unix.AF_INET
		if a.Is6() {
			fam = unix.AF_INET6
		}
		n := &netlink.Neigh{LinkIndex: dev.Attrs().Index, Family: fam, State: netlink.NUD_PERMANENT, IP: a.AsSlice(), HardwareAddr: peerMAC}
		if err := h.NeighAdd(n); err != nil {
			t.Fatalf("%s: neighbour %v: %v", l.name, a, err)
		}
	}
}

// route adds default routes in l's namespace through the gateways.
func route(t *testing.T, l link, gateways []netip.Addr) {
	t.Helper()
	h := handle(t, l.ns)
	dev, err := h.LinkByName(l.name)
	if err != nil {
		t.Fatal(err)
	}
	for _, gw := range gateways {
		r := &netlink.Route{LinkIndex: dev.Attrs().Index, Gw: gw.AsSlice()}
		if gw.Is6() {
			r.Family = unix.AF_INET6
		}
		if err := h.RouteAdd(r); err != nil {
			t.Fatalf("%s: default route via %v: %v", l.name, gw, err)
		}
	}
}

func ipNet(a netip.Addr, bits int) *net.IPNet {
	return &net.IPNet{IP: a.AsSlice(), Mask: net.CIDRMask(bits, a.BitLen())}
}

func (tp *topo) String() string {
	return fmt.Sprintf("A %v, R %v/%v, B %v", tp.addrA, tp.addrR, tp.addrRB, tp.addrB)
}
