package nfttest

import (
	"net/netip"

	"go4.org/netipx"

	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/nft"
)

// Sample returns a ruleset shaped like the policy compiler's output, using
// every statement, set type and verdict: established traffic first, then
// dispatch on the local pod's address through verdict maps into chains
// shared by pods with the same policies, peers in interval sets (an ipBlock
// with an except, merged by nft.AddrElems) and ports as protocol . port
// sets. Its table is named table.
func Sample(table string) *nft.Ruleset {
	peers := model.IPBlock(netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("10.1.0.0/16")).
		Union(model.IPsOf([]netip.Addr{netip.MustParseAddr("192.168.1.7")})).
		Union(model.IPBlock(netip.MustParsePrefix("fd00::/64")))
	peers4, peers6 := nft.AddrElems(peers)
	web := append(nft.PortElems(nft.ProtoTCP, model.PortsOf(model.PortRange{First: 80, Last: 80}, model.PortRange{First: 443, Last: 443})),
		nft.PortElems(nft.ProtoUDP, model.PortsOf(model.PortRange{First: 5000, Last: 5100}))...)
	web = append(web, nft.PortElems(nft.ProtoSCTP, model.SinglePort(9))...)
	dns := nft.Concat(peers4[:1], nft.PortElems(nft.ProtoUDP, model.SinglePort(53)))

	pod := func(s string) nft.Elem { return nft.AddrElem(netip.MustParseAddr(s)) }
	established := nft.Rule{
		Stmts:   []nft.Stmt{nft.CtStateIn{States: nft.CtEstablished | nft.CtRelated}, nft.VerdictAccept},
		Comment: "replies to allowed connections",
	}
	invalid := nft.Rule{Stmts: []nft.Stmt{nft.CtStateIn{States: nft.CtInvalid}, nft.VerdictDrop}}
	return &nft.Ruleset{
		Table: table,
		Sets: []nft.Set{
			{Name: "peers_v4", Type: nft.TypeIPv4Addr, Interval: true, Comment: "networkpolicy prod/web ingress[0].from", Elems: peers4},
			{Name: "peers_v6", Type: nft.TypeIPv6Addr, Interval: true, Elems: peers6},
			{Name: "web_ports", Type: nft.TypeProtoPort, Interval: true, Elems: web},
			{Name: "dns_v4", Type: nft.TypeIPv4ProtoPort, Interval: true, Elems: dns},
			{Name: "local_v4", Type: nft.TypeIPv4Addr, Elems: []nft.Elem{pod("10.1.0.1"), pod("10.1.0.2")}},
			{Name: "empty_v6", Type: nft.TypeIPv6ProtoPort, Interval: true},
			{Name: "self_v4", Type: nft.TypeIPv4AddrPair, Elems: []nft.Elem{
				nft.PairElem(netip.MustParseAddr("10.1.0.1"), netip.MustParseAddr("10.1.0.1")),
				nft.PairElem(netip.MustParseAddr("10.1.0.4"), netip.MustParseAddr("10.1.0.4")),
			}},
			{Name: "self_v6", Type: nft.TypeIPv6AddrPair, Interval: true, Elems: []nft.Elem{
				{Addr: netipx.RangeOfPrefix(netip.MustParsePrefix("fd00:1::/64")), Addr2: nft.AddrElem(netip.MustParseAddr("fd00:1::1")).Addr},
			}},
		},
		Maps: []nft.Map{
			{Name: "ingress_v4", Type: nft.TypeIPv4Addr, Comment: "local pods by address", Elems: []nft.MapElem{
				{Key: pod("10.1.0.1"), Verdict: nft.JumpTo("ingress_web")},
				{Key: pod("10.1.0.2"), Verdict: nft.GotoChain("ingress_web")},
				{Key: pod("10.1.0.3"), Verdict: nft.VerdictAccept},
				{Key: pod("10.1.0.4"), Verdict: nft.VerdictDrop},
			}},
			{Name: "ingress_v6", Type: nft.TypeIPv6Addr, Elems: []nft.MapElem{
				{Key: pod("fd00:1::1"), Verdict: nft.JumpTo("ingress_web")},
			}},
			{Name: "egress_v4", Type: nft.TypeIPv4Addr, Elems: []nft.MapElem{
				{Key: pod("10.1.0.1"), Verdict: nft.JumpTo("egress_dns")},
			}},
		},
		Chains: []nft.Chain{
			{Name: "filter_forward", Hook: nft.HookForward, Priority: 0, Policy: nft.PolicyAccept, Rules: []nft.Rule{
				established,
				invalid,
				{Stmts: []nft.Stmt{nft.InSet{Key: nft.KeyAddrPair4, Set: "self_v4"}, nft.VerdictAccept}, Comment: "pods to themselves"},
				{Stmts: []nft.Stmt{nft.InSet{Key: nft.KeyAddrPair6, Set: "self_v6", Neg: true}, nft.VMap{Key: nft.KeyDst6, Map: "ingress_v6"}}},
				{Stmts: []nft.Stmt{nft.VMap{Key: nft.KeyDst4, Map: "ingress_v4"}}},
				{Stmts: []nft.Stmt{nft.VMap{Key: nft.KeySrc4, Map: "egress_v4"}}},
			}},
			{Name: "filter_input", Hook: nft.HookInput, Priority: 0, Policy: nft.PolicyAccept, Rules: []nft.Rule{
				established,
				{Stmts: []nft.Stmt{nft.InSet{Key: nft.KeySrc4, Set: "local_v4"}, nft.L4ProtoIs{Proto: nft.ProtoTCP}, nft.Counter{}, nft.VerdictAccept}},
			}},
			{Name: "filter_output", Hook: nft.HookOutput, Priority: 10, Policy: nft.PolicyAccept, Rules: []nft.Rule{
				{Stmts: []nft.Stmt{nft.NFProtoIs{Family: nft.IPv6}, nft.L4ProtoIs{Proto: nft.ProtoUDP}, nft.Counter{}}},
				{Stmts: []nft.Stmt{nft.AddrIs{Key: nft.KeyDst6, Addr: netip.MustParseAddr("fd00:1::1")}, nft.Counter{}}},
			}},
			{Name: "ingress_web", Rules: []nft.Rule{
				{Stmts: []nft.Stmt{nft.AddrIs{Key: nft.KeySrc4, Addr: netip.MustParseAddr("10.1.0.1")}, nft.VerdictAccept}, Comment: "pod to itself"},
				{Stmts: []nft.Stmt{nft.InSet{Key: nft.KeySrc4, Set: "peers_v4"}, nft.InSet{Key: nft.KeyProtoPort, Set: "web_ports"}, nft.Counter{}, nft.VerdictAccept}, Comment: "networkpolicy prod/web ingress[0]"},
				{Stmts: []nft.Stmt{nft.InSet{Key: nft.KeySrc6, Set: "peers_v6"}, nft.InSet{Key: nft.KeyProtoPort, Set: "web_ports"}, nft.VerdictAccept}},
				{Stmts: []nft.Stmt{nft.InSet{Key: nft.KeySrc4, Set: "peers_v4", Neg: true}, nft.AddrIs{Key: nft.KeySrc4, Addr: netip.MustParseAddr("10.1.0.9"), Neg: true}, nft.VerdictReturn}},
				{Stmts: []nft.Stmt{nft.Counter{}, nft.VerdictDrop}, Comment: "isolated: default deny"},
			}},
			{Name: "egress_dns", Rules: []nft.Rule{
				{Stmts: []nft.Stmt{nft.InSet{Key: nft.KeyDst4ProtoPort, Set: "dns_v4"}, nft.VerdictAccept}},
				{Stmts: []nft.Stmt{nft.InSet{Key: nft.KeyDst6ProtoPort, Set: "empty_v6"}, nft.VerdictAccept}},
				{Stmts: []nft.Stmt{nft.VerdictDrop}},
			}},
		},
	}
}

// Large returns a ruleset with n elements in an interval set of peers
// (every other /32 from 10.0.0.0, shifted by skip) and n pods in a verdict
// map, for benchmarks and batch-size tests.
func Large(table string, n, skip int) *nft.Ruleset {
	addr := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, byte(i >> 15), byte(i >> 7), byte(i << 1)}) }
	peers := nft.Set{Name: "peers_v4", Type: nft.TypeIPv4Addr, Interval: true}
	pods := nft.Map{Name: "pods_v4", Type: nft.TypeIPv4Addr}
	for i := range n {
		peers.Elems = append(peers.Elems, nft.AddrElem(addr(i+skip)))
		pods.Elems = append(pods.Elems, nft.MapElem{Key: nft.AddrElem(addr(i + skip).Next()), Verdict: nft.JumpTo("pol_web")})
	}
	return &nft.Ruleset{
		Table: table,
		Sets:  []nft.Set{peers},
		Maps:  []nft.Map{pods},
		Chains: []nft.Chain{
			{Name: "filter_fwd", Hook: nft.HookForward, Policy: nft.PolicyAccept, Rules: []nft.Rule{{Stmts: []nft.Stmt{nft.VMap{Key: nft.KeyDst4, Map: "pods_v4"}}}}},
			{Name: "pol_web", Rules: []nft.Rule{{Stmts: []nft.Stmt{nft.InSet{Key: nft.KeySrc4, Set: "peers_v4"}, nft.VerdictAccept}}}},
		},
	}
}
