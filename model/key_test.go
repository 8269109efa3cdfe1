package model

import (
	"net/netip"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func mustSelector(t *testing.T, ml map[string]string) Selector {
	t.Helper()
	s, err := SelectorFromLabelSelector(&metav1.LabelSelector{MatchLabels: ml})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestPeerKey checks that peers matching the same things share a key
// whatever their text, and that any difference in what they match gives
// another key.
func TestPeerKey(t *testing.T) {
	web := mustSelector(t, map[string]string{"app": "web"})
	web2 := mustSelector(t, map[string]string{"app": "web"})
	db := mustSelector(t, map[string]string{"app": "db"})
	all := mustSelector(t, map[string]string{})
	p8, p16 := netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("10.1.0.0/16")
	ten, ten2, ten3 := IPBlock(p8), IPBlock(p8), IPBlock(p8, p16)
	tests := []struct {
		name string
		a, b Peer
		same bool
	}{
		{"text ignored", Peer{Kind: PeerPods, Namespace: "shop", PodSelector: web, Text: "a"}, Peer{Kind: PeerPods, Namespace: "shop", PodSelector: web2, Text: "b"}, true},
		{"pod selector", Peer{Kind: PeerPods, Namespace: "shop", PodSelector: web}, Peer{Kind: PeerPods, Namespace: "shop", PodSelector: db}, false},
		{"namespace", Peer{Kind: PeerPods, Namespace: "shop", PodSelector: web}, Peer{Kind: PeerPods, Namespace: "data", PodSelector: web}, false},
		{"namespace or selector", Peer{Kind: PeerPods, Namespace: "shop", PodSelector: web}, Peer{Kind: PeerPods, NamespaceSelector: all, PodSelector: web}, false},
		{"same addresses", Peer{Kind: PeerIPBlock, IPs: ten}, Peer{Kind: PeerIPBlock, IPs: ten2}, true},
		{"except", Peer{Kind: PeerIPBlock, IPs: ten}, Peer{Kind: PeerIPBlock, IPs: ten3}, false},
		{"ipBlock or networks", Peer{Kind: PeerIPBlock, IPs: ten}, Peer{Kind: PeerNetworks, IPs: ten}, false},
		{"nodes", Peer{Kind: PeerNodes, NodeSelector: web}, Peer{Kind: PeerNodes, NodeSelector: web2}, true},
		{"nodes or pods", Peer{Kind: PeerNodes, NodeSelector: web}, Peer{Kind: PeerPods, NamespaceSelector: web, PodSelector: web}, false},
		{"domains", Peer{Kind: PeerDomains, Domains: []string{"a.example", "b.example"}}, Peer{Kind: PeerDomains, Domains: []string{"a.example"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ka, kb := tt.a.Key(), tt.b.Key()
			if (ka == kb) != tt.same {
				t.Errorf("keys %q and %q: same = %v, want %v", ka, kb, ka == kb, tt.same)
			}
		})
	}
}

func TestLabelsKey(t *testing.T) {
	tests := []struct {
		a, b map[string]string
		same bool
	}{
		{nil, map[string]string{}, true},
		{map[string]string{"a": "1", "b": "2"}, map[string]string{"b": "2", "a": "1"}, true},
		{map[string]string{"a": "1"}, map[string]string{"a": "2"}, false},
		{map[string]string{"a": "1"}, map[string]string{"a": "1", "b": ""}, false},
		{map[string]string{"a": "1", "b": "2"}, map[string]string{"a": "1", "c": "2"}, false},
	}
	for _, tt := range tests {
		if ka, kb := LabelsKey(tt.a), LabelsKey(tt.b); (ka == kb) != tt.same {
			t.Errorf("LabelsKey(%v) = %q, LabelsKey(%v) = %q: same = %v, want %v", tt.a, ka, tt.b, kb, ka == kb, tt.same)
		}
	}
}
