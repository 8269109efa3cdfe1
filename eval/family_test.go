package eval_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/parse/manifest"
	"github.com/google/go-cmp/cmp"
)

// TestFamilySplits: address peers that match a dual-stack endpoint by one
// family only are reported; others, and single-stack clusters, are not.
func TestFamilySplits(t *testing.T) {
	const pods = `apiVersion: v1
kind: Pod
metadata: {name: dual, namespace: ns, labels: {app: dual}}
spec: {containers: [{name: c, image: x}]}
status: {podIPs: [{ip: 10.0.0.2}, {ip: "fd00::2"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: dual-too, namespace: ns, labels: {app: dual}}
spec: {containers: [{name: c, image: x}]}
status: {podIPs: [{ip: 10.0.0.3}, {ip: "fd00::3"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: single, namespace: ns, labels: {app: single}}
spec: {containers: [{name: c, image: x}]}
status: {podIP: 10.0.0.4}
`
	var morePods string
	for i := 3; i <= 5; i++ {
		morePods += fmt.Sprintf("---\napiVersion: v1\nkind: Pod\nmetadata: {name: dual-%d, namespace: ns, labels: {app: dual}}\nspec: {containers: [{name: c, image: x}]}\nstatus: {podIPs: [{ip: 10.0.0.%d}, {ip: \"fd00::%d\"}]}\n", i, 10+i, 10+i)
	}
	policy := func(peers string) string {
		return `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: ns}
spec:
  podSelector: {matchLabels: {app: single}}
  ingress:
  - from: ` + peers + "\n"
	}
	anp := func(networks string) string {
		return `---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: a}
spec:
  priority: 5
  subject: {namespaces: {}}
  egress:
  - {name: to-net, action: Allow, to: [{networks: ` + networks + `}]}
`
	}
	tests := []struct {
		name         string
		input        string
		externalOnly bool
		want         []string // "peer: endpoints"
	}{
		{"IPv4 block covers the dual-stack pods' IPv4 addresses", pods + policy(`[{ipBlock: {cidr: 10.0.0.0/24}}]`), false,
			[]string{"NetworkPolicy ns/p ingress[0] matches ns/dual, ns/dual-too over IPv4 only"}},
		{"IPv6 block", pods + policy(`[{ipBlock: {cidr: "fd00::/64"}}]`), false,
			[]string{"NetworkPolicy ns/p ingress[0] matches ns/dual, ns/dual-too over IPv6 only"}},
		{"a block of each family in one rule covers both", pods + policy(`[{ipBlock: {cidr: 10.0.0.0/24}}, {ipBlock: {cidr: "fd00::/64"}}]`), false, nil},
		{"a selector in the same rule covers both", pods + policy(`[{ipBlock: {cidr: 10.0.0.0/24}}, {podSelector: {matchLabels: {app: dual}}}]`), false, nil},
		{"a selector of other pods does not", pods + policy(`[{ipBlock: {cidr: 10.0.0.0/24}}, {podSelector: {matchLabels: {app: single}}}]`), false,
			[]string{"NetworkPolicy ns/p ingress[0] matches ns/dual, ns/dual-too over IPv4 only"}},
		{"one pod's IPv4 address only", pods + policy(`[{ipBlock: {cidr: 10.0.0.2/32}}]`), false,
			[]string{"NetworkPolicy ns/p ingress[0] matches ns/dual over IPv4 only"}},
		{"admin networks of one family", pods + anp(`[10.0.0.0/24]`), false,
			[]string{"AdminNetworkPolicy a egress[0] 'to-net' matches ns/dual, ns/dual-too over IPv4 only"}},
		{"admin networks of both families", pods + anp(`[10.0.0.0/24, "fd00::/64"]`), false, nil},
		{"at most three endpoints named", pods + morePods + policy(`[{ipBlock: {cidr: 10.0.0.0/24}}]`), false,
			[]string{"NetworkPolicy ns/p ingress[0] matches ns/dual, ns/dual-3, ns/dual-4 and 2 more over IPv4 only"}},
		{"a block without pods", pods + policy(`[{ipBlock: {cidr: 192.0.2.0/24}}]`), false, nil},
		{"ipBlocks match no pod", pods + policy(`[{ipBlock: {cidr: 10.0.0.0/24}}]`), true, nil},
		{"selectors only", pods + policy(`[{podSelector: {}}]`), false, nil},
		{"single-stack cluster", strings.ReplaceAll(pods, `{ip: "fd00::2"}`, "") + policy(`[{ipBlock: {cidr: 10.0.0.0/24}}]`), false,
			[]string{"NetworkPolicy ns/p ingress[0] matches ns/dual-too over IPv4 only"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := manifest.LoadBytes("input.yaml", []byte(tt.input), manifest.Options{})
			if len(res.Snapshot.Problems) > 0 {
				t.Fatal(res.Snapshot.Problems[0].Error())
			}
			e := eval.New(res.Snapshot, eval.Options{IPBlockExternalOnly: tt.externalOnly})
			var got []string
			for _, s := range e.FamilySplits() {
				got = append(got, s.String())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("splits (-want +got):\n%s", diff)
			}
		})
	}
}
