package lab_test

import (
	"fmt"
	"net/netip"

	"github.com/bulkhead/bulkhead/lab"
	"github.com/bulkhead/bulkhead/model"
)

// Resolve assigns every host without an address one from its node's pod
// CIDR (or the documentation range, for external hosts), the same way in
// every process.
func ExampleTopology_Resolve() {
	topo := lab.Topology{
		Hosts: []lab.Host{
			{Name: "shop/web", Node: "node-1", Ports: []model.ContainerPort{{Protocol: model.TCP, Port: 80}}},
			{Name: "shop/db", Node: "node-2", Addrs: []netip.Addr{netip.MustParseAddr("192.168.7.7")}},
			{Name: "shop/api", Node: "node-1"},
		},
		External: []lab.Host{{Name: "payments", Ports: []model.ContainerPort{{Protocol: model.TCP, Port: 443}}}},
	}
	r, err := topo.Resolve()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, h := range append(r.Hosts, r.External...) {
		fmt.Println(h.Name, h.Node, h.Addrs)
	}
	fmt.Println(len(r.AllProbes()), "probes")
	// Output:
	// shop/web node-1 [10.244.0.2]
	// shop/db node-2 [192.168.7.7]
	// shop/api node-1 [10.244.0.3]
	// payments  [203.0.113.2]
	// 8 probes
}

// Resolve reports every problem at once, naming the host and field.
func ExampleTopology_Resolve_errors() {
	_, err := lab.Topology{
		Nodes: []lab.Node{{Name: "n", PodCIDRs: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/24")}}},
		Hosts: []lab.Host{
			{Name: "a", Node: "n", Addrs: []netip.Addr{netip.MustParseAddr("10.2.0.1")}},
			{Name: "b", Node: "n", Ports: []model.ContainerPort{{Protocol: model.TCP}}},
		},
	}.Resolve()
	fmt.Println(err)
	// Output:
	// host "a": addrs[0] 10.2.0.1: outside node "n"'s pod CIDR 10.1.0.0/24
	// host "b": ports[0]: port 0
}
