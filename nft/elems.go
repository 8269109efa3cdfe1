package nft

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"go4.org/netipx"

	"github.com/bulkhead/bulkhead/model"
)

// AddrElems returns the elements of interval sets of type TypeIPv4Addr and
// TypeIPv6Addr holding exactly the addresses of s, split per family. The
// ranges come from netipx, which merges overlapping and adjacent blocks, so
// the elements never overlap: the kernel rejects overlapping elements in an
// interval set, and an ipBlock's cidr minus its excepts, or the union of
// several peers, would otherwise produce them. Elements are sorted.
func AddrElems(s model.IPSet) (v4, v6 []Elem) {
	for _, r := range s.Ranges() {
		if r.From().Is4() {
			v4 = append(v4, Elem{Addr: r})
		} else {
			v6 = append(v6, Elem{Addr: r})
		}
	}
	return v4, v6
}

// PortElems returns the elements of an interval set of type TypeProtoPort
// holding protocol p on the ports of ps. The model keeps port sets merged,
// so the elements never overlap.
func PortElems(p Proto, ps model.PortSet) []Elem {
	rs := ps.Ranges()
	out := make([]Elem, 0, len(rs))
	for _, r := range rs {
		out = append(out, Elem{Proto: p, Ports: r})
	}
	return out
}

// Concat returns the elements of an "address . inet_proto . inet_service"
// set holding every pair of an address element (from AddrElems) and a
// protocol-port element (from PortElems). If both lists are free of
// overlaps, so is the product.
func Concat(addrs, protoPorts []Elem) []Elem {
	out := make([]Elem, 0, len(addrs)*len(protoPorts))
	for _, a := range addrs {
		for _, pp := range protoPorts {
			out = append(out, Elem{Addr: a.Addr, Proto: pp.Proto, Ports: pp.Ports})
		}
	}
	return out
}

// IsSingle reports whether e is one value rather than an interval, as sets
// without the interval flag require.
func (e Elem) IsSingle() bool {
	return e.Addr.From() == e.Addr.To() && e.Addr2.From() == e.Addr2.To() && e.Ports.First == e.Ports.Last
}

// contains reports whether e holds the packet key (addr, addr2, proto,
// port), each field compared only if the type t has it.
func (e Elem) contains(t SetType, addr, addr2 netip.Addr, proto Proto, port uint16) bool {
	if t.Family() != FamilyUnknown && !e.Addr.Contains(addr) {
		return false
	}
	if t.IsAddrPair() && !e.Addr2.Contains(addr2) {
		return false
	}
	if t.HasProtoPort() && (e.Proto != proto || port < e.Ports.First || port > e.Ports.Last) {
		return false
	}
	return true
}

// format writes e as nft does in an element list: "10.0.0.0/8",
// "10.0.0.1-10.0.0.5", "tcp . 80", "fd00::/64 . udp . 1000-2000".
func (e Elem) format(t SetType) string {
	var parts []string
	if t.Family() != FamilyUnknown {
		parts = append(parts, formatRange(e.Addr))
	}
	if t.IsAddrPair() {
		parts = append(parts, formatRange(e.Addr2))
	}
	if t.HasProtoPort() {
		parts = append(parts, e.Proto.String(), e.Ports.String())
	}
	return strings.Join(parts, " . ")
}

// String formats e with every field that is set, for error messages.
func (e Elem) String() string {
	var parts []string
	if e.Addr.IsValid() {
		parts = append(parts, formatRange(e.Addr))
	}
	if e.Addr2.IsValid() {
		parts = append(parts, formatRange(e.Addr2))
	}
	if e.Proto != 0 || e.Ports != (model.PortRange{}) {
		parts = append(parts, e.Proto.String(), e.Ports.String())
	}
	return strings.Join(parts, " . ")
}

// formatRange writes a single address, a prefix or a range.
func formatRange(r netipx.IPRange) string {
	if r.From() == r.To() {
		return r.From().String()
	}
	if p, ok := r.Prefix(); ok {
		return p.String()
	}
	return r.From().String() + "-" + r.To().String()
}

// compareElems orders elements by address, protocol, then ports, so that
// rendering and the dataplane's element lists are deterministic.
func compareElems(a, b Elem) int {
	if c := a.Addr.From().Compare(b.Addr.From()); c != 0 {
		return c
	}
	if c := a.Addr.To().Compare(b.Addr.To()); c != 0 {
		return c
	}
	if c := a.Addr2.From().Compare(b.Addr2.From()); c != 0 {
		return c
	}
	if c := a.Addr2.To().Compare(b.Addr2.To()); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Proto, b.Proto); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Ports.First, b.Ports.First); c != 0 {
		return c
	}
	return cmp.Compare(a.Ports.Last, b.Ports.Last)
}

// sortedElems returns a sorted copy of elems.
func sortedElems(elems []Elem) []Elem {
	out := slices.Clone(elems)
	slices.SortFunc(out, compareElems)
	return out
}

// sortedMapElems returns a copy of elems sorted by key.
func sortedMapElems(elems []MapElem) []MapElem {
	out := slices.Clone(elems)
	slices.SortFunc(out, func(a, b MapElem) int { return compareElems(a.Key, b.Key) })
	return out
}

// checkElem reports why e cannot be an element of a set of type t, or nil.
func checkElem(t SetType, interval bool, e Elem) error {
	switch t.Family() {
	case IPv4:
		if !e.Addr.IsValid() || !e.Addr.From().Is4() {
			return fmt.Errorf("element %v: want an IPv4 address or range", e)
		}
	case IPv6:
		if !e.Addr.IsValid() || !e.Addr.From().Is6() {
			return fmt.Errorf("element %v: want an IPv6 address or range", e)
		}
	default:
		if e.Addr != (netipx.IPRange{}) {
			return fmt.Errorf("element %v: type %s has no address field", e, t)
		}
	}
	if t.IsAddrPair() {
		if !e.Addr2.IsValid() || e.Addr2.From().Is4() != e.Addr.From().Is4() {
			return fmt.Errorf("element %v: want a second address of the same family", e)
		}
	} else if e.Addr2 != (netipx.IPRange{}) {
		return fmt.Errorf("element %v: type %s has one address field", e, t)
	}
	if t.HasProtoPort() {
		if e.Proto == 0 {
			return fmt.Errorf("element %v: missing protocol", e)
		}
		if e.Ports.First > e.Ports.Last {
			return fmt.Errorf("element %v: port range ends before it starts", e)
		}
	} else if e.Proto != 0 || e.Ports != (model.PortRange{}) {
		return fmt.Errorf("element %v: type %s has no protocol or port field", e, t)
	}
	if !interval && !e.IsSingle() {
		return fmt.Errorf("element %v: ranges need flags interval", e)
	}
	return nil
}

// firstOverlap returns a pair of overlapping elements of the sorted list
// elems, if any. Two elements overlap when every field of theirs overlaps;
// the kernel rejects such pairs (and exact duplicates) in interval sets.
// Address ranges are swept in order, so the cost is proportional to the
// number of elements sharing addresses, small for the products Concat
// builds.
func firstOverlap(t SetType, elems []Elem) (Elem, Elem, bool) {
	overlaps := func(a, b Elem) bool {
		if t.HasProtoPort() && (a.Proto != b.Proto || a.Ports.Last < b.Ports.First || b.Ports.Last < a.Ports.First) {
			return false
		}
		if t.IsAddrPair() && (a.Addr2.To().Less(b.Addr2.From()) || b.Addr2.To().Less(a.Addr2.From())) {
			return false
		}
		return true
	}
	if t.Family() == FamilyUnknown {
		// Sorted by protocol then first port: only neighbours can overlap.
		for i := 1; i < len(elems); i++ {
			if overlaps(elems[i-1], elems[i]) {
				return elems[i-1], elems[i], true
			}
		}
		return Elem{}, Elem{}, false
	}
	var active []Elem // elements whose address range reaches the current one
	for _, e := range elems {
		kept := active[:0]
		for _, a := range active {
			if a.Addr.To().Compare(e.Addr.From()) >= 0 {
				kept = append(kept, a)
			}
		}
		active = kept
		for _, a := range active {
			if overlaps(a, e) {
				return a, e, true
			}
		}
		active = append(active, e)
	}
	return Elem{}, Elem{}, false
}
