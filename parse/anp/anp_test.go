package anp

import (
	"net/netip"
	"testing"

	"github.com/bulkhead/bulkhead/model"
	"github.com/google/go-cmp/cmp"
)

var (
	all  = model.Selector{}
	sel  = model.MustSelector
	v4v6 = func(cidrs ...string) model.IPSet {
		var ps []netip.Prefix
		for _, c := range cidrs {
			ps = append(ps, netip.MustParsePrefix(c))
		}
		return model.IPsOf(nil, ps...)
	}
	tcp   = func(first, last uint16) model.PortSpec { return portSpec(model.TCP, first, last) }
	udp   = func(first, last uint16) model.PortSpec { return portSpec(model.UDP, first, last) }
	sctp  = func(first, last uint16) model.PortSpec { return portSpec(model.SCTP, first, last) }
	named = func(name string) model.PortSpec { return model.PortSpec{Name: name} }
)

func portSpec(p model.Protocol, first, last uint16) model.PortSpec {
	return model.PortSpec{Protocol: p, Ports: model.PortsOf(model.PortRange{First: first, Last: last})}
}

func nsPeer(s string) model.Peer {
	return model.Peer{Kind: model.PeerPods, NamespaceSelector: sel(s), Text: "namespaces " + sel(s).String()}
}

func podPeer(ns, pods string) model.Peer {
	return model.Peer{Kind: model.PeerPods, NamespaceSelector: sel(ns), PodSelector: sel(pods),
		Text: "pods " + sel(pods).String() + " in namespaces " + sel(ns).String()}
}

func src(kind, name string) model.Source {
	return model.Source{File: "test.yaml", Line: 1, Kind: kind, Name: name}
}

func TestConvertMapping(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want *model.Policy
	}{{
		name: "anp/namespaces subject, every peer and port kind",
		doc: anpDoc("tenant-isolation", `
priority: 10
subject:
  namespaces:
    matchLabels: {tenant: acme}
ingress:
- name: pass-same-tenant
  action: Pass
  from:
  - namespaces:
      matchLabels: {tenant: acme}
- name: allow-monitoring
  action: Allow
  from:
  - pods:
      namespaceSelector:
        matchLabels: {kubernetes.io/metadata.name: monitoring}
      podSelector:
        matchExpressions:
        - {key: app, operator: In, values: [prometheus, thanos]}
  ports:
  - namedPort: metrics
  - portNumber: {port: 9090}
  - portRange: {protocol: UDP, start: 8000, end: 8100}
- action: Deny
  from:
  - namespaces: {}
egress:
- name: dns
  action: Allow
  to:
  - pods:
      namespaceSelector:
        matchLabels: {kubernetes.io/metadata.name: kube-system}
      podSelector:
        matchLabels: {k8s-app: kube-dns}
  ports:
  - portNumber: {protocol: UDP, port: 53}
  - portNumber: {protocol: TCP, port: 53}
- name: api-server
  action: Allow
  to:
  - nodes:
      matchExpressions:
      - {key: node-role.kubernetes.io/control-plane, operator: Exists}
  - networks: [10.96.0.1/32, "fd00:10:96::1/128"]
  ports:
  - portNumber: {protocol: SCTP, port: 6443}
- name: partners
  action: Allow
  to:
  - domainNames: [api.partner.example, "*.cdn.example."]
- action: Deny
  to:
  - networks: [0.0.0.0/0, "::/0"]
`),
		want: &model.Policy{
			Kind: "AdminNetworkPolicy", APIVersion: "policy.networking.k8s.io/v1alpha1", Name: "tenant-isolation",
			Tier: model.TierAdmin, Priority: 10,
			Subject:          model.Subject{NamespaceSelector: sel("tenant=acme"), PodSelector: all},
			IngressIsolation: true, EgressIsolation: true,
			Source: src("AdminNetworkPolicy", "tenant-isolation"),
			Rules: []model.Rule{
				{Direction: model.Ingress, Index: 0, Name: "pass-same-tenant", Action: model.Pass, Peers: []model.Peer{nsPeer("tenant=acme")}},
				{Direction: model.Ingress, Index: 1, Name: "allow-monitoring", Action: model.Allow,
					Peers: []model.Peer{podPeer("kubernetes.io/metadata.name=monitoring", "app in (prometheus,thanos)")},
					Ports: []model.PortSpec{named("metrics"), tcp(9090, 9090), udp(8000, 8100)}},
				{Direction: model.Ingress, Index: 2, Action: model.Deny, Peers: []model.Peer{nsPeer("")}},
				{Direction: model.Egress, Index: 0, Name: "dns", Action: model.Allow,
					Peers: []model.Peer{podPeer("kubernetes.io/metadata.name=kube-system", "k8s-app=kube-dns")},
					Ports: []model.PortSpec{udp(53, 53), tcp(53, 53)}},
				{Direction: model.Egress, Index: 1, Name: "api-server", Action: model.Allow,
					Peers: []model.Peer{
						{Kind: model.PeerNodes, NodeSelector: sel("node-role.kubernetes.io/control-plane"), Text: "nodes node-role.kubernetes.io/control-plane"},
						{Kind: model.PeerNetworks, IPs: v4v6("10.96.0.1/32", "fd00:10:96::1/128"), Text: "networks 10.96.0.1/32,fd00:10:96::1/128"},
					},
					Ports: []model.PortSpec{sctp(6443, 6443)}},
				{Direction: model.Egress, Index: 2, Name: "partners", Action: model.Allow,
					Peers: []model.Peer{{Kind: model.PeerDomains, Domains: []string{"api.partner.example", "*.cdn.example."},
						Text: "domainNames api.partner.example,*.cdn.example."}}},
				{Direction: model.Egress, Index: 3, Action: model.Deny,
					Peers: []model.Peer{{Kind: model.PeerNetworks, IPs: v4v6("0.0.0.0/0", "::/0"), Text: "networks 0.0.0.0/0,::/0"}}},
			},
		},
	}, {
		name: "anp/pods subject, egress only, priority bounds",
		doc: anpDoc("egress-only", `
priority: 1000
subject:
  pods:
    namespaceSelector: {}
    podSelector:
      matchLabels: {app: web}
egress:
- action: Deny
  to:
  - pods:
      namespaceSelector:
        matchExpressions:
        - {key: tenant, operator: NotIn, values: [acme]}
      podSelector: {}
`),
		want: &model.Policy{
			Kind: "AdminNetworkPolicy", APIVersion: "policy.networking.k8s.io/v1alpha1", Name: "egress-only",
			Tier: model.TierAdmin, Priority: 1000,
			Subject:         model.Subject{NamespaceSelector: all, PodSelector: sel("app=web")},
			EgressIsolation: true,
			Source:          src("AdminNetworkPolicy", "egress-only"),
			Rules: []model.Rule{{Direction: model.Egress, Action: model.Deny,
				Peers: []model.Peer{podPeer("tenant notin (acme)", "")}}},
		},
	}, {
		name: "anp/no rules affects no direction",
		doc: anpDoc("empty", `
priority: 0
subject:
  namespaces: {}
`),
		want: &model.Policy{
			Kind: "AdminNetworkPolicy", APIVersion: "policy.networking.k8s.io/v1alpha1", Name: "empty",
			Tier: model.TierAdmin, Subject: model.Subject{NamespaceSelector: all, PodSelector: all},
			Source: src("AdminNetworkPolicy", "empty"),
		},
	}, {
		name: "banp/default with IPv6 networks and nodes",
		doc: banpDoc("default", `
subject:
  namespaces:
    matchExpressions:
    - {key: tenant, operator: Exists}
ingress:
- action: Deny
  from:
  - namespaces: {}
egress:
- name: allow-internal-v6
  action: Allow
  to:
  - networks: ["2001:db8::/32", "fd00::/8"]
  - nodes: {}
  ports:
  - portRange: {start: 1, end: 65535}
- action: Deny
  to:
  - networks: [0.0.0.0/0]
`),
		want: &model.Policy{
			Kind: "BaselineAdminNetworkPolicy", APIVersion: "policy.networking.k8s.io/v1alpha1", Name: "default",
			Tier: model.TierBaseline, Subject: model.Subject{NamespaceSelector: sel("tenant"), PodSelector: all},
			IngressIsolation: true, EgressIsolation: true,
			Source: src("BaselineAdminNetworkPolicy", "default"),
			Rules: []model.Rule{
				{Direction: model.Ingress, Action: model.Deny, Peers: []model.Peer{nsPeer("")}},
				{Direction: model.Egress, Name: "allow-internal-v6", Action: model.Allow,
					Peers: []model.Peer{
						{Kind: model.PeerNetworks, IPs: v4v6("2001:db8::/32", "fd00::/8"), Text: "networks 2001:db8::/32,fd00::/8"},
						{Kind: model.PeerNodes, NodeSelector: all, Text: "nodes {}"},
					},
					Ports: []model.PortSpec{tcp(1, 65535)}},
				{Direction: model.Egress, Index: 1, Action: model.Deny,
					Peers: []model.Peer{{Kind: model.PeerNetworks, IPs: v4v6("0.0.0.0/0"), Text: "networks 0.0.0.0/0"}}},
			},
		},
	}, {
		name: "cnp v1alpha2/admin tier protocols",
		doc: cnpDoc("v1alpha2", "web-ports", `
tier: Admin
priority: 5
subject:
  pods:
    namespaceSelector:
      matchLabels: {env: prod}
    podSelector:
      matchLabels: {app: web}
ingress:
- name: web
  action: Accept
  from:
  - namespaces: {}
  protocols:
  - tcp:
      destinationPort: {number: 443}
  - udp:
      destinationPort:
        range: {start: 3478, end: 3481}
  - sctp:
      destinationPort: {number: 9000}
  - destinationNamedPort: http
- action: Deny
  from:
  - namespaces: {}
`),
		want: &model.Policy{
			Kind: "ClusterNetworkPolicy", APIVersion: "policy.networking.k8s.io/v1alpha2", Name: "web-ports",
			Tier: model.TierAdmin, Priority: 5,
			Subject:          model.Subject{NamespaceSelector: sel("env=prod"), PodSelector: sel("app=web")},
			IngressIsolation: true,
			Source:           src("ClusterNetworkPolicy", "web-ports"),
			Rules: []model.Rule{
				{Direction: model.Ingress, Name: "web", Action: model.Allow, Peers: []model.Peer{nsPeer("")},
					Ports: []model.PortSpec{tcp(443, 443), udp(3478, 3481), sctp(9000, 9000), named("http")}},
				{Direction: model.Ingress, Index: 1, Action: model.Deny, Peers: []model.Peer{nsPeer("")}},
			},
		},
	}, {
		name: "cnp v1beta1/baseline tier with Pass, domainNames and every egress peer",
		doc: cnpDoc("v1beta1", "baseline", `
tier: Baseline
priority: 100
subject:
  namespaces:
    matchLabels: {tenant: acme}
egress:
- name: hand-back
  action: Pass
  to:
  - pods:
      namespaceSelector:
        matchLabels: {tenant: acme}
      podSelector: {}
- name: saas
  action: Accept
  to:
  - domainNames: ["*.stripe.com", api.github.com]
  protocols:
  - tcp:
      destinationPort: {number: 443}
- name: infra
  action: Accept
  to:
  - nodes:
      matchLabels: {kubernetes.io/os: linux}
  - networks: [192.168.10.0/24, "2001:db8:10::/48", 10.1.2.3/32]
  - namespaces:
      matchLabels: {kubernetes.io/metadata.name: kube-system}
- action: Deny
  to:
  - networks: [0.0.0.0/0, "::/0"]
`),
		want: &model.Policy{
			Kind: "ClusterNetworkPolicy", APIVersion: "policy.networking.k8s.io/v1beta1", Name: "baseline",
			Tier: model.TierBaseline, Priority: 100,
			Subject:         model.Subject{NamespaceSelector: sel("tenant=acme"), PodSelector: all},
			EgressIsolation: true,
			Source:          src("ClusterNetworkPolicy", "baseline"),
			Rules: []model.Rule{
				{Direction: model.Egress, Name: "hand-back", Action: model.Pass, Peers: []model.Peer{podPeer("tenant=acme", "")}},
				{Direction: model.Egress, Index: 1, Name: "saas", Action: model.Allow,
					Peers: []model.Peer{{Kind: model.PeerDomains, Domains: []string{"*.stripe.com", "api.github.com"},
						Text: "domainNames *.stripe.com,api.github.com"}},
					Ports: []model.PortSpec{tcp(443, 443)}},
				{Direction: model.Egress, Index: 2, Name: "infra", Action: model.Allow,
					Peers: []model.Peer{
						{Kind: model.PeerNodes, NodeSelector: sel("kubernetes.io/os=linux"), Text: "nodes kubernetes.io/os=linux"},
						{Kind: model.PeerNetworks, IPs: v4v6("192.168.10.0/24", "2001:db8:10::/48", "10.1.2.3/32"),
							Text: "networks 192.168.10.0/24,2001:db8:10::/48,10.1.2.3/32"},
						nsPeer("kubernetes.io/metadata.name=kube-system"),
					}},
				{Direction: model.Egress, Index: 3, Action: model.Deny,
					Peers: []model.Peer{{Kind: model.PeerNetworks, IPs: v4v6("0.0.0.0/0", "::/0"), Text: "networks 0.0.0.0/0,::/0"}}},
			},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, probs := convertDoc(t, tt.doc)
			if len(probs) != 0 {
				t.Fatalf("unexpected problems: %v", probs)
			}
			if diff := cmp.Diff(tt.want, got, irOpts); diff != "" {
				t.Errorf("policy mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNetworksMatch checks that networks peers hold exactly the
// addresses their CIDRs cover, in both families.
func TestNetworksMatch(t *testing.T) {
	got, probs := convertDoc(t, cnpDoc("v1beta1", "nets", `
tier: Admin
priority: 1
subject:
  namespaces: {}
egress:
- action: Deny
  to:
  - networks: [10.0.0.0/8, "fd00:1::/64", 203.0.113.7/32]
`))
	if hasError(probs) {
		t.Fatal(probs)
	}
	ips := got.Rules[0].Peers[0].IPs
	for _, tc := range []struct {
		addr string
		want bool
	}{
		{"10.0.0.0", true}, {"10.255.255.255", true}, {"11.0.0.0", false},
		{"203.0.113.7", true}, {"203.0.113.8", false},
		{"fd00:1::1", true}, {"fd00:1:0:0:ffff:ffff:ffff:ffff", true}, {"fd00:1:0:1::", false},
		{"::ffff:10.1.2.3", true}, // IPv4-mapped addresses match as IPv4
	} {
		if got := ips.Contains(netip.MustParseAddr(tc.addr)); got != tc.want {
			t.Errorf("networks contains %s = %t, want %t", tc.addr, got, tc.want)
		}
	}
}
