package anp_test

import (
	"fmt"

	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/parse/anp"
	"sigs.k8s.io/network-policy-api/apis/v1beta1"
	"sigs.k8s.io/yaml"
)

func ExampleFromClusterNetworkPolicyV1beta1() {
	manifest := `
apiVersion: policy.networking.k8s.io/v1beta1
kind: ClusterNetworkPolicy
metadata:
  name: tenant-acme
spec:
  tier: Admin
  priority: 100
  subject:
    namespaces:
      matchLabels: {tenant: acme}
  egress:
  - name: same-tenant
    action: Pass
    to:
    - namespaces:
        matchLabels: {tenant: acme}
  - name: metadata
    action: Deny
    to:
    - networks: [169.254.169.254/32, 10.0.0.1/8]
    protocols:
    - tcp:
        destinationPort: {number: 80}
`
	var cnp v1beta1.ClusterNetworkPolicy
	if err := yaml.UnmarshalStrict([]byte(manifest), &cnp); err != nil {
		fmt.Println(err)
		return
	}
	pol, problems := anp.FromClusterNetworkPolicyV1beta1(&cnp, model.Source{File: "tenants.yaml", Line: 1})
	for _, p := range problems {
		fmt.Println(p.Error())
	}
	fmt.Println("valid:", pol != nil)

	// Fix the network and convert again.
	cnp.Spec.Egress[1].To[0].Networks[1] = "10.0.0.0/8"
	pol, _ = anp.FromClusterNetworkPolicyV1beta1(&cnp, model.Source{File: "tenants.yaml", Line: 1})
	fmt.Println(pol.Ref(), pol.Tier, pol.Priority)
	for _, r := range pol.Rules {
		fmt.Println(" ", r.Ref(), r.Action, r.Peers[0], r.Ports)
	}
	// Output:
	// tenants.yaml:1: clusternetworkpolicy tenant-acme: spec.egress[1].to[0].networks[1]: invalid CIDR "10.0.0.1/8": bits are set after the prefix length; did you mean 10.0.0.0/8?
	// valid: false
	// ClusterNetworkPolicy tenant-acme Admin 100
	//   egress[0] 'same-tenant' Pass namespaces tenant=acme []
	//   egress[1] 'metadata' Deny networks 169.254.169.254/32,10.0.0.0/8 [TCP 80]
}
