package compile_test

import (
	"fmt"
	"net/netip"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/nft"
	"github.com/bulkhead/bulkhead/nft/compile"
)

// ExampleNode compiles a namespace whose client may reach web pods on
// their named port only, then traces two packets through the ruleset.
func ExampleNode() {
	client := &model.Endpoint{Kind: model.EndpointPod, Namespace: "a", Name: "client", Labels: map[string]string{"app": "client"},
		IPs: []netip.Addr{netip.MustParseAddr("10.0.0.1")}}
	web := &model.Endpoint{Kind: model.EndpointPod, Namespace: "a", Name: "web", Labels: map[string]string{"app": "web"},
		IPs: []netip.Addr{netip.MustParseAddr("10.0.0.2")}, Ports: []model.ContainerPort{{Name: "http", Protocol: model.TCP, Port: 8080}}}
	snap := &model.Snapshot{
		Namespaces: map[string]*model.Namespace{"a": {Name: "a", Labels: map[string]string{model.NamespaceNameLabel: "a"}}},
		Endpoints:  []*model.Endpoint{client, web},
		Policies: []*model.Policy{{Kind: "NetworkPolicy", Namespace: "a", Name: "client", Tier: model.TierNetworkPolicy, EgressIsolation: true,
			Subject: model.Subject{Namespace: "a", PodSelector: model.MustSelector("app=client")},
			Rules: []model.Rule{{Direction: model.Egress, Action: model.Allow,
				Peers: []model.Peer{{Kind: model.PeerPods, Namespace: "a", PodSelector: model.MustSelector("app=web")}},
				Ports: []model.PortSpec{{Protocol: model.TCP, Name: "http"}}}}}},
	}
	e := eval.New(snap, eval.Options{})
	rs, err := compile.Node(e, []*model.Endpoint{client, web}, compile.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, port := range []uint16{8080, 22} {
		p := nft.Packet{Hook: nft.HookForward, Src: client.IPs[0], Dst: web.IPs[0], Proto: nft.ProtoTCP, DPort: port, Ct: nft.CtNew}
		fmt.Println(port, nft.Trace(rs, p))
	}
	for _, c := range rs.Chains[1:] {
		for _, r := range c.Rules {
			fmt.Println(nft.FormatRule(r))
		}
	}
	// Output:
	// 8080 accept
	// 22 drop
	// ip daddr . meta l4proto . th dport @named_0ef372f40516_v4 return comment "NetworkPolicy a/client egress[0]"
	// drop comment "isolated by NetworkPolicy a/client: no rule allows it"
}
