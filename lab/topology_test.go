package lab

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead/bulkhead/model"
)

var (
	tcp80  = model.ContainerPort{Protocol: model.TCP, Port: 80}
	udp53  = model.ContainerPort{Protocol: model.UDP, Port: 53}
	sctp9  = model.ContainerPort{Protocol: model.SCTP, Port: 9}
	addr   = netip.MustParseAddr
	prefix = netip.MustParsePrefix
)

func TestResolveErrors(t *testing.T) {
	tests := []struct {
		name string
		topo Topology
		want []string // substrings of the error, each required
	}{
		{
			name: "duplicate address",
			topo: Topology{Hosts: []Host{
				{Name: "a", Node: "n", Addrs: []netip.Addr{addr("10.1.0.5")}},
				{Name: "b", Node: "n", Addrs: []netip.Addr{addr("10.1.0.5")}},
			}},
			want: []string{`host "b": addrs[0] 10.1.0.5: also the address of "a"`},
		},
		{
			name: "outside explicit pod CIDR",
			topo: Topology{
				Nodes: []Node{{Name: "n", PodCIDRs: []netip.Prefix{prefix("10.9.0.0/24")}}},
				Hosts: []Host{{Name: "a", Node: "n", Addrs: []netip.Addr{addr("10.1.0.5")}}},
			},
			want: []string{`host "a": addrs[0] 10.1.0.5: outside node "n"'s pod CIDR 10.9.0.0/24`},
		},
		{
			name: "external inside a pod CIDR",
			topo: Topology{
				Hosts:    []Host{{Name: "a", Node: "n"}},
				External: []Host{{Name: "x", Addrs: []netip.Addr{addr("10.244.0.9")}}},
			},
			want: []string{`external "x": addrs[0] 10.244.0.9: inside node "n"'s pod CIDR 10.244.0.0/24`},
		},
		{
			name: "names",
			topo: Topology{
				Nodes:    []Node{{Name: "n"}, {Name: "n"}, {}},
				Hosts:    []Host{{Name: "a", Node: "n"}, {Name: "a", Node: "n"}, {Node: "n"}, {Name: "c"}},
				External: []Host{{Name: "x", Node: "n"}},
			},
			want: []string{
				`node[1] "n": name repeats node[0]`,
				`node[2]: name is empty`,
				`host "a": name repeats another host's`,
				`host[2]: name is empty`,
				`host "c": node is empty`,
				`external "x": node "n": external hosts are on no node`,
			},
		},
		{
			name: "bad addresses",
			topo: Topology{Hosts: []Host{{Name: "a", Node: "n", Addrs: []netip.Addr{
				addr("127.0.0.1"), addr("169.254.1.1"), addr("fe80::1"), addr("224.0.0.1"), addr("0.0.0.0"), {},
				addr("10.0.0.1"), addr("10.0.0.2"),
			}}}},
			want: []string{
				"addrs[0] 127.0.0.1: loopback address",
				"addrs[1] 169.254.1.1: link-local address",
				"addrs[2] fe80::1: link-local address",
				"addrs[3] 224.0.0.1: multicast address",
				"addrs[4] 0.0.0.0: unspecified address",
				"addrs[5] invalid IP: invalid address",
				"addrs[7] 10.0.0.2: a second IPv4 address",
			},
		},
		{
			name: "bad ports",
			topo: Topology{Hosts: []Host{{Name: "a", Node: "n", Ports: []model.ContainerPort{{Protocol: model.TCP}, {Port: 8}}}}},
			want: []string{`host "a": ports[0]: port 0`, `host "a": ports[1]: protocol Unknown: want TCP, UDP or SCTP`},
		},
		{
			name: "pod CIDRs",
			topo: Topology{Nodes: []Node{
				{Name: "n", PodCIDRs: []netip.Prefix{prefix("10.1.0.0/16"), prefix("10.2.0.0/16")}},
				{Name: "m", PodCIDRs: []netip.Prefix{prefix("10.1.2.0/24")}},
				{Name: "o", PodCIDRs: []netip.Prefix{prefix("169.254.0.0/24"), {}}},
			}},
			want: []string{
				`node "n": podCIDRs[1] 10.2.0.0/16: a second IPv4 CIDR`,
				`node "m": pod CIDR 10.1.2.0/24 overlaps node "n"'s 10.1.0.0/16`,
				`node "o": podCIDRs[0] 169.254.0.0/24: link-local address`,
				`node "o": podCIDRs[1]: invalid prefix`,
			},
		},
		{
			name: "prefix",
			topo: Topology{Prefix: "bad/prefix"},
			want: []string{`prefix "bad/prefix": character '/'`},
		},
		{
			name: "full pod CIDR",
			topo: Topology{
				Nodes: []Node{{Name: "n", PodCIDRs: []netip.Prefix{prefix("10.3.0.0/30")}}},
				Hosts: []Host{{Name: "a", Node: "n"}, {Name: "b", Node: "n"}},
			},
			want: []string{`host "b": no free address left in 10.3.0.0/30`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.topo.Resolve()
			if err == nil {
				t.Fatalf("Resolve() = %+v, want an error", got)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q; got:\n%v", w, err)
				}
			}
			if n := strings.Count(err.Error(), "\n") + 1; n != len(tt.want) {
				t.Errorf("error has %d problems, want %d:\n%v", n, len(tt.want), err)
			}
		})
	}
}

func TestResolveAssigns(t *testing.T) {
	topo := Topology{
		DualStack: true,
		Nodes:     []Node{{Name: "b", PodCIDRs: []netip.Prefix{prefix("10.7.0.0/24")}}},
		Hosts: []Host{
			// Given addresses are kept, in either family alone, and
			// skipped by assignment.
			{Name: "given", Node: "a", Addrs: []netip.Addr{addr("10.244.0.2")}},
			{Name: "mapped", Node: "a", Addrs: []netip.Addr{addr("::ffff:192.168.9.9")}},
			{Name: "a1", Node: "a", Ports: []model.ContainerPort{udp53, tcp80, udp53, {Name: "dup", Protocol: model.TCP, Port: 80}, sctp9}},
			{Name: "b1", Node: "b"},
			{Name: "a2", Node: "a"},
		},
		External: []Host{{Name: "x"}, {Name: "y", Addrs: []netip.Addr{addr("198.51.100.7")}}},
	}
	got, err := topo.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	want := Topology{
		Prefix:    DefaultPrefix,
		DualStack: true,
		Nodes: []Node{
			{Name: "b", PodCIDRs: []netip.Prefix{prefix("10.7.0.0/24"), prefix("fd00:10:244::/64")}},
			{Name: "a", PodCIDRs: []netip.Prefix{prefix("10.244.1.0/24"), prefix("fd00:10:244:1::/64")}},
		},
		Hosts: []Host{
			{Name: "given", Node: "a", Addrs: []netip.Addr{addr("10.244.0.2")}},
			{Name: "mapped", Node: "a", Addrs: []netip.Addr{addr("192.168.9.9")}},
			{Name: "a1", Node: "a", Addrs: []netip.Addr{addr("10.244.1.2"), addr("fd00:10:244:1::2")}, Ports: []model.ContainerPort{tcp80, udp53, sctp9}},
			{Name: "b1", Node: "b", Addrs: []netip.Addr{addr("10.7.0.2"), addr("fd00:10:244::2")}},
			{Name: "a2", Node: "a", Addrs: []netip.Addr{addr("10.244.1.3"), addr("fd00:10:244:1::3")}},
		},
		External: []Host{
			{Name: "x", Addrs: []netip.Addr{addr("203.0.113.2"), addr("2001:db8:e::2")}},
			{Name: "y", Addrs: []netip.Addr{addr("198.51.100.7")}},
		},
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b }), cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("Resolve() mismatch (-want +got):\n%s", diff)
	}
	again, err := topo.Resolve()
	if err != nil || !cmp.Equal(got, again, cmp.Comparer(func(a, b netip.Addr) bool { return a == b }), cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })) {
		t.Errorf("Resolve is not deterministic: %v", err)
	}
}

// TestResolveSkipsTaken checks that assignment never hands out an address
// a host declares, nor the broadcast address of an IPv4 CIDR.
func TestResolveSkipsTaken(t *testing.T) {
	topo := Topology{
		Nodes: []Node{{Name: "n", PodCIDRs: []netip.Prefix{prefix("10.5.0.0/29")}}},
		Hosts: []Host{
			{Name: "a", Node: "n"},
			{Name: "b", Node: "n", Addrs: []netip.Addr{addr("10.5.0.3")}},
			{Name: "c", Node: "n"},
			{Name: "d", Node: "n"},
			{Name: "e", Node: "n"},
		},
	}
	got, err := topo.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	var addrs []string
	for _, h := range got.Hosts {
		addrs = append(addrs, h.Addrs[0].String())
	}
	want := []string{"10.5.0.2", "10.5.0.3", "10.5.0.4", "10.5.0.5", "10.5.0.6"}
	if diff := cmp.Diff(want, addrs); diff != "" {
		t.Errorf("addresses mismatch (-want +got):\n%s", diff)
	}
	// 10.5.0.7 is the /29's broadcast address: a sixth host gets nothing.
	topo.Hosts = append(topo.Hosts, Host{Name: "f", Node: "n"})
	if _, err := topo.Resolve(); err == nil || !strings.Contains(err.Error(), `host "f": no free address left in 10.5.0.0/29`) {
		t.Errorf("Resolve() with a sixth host: %v, want no free address", err)
	}
}

func TestHostByAddr(t *testing.T) {
	topo, err := Topology{
		Hosts:    []Host{{Name: "a", Node: "n"}},
		External: []Host{{Name: "x"}},
	}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		addr netip.Addr
		want HostName
	}{
		{addr("10.244.0.2"), "a"},
		{addr("::ffff:10.244.0.2"), "a"},
		{addr("203.0.113.2"), "x"},
		{addr("10.244.0.3"), ""},
	} {
		h, _ := topo.HostByAddr(tt.addr)
		got := h.Name
		if got != tt.want {
			t.Errorf("HostByAddr(%v) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}

// must returns h, for tests that know the host exists.
func must(h Host, ok bool) Host {
	if !ok {
		panic("no such host")
	}
	return h
}

func TestAllProbes(t *testing.T) {
	topo, err := Topology{
		Hosts: []Host{
			{Name: "a", Node: "n", Addrs: []netip.Addr{addr("10.0.0.1"), addr("fd00::1")}, Ports: []model.ContainerPort{tcp80}},
			{Name: "b", Node: "n", Addrs: []netip.Addr{addr("10.0.0.2")}, Ports: []model.ContainerPort{udp53, sctp9}},
		},
	}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range topo.AllProbes() {
		got = append(got, s.String())
	}
	want := []string{
		"a -> 10.0.0.1:80 TCP",
		"a -> [fd00::1]:80 TCP",
		"a -> 10.0.0.2:53 UDP",
		"a -> 10.0.0.2:9 SCTP",
		"b -> 10.0.0.1:80 TCP", // b has no IPv6 address: no probe to fd00::1
		"b -> 10.0.0.2:53 UDP",
		"b -> 10.0.0.2:9 SCTP",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("AllProbes() mismatch (-want +got):\n%s", diff)
	}
}

func TestValidatePrefix(t *testing.T) {
	for _, tt := range []struct {
		prefix string
		ok     bool
	}{
		{"bh-", true},
		{"bh-test.1_x-", true},
		{"", false},
		{"a/b", false},
		{"a b", false},
		{"..", true}, // a name, never a path: netns names are joined under NetnsDir
		{strings.Repeat("x", 33), false},
	} {
		if err := ValidatePrefix(tt.prefix); (err == nil) != tt.ok {
			t.Errorf("ValidatePrefix(%q) = %v, want ok %v", tt.prefix, err, tt.ok)
		}
	}
}

func TestFromEndpoints(t *testing.T) {
	eps := []*model.Endpoint{
		{Kind: model.EndpointPod, Namespace: "shop", Name: "web", NodeName: "n1", IPs: []netip.Addr{addr("10.1.1.1")}, Ports: []model.ContainerPort{tcp80}},
		{Kind: model.EndpointWorkload, Workload: "Deployment", Namespace: "shop", Name: "api"},
		{Kind: model.EndpointPod, Namespace: "shop", Name: "db"},
		{Kind: model.EndpointPod, Namespace: "kube-system", Name: "proxy", HostNetwork: true},
		{Kind: model.EndpointNode, Name: "n1"},
	}
	got, notes := FromEndpoints(eps, 2)
	want := Topology{Hosts: []Host{
		{Name: "shop/web", Node: "n1", Addrs: []netip.Addr{addr("10.1.1.1")}, Ports: []model.ContainerPort{tcp80}},
		{Name: "shop/api[Deployment]", Node: "node-1"},
		{Name: "shop/db", Node: "node-2"},
	}}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("FromEndpoints() mismatch (-want +got):\n%s", diff)
	}
	wantNotes := []string{
		"kube-system/proxy: uses the host network, which the lab does not model",
		"n1[Node]: a Node is not a pod; the lab builds pods only",
	}
	if diff := cmp.Diff(wantNotes, notes); diff != "" {
		t.Errorf("notes mismatch (-want +got):\n%s", diff)
	}
	if _, err := got.Resolve(); err != nil {
		t.Errorf("Resolve: %v", err)
	}
}
