package netpol

import (
	"net/netip"
	"testing"

	"github.com/bulkhead/bulkhead/model"
	"github.com/google/go-cmp/cmp"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"
)

// cmpModel compares the model's opaque set and selector types by value.
var cmpModel = cmp.Options{
	cmp.Comparer(func(a, b model.Selector) bool {
		return a.Key() == b.Key() && a.String() == b.String() && a.SelectsNone() == b.SelectsNone()
	}),
	cmp.Comparer(func(a, b model.IPSet) bool { return a.Equal(b) }),
	cmp.Comparer(func(a, b model.PortSet) bool { return a.Equal(b) }),
}

func decode(t testing.TB, doc string) *networkingv1.NetworkPolicy {
	t.Helper()
	var np networkingv1.NetworkPolicy
	if err := yaml.UnmarshalStrict([]byte(doc), &np); err != nil {
		t.Fatalf("decoding test policy: %v", err)
	}
	return &np
}

var testSrc = model.Source{File: "p.yaml", Line: 3}

// policy returns the policy FromNetworkPolicy should make for
// "shop/test" with the given subject selector, isolation and rules.
func policy(sel model.Selector, ingress, egress bool, rules ...model.Rule) *model.Policy {
	return &model.Policy{
		Kind:             "NetworkPolicy",
		APIVersion:       "networking.k8s.io/v1",
		Namespace:        "shop",
		Name:             "test",
		Tier:             model.TierNetworkPolicy,
		Subject:          model.Subject{Namespace: "shop", PodSelector: sel},
		IngressIsolation: ingress,
		EgressIsolation:  egress,
		Rules:            rules,
		Source:           model.Source{File: "p.yaml", Line: 3, Kind: "NetworkPolicy", Namespace: "shop", Name: "test"},
	}
}

func in(i int, peers []model.Peer, ports ...model.PortSpec) model.Rule {
	return model.Rule{Direction: model.Ingress, Action: model.Allow, Index: i, AllPeers: peers == nil, Peers: peers, Ports: ports}
}

func out(i int, peers []model.Peer, ports ...model.PortSpec) model.Rule {
	r := in(i, peers, ports...)
	r.Direction = model.Egress
	return r
}

func tcp(first, last uint16) model.PortSpec {
	return model.PortSpec{Protocol: model.TCP, Ports: model.PortsOf(model.PortRange{First: first, Last: last})}
}

func block(cidr string, except ...string) model.IPSet {
	var ex []netip.Prefix
	for _, e := range except {
		ex = append(ex, netip.MustParsePrefix(e))
	}
	return model.IPBlock(netip.MustParsePrefix(cidr), ex...)
}

const header = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: test, namespace: shop}
`

var (
	all = model.Selector{}
	web = model.MustSelector("app=web")
)

// semanticTests are valid policies (header+spec) and the IR they make.
var semanticTests = []struct {
	name string
	spec string
	want *model.Policy
}{
	{
		name: "default deny ingress: empty podSelector selects every pod, policyTypes default to Ingress",
		spec: `spec: {podSelector: {}}`,
		want: policy(all, true, false),
	},
	{
		name: "absent podSelector selects every pod",
		spec: `spec: {}`,
		want: policy(all, true, false),
	},
	{
		name: "policyTypes default to Ingress and Egress when egress rules exist",
		spec: `
spec:
  podSelector: {matchLabels: {app: web}}
  egress: [{}]`,
		want: policy(web, true, true, out(0, nil)),
	},
	{
		name: "explicit Egress only keeps the ingress rules but does not isolate ingress",
		spec: `
spec:
  podSelector: {}
  policyTypes: [Egress]
  ingress: [{}]`,
		want: policy(all, false, true, in(0, nil)),
	},
	{
		name: "explicit Ingress and Egress without rules denies both",
		spec: `
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]`,
		want: policy(all, true, true),
	},
	{
		name: "absent and empty from both match all peers",
		spec: `
spec:
  ingress:
  - ports: [{port: 80}]
  - from: []`,
		want: policy(all, true, false, in(0, nil, tcp(80, 80)), in(1, nil)),
	},
	{
		name: "podSelector peer is in the policy's namespace",
		spec: `
spec:
  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}, {podSelector: {}}]`,
		want: policy(all, true, false, in(0, []model.Peer{
			{Kind: model.PeerPods, Namespace: "shop", PodSelector: web, Text: "podSelector app=web"},
			{Kind: model.PeerPods, Namespace: "shop", PodSelector: all, Text: "podSelector {}"},
		})),
	},
	{
		name: "namespaceSelector peer selects every pod of the namespaces",
		spec: `
spec:
  egress:
  - to: [{namespaceSelector: {matchLabels: {team: a}}}, {namespaceSelector: {}}]`,
		want: policy(all, true, true, out(0, []model.Peer{
			{Kind: model.PeerPods, NamespaceSelector: model.MustSelector("team=a"), Text: "namespaceSelector team=a"},
			{Kind: model.PeerPods, NamespaceSelector: all, Text: "namespaceSelector {}"},
		})),
	},
	{
		name: "namespaceSelector and podSelector in one peer are ANDed",
		spec: `
spec:
  ingress:
  - from:
    - namespaceSelector: {matchExpressions: [{key: team, operator: In, values: [a, b]}]}
      podSelector: {matchExpressions: [{key: app, operator: Exists}]}`,
		want: policy(all, true, false, in(0, []model.Peer{{
			Kind:              model.PeerPods,
			NamespaceSelector: model.MustSelector("team in (a,b)"),
			PodSelector:       model.MustSelector("app"),
			Text:              "namespaceSelector team in (a,b), podSelector app",
		}})),
	},
	{
		name: "IPv4 ipBlock with excepts",
		spec: `
spec:
  egress:
  - to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16, 10.2.3.4/32]}}]`,
		want: policy(all, true, true, out(0, []model.Peer{{
			Kind: model.PeerIPBlock,
			IPs:  block("10.0.0.0/8", "10.1.0.0/16", "10.2.3.4/32"),
			Text: "ipBlock 10.0.0.0/8 except 10.1.0.0/16,10.2.3.4/32",
		}})),
	},
	{
		name: "IPv6 ipBlock with except, and 0.0.0.0/0",
		spec: `
spec:
  ingress:
  - from:
    - ipBlock: {cidr: "2001:db8::/32", except: ["2001:db8:1::/48"]}
    - ipBlock: {cidr: 0.0.0.0/0}`,
		want: policy(all, true, false, in(0, []model.Peer{
			{Kind: model.PeerIPBlock, IPs: block("2001:db8::/32", "2001:db8:1::/48"), Text: "ipBlock 2001:db8::/32 except 2001:db8:1::/48"},
			{Kind: model.PeerIPBlock, IPs: block("0.0.0.0/0"), Text: "ipBlock 0.0.0.0/0"},
		})),
	},
	{
		name: "ports: protocol defaults to TCP, absent port means every port, endPort makes a range, named ports stay named",
		spec: `
spec:
  ingress:
  - ports:
    - port: 443
    - protocol: UDP
    - protocol: SCTP
      port: 9000
      endPort: 9100
    - port: http
    - protocol: UDP
      port: dns
    - port: 8080
      endPort: 8080`,
		want: policy(all, true, false, in(0, nil,
			tcp(443, 443),
			model.PortSpec{Protocol: model.UDP, Ports: model.AllPorts()},
			model.PortSpec{Protocol: model.SCTP, Ports: model.PortsOf(model.PortRange{First: 9000, Last: 9100})},
			model.PortSpec{Protocol: model.TCP, Name: "http"},
			model.PortSpec{Protocol: model.UDP, Name: "dns"},
			tcp(8080, 8080),
		)),
	},
	{
		name: "port bounds 1 and 65535 are valid",
		spec: `
spec:
  egress:
  - ports: [{port: 1, endPort: 65535}]`,
		want: policy(all, true, true, out(0, nil, tcp(1, 65535))),
	},
	{
		name: "rule indexes count per direction",
		spec: `
spec:
  ingress: [{}, {ports: [{port: 1}]}]
  egress: [{ports: [{port: 2}]}]`,
		want: policy(all, true, true, in(0, nil), in(1, nil, tcp(1, 1)), out(0, nil, tcp(2, 2))),
	},
}

func TestFromNetworkPolicy(t *testing.T) {
	for _, tt := range semanticTests {
		t.Run(tt.name, func(t *testing.T) {
			got, probs := FromNetworkPolicy(decode(t, header+tt.spec), testSrc)
			if len(probs) > 0 {
				t.Fatalf("unexpected problems: %v", probs)
			}
			if diff := cmp.Diff(tt.want, got, cmpModel); diff != "" {
				t.Errorf("FromNetworkPolicy mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFromNetworkPolicyDefaultNamespace(t *testing.T) {
	np := decode(t, `
metadata: {name: x}
spec:
  ingress: [{from: [{podSelector: {}}]}]`)
	p, probs := FromNetworkPolicy(np, model.Source{File: "f.yaml"})
	if len(probs) > 0 {
		t.Fatalf("unexpected problems: %v", probs)
	}
	want := model.Source{File: "f.yaml", Kind: "NetworkPolicy", Namespace: "default", Name: "x"}
	if diff := cmp.Diff(want, p.Source); diff != "" {
		t.Errorf("source mismatch (-want +got):\n%s", diff)
	}
	if p.Namespace != "default" || p.Subject.Namespace != "default" || p.Rules[0].Peers[0].Namespace != "default" {
		t.Errorf("namespace not defaulted: policy %q, subject %q, peer %q", p.Namespace, p.Subject.Namespace, p.Rules[0].Peers[0].Namespace)
	}
}

func TestFromNetworkPolicyNil(t *testing.T) {
	p, probs := FromNetworkPolicy(nil, testSrc)
	if p != nil || len(probs) != 1 || probs[0].Severity != model.SeverityError {
		t.Errorf("FromNetworkPolicy(nil) = %v, %v; want nil and one error", p, probs)
	}
}

// problem is a Problem's field path and message.
type problem struct{ Field, Msg string }

// invalidTests are policies the API server rejects, and the problems.
var invalidTests = []struct {
	name string
	doc  string
	want []problem
}{
	{
		name: "missing name",
		doc:  "metadata: {namespace: shop}",
		want: []problem{{"metadata.name", "Required value: name or generateName is required"}},
	},
	{
		name: "name not a DNS subdomain",
		doc:  "metadata: {name: Bad_Name, namespace: shop}",
		want: []problem{{"metadata.name", `Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`}},
	},
	{
		name: "bad selector operator",
		doc:  header + `spec: {podSelector: {matchExpressions: [{key: app, operator: Equals, values: [a]}]}}`,
		want: []problem{{"spec.podSelector.matchExpressions[0].operator", `Invalid value: "Equals": not a valid selector operator`}},
	},
	{
		name: "In without values, Exists with values",
		doc: header + `
spec:
  podSelector:
    matchExpressions:
    - {key: app, operator: In}
    - {key: app, operator: Exists, values: [x]}`,
		want: []problem{
			{"spec.podSelector.matchExpressions[0].values", "Required value: must be specified when `operator` is 'In' or 'NotIn'"},
			{"spec.podSelector.matchExpressions[1].values", "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"},
		},
	},
	{
		name: "bad label value in a peer selector",
		doc: header + `
spec:
  ingress:
  - from: [{namespaceSelector: {matchLabels: {team: "a b"}}}]`,
		want: []problem{{"spec.ingress[0].from[0].namespaceSelector.matchLabels", `Invalid value: "a b": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`}},
	},
	{
		name: "empty peer",
		doc:  header + `spec: {egress: [{to: [{podSelector: {}}, {}]}]}`,
		want: []problem{{"spec.egress[0].to[1]", "Required value: must specify a peer"}},
	},
	{
		name: "ipBlock with a selector",
		doc:  header + `spec: {ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8}, namespaceSelector: {}}]}]}`,
		want: []problem{{"spec.ingress[0].from[0]", "Forbidden: may not specify both ipBlock and another peer"}},
	},
	{
		name: "protocol is case-sensitive",
		doc:  header + `spec: {ingress: [{ports: [{port: 80}, {protocol: tcp, port: 80}, {protocol: ICMP}]}]}`,
		want: []problem{
			{"spec.ingress[0].ports[1].protocol", `Unsupported value: "tcp": supported values: "TCP", "UDP", "SCTP"`},
			{"spec.ingress[0].ports[2].protocol", `Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"`},
		},
	},
	{
		name: "port numbers out of range",
		doc:  header + `spec: {ingress: [{ports: [{port: 0}, {port: 65536}, {port: -1}]}]}`,
		want: []problem{
			{"spec.ingress[0].ports[0].port", "Invalid value: 0: must be between 1 and 65535, inclusive"},
			{"spec.ingress[0].ports[1].port", "Invalid value: 65536: must be between 1 and 65535, inclusive"},
			{"spec.ingress[0].ports[2].port", "Invalid value: -1: must be between 1 and 65535, inclusive"},
		},
	},
	{
		name: "bad named ports",
		doc:  header + `spec: {egress: [{ports: [{port: "80"}, {port: HTTP}, {port: web-frontend-https}, {port: a--b}]}]}`,
		want: []problem{
			{"spec.egress[0].ports[0].port", `Invalid value: "80": must contain at least one letter (a-z)`},
			{"spec.egress[0].ports[1].port", `Invalid value: "HTTP": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)`},
			{"spec.egress[0].ports[1].port", `Invalid value: "HTTP": must contain at least one letter (a-z)`},
			{"spec.egress[0].ports[2].port", `Invalid value: "web-frontend-https": must be no more than 15 characters`},
			{"spec.egress[0].ports[3].port", `Invalid value: "a--b": must not contain consecutive hyphens`},
		},
	},
	{
		name: "endPort rules",
		doc: header + `
spec:
  ingress:
  - ports:
    - {port: http, endPort: 90}
    - {endPort: 90}
    - {port: 100, endPort: 90}
    - {port: 100, endPort: 70000}`,
		want: []problem{
			{"spec.ingress[0].ports[0].endPort", "Invalid value: 90: may not be specified when `port` is non-numeric"},
			{"spec.ingress[0].ports[1].endPort", "Invalid value: 90: may not be specified when `port` is not specified"},
			{"spec.ingress[0].ports[2].endPort", "Invalid value: 90: must be greater than or equal to `port`"},
			{"spec.ingress[0].ports[3].endPort", "Invalid value: 70000: must be between 1 and 65535, inclusive"},
		},
	},
	{
		name: "IPv4 cidr errors",
		doc: header + `
spec:
  egress:
  - to:
    - ipBlock: {cidr: ""}
    - ipBlock: {cidr: 10.0.0.0}
    - ipBlock: {cidr: 10.0.0.1/8}
    - ipBlock: {cidr: 010.0.0.0/8}
    - ipBlock: {cidr: 10.0.0.0/33}`,
		want: []problem{
			{"spec.egress[0].to[0].ipBlock.cidr", "Required value"},
			{"spec.egress[0].to[1].ipBlock.cidr", `Invalid value: "10.0.0.0": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)`},
			{"spec.egress[0].to[2].ipBlock.cidr", `Invalid value: "10.0.0.1/8": must not have bits set beyond the prefix length`},
			{"spec.egress[0].to[3].ipBlock.cidr", `Invalid value: "010.0.0.0/8": must not have leading 0s in IP or prefix length`},
			{"spec.egress[0].to[4].ipBlock.cidr", `Invalid value: "10.0.0.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)`},
		},
	},
	{
		name: "IPv6 cidr errors",
		doc: header + `
spec:
  egress:
  - to:
    - ipBlock: {cidr: "2001:db8::1/32"}
    - ipBlock: {cidr: "::ffff:10.0.0.0/104"}
    - ipBlock: {cidr: "2001:db8::/129"}`,
		want: []problem{
			{"spec.egress[0].to[0].ipBlock.cidr", `Invalid value: "2001:db8::1/32": must not have bits set beyond the prefix length`},
			{"spec.egress[0].to[1].ipBlock.cidr", `Invalid value: "::ffff:10.0.0.0/104": must not have an IPv4-mapped IPv6 address`},
			{"spec.egress[0].to[2].ipBlock.cidr", `Invalid value: "2001:db8::/129": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)`},
		},
	},
	{
		name: "except must be a strict subset of the cidr, of the same family",
		doc: header + `
spec:
  egress:
  - to:
    - ipBlock:
        cidr: 10.0.0.0/8
        except: [10.0.0.0/8, 11.0.0.0/16, 10.1.0.0/16, "2001:db8::/48", 10.2.0.0, 0.0.0.0/0]
    - ipBlock:
        cidr: "2001:db8::/32"
        except: ["2001:db9::/48", 10.0.0.0/16, "2001:db8::/32", "2001:db8:1::/48"]`,
		want: []problem{
			{"spec.egress[0].to[0].ipBlock.except[0]", `Invalid value: "10.0.0.0/8": must be a strict subset of ` + "`cidr`"},
			{"spec.egress[0].to[0].ipBlock.except[1]", `Invalid value: "11.0.0.0/16": must be a strict subset of ` + "`cidr`"},
			{"spec.egress[0].to[0].ipBlock.except[3]", `Invalid value: "2001:db8::/48": must be a strict subset of ` + "`cidr`"},
			{"spec.egress[0].to[0].ipBlock.except[4]", `Invalid value: "10.2.0.0": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)`},
			{"spec.egress[0].to[0].ipBlock.except[5]", `Invalid value: "0.0.0.0/0": must be a strict subset of ` + "`cidr`"},
			{"spec.egress[0].to[1].ipBlock.except[0]", `Invalid value: "2001:db9::/48": must be a strict subset of ` + "`cidr`"},
			{"spec.egress[0].to[1].ipBlock.except[1]", `Invalid value: "10.0.0.0/16": must be a strict subset of ` + "`cidr`"},
			{"spec.egress[0].to[1].ipBlock.except[2]", `Invalid value: "2001:db8::/32": must be a strict subset of ` + "`cidr`"},
		},
	},
	{
		name: "policyTypes values are case-sensitive",
		doc:  header + `spec: {policyTypes: [Ingress, egress]}`,
		want: []problem{{"spec.policyTypes[1]", `Unsupported value: "egress": supported values: "Ingress", "Egress"`}},
	},
	{
		name: "more than two policyTypes",
		doc:  header + `spec: {policyTypes: [Ingress, Egress, Ingress]}`,
		want: []problem{{"spec.policyTypes", `Invalid value: ["Ingress","Egress","Ingress"]: may not specify more than two policyTypes`}},
	},
	{
		name: "every problem is reported, in API order",
		doc: `
metadata: {name: x, namespace: Shop}
spec:
  podSelector: {matchLabels: {"-bad": x}}
  ingress:
  - from: [{}]
    ports: [{port: 0}]
  egress:
  - to: [{ipBlock: {cidr: 300.0.0.0/8}}]
  policyTypes: [Sideways]`,
		want: []problem{
			{"metadata.namespace", `Invalid value: "Shop": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`},
			{"spec.podSelector.matchLabels", `Invalid value: "-bad": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`},
			{"spec.ingress[0].ports[0].port", "Invalid value: 0: must be between 1 and 65535, inclusive"},
			{"spec.ingress[0].from[0]", "Required value: must specify a peer"},
			{"spec.egress[0].to[0].ipBlock.cidr", `Invalid value: "300.0.0.0/8": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)`},
			{"spec.policyTypes[0]", `Unsupported value: "Sideways": supported values: "Ingress", "Egress"`},
		},
	},
}

func TestFromNetworkPolicyInvalid(t *testing.T) {
	for _, tt := range invalidTests {
		t.Run(tt.name, func(t *testing.T) {
			p, probs := FromNetworkPolicy(decode(t, tt.doc), testSrc)
			if p != nil {
				t.Errorf("got a policy for an invalid object: %+v", p)
			}
			var got []problem
			for _, pr := range probs {
				got = append(got, problem{pr.Field, pr.Msg})
				if pr.Severity != model.SeverityError {
					t.Errorf("problem %v: severity %v, want error", pr, pr.Severity)
				}
				if pr.Source.File != "p.yaml" || pr.Source.Line != 3 || pr.Source.Kind != "NetworkPolicy" {
					t.Errorf("problem %v: source %+v does not name the file, line and kind", pr, pr.Source)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
