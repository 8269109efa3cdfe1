package nft_test

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead/bulkhead/nft"
	"github.com/bulkhead/bulkhead/nft/nfttest"
)

func pkt(hook nft.Hook, src, dst string, proto nft.Proto, dport uint16, ct nft.CtState) nft.Packet {
	return nft.Packet{Hook: hook, Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst), Proto: proto, DPort: dport, Ct: ct}
}

func TestTraceSample(t *testing.T) {
	rs := nfttest.Sample("")
	fwd := nft.HookForward
	tests := []struct {
		name string
		p    nft.Packet
		want nft.VerdictKind
	}{
		{"established first", pkt(fwd, "1.2.3.4", "10.1.0.4", nft.ProtoTCP, 1, nft.CtEstablished), nft.Accept},
		{"related", pkt(fwd, "1.2.3.4", "10.1.0.4", nft.ProtoTCP, 1, nft.CtRelated), nft.Accept},
		{"invalid dropped", pkt(fwd, "1.2.3.4", "9.9.9.9", nft.ProtoTCP, 1, nft.CtInvalid), nft.Drop},
		{"vmap accept", pkt(fwd, "1.2.3.4", "10.1.0.3", nft.ProtoTCP, 1, nft.CtNew), nft.Accept},
		{"vmap drop", pkt(fwd, "10.0.0.1", "10.1.0.4", nft.ProtoTCP, 80, nft.CtNew), nft.Drop},
		{"peer on allowed port", pkt(fwd, "10.0.3.1", "10.1.0.1", nft.ProtoTCP, 80, nft.CtNew), nft.Accept},
		{"peer on other port", pkt(fwd, "10.0.3.1", "10.1.0.1", nft.ProtoTCP, 81, nft.CtNew), nft.Drop},
		{"peer on udp range start", pkt(fwd, "10.0.3.1", "10.1.0.1", nft.ProtoUDP, 5000, nft.CtNew), nft.Accept},
		{"peer on udp range end", pkt(fwd, "10.0.3.1", "10.1.0.1", nft.ProtoUDP, 5100, nft.CtNew), nft.Accept},
		{"peer past udp range", pkt(fwd, "10.0.3.1", "10.1.0.1", nft.ProtoUDP, 5101, nft.CtNew), nft.Drop},
		{"tcp port of udp range", pkt(fwd, "10.0.3.1", "10.1.0.1", nft.ProtoTCP, 5050, nft.CtNew), nft.Drop},
		{"sctp", pkt(fwd, "10.0.3.1", "10.1.0.1", nft.ProtoSCTP, 9, nft.CtNew), nft.Accept},
		{"single address in set", pkt(fwd, "192.168.1.7", "10.1.0.1", nft.ProtoTCP, 443, nft.CtNew), nft.Accept},
		{"next to single address", pkt(fwd, "192.168.1.8", "10.1.0.1", nft.ProtoTCP, 443, nft.CtNew), nft.Accept}, // returns, policy accept
		{"except block, named", pkt(fwd, "10.1.0.9", "10.1.0.1", nft.ProtoTCP, 80, nft.CtNew), nft.Drop},
		{"pod to itself", pkt(fwd, "10.1.0.1", "10.1.0.1", nft.ProtoTCP, 1, nft.CtNew), nft.Accept},
		{"isolated pod to itself", pkt(fwd, "10.1.0.4", "10.1.0.4", nft.ProtoTCP, 1, nft.CtNew), nft.Accept},
		{"isolated pod from another", pkt(fwd, "10.1.0.3", "10.1.0.4", nft.ProtoTCP, 1, nft.CtNew), nft.Drop},
		{"isolated pod to another", pkt(fwd, "10.1.0.4", "10.1.0.3", nft.ProtoTCP, 1, nft.CtNew), nft.Accept},
		{"ipv6 pair skips the map", pkt(fwd, "fd00:1::9", "fd00:1::1", nft.ProtoUDP, 1, nft.CtNew), nft.Accept},
		// 10.1.5.5 is in the except: not a peer, so rule 3 returns to
		// forward, which accepts by policy.
		{"except block returns after jump", pkt(fwd, "10.1.5.5", "10.1.0.1", nft.ProtoTCP, 80, nft.CtNew), nft.Accept},
		{"goto then drop", pkt(fwd, "10.1.0.9", "10.1.0.2", nft.ProtoTCP, 80, nft.CtNew), nft.Drop},
		{"ipv6 peer", pkt(fwd, "fd00::5", "fd00:1::1", nft.ProtoUDP, 5050, nft.CtNew), nft.Accept},
		{"ipv6 non-peer", pkt(fwd, "fd01::5", "fd00:1::1", nft.ProtoUDP, 5050, nft.CtNew), nft.Drop},
		{"ipv4-mapped is ipv6", pkt(fwd, "::ffff:10.0.3.1", "::ffff:10.1.0.1", nft.ProtoTCP, 80, nft.CtNew), nft.Accept},
		{"egress allowed", pkt(fwd, "10.1.0.1", "10.0.0.53", nft.ProtoUDP, 53, nft.CtNew), nft.Accept},
		{"egress wrong proto", pkt(fwd, "10.1.0.1", "10.0.0.53", nft.ProtoTCP, 53, nft.CtNew), nft.Drop},
		{"egress outside block", pkt(fwd, "10.1.0.1", "10.3.0.53", nft.ProtoUDP, 53, nft.CtNew), nft.Drop},
		{"unknown pods pass", pkt(fwd, "10.9.0.1", "10.9.0.2", nft.ProtoUDP, 53, nft.CtNew), nft.Accept},
		{"input hook", pkt(nft.HookInput, "10.1.0.2", "10.0.0.1", nft.ProtoTCP, 22, nft.CtNew), nft.Accept},
		{"no chain on hook", pkt(nft.HookPrerouting, "10.1.0.1", "10.0.0.1", nft.ProtoTCP, 22, nft.CtInvalid), nft.Accept},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, steps := nft.TraceSteps(rs, tt.p)
			if got.Kind != tt.want {
				t.Errorf("Trace(%v) = %v, want %v; steps: %v", tt.p, got, tt.want, steps)
			}
			if v := nft.Trace(rs, tt.p); v != got {
				t.Errorf("Trace = %v, TraceSteps = %v", v, got)
			}
		})
	}
}

// TestTraceControlFlow checks jump, goto, return, chain ends and several
// base chains on one hook against hand-worked kernel semantics.
func TestTraceControlFlow(t *testing.T) {
	accept := nft.Rule{Stmts: []nft.Stmt{nft.VerdictAccept}}
	drop := nft.Rule{Stmts: []nft.Stmt{nft.VerdictDrop}}
	do := func(v nft.Verdict) nft.Rule { return nft.Rule{Stmts: []nft.Stmt{v}} }
	base := func(name string, prio int32, policy nft.Policy, rules ...nft.Rule) nft.Chain {
		return nft.Chain{Name: name, Hook: nft.HookForward, Priority: prio, Policy: policy, Rules: rules}
	}
	regular := func(name string, rules ...nft.Rule) nft.Chain { return nft.Chain{Name: name, Rules: rules} }
	p := pkt(nft.HookForward, "10.0.0.1", "10.0.0.2", nft.ProtoTCP, 80, nft.CtNew)

	tests := []struct {
		name   string
		chains []nft.Chain
		want   nft.VerdictKind
		steps  []nft.Step
	}{
		{
			name:   "return from jump continues after it",
			chains: []nft.Chain{base("base_b", 0, nft.PolicyDrop, do(nft.JumpTo("chain_a")), accept), regular("chain_a", do(nft.VerdictReturn), drop)},
			want:   nft.Accept,
			steps:  []nft.Step{{"base_b", 0, nft.JumpTo("chain_a")}, {"chain_a", 0, nft.VerdictReturn}, {"base_b", 1, nft.VerdictAccept}},
		},
		{
			name:   "return after goto applies the policy",
			chains: []nft.Chain{base("base_b", 0, nft.PolicyDrop, do(nft.GotoChain("chain_a")), accept), regular("chain_a", do(nft.VerdictReturn))},
			want:   nft.Drop,
			steps:  []nft.Step{{"base_b", 0, nft.GotoChain("chain_a")}, {"chain_a", 0, nft.VerdictReturn}, {"base_b", -1, nft.VerdictDrop}},
		},
		{
			name:   "end of goto chain returns to last jump",
			chains: []nft.Chain{base("base_b", 0, nft.PolicyDrop, do(nft.JumpTo("chain_a")), accept), regular("chain_a", do(nft.GotoChain("chain_c")), drop), regular("chain_c")},
			want:   nft.Accept,
			steps:  []nft.Step{{"base_b", 0, nft.JumpTo("chain_a")}, {"chain_a", 0, nft.GotoChain("chain_c")}, {"base_b", 1, nft.VerdictAccept}},
		},
		{
			name:   "return in base chain applies the policy",
			chains: []nft.Chain{base("base_b", 0, nft.PolicyAccept, do(nft.VerdictReturn), drop)},
			want:   nft.Accept,
		},
		{
			name:   "accept in one base chain, drop in a later one",
			chains: []nft.Chain{base("late_base", 10, nft.PolicyDrop), base("early_base", -10, nft.PolicyDrop, accept)},
			want:   nft.Drop,
			steps:  []nft.Step{{"early_base", 0, nft.VerdictAccept}, {"late_base", -1, nft.VerdictDrop}},
		},
		{
			name:   "drop in an early base chain ends everything",
			chains: []nft.Chain{base("late_base", 10, nft.PolicyAccept, accept), base("early_base", -10, nft.PolicyAccept, drop)},
			want:   nft.Drop,
			steps:  []nft.Step{{"early_base", 0, nft.VerdictDrop}},
		},
		{
			name: "non-matching rule is skipped, matching rule without verdict continues",
			chains: []nft.Chain{base("base_b", 0, nft.PolicyDrop,
				nft.Rule{Stmts: []nft.Stmt{nft.L4ProtoIs{Proto: nft.ProtoUDP}, nft.VerdictAccept}},
				nft.Rule{Stmts: []nft.Stmt{nft.L4ProtoIs{Proto: nft.ProtoTCP}, nft.Counter{}}},
			)},
			want:  nft.Drop,
			steps: []nft.Step{{"base_b", 1, nft.Verdict{}}, {"base_b", -1, nft.VerdictDrop}},
		},
		{
			name: "address match implies family even when negated",
			chains: []nft.Chain{base("base_b", 0, nft.PolicyAccept,
				nft.Rule{Stmts: []nft.Stmt{nft.AddrIs{Key: nft.KeySrc6, Addr: netip.MustParseAddr("fd00::1"), Neg: true}, nft.VerdictDrop}},
			)},
			want: nft.Accept,
		},
		{
			name: "negated address match",
			chains: []nft.Chain{base("base_b", 0, nft.PolicyAccept,
				nft.Rule{Stmts: []nft.Stmt{nft.AddrIs{Key: nft.KeyDst4, Addr: netip.MustParseAddr("10.0.0.1"), Neg: true}, nft.VerdictDrop}},
			)},
			want: nft.Drop,
		},
		{
			name: "nfproto",
			chains: []nft.Chain{base("base_b", 0, nft.PolicyAccept,
				nft.Rule{Stmts: []nft.Stmt{nft.NFProtoIs{Family: nft.IPv6}, nft.VerdictAccept}},
				nft.Rule{Stmts: []nft.Stmt{nft.NFProtoIs{Family: nft.IPv4}, nft.VerdictDrop}},
			)},
			want: nft.Drop,
		},
		{
			name:   "other hooks are not evaluated",
			chains: []nft.Chain{{Name: "filter_in", Hook: nft.HookInput, Policy: nft.PolicyDrop}},
			want:   nft.Accept,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := &nft.Ruleset{Chains: tt.chains}
			if err := nft.Validate(rs); err != nil {
				t.Fatalf("invalid test ruleset: %v", err)
			}
			got, steps := nft.TraceSteps(rs, p)
			if got.Kind != tt.want {
				t.Errorf("verdict = %v, want %v; steps %v", got, tt.want, steps)
			}
			if tt.steps != nil {
				if diff := cmp.Diff(tt.steps, steps); diff != "" {
					t.Errorf("steps (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestTraceLookups checks set lookups at interval edges and in
// concatenations, and negated lookups.
func TestTraceLookups(t *testing.T) {
	rs := &nft.Ruleset{
		Sets: []nft.Set{
			{Name: "chain_a", Type: nft.TypeIPv4ProtoPort, Interval: true, Elems: nft.Concat(
				[]nft.Elem{{Addr: mustRange("10.0.0.8-10.0.0.15")}},
				[]nft.Elem{{Proto: nft.ProtoTCP, Ports: portRange(1000, 2000)}, {Proto: nft.ProtoUDP, Ports: portRange(53, 53)}},
			)},
		},
		Chains: []nft.Chain{{Name: "base_b", Hook: nft.HookInput, Policy: nft.PolicyDrop, Rules: []nft.Rule{
			{Stmts: []nft.Stmt{nft.InSet{Key: nft.KeySrc4ProtoPort, Set: "chain_a"}, nft.VerdictAccept}},
			{Stmts: []nft.Stmt{nft.InSet{Key: nft.KeyDst4ProtoPort, Set: "chain_a", Neg: true}, nft.VerdictDrop}},
			{Stmts: []nft.Stmt{nft.VerdictAccept}},
		}}},
	}
	if err := nft.Validate(rs); err != nil {
		t.Fatal(err)
	}
	in := nft.HookInput
	tests := []struct {
		p    nft.Packet
		want nft.VerdictKind
	}{
		{pkt(in, "10.0.0.8", "1.1.1.1", nft.ProtoTCP, 1000, nft.CtNew), nft.Accept},
		{pkt(in, "10.0.0.15", "1.1.1.1", nft.ProtoTCP, 2000, nft.CtNew), nft.Accept},
		{pkt(in, "10.0.0.16", "1.1.1.1", nft.ProtoTCP, 2000, nft.CtNew), nft.Drop},
		{pkt(in, "10.0.0.7", "1.1.1.1", nft.ProtoTCP, 1000, nft.CtNew), nft.Drop},
		{pkt(in, "10.0.0.9", "1.1.1.1", nft.ProtoTCP, 999, nft.CtNew), nft.Drop},
		{pkt(in, "10.0.0.9", "1.1.1.1", nft.ProtoUDP, 1000, nft.CtNew), nft.Drop},
		{pkt(in, "10.0.0.9", "1.1.1.1", nft.ProtoUDP, 53, nft.CtNew), nft.Accept},
		{pkt(in, "1.1.1.1", "10.0.0.9", nft.ProtoUDP, 53, nft.CtNew), nft.Accept}, // negated lookup found: no match
		{pkt(in, "fd00::1", "fd00::2", nft.ProtoUDP, 53, nft.CtNew), nft.Accept},  // ipv4 keys skip ipv6
	}
	for _, tt := range tests {
		if got := nft.Trace(rs, tt.p); got.Kind != tt.want {
			t.Errorf("Trace(%v) = %v, want %v", tt.p, got, tt.want)
		}
	}
}

// TestTraceInvalidTerminates checks that a goto loop, which Validate
// rejects, cannot hang Trace.
func TestTraceInvalidTerminates(t *testing.T) {
	rs := &nft.Ruleset{Chains: []nft.Chain{
		{Name: "base_b", Hook: nft.HookForward, Policy: nft.PolicyAccept, Rules: []nft.Rule{{Stmts: []nft.Stmt{nft.GotoChain("chain_a")}}}},
		{Name: "chain_a", Rules: []nft.Rule{{Stmts: []nft.Stmt{nft.GotoChain("chain_a")}}}},
		{Name: "chain_j", Rules: []nft.Rule{{Stmts: []nft.Stmt{nft.JumpTo("chain_j")}}}},
	}}
	if nft.Validate(rs) == nil {
		t.Fatal("Validate accepted a loop")
	}
	p := pkt(nft.HookForward, "10.0.0.1", "10.0.0.2", nft.ProtoTCP, 80, nft.CtNew)
	if got := nft.Trace(rs, p); got.Kind != nft.Drop {
		t.Errorf("Trace with goto loop = %v, want drop", got)
	}
	rs.Chains[0].Rules[0].Stmts[0] = nft.JumpTo("chain_j")
	if got := nft.Trace(rs, p); got.Kind != nft.Drop {
		t.Errorf("Trace with jump loop = %v, want drop", got)
	}
}

func BenchmarkTrace(b *testing.B) {
	rs := nfttest.Sample("")
	p := pkt(nft.HookForward, "10.0.3.1", "10.1.0.1", nft.ProtoUDP, 5050, nft.CtNew)
	b.ReportAllocs()
	for b.Loop() {
		nft.Trace(rs, p)
	}
}
