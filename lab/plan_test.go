package lab

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/bulkhead/bulkhead/internal/testutil"
	"github.com/bulkhead/bulkhead/model"
)

// TestPlanGolden pins the whole layout of a two-node, dual-stack lab with
// an external host and a pod whose manifest address sits outside every
// pod CIDR. Review testdata/plan-two-nodes.txt after -update.
func TestPlanGolden(t *testing.T) {
	topo := Topology{
		Prefix:    "bh-",
		DualStack: true,
		Hosts: []Host{
			{Name: "shop/web", Node: "a", Ports: []model.ContainerPort{tcp80, udp53}},
			{Name: "shop/db", Node: "a", Addrs: []netip.Addr{addr("192.168.50.7")}, Ports: []model.ContainerPort{sctp9}},
			{Name: "shop/api", Node: "b", Ports: []model.ContainerPort{tcp80}},
		},
		External: []Host{{Name: "dns", Ports: []model.ContainerPort{udp53}}},
	}
	p, err := topo.Plan()
	if err != nil {
		t.Fatal(err)
	}
	testutil.Golden(t, "plan-two-nodes.txt", []byte(p.String()))
}

func TestPlanNames(t *testing.T) {
	p, err := Topology{
		Prefix: "t-",
		Hosts: []Host{
			{Name: "a/b", Node: "n 1"},
			{Name: "a.b", Node: "n 1"}, // sanitizes to the same name as "a/b"
		},
		External: []Host{{Name: "x"}},
	}.Plan()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ns := range p.Namespaces {
		got = append(got, ns.Name)
		if !strings.HasPrefix(ns.Name, "t-") {
			t.Errorf("namespace %q lacks the prefix", ns.Name)
		}
	}
	want := "t-node-n.1 t-outside t-pod-a.b t-pod-a.b-2"
	if strings.Join(got, " ") != want {
		t.Errorf("namespaces = %v, want %s", got, want)
	}
	for host, ns := range map[HostName]string{"a/b": "t-pod-a.b", "a.b": "t-pod-a.b-2", "x": "t-outside", "nope": ""} {
		if got := p.HostNetns(host); got != ns {
			t.Errorf("HostNetns(%q) = %q, want %q", host, got, ns)
		}
	}
	if got := p.NodeNetns("n 1"); got != "t-node-n.1" {
		t.Errorf("NodeNetns = %q", got)
	}
}

// TestPlanNoRouteOut checks the property the lab's safety rests on: no
// namespace routes anywhere but to lab addresses, except each pod's
// default route, which points at its own node's gateway, and the nodes
// hold no default route.
func TestPlanNoRouteOut(t *testing.T) {
	p, err := Topology{
		DualStack: true,
		Hosts:     []Host{{Name: "a", Node: "n"}, {Name: "b", Node: "m"}},
		External:  []Host{{Name: "x"}},
	}.Plan()
	if err != nil {
		t.Fatal(err)
	}
	lab := map[netip.Addr]bool{gateway4: true, outside4: true}
	for i := range p.Topology.Nodes {
		lab[nodeAddr(i, false)] = true
	}
	for _, hs := range [][]Host{p.Topology.Hosts, p.Topology.External} {
		for _, h := range hs {
			for _, a := range h.Addrs {
				lab[a] = true
			}
		}
	}
	for _, ns := range p.Namespaces {
		for _, r := range ns.Routes {
			switch {
			case r.Dst.Bits() == 0:
				if ns.Kind != NetnsPod || (r.Via != gateway4 && r.Via != gateway6) {
					t.Errorf("netns %s: default route %v via %v", ns.Name, r.Dst, r.Via)
				}
			case !r.Dst.IsSingleIP() || !lab[r.Dst.Addr()]:
				t.Errorf("netns %s: route to %v, not a lab address", ns.Name, r.Dst)
			}
		}
	}
}
