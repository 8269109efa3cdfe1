package dataplane_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/bulkhead/bulkhead/dataplane"
	"github.com/bulkhead/bulkhead/nft"
)

func ExampleFake() {
	ctx := context.Background()
	f := dataplane.NewFake("")
	rs := &nft.Ruleset{
		Maps: []nft.Map{{Name: "ingress_v4", Type: nft.TypeIPv4Addr}},
		Chains: []nft.Chain{{Name: "filter_forward", Hook: nft.HookForward, Policy: nft.PolicyAccept, Rules: []nft.Rule{
			{Stmts: []nft.Stmt{nft.VMap{Key: nft.KeyDst4, Map: "ingress_v4"}}},
		}}},
	}
	if err := f.Apply(ctx, rs); err != nil {
		fmt.Println(err)
	}

	// A pod appears, but the kernel fails: the table keeps its old content.
	next := rs.Clone()
	next.Maps[0].Elems = []nft.MapElem{{Key: nft.AddrElem(netip.MustParseAddr("10.1.0.7")), Verdict: nft.VerdictDrop}}
	f.FailNext(errors.New("netlink: out of memory"))
	fmt.Println(f.Apply(ctx, next))
	fmt.Println(len(f.Applied().Maps[0].Elems))

	// The next sync succeeds.
	fmt.Println(f.Apply(ctx, next))
	fmt.Print(f.Dump())
	// Output:
	// table inet bulkhead: incremental update failed, previous ruleset kept: netlink: out of memory
	// 0
	// <nil>
	// table inet bulkhead {
	// 	map ingress_v4 {
	// 		type ipv4_addr : verdict
	// 		elements = {
	// 			10.1.0.7 : drop,
	// 		}
	// 	}
	//
	// 	chain filter_forward {
	// 		type filter hook forward priority 0; policy accept;
	// 		ip daddr vmap @ingress_v4
	// 	}
	// }
}
