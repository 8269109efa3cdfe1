package nft_test

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/nft"
)

// TestAddrElemsOracle builds random address sets from overlapping blocks
// with excepts and checks the elements against the set address by address:
// same membership, right family, no overlaps (Validate accepts them).
func TestAddrElemsOracle(t *testing.T) {
	n := 500
	if testing.Short() {
		n = 50
	}
	r := rand.New(rand.NewPCG(3, 4))
	randAddr := func(v6 bool) netip.Addr {
		if v6 {
			return netip.AddrFrom16([16]byte{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, byte(r.IntN(4)), byte(r.IntN(256))})
		}
		return netip.AddrFrom4([4]byte{10, 0, byte(r.IntN(4)), byte(r.IntN(256))})
	}
	for i := range n {
		var s model.IPSet
		for range 1 + r.IntN(5) {
			v6 := r.IntN(2) == 0
			a := randAddr(v6)
			bits := a.BitLen() - r.IntN(11)
			block := netip.PrefixFrom(a, bits).Masked()
			var excepts []netip.Prefix
			for range r.IntN(3) {
				e := randAddr(v6)
				excepts = append(excepts, netip.PrefixFrom(e, e.BitLen()-r.IntN(4)).Masked())
			}
			s = s.Union(model.IPBlock(block, excepts...))
		}
		v4, v6 := nft.AddrElems(s)
		rs := &nft.Ruleset{Sets: []nft.Set{
			{Name: "set_v4", Type: nft.TypeIPv4Addr, Interval: true, Elems: v4},
			{Name: "set_v6", Type: nft.TypeIPv6Addr, Interval: true, Elems: v6},
		}}
		if err := nft.Validate(rs); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		for range 200 {
			a := randAddr(r.IntN(2) == 0)
			elems := v4
			if a.Is6() {
				elems = v6
			}
			in := false
			for _, e := range elems {
				if e.Addr.Contains(a) {
					in = true
				}
			}
			if in != s.Contains(a) {
				t.Fatalf("case %d: %v: in elements = %v, in set = %v (set %v)", i, a, in, s.Contains(a), s)
			}
		}
	}
}

func TestPortElems(t *testing.T) {
	ps := model.PortsOf(model.PortRange{First: 80, Last: 80}, model.PortRange{First: 81, Last: 90}, model.PortRange{First: 443, Last: 443})
	got := nft.PortElems(nft.ProtoTCP, ps)
	want := []nft.Elem{{Proto: nft.ProtoTCP, Ports: portRange(80, 90)}, {Proto: nft.ProtoTCP, Ports: portRange(443, 443)}}
	if diff := cmp.Diff(want, got, cmpOpts...); diff != "" {
		t.Errorf("PortElems (-want +got):\n%s", diff)
	}
}

func TestConcat(t *testing.T) {
	addrs, _ := nft.AddrElems(model.IPBlock(netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("10.1.0.0/16")))
	ports := append(nft.PortElems(nft.ProtoTCP, model.SinglePort(80)), nft.PortElems(nft.ProtoUDP, model.SinglePort(53))...)
	got := nft.Concat(addrs, ports)
	if len(got) != len(addrs)*len(ports) {
		t.Fatalf("Concat: %d elements, want %d", len(got), len(addrs)*len(ports))
	}
	rs := &nft.Ruleset{Sets: []nft.Set{{Name: "s_1", Type: nft.TypeIPv4ProtoPort, Interval: true, Elems: got}}}
	if err := nft.Validate(rs); err != nil {
		t.Fatal(err)
	}
}
