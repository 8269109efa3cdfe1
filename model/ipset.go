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

// String formats s for people. Each address family is written in the
// shortest of three spellings: CIDR prefixes ("10.0.0.0/8,192.168.0.0/16"),
// ranges ("10.0.0.0-10.0.0.4,10.0.0.7-10.0.0.255", a range that is exactly
// one prefix written as that prefix), or the whole family minus a few
// addresses ("0.0.0.0/0 except 10.0.0.0/8,192.168.0.0/16"). Families are
// joined by "," or, when either uses "except", by " and ". Prefixes win a
// tie. A single address is written without a prefix length. The empty set
// formats as "".
func (s IPSet) String() string {
	v4, v6 := s.family(true), s.family(false)
	var parts []string
	except := false
	for i, fam := range []IPSet{v4, v6} {
		if fam.IsEmpty() {
			continue
		}
		all := AllIPs().family(i == 0)
		own := fam.items()
		if rest := all.Subtract(fam); !rest.IsEmpty() && len(rest.items()) < len(own) {
			parts = append(parts, all.Prefixes()[0].String()+" except "+strings.Join(rest.items(), ","))
			except = true
			continue
		}
		parts = append(parts, strings.Join(own, ","))
	}
	if except {
		return strings.Join(parts, " and ")
	}
	return strings.Join(parts, ",")
}

// family returns the IPv4 (v4) or IPv6 part of s.
func (s IPSet) family(v4 bool) IPSet {
	p := netip.MustParsePrefix("::/0")
	if v4 {
		p = netip.MustParsePrefix("0.0.0.0/0")
	}
	return s.Intersect(IPBlock(p))
}

// items spells s as prefixes or ranges, whichever takes fewer items.
func (s IPSet) items() []string {
	ps, rs := s.Prefixes(), s.Ranges()
	var parts []string
	if len(ps) <= len(rs) {
		for _, p := range ps {
			parts = append(parts, prefixString(p))
		}
		return parts
	}
	for _, r := range rs {
		if p, ok := r.Prefix(); ok {
			parts = append(parts, prefixString(p))
		} else {
			parts = append(parts, r.String())
		}
	}
	return parts
}

func prefixString(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.String()
}
