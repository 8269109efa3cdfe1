//go:build linux

package dataplane

import (
	"fmt"
	"github.com/google/nftables"
	"net/netip"
	"testing"

	"github.com/bulkhead/bulkhead/internal/testutil/netnstest"
	"github.com/bulkhead/bulkhead/nft"
	"github.com/bulkhead/bulkhead/nft/nfttest"
)

// The benchmarks apply a ruleset of n elements (n/2 interval set elements
// and n/2 verdict map elements, as nfttest.Large builds) in a private
// network namespace, in full or as a one-element change (a pod added or
// removed), over netlink with this package and, for comparison, by
// spawning `nft -f` with the same change rendered as text.
//
//	go test ./dataplane/ -run '^$' -bench . -benchtime 20x

var benchSizes = []int{10, 1000, 10000}

// onePodMore returns rs with one more map element.
func onePodMore(rs *nft.Ruleset) *nft.Ruleset {
	out := rs.Clone()
	m := &out.Maps[0]
	m.Elems = append(m.Elems, nft.MapElem{Key: nft.AddrElem(netip.MustParseAddr("10.255.255.1")), Verdict: nft.JumpTo("pol_web")})
	return out
}

func BenchmarkApplyFull(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("elements=%d", n), func(b *testing.B) {
			ns := netnstest.New(b)
			a := newApplier(b, ns, "")
			rs := nfttest.Large("", n/2, 0)
			b.ReportAllocs()
			for b.Loop() {
				a.Reset() // replace the whole table every time
				if err := a.Apply(ctx(b), rs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkApplyOneElement(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("elements=%d", n), func(b *testing.B) {
			ns := netnstest.New(b)
			a := newApplier(b, ns, "")
			rs := [2]*nft.Ruleset{nfttest.Large("", n/2, 0), nil}
			rs[1] = onePodMore(rs[0])
			if err := a.Apply(ctx(b), rs[0]); err != nil {
				b.Fatal(err)
			}
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				i ^= 1
				if err := a.Apply(ctx(b), rs[i]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkNftFull(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("elements=%d", n), func(b *testing.B) {
			ns := netnstest.New(b)
			text := nft.RenderReplace(nfttest.Large("", n/2, 0))
			b.ReportAllocs()
			for b.Loop() {
				mustNft(b, ns, text, "-f", "-")
			}
		})
	}
}

func BenchmarkNftOneElement(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("elements=%d", n), func(b *testing.B) {
			ns := netnstest.New(b)
			base := nfttest.Large("", n/2, 0)
			more := onePodMore(base)
			mustNft(b, ns, nft.RenderReplace(base), "-f", "-")
			texts := [2]string{nft.RenderDelta(nft.Diff(more, base)), nft.RenderDelta(nft.Diff(base, more))}
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				i ^= 1
				mustNft(b, ns, texts[i], "-f", "-")
			}
		})
	}
}

// BenchmarkEncodeFull measures the user-space half of a full apply:
// validating the ruleset and building the netlink batch, without sending
// it (no root needed).
func BenchmarkEncodeFull(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("elements=%d", n), func(b *testing.B) {
			rs := nfttest.Large("", n/2, 0)
			b.ReportAllocs()
			for b.Loop() {
				if err := nft.Validate(rs); err != nil {
					b.Fatal(err)
				}
				c, err := nftables.New()
				if err != nil {
					b.Fatal(err)
				}
				if err := newEncoder(c, rs.TableName(), nil).delta(nft.Full(rs)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
