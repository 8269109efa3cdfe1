package anp

import (
	"flag"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var printProblems = flag.Bool("print-problems", false, "print the problems each validation case gets")

const (
	anpSubject = "priority: 1\nsubject:\n  namespaces: {}\n"
	cnpSubject = "tier: Admin\npriority: 1\nsubject:\n  namespaces: {}\n"
)

// anpEgress wraps one v1alpha1 egress rule body (indented by 2) in a
// valid AdminNetworkPolicy.
func anpEgress(rule string) string {
	return anpDoc("p", anpSubject+"egress:\n- "+strings.TrimPrefix(indent(rule, "  "), "  "))
}

func cnpEgress(version, rule string) string {
	return cnpDoc(version, "p", cnpSubject+"egress:\n- "+strings.TrimPrefix(indent(rule, "  "), "  "))
}

func cnpIngress(rule string) string {
	return cnpDoc("v1beta1", "p", cnpSubject+"ingress:\n- "+strings.TrimPrefix(indent(rule, "  "), "  "))
}

func indent(s, by string) string {
	lines := strings.Split(strings.Trim(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = by + l
	}
	return strings.Join(lines, "\n") + "\n"
}

func errorf(field, format string, args ...any) prob {
	return prob{field, "error", fmt.Sprintf(format, args...)}
}

func TestConvertValidation(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []prob
		// valid says the policy is still returned (warnings only).
		valid bool
	}{
		// Object-level fields.
		{
			name: "anp/priority too high",
			doc:  anpDoc("p", "priority: 1001\nsubject:\n  namespaces: {}\n"),
			want: []prob{errorf("spec.priority", "must be between 0 and 1000, got 1001")},
		}, {
			name: "cnp/priority negative",
			doc:  cnpDoc("v1beta1", "p", "tier: Baseline\npriority: -1\nsubject:\n  namespaces: {}\n"),
			want: []prob{errorf("spec.priority", "must be between 0 and 1000, got -1")},
		}, {
			name: "anp/missing name",
			doc:  anpDoc("", anpSubject),
			want: []prob{errorf("metadata.name", "required: the object has no name")},
		}, {
			name: "cnp/invalid name",
			doc:  cnpDoc("v1beta1", "Tenant_A", cnpSubject),
			want: []prob{errorf("metadata.name", `invalid name "Tenant_A": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`)},
		}, {
			name: "banp/name must be default",
			doc:  banpDoc("baseline", "subject:\n  namespaces: {}\n"),
			want: []prob{errorf("metadata.name", `must be "default", got "baseline": only one BaselineAdminNetworkPolicy, named "default", can exist in a cluster`)},
		}, {
			name: "cnp/missing tier",
			doc:  cnpDoc("v1beta1", "p", "priority: 1\nsubject:\n  namespaces: {}\n"),
			want: []prob{errorf("spec.tier", `required: the tier must be "Admin" or "Baseline"`)},
		}, {
			name: "cnp v1alpha2/lower-case tier",
			doc:  cnpDoc("v1alpha2", "p", "tier: admin\npriority: 1\nsubject:\n  namespaces: {}\n"),
			want: []prob{errorf("spec.tier", `unsupported value "admin": supported values: "Admin", "Baseline"`)},
		},

		// Subject.
		{
			name: "anp/subject with no field",
			doc:  anpDoc("p", "priority: 1\nsubject: {}\n"),
			want: []prob{errorf("spec.subject", "exactly one of namespaces, pods must be set, found none")},
		}, {
			name: "cnp/subject with both fields",
			doc:  cnpDoc("v1beta1", "p", "tier: Admin\npriority: 1\nsubject:\n  namespaces: {}\n  pods:\n    podSelector: {}\n"),
			want: []prob{errorf("spec.subject", "exactly one of namespaces, pods must be set, found namespaces, pods")},
		}, {
			name: "anp/invalid selectors are all reported",
			doc: anpDoc("p", `priority: 1
subject:
  pods:
    namespaceSelector:
      matchLabels: {"bad key!": x}
    podSelector:
      matchExpressions:
      - {key: app, operator: Equals, values: [web]}
      - {key: tier, operator: In}
      - {key: env, operator: Exists, values: [prod]}
      - {key: team, operator: In, values: ["not a value"]}
`),
			want: []prob{
				errorf("spec.subject.pods.namespaceSelector.matchLabels", `Invalid value: "bad key!": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`),
				errorf("spec.subject.pods.podSelector.matchExpressions[0].operator", `Invalid value: "Equals": not a valid selector operator`),
				errorf("spec.subject.pods.podSelector.matchExpressions[1].values", "Required value: must be specified when `operator` is 'In' or 'NotIn'"),
				errorf("spec.subject.pods.podSelector.matchExpressions[2].values", "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"),
				errorf("spec.subject.pods.podSelector.matchExpressions[3].values[0]", `Invalid value: "not a value": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`),
			},
		},

		// Rules.
		{
			name: "anp/101 ingress rules",
			doc: anpDoc("p", anpSubject+"ingress:\n"+repeat(101, func(int) string {
				return "- action: Deny\n  from:\n  - namespaces: {}\n"
			})),
			want: []prob{errorf("spec.ingress", "too many ingress rules: 101, at most 100 allowed")},
		}, {
			name: "anp/100 egress rules are fine",
			doc: anpDoc("p", anpSubject+"egress:\n"+repeat(100, func(int) string {
				return "- action: Deny\n  to:\n  - namespaces: {}\n"
			})),
			valid: true,
		}, {
			name: "cnp/26 egress rules",
			doc: cnpDoc("v1beta1", "p", cnpSubject+"egress:\n"+repeat(26, func(int) string {
				return "- action: Deny\n  to:\n  - namespaces: {}\n"
			})),
			want: []prob{errorf("spec.egress", "too many egress rules: 26, at most 25 allowed")},
		}, {
			name: "cnp v1alpha2/26 ingress rules",
			doc: cnpDoc("v1alpha2", "p", cnpSubject+"ingress:\n"+repeat(26, func(int) string {
				return "- action: Deny\n  from:\n  - namespaces: {}\n"
			})),
			want: []prob{errorf("spec.ingress", "too many ingress rules: 26, at most 25 allowed")},
		}, {
			name: "anp/rule name longer than 100 characters",
			doc:  anpEgress("name: " + strings.Repeat("é", 101) + "\naction: Deny\nto:\n- namespaces: {}\n"),
			want: []prob{errorf("spec.egress[0].name", "may not be longer than 100 characters, got 101")},
		}, {
			name: "anp/Accept is ClusterNetworkPolicy's word",
			doc:  anpEgress("action: Accept\nto:\n- namespaces: {}\n"),
			want: []prob{errorf("spec.egress[0].action", `unsupported value "Accept": supported values: "Allow", "Deny", "Pass" (AdminNetworkPolicy calls this action "Allow")`)},
		}, {
			name: "cnp/Allow is AdminNetworkPolicy's word",
			doc:  cnpIngress("action: Allow\nfrom:\n- namespaces: {}\n"),
			want: []prob{errorf("spec.ingress[0].action", `unsupported value "Allow": supported values: "Accept", "Deny", "Pass" (ClusterNetworkPolicy calls this action "Accept")`)},
		}, {
			name: "cnp/missing action",
			doc:  cnpIngress("name: x\nfrom:\n- namespaces: {}\n"),
			want: []prob{errorf("spec.ingress[0].action", "required: a rule must have an action (Accept, Deny, Pass)")},
		}, {
			name: "banp/Pass is not a BANP action",
			doc:  banpDoc("default", "subject:\n  namespaces: {}\ningress:\n- action: Pass\n  from:\n  - namespaces: {}\n"),
			want: []prob{errorf("spec.ingress[0].action", `unsupported value "Pass": supported values: "Allow", "Deny" (BaselineAdminNetworkPolicy has no Pass action: there is no lower tier to pass to)`)},
		}, {
			name:  "cnp/Pass in the Baseline tier is valid",
			doc:   cnpDoc("v1beta1", "p", "tier: Baseline\npriority: 1\nsubject:\n  namespaces: {}\ningress:\n- action: Pass\n  from:\n  - namespaces: {}\n"),
			valid: true,
		},

		// Peers.
		{
			name: "cnp/missing from",
			doc:  cnpIngress("action: Deny\n"),
			want: []prob{errorf("spec.ingress[0].from", "required: a rule must list at least one peer")},
		}, {
			name: "anp/empty to",
			doc:  anpEgress("action: Deny\nto: []\n"),
			want: []prob{errorf("spec.egress[0].to", "must list at least one peer")},
		}, {
			name: "anp/peer with no field",
			doc:  anpEgress("action: Deny\nto:\n- namespaces: {}\n- {}\n"),
			want: []prob{errorf("spec.egress[0].to[1]", "exactly one of namespaces, pods, nodes, networks, domainNames must be set, found none")},
		}, {
			name: "cnp/ingress peer with two fields",
			doc:  cnpIngress("action: Deny\nfrom:\n- namespaces: {}\n  pods:\n    podSelector: {}\n"),
			want: []prob{errorf("spec.ingress[0].from[0]", "exactly one of namespaces, pods must be set, found namespaces, pods")},
		}, {
			name: "banp/egress peer fields",
			doc:  banpDoc("default", "subject:\n  namespaces: {}\negress:\n- action: Deny\n  to:\n  - nodes: {}\n    networks: [10.0.0.0/8]\n"),
			want: []prob{errorf("spec.egress[0].to[0]", "exactly one of namespaces, pods, nodes, networks must be set, found nodes, networks")},
		}, {
			name: "anp/101 peers",
			doc:  anpEgress("action: Deny\nto:\n" + repeat(101, func(int) string { return "- namespaces: {}\n" })),
			want: []prob{errorf("spec.egress[0].to", "too many peers: 101, at most 100 allowed")},
		}, {
			name: "cnp/26 peers",
			doc:  cnpIngress("action: Deny\nfrom:\n" + repeat(26, func(int) string { return "- namespaces: {}\n" })),
			want: []prob{errorf("spec.ingress[0].from", "too many peers: 26, at most 25 allowed")},
		}, {
			name: "cnp/invalid peer selectors",
			doc:  cnpEgress("v1beta1", "action: Deny\nto:\n- nodes:\n    matchLabels: {\"a/b/c\": x}\n- pods:\n    podSelector:\n      matchLabels: {app: \"-web\"}\n"),
			want: []prob{
				errorf("spec.egress[0].to[0].nodes.matchLabels", `Invalid value: "a/b/c": a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`),
				errorf("spec.egress[0].to[1].pods.podSelector.matchLabels", `Invalid value: "-web": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`),
			},
		},

		// Networks.
		{
			name: "cnp/invalid CIDRs",
			doc: cnpEgress("v1beta1", `action: Deny
to:
- networks:
  - 10.0.0.300/24
  - 10.0.0.1/8
  - "::ffff:10.0.0.0/104"
  - 10.0.0.0
  - "fd00::1/64"
  - "2001:0db8:0000:0000:0000:0000:100.100.100.100/128"
  - 10.0.0.0/8
  - 10.0.0.0/8
`),
			want: []prob{
				errorf("spec.egress[0].to[0].networks[0]", `invalid CIDR "10.0.0.300/24": want an IPv4 or IPv6 prefix such as 10.0.0.0/8 or fd00::/8`),
				errorf("spec.egress[0].to[0].networks[1]", `invalid CIDR "10.0.0.1/8": bits are set after the prefix length; did you mean 10.0.0.0/8?`),
				errorf("spec.egress[0].to[0].networks[2]", `invalid CIDR "::ffff:10.0.0.0/104": IPv4-mapped IPv6 addresses are not allowed; write the IPv4 prefix`),
				errorf("spec.egress[0].to[0].networks[3]", `invalid CIDR "10.0.0.0": want an IPv4 or IPv6 prefix such as 10.0.0.0/8 or fd00::/8`),
				errorf("spec.egress[0].to[0].networks[4]", `invalid CIDR "fd00::1/64": bits are set after the prefix length; did you mean fd00::/64?`),
				errorf("spec.egress[0].to[0].networks[5]", "may not be longer than 43 characters, got 49"),
				errorf("spec.egress[0].to[0].networks[7]", `duplicate value "10.0.0.0/8" (also networks[6])`),
			},
		}, {
			name: "anp/too many and no networks",
			doc: anpEgress("action: Deny\nto:\n- networks: []\n- networks:\n" + repeat(26, func(i int) string {
				return fmt.Sprintf("  - 10.%d.0.0/16\n", i)
			})),
			want: []prob{
				errorf("spec.egress[0].to[0].networks", "must list at least one CIDR"),
				errorf("spec.egress[0].to[1].networks", "too many CIDRs: 26, at most 25 allowed"),
			},
		},

		// Domain names.
		{
			name: "cnp/invalid domain names",
			doc: cnpEgress("v1beta1", `action: Accept
to:
- domainNames:
  - "*.*.example.com"
  - "foo*.example.com"
  - "*"
  - localhost
  - "example..com"
  - "-a.example.com"
  - "EXAMPLE.com."
  - "EXAMPLE.com."
`),
			want: []prob{
				errorf("spec.egress[0].to[0].domainNames[0]", `invalid domain name "*.*.example.com": '*' may only be a whole leading label, as in *.example.com`),
				errorf("spec.egress[0].to[0].domainNames[1]", `invalid domain name "foo*.example.com": '*' may only be a whole leading label, as in *.example.com`),
				errorf("spec.egress[0].to[0].domainNames[2]", `invalid domain name "*": '*' may only be a whole leading label, as in *.example.com`),
				errorf("spec.egress[0].to[0].domainNames[3]", `invalid domain name "localhost": want at least two labels, as in example.com`),
				errorf("spec.egress[0].to[0].domainNames[4]", `invalid domain name "example..com": labels are letters, digits, '-' and '_', and start and end with a letter or digit`),
				errorf("spec.egress[0].to[0].domainNames[5]", `invalid domain name "-a.example.com": labels are letters, digits, '-' and '_', and start and end with a letter or digit`),
				errorf("spec.egress[0].to[0].domainNames[7]", `duplicate value "EXAMPLE.com." (also domainNames[6])`),
			},
		}, {
			name:  "anp/domainNames in a Deny rule is accepted with a warning",
			doc:   anpEgress("action: Deny\nto:\n- domainNames: [evil.example.com]\n"),
			want:  []prob{{"spec.egress[0].to[0].domainNames", "warning", "domainNames is only supported in Allow rules, not Deny: implementations may ignore this peer"}},
			valid: true,
		}, {
			name:  "cnp/domainNames in a Pass rule is accepted with a warning",
			doc:   cnpEgress("v1alpha2", "action: Pass\nto:\n- domainNames: [a.example.com]\n"),
			want:  []prob{{"spec.egress[0].to[0].domainNames", "warning", "domainNames is only supported in Accept rules, not Pass: implementations may ignore this peer"}},
			valid: true,
		}, {
			name: "cnp/too many and no domain names",
			doc: cnpEgress("v1beta1", "action: Accept\nto:\n- domainNames: []\n- domainNames:\n"+repeat(26, func(i int) string {
				return fmt.Sprintf("  - h%d.example.com\n", i)
			})),
			want: []prob{
				errorf("spec.egress[0].to[0].domainNames", "must list at least one domain name"),
				errorf("spec.egress[0].to[1].domainNames", "too many domain names: 26, at most 25 allowed"),
			},
		},

		// v1alpha1 ports.
		{
			name: "anp/empty ports",
			doc:  anpEgress("action: Deny\nto:\n- namespaces: {}\nports: []\n"),
			want: []prob{errorf("spec.egress[0].ports", "must list at least one port when set; omit ports to match every port")},
		}, {
			name: "anp/101 ports",
			doc: anpEgress("action: Deny\nto:\n- namespaces: {}\nports:\n" + repeat(101, func(i int) string {
				return fmt.Sprintf("- portNumber: {port: %d}\n", i+1)
			})),
			want: []prob{errorf("spec.egress[0].ports", "too many ports: 101, at most 100 allowed")},
		}, {
			name: "anp/port items",
			doc: anpDoc("p", anpSubject+`ingress:
- action: Allow
  from:
  - namespaces: {}
  ports:
  - {}
  - portNumber: {port: 80}
    namedPort: http
  - portNumber: {port: 0}
  - portNumber: {protocol: ICMP, port: 70000}
  - portNumber: {protocol: udp, port: 53}
  - portRange: {start: 90, end: 80}
  - portRange: {start: 80, end: 80}
  - portRange: {protocol: SCTP, start: 0, end: 65536}
`),
			want: []prob{
				errorf("spec.ingress[0].ports[0]", "exactly one of portNumber, namedPort, portRange must be set, found none"),
				errorf("spec.ingress[0].ports[1]", "exactly one of portNumber, namedPort, portRange must be set, found portNumber, namedPort"),
				errorf("spec.ingress[0].ports[2].portNumber.port", "must be between 1 and 65535, got 0"),
				errorf("spec.ingress[0].ports[3].portNumber.protocol", `unsupported value "ICMP": supported values: "TCP", "UDP", "SCTP"`),
				errorf("spec.ingress[0].ports[3].portNumber.port", "must be between 1 and 65535, got 70000"),
				errorf("spec.ingress[0].ports[4].portNumber.protocol", `unsupported value "udp": supported values: "TCP", "UDP", "SCTP" (protocols are case-sensitive)`),
				errorf("spec.ingress[0].ports[5].portRange", "start (90) must be less than end (80)"),
				errorf("spec.ingress[0].ports[6].portRange", "start (80) must be less than end (80)"),
				errorf("spec.ingress[0].ports[7].portRange.start", "must be between 1 and 65535, got 0"),
				errorf("spec.ingress[0].ports[7].portRange.end", "must be between 1 and 65535, got 65536"),
			},
		}, {
			name: "anp/named port with networks peer",
			doc:  anpEgress("action: Allow\nto:\n- namespaces: {}\n- networks: [10.0.0.0/8]\nports:\n- portNumber: {port: 80}\n- namedPort: http\n"),
			want: []prob{errorf("spec.egress[0]", `ports[1].namedPort "http" cannot be used with the networks peer to[1]: networks, nodes and domainNames peers have no named ports`)},
		}, {
			name: "banp/named port with nodes peer",
			doc:  banpDoc("default", "subject:\n  namespaces: {}\negress:\n- action: Allow\n  to:\n  - nodes: {}\n  ports:\n  - namedPort: kubelet\n"),
			want: []prob{errorf("spec.egress[0]", `ports[0].namedPort "kubelet" cannot be used with the nodes peer to[0]: networks, nodes and domainNames peers have no named ports`)},
		}, {
			name:  "anp/named port with pods peers is fine, in both directions",
			doc:   anpDoc("p", anpSubject+"ingress:\n- action: Allow\n  from:\n  - namespaces: {}\n  ports:\n  - namedPort: http\negress:\n- action: Allow\n  to:\n  - pods:\n      namespaceSelector: {}\n      podSelector: {}\n  ports:\n  - namedPort: http\n"),
			valid: true,
		},

		// ClusterNetworkPolicy protocols.
		{
			name: "cnp/empty protocols",
			doc:  cnpIngress("action: Deny\nfrom:\n- namespaces: {}\nprotocols: []\n"),
			want: []prob{errorf("spec.ingress[0].protocols", "must list at least one protocol when set; omit protocols to match every connection")},
		}, {
			name: "cnp/26 protocols",
			doc: cnpIngress("action: Deny\nfrom:\n- namespaces: {}\nprotocols:\n" + repeat(26, func(i int) string {
				return fmt.Sprintf("- tcp:\n    destinationPort: {number: %d}\n", i+1)
			})),
			want: []prob{errorf("spec.ingress[0].protocols", "too many protocols: 26, at most 25 allowed")},
		}, {
			name: "cnp/protocol items",
			doc: cnpIngress(`action: Deny
from:
- namespaces: {}
protocols:
- {}
- tcp:
    destinationPort: {number: 80}
  destinationNamedPort: http
- tcp: {}
- udp:
    destinationPort: {}
- sctp:
    destinationPort:
      number: 80
      range: {start: 1, end: 2}
- tcp:
    destinationPort: {number: 65536}
- udp:
    destinationPort:
      range: {start: 53, end: 53}
- sctp:
    destinationPort:
      range: {start: 9000, end: 10}
- tcp:
    destinationPort:
      range: {start: -1, end: 100000}
`),
			want: []prob{
				errorf("spec.ingress[0].protocols[0]", "exactly one of tcp, udp, sctp, destinationNamedPort must be set, found none"),
				errorf("spec.ingress[0].protocols[1]", "exactly one of tcp, udp, sctp, destinationNamedPort must be set, found tcp, destinationNamedPort"),
				errorf("spec.ingress[0].protocols[2].tcp", "must set destinationPort; to match every TCP port use the range 1-65535"),
				errorf("spec.ingress[0].protocols[3].udp.destinationPort", "exactly one of number, range must be set, found none"),
				errorf("spec.ingress[0].protocols[4].sctp.destinationPort", "exactly one of number, range must be set, found number, range"),
				errorf("spec.ingress[0].protocols[5].tcp.destinationPort.number", "must be between 1 and 65535, got 65536"),
				errorf("spec.ingress[0].protocols[6].udp.destinationPort.range", "start (53) must be less than end (53)"),
				errorf("spec.ingress[0].protocols[7].sctp.destinationPort.range", "start (9000) must be less than end (10)"),
				errorf("spec.ingress[0].protocols[8].tcp.destinationPort.range.start", "must be between 1 and 65535, got -1"),
				errorf("spec.ingress[0].protocols[8].tcp.destinationPort.range.end", "must be between 1 and 65535, got 100000"),
			},
		}, {
			name: "cnp v1alpha2/named port with networks peer",
			doc:  cnpEgress("v1alpha2", "action: Accept\nto:\n- networks: [10.0.0.0/24]\nprotocols:\n- destinationNamedPort: http\n"),
			want: []prob{errorf("spec.egress[0]", `protocols[0].destinationNamedPort "http" cannot be used with the networks peer to[0]: networks, nodes and domainNames peers have no named ports`)},
		}, {
			name: "cnp/named port with domainNames peer",
			doc:  cnpEgress("v1beta1", "action: Accept\nto:\n- pods:\n    podSelector: {}\n- domainNames: [a.example.com]\nprotocols:\n- tcp:\n    destinationPort: {number: 443}\n- destinationNamedPort: https\n"),
			want: []prob{errorf("spec.egress[0]", `protocols[1].destinationNamedPort "https" cannot be used with the domainNames peer to[1]: networks, nodes and domainNames peers have no named ports`)},
		},

		// Every problem of an object is reported, in document order.
		{
			name: "cnp/all problems are collected",
			doc: cnpDoc("v1beta1", "p", `tier: Override
priority: 2000
subject: {}
ingress:
- action: Drop
  from: []
egress:
- action: Accept
  to:
  - networks: [300.0.0.0/8]
  protocols:
  - udp:
      destinationPort: {number: 0}
`),
			want: []prob{
				errorf("spec.tier", `unsupported value "Override": supported values: "Admin", "Baseline"`),
				errorf("spec.priority", "must be between 0 and 1000, got 2000"),
				errorf("spec.subject", "exactly one of namespaces, pods must be set, found none"),
				errorf("spec.ingress[0].action", `unsupported value "Drop": supported values: "Accept", "Deny", "Pass"`),
				errorf("spec.ingress[0].from", "must list at least one peer"),
				errorf("spec.egress[0].to[0].networks[0]", `invalid CIDR "300.0.0.0/8": want an IPv4 or IPv6 prefix such as 10.0.0.0/8 or fd00::/8`),
				errorf("spec.egress[0].protocols[0].udp.destinationPort", "exactly one of number, range must be set, found none"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pol, probs := convertDoc(t, tt.doc)
			got := probsOf(probs)
			if *printProblems {
				for _, p := range got {
					t.Logf("%s | %s | %s", p.Field, p.Severity, p.Msg)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems mismatch (-want +got):\n%s", diff)
			}
			if tt.valid != (pol != nil) {
				t.Errorf("policy returned = %t, want %t", pol != nil, tt.valid)
			}
			for _, p := range probs {
				if p.Source.File != "test.yaml" || p.Source.Line != 1 || p.Source.Name == "" && p.Field != "metadata.name" {
					t.Errorf("problem source = %+v, want the file, line, kind and name of the object", p.Source)
				}
			}
		})
	}
}
