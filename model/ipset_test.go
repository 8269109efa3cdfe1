package model

import (
	"fmt"
	"net/netip"
	"testing"
)

func TestIPBlock(t *testing.T) {
	tests := []struct {
		name   string
		cidr   string
		except []string
		in     []string
		out    []string
		str    string
	}{
		{"v4 except", "10.0.0.0/8", []string{"10.1.0.0/16"}, []string{"10.0.0.1", "10.2.0.0"}, []string{"10.1.2.3", "11.0.0.0"}, ""},
		{"unmasked cidr", "10.0.0.1/8", nil, []string{"10.200.0.0"}, nil, "10.0.0.0/8"},
		{"v6", "fd00::/8", []string{"fd00::/16"}, []string{"fd01::1"}, []string{"fd00::1", "10.0.0.1"}, ""},
		{"everything but private", "0.0.0.0/0", []string{"10.0.0.0/8"}, []string{"8.8.8.8"}, []string{"10.0.0.1"}, "0.0.0.0/0 except 10.0.0.0/8"},
		{"single address", "192.0.2.7/32", nil, []string{"192.0.2.7"}, []string{"192.0.2.8"}, "192.0.2.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ex []netip.Prefix
			for _, e := range tt.except {
				ex = append(ex, netip.MustParsePrefix(e))
			}
			s := IPBlock(netip.MustParsePrefix(tt.cidr), ex...)
			for _, a := range tt.in {
				if !s.Contains(netip.MustParseAddr(a)) {
					t.Errorf("%v does not contain %s", s, a)
				}
			}
			for _, a := range tt.out {
				if s.Contains(netip.MustParseAddr(a)) {
					t.Errorf("%v contains %s", s, a)
				}
			}
			if tt.str != "" && s.String() != tt.str {
				t.Errorf("String = %q, want %q", s.String(), tt.str)
			}
		})
	}
}

func TestIPSetAlgebra(t *testing.T) {
	a := IPBlock(netip.MustParsePrefix("10.0.0.0/8"))
	b := IPBlock(netip.MustParsePrefix("10.128.0.0/9"))
	if got := a.Subtract(b).String(); got != "10.0.0.0/9" {
		t.Errorf("a-b = %s", got)
	}
	if got := a.Intersect(b); !got.Equal(b) {
		t.Errorf("a∩b = %v", got)
	}
	if !a.Union(b).Equal(a) {
		t.Error("a∪b != a")
	}
	if !(IPSet{}).IsEmpty() || !b.Subtract(a).IsEmpty() {
		t.Error("empty set not empty")
	}
	if got := AllIPs().String(); got != "0.0.0.0/0,::/0" {
		t.Errorf("AllIPs = %s", got)
	}
}

func ExampleIPBlock() {
	s := IPBlock(netip.MustParsePrefix("172.16.0.0/12"), netip.MustParsePrefix("172.17.0.0/16"))
	fmt.Println(s.Contains(netip.MustParseAddr("172.16.1.1")), s.Contains(netip.MustParseAddr("172.17.1.1")))
	fmt.Println(s)
	// Output:
	// true false
	// 172.16.0.0/16,172.18.0.0-172.31.255.255
}

func ExampleConnSet_String() {
	web := ConnsOf(TCP, PortsOf(PortRange{80, 80}, PortRange{443, 443}))
	dns := ConnsOf(UDP, SinglePort(53))
	fmt.Println(web.Union(dns))
	fmt.Println(AllConns().Subtract(web))
	// Output:
	// TCP 80,443; UDP 53
	// all except TCP 80,443
}

func TestIPSetString(t *testing.T) {
	tests := []struct {
		name string
		set  IPSet
		want string
	}{
		{"prefix", IPBlock(netip.MustParsePrefix("10.0.0.0/8")), "10.0.0.0/8"},
		{"except", IPBlock(netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("10.0.0.0/8")), "0.0.0.0/0 except 10.0.0.0/8"},
		{"ranges win", IPBlock(netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/16"), netip.MustParsePrefix("10.255.0.0/16")), "10.1.0.0-10.254.255.255"},
		{"mixed", AllIPs().Subtract(IPBlock(netip.MustParsePrefix("10.0.0.0/24"))), "0.0.0.0/0 except 10.0.0.0/24 and ::/0"},
		{"holes", IPBlock(netip.MustParsePrefix("10.0.0.0/24")).Subtract(IPsOf([]netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")})), "10.0.0.0,10.0.0.3-10.0.0.255"},
		{"empty", IPSet{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.set.String(); got != tt.want {
				t.Errorf("String = %q, want %q", got, tt.want)
			}
		})
	}
}
