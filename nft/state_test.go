package nft_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go4.org/netipx"

	"github.com/bulkhead/bulkhead/nft"
	"github.com/bulkhead/bulkhead/nft/nfttest"
)

// breakers turn a delta that is valid against rs into one that probably
// is not, each the way a stale or buggy producer would: the tests check
// that State.Update refuses exactly what Patch refuses.
var breakers = []struct {
	name string
	fn   func(r *rand.Rand, rs *nft.Ruleset, d *nft.Delta)
}{
	{"add an element that exists", func(r *rand.Rand, rs *nft.Ruleset, d *nft.Delta) {
		if s := pickSet(r, rs, true); s != nil {
			d.AddElems = append(d.AddElems, withElems(*s, s.Elems[r.IntN(len(s.Elems))]))
		}
	}},
	{"delete an element that does not exist", func(r *rand.Rand, rs *nft.Ruleset, d *nft.Delta) {
		if s := pickSet(r, rs, false); s != nil {
			e := nft.AddrElem(netip.MustParseAddr("10.99.99.99"))
			if s.Type.Family() == nft.IPv6 {
				e = nft.AddrElem(netip.MustParseAddr("fd99::99"))
			}
			d.DelElems = append(d.DelElems, withElems(*s, e))
		}
	}},
	{"add an element overlapping others", func(r *rand.Rand, rs *nft.Ruleset, d *nft.Delta) {
		if s := pickSet(r, rs, true); s != nil && s.Interval {
			e := s.Elems[r.IntN(len(s.Elems))]
			if e.Addr.IsValid() {
				// A range that holds the element's first address and
				// differs from it.
				if next := e.Addr.To().Next(); next.IsValid() {
					e.Addr = netipx.IPRangeFrom(e.Addr.From(), next)
				} else {
					e.Addr = netipx.IPRangeFrom(e.Addr.From().Prev(), e.Addr.To())
				}
			}
			e.Ports.Last = max(e.Ports.Last, e.Ports.First)
			d.AddElems = append(d.AddElems, withElems(*s, e))
		}
	}},
	{"add an element of the wrong family", func(r *rand.Rand, rs *nft.Ruleset, d *nft.Delta) {
		if s := pickSet(r, rs, false); s != nil {
			d.AddElems = append(d.AddElems, withElems(*s, nft.AddrElem(netip.MustParseAddr("fd77::1"))))
		}
	}},
	{"delete a chain still jumped to", func(r *rand.Rand, rs *nft.Ruleset, d *nft.Delta) {
		for _, c := range rs.Chains {
			if !c.IsBase() && !slices.Contains(d.DelChains, c.Name) && r.IntN(2) == 0 {
				d.DelChains = append(d.DelChains, c.Name)
				return
			}
		}
	}},
	{"delete a set still looked up", func(r *rand.Rand, rs *nft.Ruleset, d *nft.Delta) {
		if s := pickSet(r, rs, false); s != nil && !slices.Contains(d.DelSets, s.Name) {
			d.DelSets = append(d.DelSets, s.Name)
		}
	}},
	{"delete a map", func(r *rand.Rand, rs *nft.Ruleset, d *nft.Delta) {
		if len(rs.Maps) > 0 {
			d.DelMaps = append(d.DelMaps, rs.Maps[r.IntN(len(rs.Maps))].Name)
		}
	}},
	{"jump to a missing chain", func(r *rand.Rand, rs *nft.Ruleset, d *nft.Delta) {
		c := rs.Chains[r.IntN(len(rs.Chains))]
		c.Rules = append(slices.Clone(c.Rules), nft.Rule{Stmts: []nft.Stmt{nft.JumpTo("nowhere_at_all")}})
		d.ReplaceChains = append(d.ReplaceChains, c)
	}},
	{"look up a missing set", func(r *rand.Rand, rs *nft.Ruleset, d *nft.Delta) {
		c := rs.Chains[r.IntN(len(rs.Chains))]
		c.Rules = append(slices.Clone(c.Rules), nft.Rule{Stmts: []nft.Stmt{nft.InSet{Key: nft.KeySrc4, Set: "no_such_set"}, nft.VerdictAccept}})
		d.ReplaceChains = append(d.ReplaceChains, c)
	}},
	{"make a jump loop", func(r *rand.Rand, rs *nft.Ruleset, d *nft.Delta) {
		// Chains jump only to chains defined after them; the last regular
		// chain jumping to the first one closes a loop if the first one
		// reaches it.
		var regular []nft.Chain
		for _, c := range rs.Chains {
			if !c.IsBase() {
				regular = append(regular, c)
			}
		}
		if len(regular) < 2 {
			return
		}
		last := regular[len(regular)-1]
		last.Rules = append(slices.Clone(last.Rules), nft.Rule{Stmts: []nft.Stmt{nft.GotoChain(regular[r.IntN(len(regular)-1)].Name)}})
		d.ReplaceChains = append(d.ReplaceChains, last)
	}},
	{"map element jumping to a base chain", func(r *rand.Rand, rs *nft.Ruleset, d *nft.Delta) {
		if len(rs.Maps) == 0 {
			return
		}
		m := rs.Maps[r.IntN(len(rs.Maps))]
		var base string
		for _, c := range rs.Chains {
			if c.IsBase() {
				base = c.Name
			}
		}
		key := nft.AddrElem(netip.MustParseAddr("10.77.0.1"))
		if m.Type.Family() == nft.IPv6 {
			key = nft.AddrElem(netip.MustParseAddr("fd77::7"))
		}
		m.Elems = []nft.MapElem{{Key: key, Verdict: nft.JumpTo(base)}}
		d.AddMapElems = append(d.AddMapElems, m)
	}},
	{"add a chain that exists", func(r *rand.Rand, rs *nft.Ruleset, d *nft.Delta) {
		d.AddChains = append(d.AddChains, rs.Chains[r.IntN(len(rs.Chains))])
	}},
	{"add a set named like a map", func(r *rand.Rand, rs *nft.Ruleset, d *nft.Delta) {
		if len(rs.Maps) == 0 {
			return
		}
		d.AddSets = append(d.AddSets, nft.Set{Name: rs.Maps[0].Name, Type: nft.TypeIPv4Addr})
	}},
	{"give a regular chain a policy", func(r *rand.Rand, rs *nft.Ruleset, d *nft.Delta) {
		for _, c := range rs.Chains {
			if !c.IsBase() {
				c.Policy = nft.PolicyDrop
				d.ReplaceChains = append(d.ReplaceChains, c)
				return
			}
		}
	}},
	{"put a second base chain in one slot", func(r *rand.Rand, rs *nft.Ruleset, d *nft.Delta) {
		for _, c := range rs.Chains {
			if c.IsBase() {
				d.AddChains = append(d.AddChains, nft.Chain{Name: "twin_base", Hook: c.Hook, Priority: c.Priority, Policy: nft.PolicyAccept})
				return
			}
		}
	}},
	{"jump deeper than the kernel's stack", func(r *rand.Rand, rs *nft.Ruleset, d *nft.Delta) {
		for _, c := range rs.Chains {
			if c.IsBase() {
				for i := range nft.MaxJumpDepth + 1 {
					deep := nft.Chain{Name: fmt.Sprintf("deep_%d", i)}
					if i < nft.MaxJumpDepth {
						deep.Rules = []nft.Rule{{Stmts: []nft.Stmt{nft.JumpTo(fmt.Sprintf("deep_%d", i+1))}}}
					}
					d.AddChains = append(d.AddChains, deep)
				}
				c.Rules = append(slices.Clone(c.Rules), nft.Rule{Stmts: []nft.Stmt{nft.JumpTo("deep_0")}})
				d.ReplaceChains = append(d.ReplaceChains, c)
				return
			}
		}
	}},
	{"add a set with a bad comment and duplicates", func(r *rand.Rand, rs *nft.Ruleset, d *nft.Delta) {
		e := nft.AddrElem(netip.MustParseAddr("10.5.5.5"))
		d.AddSets = append(d.AddSets, nft.Set{Name: "dup_set", Type: nft.TypeIPv4Addr, Comment: `say "hi"`, Elems: []nft.Elem{e, e}})
	}},
}

func withElems(s nft.Set, elems ...nft.Elem) nft.Set {
	s.Elems = elems
	return s
}

// pickSet returns a random set of rs, one with elements if full.
func pickSet(r *rand.Rand, rs *nft.Ruleset, full bool) *nft.Set {
	var cands []*nft.Set
	for i := range rs.Sets {
		if s := &rs.Sets[i]; !full || len(s.Elems) > 0 {
			cands = append(cands, s)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	return cands[r.IntN(len(cands))]
}

// TestStateMatchesPatch applies random deltas to a State, valid ones
// (Diff of random changes, the Diff again once applied, a Diff from
// another ruleset) and broken ones, and checks that Update accepts
// exactly what Patch accepts, ends with what Patch ends with, keeps its
// indexes as NewState builds them, never changes a ruleset it handed out,
// and is left unchanged by a refused delta or a failed commit.
func TestStateMatchesPatch(t *testing.T) {
	n := 400
	if testing.Short() {
		n = 80
	}
	var c stateCounts
	for seed := range uint64(n) {
		checkStateSeed(t, seed, &c)
	}
	t.Logf("%d deltas accepted, %d refused: %v", c.accepted, c.refused, c.refusedBy)
	if c.accepted < n || c.refused < n/4 {
		t.Errorf("too few deltas of one kind: %d accepted, %d refused", c.accepted, c.refused)
	}
	for _, b := range breakers {
		if c.refusedBy[b.name] == 0 {
			t.Errorf("no delta broken by %q was refused: the breaker does not break", b.name)
		}
	}
}

// FuzzStateMatchesPatch is TestStateMatchesPatch for the seeds the fuzzer
// picks.
func FuzzStateMatchesPatch(f *testing.F) {
	for _, s := range []uint64{1, 2, 3, 42} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, seed uint64) {
		checkStateSeed(t, seed, &stateCounts{})
	})
}

type stateCounts struct {
	accepted, refused int
	refusedBy         map[string]int
}

// checkStateSeed applies eight random deltas from seed's ruleset. It
// looks at the state's ruleset only now and then, so that Update also
// changes lists in place (which it does while nobody holds them), and
// checks at the end that no ruleset it handed out changed since.
func checkStateSeed(t *testing.T, seed uint64, c *stateCounts) {
	if c.refusedBy == nil {
		c.refusedBy = map[string]int{}
	}
	g := nfttest.NewGen(seed)
	r := rand.New(rand.NewPCG(seed, 7))
	model := g.Ruleset("") // what Patch makes of the same deltas
	st, err := nft.NewState(model)
	if err != nil {
		t.Fatal(err)
	}
	type snapshot struct {
		rs   *nft.Ruleset
		text string
	}
	var seen []snapshot
	look := func(where string) {
		got := st.Ruleset()
		if diff := cmp.Diff(nft.Render(model), nft.Render(got)); diff != "" {
			t.Fatalf("%s: the state differs from Patch's result (-want +got):\n%s", where, diff)
		}
		seen = append(seen, snapshot{got, nft.Render(got)})
	}
	for step := range 8 {
		where := fmt.Sprintf("seed %d step %d", seed, step)
		next := g.Mutate(model)
		d := nft.Diff(model, next)
		kind := "diff"
		switch k := r.IntN(10); {
		case k < 4:
			b := breakers[r.IntN(len(breakers))]
			b.fn(r, model, &d)
			kind = b.name
		case k == 4:
			d = nft.Diff(g.Ruleset(""), next) // computed from another ruleset
			kind = "diff from another ruleset"
		}
		where += " (" + kind + ")"
		want, wantErr := nft.Patch(model, d)
		commits := 0
		gotErr := st.Update(d, func() error { commits++; return nil })
		if (wantErr == nil) != (gotErr == nil) {
			t.Fatalf("%s: Patch: %v; Update: %v\ndelta:\n%s\nruleset:\n%s", where, wantErr, gotErr, nft.RenderDelta(d), nft.Render(model))
		}
		if gotErr != nil {
			c.refused++
			c.refusedBy[kind]++
			if commits != 0 {
				t.Fatalf("%s: Update committed a delta it refused", where)
			}
		} else {
			c.accepted++
			model = want
			if err := st.CheckIndexes(); err != nil {
				t.Fatalf("%s: %v\ndelta:\n%s", where, err, nft.RenderDelta(d))
			}
			// The same delta again: elements and chains it adds exist now.
			again, wantErr := nft.Patch(model, d)
			if err := st.Update(d, func() error { return nil }); (err == nil) != (wantErr == nil) {
				t.Fatalf("%s: the same delta twice: Patch: %v; Update: %v\ndelta:\n%s", where, wantErr, err, nft.RenderDelta(d))
			} else if err == nil {
				model = again
			}
		}
		if r.IntN(3) == 0 {
			look(where)
		}
	}
	look(fmt.Sprintf("seed %d at the end", seed))
	// A failed commit leaves the state as it was.
	d := nft.Diff(model, g.Mutate(model))
	boom := errors.New("boom")
	if err := st.Update(d, func() error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("seed %d: Update with a failing commit = %v", seed, err)
	}
	look(fmt.Sprintf("seed %d after a failed commit", seed))
	for i, sn := range seen {
		if nft.Render(sn.rs) != sn.text {
			t.Fatalf("seed %d: ruleset %d handed out changed later", seed, i)
		}
	}
}

// TestStateSample applies the deltas of the sample's typical changes and
// checks a few refusals by name.
func TestStateSample(t *testing.T) {
	rs := nfttest.Sample("")
	st, err := nft.NewState(rs)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Interval("peers_v4") || st.Interval("local_v4") || st.Interval("missing") {
		t.Error("Interval is wrong")
	}
	next := rs.Clone()
	m := next.Map("ingress_v4")
	m.Elems = append(m.Elems, nft.MapElem{Key: nft.AddrElem(netip.MustParseAddr("10.1.0.200")), Verdict: nft.JumpTo("ingress_web")})
	next.Set("local_v4").Elems = append(next.Set("local_v4").Elems, nft.AddrElem(netip.MustParseAddr("10.1.0.200")))
	if err := st.Update(nft.Diff(rs, next), func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(nft.Render(next), nft.Render(st.Ruleset())); diff != "" {
		t.Errorf("after a pod add (-want +got):\n%s", diff)
	}
	tests := []struct {
		name string
		d    nft.Delta
		want string
	}{
		{"other table", nft.Delta{Table: "other"}, `delta for table "other"`},
		{"existing element", nft.Delta{Table: "bulkhead", AddElems: []nft.Set{withElems(*rs.Set("local_v4"), nft.AddrElem(netip.MustParseAddr("10.1.0.200")))}}, "exists"},
		{"chain in use", nft.Delta{Table: "bulkhead", DelChains: []string{"ingress_web"}}, `delete chain "ingress_web": still the target of`},
		{"set in use", nft.Delta{Table: "bulkhead", DelSets: []string{"local_v4"}}, `delete set or map "local_v4": still named by`},
		{"overlap", nft.Delta{Table: "bulkhead", AddElems: []nft.Set{withElems(*rs.Set("peers_v4"), nft.Elem{Addr: mustRange("10.2.0.0-10.2.0.255")})}}, "overlap"},
		{"missing target", nft.Delta{Table: "bulkhead", AddMapElems: []nft.Map{{Name: "ingress_v4", Type: nft.TypeIPv4Addr,
			Elems: []nft.MapElem{{Key: nft.AddrElem(netip.MustParseAddr("10.1.0.201")), Verdict: nft.JumpTo("gone_chain")}}}}}, `chain "gone_chain" not found`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := st.Ruleset()
			err := st.Update(tt.d, func() error { t.Fatal("commit called"); return nil })
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Update = %v, want an error containing %q", err, tt.want)
			}
			if st.Ruleset() != before {
				t.Error("a refused delta changed the state")
			}
		})
	}
}

// BenchmarkStateUpdate is the applier's user-space side of a pod added to
// a large ruleset: one map element checked and added, the way an applier
// that does not look at the ruleset in between (the agent's) does it.
func BenchmarkStateUpdate(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("elements=%d", n), func(b *testing.B) {
			rs := nfttest.Large("", n/2, 0)
			st, err := nft.NewState(rs)
			if err != nil {
				b.Fatal(err)
			}
			m := rs.Maps[0]
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				i++
				key := nft.AddrElem(netip.AddrFrom4([4]byte{10, 254, byte(i >> 8), byte(i)}))
				d := nft.Delta{Table: rs.TableName(),
					AddMapElems: []nft.Map{{Name: m.Name, Type: m.Type, Elems: []nft.MapElem{{Key: key, Verdict: m.Elems[0].Verdict}}}}}
				if err := st.Update(d, func() error { return nil }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
