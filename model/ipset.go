package model

import (
	"net/netip"
	"strings"

	"go4.org/netipx"
)

// IPSet is an immutable set of IPv4 and IPv6 addresses. It wraps
// netipx.IPSet so that set algebra (CIDRs with excepts, unions, the
// complement of the cluster) is never hand-written. The zero value is the
// empty set.
type IPSet struct {
	s *netipx.IPSet
}

// AllIPs returns the set of every IPv4 and IPv6 address.
func AllIPs() IPSet {
	var b netipx.IPSetBuilder
	b.AddPrefix(netip.MustParsePrefix("0.0.0.0/0"))
	b.AddPrefix(netip.MustParsePrefix("::/0"))
	return build(&b)
}

// IPBlock returns the addresses of cidr minus those of every except
// prefix, as a NetworkPolicy ipBlock defines them. Prefixes are masked, so
// "10.0.0.1/8" means 10.0.0.0/8.
func IPBlock(cidr netip.Prefix, except ...netip.Prefix) IPSet {
	var b netipx.IPSetBuilder
	b.AddPrefix(cidr.Masked())
	for _, e := range except {
		b.RemovePrefix(e.Masked())
	}
	return build(&b)
}

// IPsOf returns the set holding the given addresses and prefixes.
func IPsOf(addrs []netip.Addr, prefixes ...netip.Prefix) IPSet {
	var b netipx.IPSetBuilder
	for _, a := range addrs {
		b.Add(a.Unmap())
	}
	for _, p := range prefixes {
		b.AddPrefix(p.Masked())
	}
	return build(&b)
}

// IPRangesOf returns the set holding the given ranges.
func IPRangesOf(rs ...netipx.IPRange) IPSet {
	var b netipx.IPSetBuilder
	for _, r := range rs {
		b.AddRange(r)
	}
	return build(&b)
}

// build never fails for builders fed only valid prefixes, addresses and
// sets; an invalid input (the zero netip.Prefix) is simply not added.
func build(b *netipx.IPSetBuilder) IPSet {
	s, _ := b.IPSet()
	if s == nil || len(s.Ranges()) == 0 {
		return IPSet{}
	}
	return IPSet{s: s}
}

func (s IPSet) builder() *netipx.IPSetBuilder {
	var b netipx.IPSetBuilder
	if s.s != nil {
		b.AddSet(s.s)
	}
	return &b
}

// IsEmpty reports whether s holds no address.
func (s IPSet) IsEmpty() bool { return s.s == nil }

// Contains reports whether s holds a. IPv4-mapped IPv6 addresses are
// treated as the IPv4 address they map.
func (s IPSet) Contains(a netip.Addr) bool {
	return s.s != nil && s.s.Contains(a.Unmap())
}

// Overlaps reports whether s and o share an address.
func (s IPSet) Overlaps(o IPSet) bool {
	return s.s != nil && o.s != nil && s.s.Overlaps(o.s)
}

// Equal reports whether s and o hold the same addresses.
func (s IPSet) Equal(o IPSet) bool {
	if s.s == nil || o.s == nil {
		return s.s == o.s
	}
	return s.s.Equal(o.s)
}

// Union returns the addresses in s or o.
func (s IPSet) Union(o IPSet) IPSet {
	if o.s == nil {
		return s
	}
	b := s.builder()
	b.AddSet(o.s)
	return build(b)
}

// Intersect returns the addresses in both s and o.
func (s IPSet) Intersect(o IPSet) IPSet {
	if s.s == nil || o.s == nil {
		return IPSet{}
	}
	b := s.builder()
	b.Intersect(o.s)
	return build(b)
}

// Subtract returns the addresses in s but not in o.
func (s IPSet) Subtract(o IPSet) IPSet {
	if s.s == nil || o.s == nil {
		return s
	}
	b := s.builder()
	b.RemoveSet(o.s)
	return build(b)
}

// Ranges returns the set's address ranges, IPv4 before IPv6, ascending.
func (s IPSet) Ranges() []netipx.IPRange {
	if s.s == nil {
		return nil
	}
	return s.s.Ranges()
}

// Prefixes returns the fewest CIDR prefixes that cover exactly s.
func (s IPSet) Prefixes() []netip.Prefix {
	if s.s == nil {
		return nil
	}
	return s.s.Prefixes()
}

// String formats s for people, in the shorter of two spellings: a
// comma-separated list of CIDR prefixes ("10.0.0.0/8,192.168.0.0/16"), or
// of ranges ("0.0.0.0-9.255.255.255,11.0.0.0-255.255.255.255,::/0") where
// a range that is exactly one prefix is written as that prefix. Prefixes
// win a tie. A single address is written without a prefix length. The
// empty set formats as "".
func (s IPSet) String() string {
	ps, rs := s.Prefixes(), s.Ranges()
	var parts []string
	if len(ps) <= len(rs) {
		for _, p := range ps {
			parts = append(parts, prefixString(p))
		}
	} else {
		for _, r := range rs {
			if p, ok := r.Prefix(); ok {
				parts = append(parts, prefixString(p))
			} else {
				parts = append(parts, r.String())
			}
		}
	}
	return strings.Join(parts, ",")
}

func prefixString(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.String()
}
