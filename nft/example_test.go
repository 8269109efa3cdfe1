package nft_test

import (
	"fmt"
	"net/netip"

	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/nft"
)

func exampleRuleset() *nft.Ruleset {
	peers := model.IPBlock(netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("10.1.0.0/16"))
	v4, _ := nft.AddrElems(peers)
	return &nft.Ruleset{
		Sets: []nft.Set{
			{Name: "peers_v4", Type: nft.TypeIPv4Addr, Interval: true, Elems: v4},
			{Name: "web_ports", Type: nft.TypeProtoPort, Interval: true, Elems: nft.PortElems(nft.ProtoTCP, model.SinglePort(443))},
		},
		Maps: []nft.Map{{Name: "ingress_v4", Type: nft.TypeIPv4Addr, Elems: []nft.MapElem{
			{Key: nft.AddrElem(netip.MustParseAddr("10.2.0.7")), Verdict: nft.JumpTo("ingress_web")},
		}}},
		Chains: []nft.Chain{
			{Name: "filter_forward", Hook: nft.HookForward, Policy: nft.PolicyAccept, Rules: []nft.Rule{
				{Stmts: []nft.Stmt{nft.CtStateIn{States: nft.CtEstablished | nft.CtRelated}, nft.VerdictAccept}},
				{Stmts: []nft.Stmt{nft.VMap{Key: nft.KeyDst4, Map: "ingress_v4"}}},
			}},
			{Name: "ingress_web", Rules: []nft.Rule{
				{Stmts: []nft.Stmt{nft.InSet{Key: nft.KeySrc4, Set: "peers_v4"}, nft.InSet{Key: nft.KeyProtoPort, Set: "web_ports"}, nft.VerdictAccept}, Comment: "networkpolicy prod/web ingress[0]"},
				{Stmts: []nft.Stmt{nft.VerdictDrop}, Comment: "networkpolicy prod/web: isolated"},
			}},
		},
	}
}

func ExampleRender() {
	fmt.Print(nft.Render(exampleRuleset()))
	// Output:
	// table inet bulkhead {
	// 	set peers_v4 {
	// 		type ipv4_addr
	// 		flags interval
	// 		elements = {
	// 			10.0.0.0/16,
	// 			10.2.0.0-10.255.255.255,
	// 		}
	// 	}
	//
	// 	set web_ports {
	// 		type inet_proto . inet_service
	// 		flags interval
	// 		elements = {
	// 			tcp . 443,
	// 		}
	// 	}
	//
	// 	map ingress_v4 {
	// 		type ipv4_addr : verdict
	// 		elements = {
	// 			10.2.0.7 : jump ingress_web,
	// 		}
	// 	}
	//
	// 	chain filter_forward {
	// 		type filter hook forward priority 0; policy accept;
	// 		ct state established,related accept
	// 		ip daddr vmap @ingress_v4
	// 	}
	//
	// 	chain ingress_web {
	// 		ip saddr @peers_v4 meta l4proto . th dport @web_ports accept comment "networkpolicy prod/web ingress[0]"
	// 		drop comment "networkpolicy prod/web: isolated"
	// 	}
	// }
}

func ExampleTraceSteps() {
	rs := exampleRuleset()
	p := nft.Packet{
		Hook:  nft.HookForward,
		Src:   netip.MustParseAddr("10.1.2.3"), // in the except block
		Dst:   netip.MustParseAddr("10.2.0.7"),
		Proto: nft.ProtoTCP,
		DPort: 443,
		Ct:    nft.CtNew,
	}
	v, steps := nft.TraceSteps(rs, p)
	fmt.Println(v)
	for _, s := range steps {
		fmt.Println(s)
	}
	// Output:
	// drop
	// filter_forward[1]: jump ingress_web
	// ingress_web[1]: drop
}

func ExampleAddrElems() {
	s := model.IPBlock(netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("10.128.0.0/9")).
		Union(model.IPBlock(netip.MustParsePrefix("10.64.0.0/10"))). // overlaps the first block
		Union(model.IPBlock(netip.MustParsePrefix("fd00::/8")))
	v4, v6 := nft.AddrElems(s)
	fmt.Println(v4, v6)
	// Output:
	// [10.0.0.0/9] [fd00::/8]
}

func ExampleDiff() {
	old := exampleRuleset()
	new := exampleRuleset()
	m := new.Map("ingress_v4")
	m.Elems = append(m.Elems, nft.MapElem{Key: nft.AddrElem(netip.MustParseAddr("10.2.0.8")), Verdict: nft.JumpTo("ingress_web")})
	fmt.Print(nft.RenderDelta(nft.Diff(old, new)))
	// Output:
	// add element inet bulkhead ingress_v4 { 10.2.0.8 : jump ingress_web }
}

func ExampleValidate() {
	rs := &nft.Ruleset{Chains: []nft.Chain{
		{Name: "filter_forward", Hook: nft.HookForward, Policy: nft.PolicyDrop, Rules: []nft.Rule{
			{Stmts: []nft.Stmt{nft.InSet{Key: nft.KeySrc4, Set: "peers_v4"}, nft.JumpTo("pol_web")}},
		}},
	}}
	fmt.Println(nft.Validate(rs))
	// Output:
	// chain "filter_forward": rule 0: statement 0: set "peers_v4" not found
	// chain "filter_forward": rule 0: statement 1: chain "pol_web" not found
}
