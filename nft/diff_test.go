package nft_test

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go4.org/netipx"

	"github.com/bulkhead/bulkhead/nft"
	"github.com/bulkhead/bulkhead/nft/nfttest"
)

// cmpOpts compares rulesets and deltas: netip and netipx values by their
// comparable value, nil and empty slices alike.
var cmpOpts = []cmp.Option{
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
	cmp.Comparer(func(a, b netipx.IPRange) bool { return a == b }),
	cmpopts.EquateEmpty(),
}

func TestDiff(t *testing.T) {
	a := func(s string) nft.Elem { return nft.AddrElem(netip.MustParseAddr(s)) }
	base := func(policy nft.Policy, rules ...nft.Rule) nft.Chain {
		return nft.Chain{Name: "filter_fwd", Hook: nft.HookForward, Policy: policy, Rules: rules}
	}
	accept := nft.Rule{Stmts: []nft.Stmt{nft.VerdictAccept}}
	pods := func(elems ...nft.MapElem) nft.Map {
		return nft.Map{Name: "pods_v4", Type: nft.TypeIPv4Addr, Elems: elems}
	}
	peers := func(elems ...nft.Elem) nft.Set {
		return nft.Set{Name: "peers_v4", Type: nft.TypeIPv4Addr, Interval: true, Elems: elems}
	}
	old := &nft.Ruleset{
		Sets:   []nft.Set{peers(a("10.0.0.1"), a("10.0.0.2"))},
		Maps:   []nft.Map{pods(nft.MapElem{Key: a("10.1.0.1"), Verdict: nft.JumpTo("pol_1")})},
		Chains: []nft.Chain{base(nft.PolicyAccept, accept), {Name: "pol_1", Rules: []nft.Rule{accept}}},
	}
	with := func(f func(rs *nft.Ruleset)) *nft.Ruleset {
		rs := old.Clone()
		f(rs)
		return rs
	}
	tests := []struct {
		name string
		new  *nft.Ruleset
		want nft.Delta
	}{
		{"same", old.Clone(), nft.Delta{Table: "bulkhead"}},
		{"set elements", with(func(rs *nft.Ruleset) { rs.Sets[0] = peers(a("10.0.0.2"), a("10.0.0.3")) }), nft.Delta{
			Table:    "bulkhead",
			AddElems: []nft.Set{peers(a("10.0.0.3"))},
			DelElems: []nft.Set{peers(a("10.0.0.1"))},
		}},
		{"map verdict changes", with(func(rs *nft.Ruleset) {
			rs.Maps[0] = pods(nft.MapElem{Key: a("10.1.0.1"), Verdict: nft.VerdictDrop}, nft.MapElem{Key: a("10.1.0.2"), Verdict: nft.JumpTo("pol_1")})
		}), nft.Delta{
			Table:       "bulkhead",
			AddMapElems: []nft.Map{pods(nft.MapElem{Key: a("10.1.0.1"), Verdict: nft.VerdictDrop}, nft.MapElem{Key: a("10.1.0.2"), Verdict: nft.JumpTo("pol_1")})},
			DelMapElems: []nft.Map{pods(nft.MapElem{Key: a("10.1.0.1"), Verdict: nft.JumpTo("pol_1")})},
		}},
		{"policy change replaces chain", with(func(rs *nft.Ruleset) { rs.Chains[0].Policy = nft.PolicyDrop }), nft.Delta{
			Table:         "bulkhead",
			ReplaceChains: []nft.Chain{base(nft.PolicyDrop, accept)},
		}},
		{"comment change replaces chain", with(func(rs *nft.Ruleset) { rs.Chains[1].Rules = []nft.Rule{{Stmts: accept.Stmts, Comment: "x"}} }), nft.Delta{
			Table:         "bulkhead",
			ReplaceChains: []nft.Chain{{Name: "pol_1", Rules: []nft.Rule{{Stmts: accept.Stmts, Comment: "x"}}}},
		}},
		{"chain and map removed", with(func(rs *nft.Ruleset) { rs.Chains = rs.Chains[:1]; rs.Maps = nil }), nft.Delta{
			Table:     "bulkhead",
			DelChains: []string{"pol_1"},
			DelMaps:   []string{"pods_v4"},
		}},
		{"set added", with(func(rs *nft.Ruleset) { rs.Sets = append(rs.Sets, nft.Set{Name: "new_v6", Type: nft.TypeIPv6Addr}) }), nft.Delta{
			Table:   "bulkhead",
			AddSets: []nft.Set{{Name: "new_v6", Type: nft.TypeIPv6Addr}},
		}},
		{"set flags change replaces table", with(func(rs *nft.Ruleset) { rs.Sets[0].Interval = false }), nft.Delta{}},
		{"set comment change replaces table", with(func(rs *nft.Ruleset) { rs.Sets[0].Comment = "x" }), nft.Delta{}},
		{"hook change replaces table", with(func(rs *nft.Ruleset) { rs.Chains[0].Hook = nft.HookInput }), nft.Delta{}},
		{"priority change replaces table", with(func(rs *nft.Ruleset) { rs.Chains[0].Priority = 5 }), nft.Delta{}},
		{"other table replaces", with(func(rs *nft.Ruleset) { rs.Table = "other_table" }), nft.Delta{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := nft.Validate(tt.new); err != nil {
				t.Fatalf("invalid test ruleset: %v", err)
			}
			want := tt.want
			if want.Table == "" {
				want = nft.Full(tt.new)
			}
			got := nft.Diff(old, tt.new)
			if diff := cmp.Diff(want, got, cmpOpts...); diff != "" {
				t.Errorf("Diff (-want +got):\n%s", diff)
			}
			if got.IsEmpty() != (tt.name == "same") {
				t.Errorf("IsEmpty = %v", got.IsEmpty())
			}
		})
	}
}

// TestDiffPatch checks on random rulesets and random changes that Patch
// of Diff gives the new ruleset, and that the delta is incremental when it
// can be.
func TestDiffPatch(t *testing.T) {
	n := 300
	if testing.Short() {
		n = 50
	}
	g := nfttest.NewGen(2)
	for i := range n {
		old := g.Ruleset("")
		new := g.Mutate(old)
		d := nft.Diff(old, new)
		if d.Replace != nil {
			t.Fatalf("case %d: Diff replaced the table for changes it can make incrementally:\n%s", i, nft.RenderDelta(d))
		}
		got, err := nft.Patch(old, d)
		if err != nil {
			t.Fatalf("case %d: Patch: %v\ndelta:\n%s", i, err, nft.RenderDelta(d))
		}
		if diff := cmp.Diff(nft.Render(new), nft.Render(got)); diff != "" {
			t.Fatalf("case %d: Patch(old, Diff(old, new)) != new (-want +got):\n%s", i, diff)
		}
		if !nft.Diff(new, got).IsEmpty() {
			t.Fatalf("case %d: Diff(new, patched) is not empty", i)
		}
	}
}

// TestDiffElementsOnly checks that pod churn touches only elements.
func TestDiffElementsOnly(t *testing.T) {
	old := nfttest.Sample("")
	new := old.Clone()
	m := new.Map("ingress_v4")
	m.Elems = append(m.Elems, nft.MapElem{Key: nft.AddrElem(netip.MustParseAddr("10.1.0.200")), Verdict: nft.JumpTo("ingress_web")})
	d := nft.Diff(old, new)
	want := nft.Delta{Table: "bulkhead", AddMapElems: []nft.Map{{
		Name: "ingress_v4", Type: nft.TypeIPv4Addr, Comment: "local pods by address",
		Elems: []nft.MapElem{{Key: nft.AddrElem(netip.MustParseAddr("10.1.0.200")), Verdict: nft.JumpTo("ingress_web")}},
	}}}
	if diff := cmp.Diff(want, d, cmpOpts...); diff != "" {
		t.Errorf("Diff (-want +got):\n%s", diff)
	}
}

func TestPatchErrors(t *testing.T) {
	rs := nfttest.Sample("")
	tests := []struct {
		name string
		d    nft.Delta
	}{
		{"wrong table", nft.Delta{Table: "other"}},
		{"chain exists", nft.Delta{Table: "bulkhead", AddChains: []nft.Chain{{Name: "filter_forward"}}}},
		{"delete missing element", nft.Delta{Table: "bulkhead", DelElems: []nft.Set{{Name: "local_v4", Type: nft.TypeIPv4Addr, Elems: []nft.Elem{nft.AddrElem(netip.MustParseAddr("1.1.1.1"))}}}}},
		{"add existing element", nft.Delta{Table: "bulkhead", AddElems: []nft.Set{{Name: "local_v4", Type: nft.TypeIPv4Addr, Elems: []nft.Elem{nft.AddrElem(netip.MustParseAddr("10.1.0.1"))}}}}},
		{"delete referenced set", nft.Delta{Table: "bulkhead", DelSets: []string{"local_v4"}}},
		{"jump to missing chain", nft.Delta{Table: "bulkhead", ReplaceChains: []nft.Chain{{Name: "egress_dns", Rules: []nft.Rule{{Stmts: []nft.Stmt{nft.JumpTo("nope")}}}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := nft.Render(rs)
			if _, err := nft.Patch(rs, tt.d); err == nil {
				t.Error("Patch: nil error")
			}
			if nft.Render(rs) != before {
				t.Error("Patch modified its input")
			}
		})
	}
}

// BenchmarkDiff measures the user-space side of a pod-churn sync: one map
// element added to a ruleset of n elements, Validate then Diff, as an
// applier does before it talks to the kernel.
func BenchmarkDiff(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("elements=%d", n), func(b *testing.B) {
			old := nfttest.Large("", n/2, 0)
			new := old.Clone()
			new.Maps[0].Elems = append(new.Maps[0].Elems, nft.MapElem{Key: nft.AddrElem(netip.MustParseAddr("10.255.255.1")), Verdict: nft.JumpTo("pol_web")})
			b.ReportAllocs()
			for b.Loop() {
				if err := nft.Validate(new); err != nil {
					b.Fatal(err)
				}
				if d := nft.Diff(old, new); len(d.AddMapElems) != 1 {
					b.Fatal("wrong delta")
				}
			}
		})
	}
}

// FuzzDiffPatch checks Patch(old, Diff(old, new)) == new on generated
// rulesets and changes, seeded by the fuzzer.
func FuzzDiffPatch(f *testing.F) {
	for _, s := range []uint64{1, 2, 3, 42} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, seed uint64) {
		g := nfttest.NewGen(seed)
		old := g.Ruleset("")
		new := g.Mutate(old)
		got, err := nft.Patch(old, nft.Diff(old, new))
		if err != nil {
			t.Fatalf("Patch: %v", err)
		}
		if nft.Render(got) != nft.Render(new) {
			t.Fatalf("Patch(old, Diff(old, new)) != new")
		}
	})
}
