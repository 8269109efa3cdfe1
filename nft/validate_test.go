package nft_test

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/bulkhead/bulkhead/nft"
	"github.com/bulkhead/bulkhead/nft/nfttest"
)

func TestValidate(t *testing.T) {
	a4 := netip.MustParseAddr("10.0.0.1")
	base := func(rules ...nft.Rule) nft.Chain {
		return nft.Chain{Name: "filter_fwd", Hook: nft.HookForward, Policy: nft.PolicyDrop, Rules: rules}
	}
	rule := func(s ...nft.Stmt) nft.Rule { return nft.Rule{Stmts: s} }
	tests := []struct {
		name string
		rs   nft.Ruleset
		want string // substring of the error; "" means valid
	}{
		{"empty", nft.Ruleset{}, ""},
		{"bad table name", nft.Ruleset{Table: "a-b"}, "table: name"},
		{"keyword as name", nft.Ruleset{Sets: []nft.Set{{Name: "all", Type: nft.TypeIPv4Addr}}}, "at least one underscore"},
		{"bad chain name", nft.Ruleset{Chains: []nft.Chain{{Name: "1x"}}}, `chain "1x": name`},
		{"duplicate chain", nft.Ruleset{Chains: []nft.Chain{{Name: "x_1"}, {Name: "x_1"}}}, "defined twice"},
		{"base chain without policy", nft.Ruleset{Chains: []nft.Chain{{Name: "x_1", Hook: nft.HookInput}}}, "needs policy"},
		{"regular chain with policy", nft.Ruleset{Chains: []nft.Chain{{Name: "x_1", Policy: nft.PolicyDrop}}}, "regular chain has no policy"},
		{"same hook and priority", nft.Ruleset{Chains: []nft.Chain{base(), {Name: "other_fwd", Hook: nft.HookForward, Policy: nft.PolicyAccept}}}, "is taken by chain"},
		{"empty rule", nft.Ruleset{Chains: []nft.Chain{base(rule())}}, "no statements"},
		{"nil statement", nft.Ruleset{Chains: []nft.Chain{base(rule(nil))}}, "nil statement"},
		{"verdict not last", nft.Ruleset{Chains: []nft.Chain{base(rule(nft.VerdictAccept, nft.Counter{}))}}, "must be the last"},
		{"jump to missing chain", nft.Ruleset{Chains: []nft.Chain{base(rule(nft.JumpTo("nope")))}}, `chain "nope" not found`},
		{"jump to base chain", nft.Ruleset{Chains: []nft.Chain{base(), {Name: "x_1", Rules: []nft.Rule{rule(nft.JumpTo("filter_fwd"))}}}}, "cannot jump or go to base chain"},
		{"accept with chain", nft.Ruleset{Chains: []nft.Chain{base(rule(nft.Verdict{Kind: nft.Accept, Chain: "x"}))}}, "takes no chain"},
		{"unknown verdict", nft.Ruleset{Chains: []nft.Chain{base(rule(nft.Verdict{}))}}, "unknown verdict"},
		{"missing set", nft.Ruleset{Chains: []nft.Chain{base(rule(nft.InSet{Key: nft.KeySrc4, Set: "s_1"}))}}, `set "s_1" not found`},
		{"set of other type", nft.Ruleset{
			Sets:   []nft.Set{{Name: "s_1", Type: nft.TypeIPv6Addr}},
			Chains: []nft.Chain{base(rule(nft.InSet{Key: nft.KeySrc4, Set: "s_1"}))},
		}, "of type ipv6_addr"},
		{"vmap not last", nft.Ruleset{
			Maps:   []nft.Map{{Name: "m_1", Type: nft.TypeIPv4Addr}},
			Chains: []nft.Chain{base(rule(nft.VMap{Key: nft.KeyDst4, Map: "m_1"}, nft.VerdictAccept))},
		}, "vmap must be the last"},
		{"address of other family", nft.Ruleset{Chains: []nft.Chain{base(rule(nft.AddrIs{Key: nft.KeySrc6, Addr: a4}))}}, "cannot equal"},
		{"address key not an address", nft.Ruleset{Chains: []nft.Chain{base(rule(nft.AddrIs{Key: nft.KeyProtoPort, Addr: a4}))}}, "is not an address"},
		{"mixed families", nft.Ruleset{Sets: []nft.Set{{Name: "s_1", Type: nft.TypeIPv6Addr}}, Chains: []nft.Chain{base(rule(nft.AddrIs{Key: nft.KeySrc4, Addr: a4}, nft.InSet{Key: nft.KeyDst6, Set: "s_1"}))}}, "mixes IPv4 and IPv6"},
		{"nfproto against address", nft.Ruleset{Chains: []nft.Chain{base(rule(nft.NFProtoIs{Family: nft.IPv6}, nft.AddrIs{Key: nft.KeySrc4, Addr: a4}))}}, "mixes IPv4 and IPv6"},
		{"unknown ct state", nft.Ruleset{Chains: []nft.Chain{base(rule(nft.CtStateIn{States: 16}))}}, "unknown states"},
		{"comment with quote", nft.Ruleset{Chains: []nft.Chain{base(nft.Rule{Stmts: []nft.Stmt{nft.VerdictAccept}, Comment: `say "hi"`})}}, "without double quotes"},
		{"comment too long", nft.Ruleset{Chains: []nft.Chain{base(nft.Rule{Stmts: []nft.Stmt{nft.VerdictAccept}, Comment: strings.Repeat("x", 128)})}}, "longer than 127"},
		{"set and map share names", nft.Ruleset{Sets: []nft.Set{{Name: "x_1", Type: nft.TypeIPv4Addr}}, Maps: []nft.Map{{Name: "x_1", Type: nft.TypeIPv4Addr}}}, "already defined"},
		{"range without interval", nft.Ruleset{Sets: []nft.Set{{Name: "s_1", Type: nft.TypeIPv4Addr, Elems: []nft.Elem{{Addr: mustRange("10.0.0.0-10.0.0.3")}}}}}, "need flags interval"},
		{"overlap", nft.Ruleset{Sets: []nft.Set{{Name: "s_1", Type: nft.TypeIPv4Addr, Interval: true, Elems: []nft.Elem{{Addr: mustRange("10.0.0.0-10.0.0.3")}, {Addr: mustRange("10.0.0.3-10.0.0.9")}}}}}, "overlap"},
		{"duplicate", nft.Ruleset{Sets: []nft.Set{{Name: "s_1", Type: nft.TypeIPv4Addr, Elems: []nft.Elem{nft.AddrElem(a4), nft.AddrElem(a4)}}}}, "appears twice"},
		{"concat overlap", nft.Ruleset{Sets: []nft.Set{{Name: "s_1", Type: nft.TypeIPv4ProtoPort, Interval: true, Elems: []nft.Elem{
			{Addr: mustRange("10.0.0.0-10.0.0.255"), Proto: nft.ProtoTCP, Ports: portRange(80, 90)},
			{Addr: mustRange("10.0.0.5-10.0.0.5"), Proto: nft.ProtoUDP, Ports: portRange(80, 90)},
			{Addr: mustRange("10.0.0.7-10.0.0.7"), Proto: nft.ProtoTCP, Ports: portRange(90, 95)},
		}}}}, "overlap"},
		{"concat disjoint", nft.Ruleset{Sets: []nft.Set{{Name: "s_1", Type: nft.TypeIPv4ProtoPort, Interval: true, Elems: []nft.Elem{
			{Addr: mustRange("10.0.0.0-10.0.0.255"), Proto: nft.ProtoTCP, Ports: portRange(80, 90)},
			{Addr: mustRange("10.0.0.5-10.0.0.5"), Proto: nft.ProtoUDP, Ports: portRange(80, 90)},
			{Addr: mustRange("10.0.0.7-10.0.0.7"), Proto: nft.ProtoTCP, Ports: portRange(91, 95)},
		}}}}, ""},
		{"port overlap", nft.Ruleset{Sets: []nft.Set{{Name: "s_1", Type: nft.TypeProtoPort, Interval: true, Elems: []nft.Elem{
			{Proto: nft.ProtoTCP, Ports: portRange(80, 90)}, {Proto: nft.ProtoTCP, Ports: portRange(90, 95)},
		}}}}, "overlap"},
		{"wrong family element", nft.Ruleset{Sets: []nft.Set{{Name: "s_1", Type: nft.TypeIPv6Addr, Elems: []nft.Elem{nft.AddrElem(a4)}}}}, "want an IPv6"},
		{"stray port", nft.Ruleset{Sets: []nft.Set{{Name: "s_1", Type: nft.TypeIPv4Addr, Elems: []nft.Elem{{Addr: mustRange("10.0.0.1-10.0.0.1"), Ports: portRange(1, 1)}}}}}, "no protocol or port"},
		{"missing protocol", nft.Ruleset{Sets: []nft.Set{{Name: "s_1", Type: nft.TypeProtoPort, Elems: []nft.Elem{{Ports: portRange(1, 1)}}}}}, "missing protocol"},
		{"map return verdict", nft.Ruleset{Maps: []nft.Map{{Name: "m_1", Type: nft.TypeIPv4Addr, Elems: []nft.MapElem{{Key: nft.AddrElem(a4), Verdict: nft.VerdictReturn}}}}}, "must be accept, drop, jump or goto"},
		{"map jump to missing", nft.Ruleset{Maps: []nft.Map{{Name: "m_1", Type: nft.TypeIPv4Addr, Elems: []nft.MapElem{{Key: nft.AddrElem(a4), Verdict: nft.JumpTo("x")}}}}}, `chain "x" not found`},
		{"jump loop", nft.Ruleset{Chains: []nft.Chain{
			{Name: "chain_a", Rules: []nft.Rule{rule(nft.JumpTo("chain_b"))}},
			{Name: "chain_b", Rules: []nft.Rule{rule(nft.GotoChain("chain_a"))}},
		}}, "jump loop [chain_a chain_b chain_a]"},
		{"loop through a map", nft.Ruleset{
			Maps: []nft.Map{{Name: "m_1", Type: nft.TypeIPv4Addr, Elems: []nft.MapElem{{Key: nft.AddrElem(a4), Verdict: nft.JumpTo("chain_a")}}}},
			Chains: []nft.Chain{
				{Name: "chain_a", Rules: []nft.Rule{rule(nft.VMap{Key: nft.KeyDst4, Map: "m_1"})}},
			},
		}, "jump loop [chain_a chain_a]"},
		{"too deep", deepRuleset(nft.MaxJumpDepth + 1), "jumps deep"},
		{"deep enough", deepRuleset(nft.MaxJumpDepth), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := nft.Validate(&tt.rs)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate: %v, want nil", err)
			case tt.want != "" && err == nil:
				t.Errorf("Validate: nil, want error containing %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Errorf("Validate: %v, want error containing %q", err, tt.want)
			}
		})
	}
}

// deepRuleset chains n regular chains below a base chain.
func deepRuleset(n int) nft.Ruleset {
	rs := nft.Ruleset{Chains: []nft.Chain{{Name: "base_b", Hook: nft.HookForward, Policy: nft.PolicyAccept, Rules: []nft.Rule{{Stmts: []nft.Stmt{nft.JumpTo("c_1")}}}}}}
	for i := 1; i <= n; i++ {
		rs.Chains = append(rs.Chains, nft.Chain{Name: fmt.Sprintf("c_%d", i)})
	}
	for i := 1; i < n; i++ {
		rs.Chains[i].Rules = []nft.Rule{{Stmts: []nft.Stmt{nft.GotoChain(rs.Chains[i+1].Name)}}}
	}
	return rs
}

// TestValidateCollectsAll checks that every problem is reported, not just
// the first.
func TestValidateCollectsAll(t *testing.T) {
	rs := &nft.Ruleset{Chains: []nft.Chain{
		{Name: "x_1", Hook: nft.HookInput},
		{Name: "y_1", Rules: []nft.Rule{{Stmts: []nft.Stmt{nft.JumpTo("nope")}}}},
	}}
	err := nft.Validate(rs)
	if err == nil {
		t.Fatal("Validate: nil")
	}
	for _, want := range []string{`chain "x_1"`, `chain "y_1"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v, want a problem about %s", err, want)
		}
	}
}

func TestValidateRandom(t *testing.T) {
	g := nfttest.NewGen(1)
	for range 200 {
		if err := nft.Validate(g.Ruleset("")); err != nil {
			t.Fatal(err)
		}
	}
}
