package netpol_test

import (
	"fmt"

	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/parse/netpol"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"
)

func ExampleFromNetworkPolicy() {
	doc := `
metadata: {name: api, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {team: web}}}]
    ports: [{port: 8080}, {port: metrics}]
  egress:
  - to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}]
    ports: [{protocol: UDP, port: 53}]
  - ports: [{port: 0}]
`
	var np networkingv1.NetworkPolicy
	if err := yaml.UnmarshalStrict([]byte(doc), &np); err != nil {
		panic(err)
	}
	p, problems := netpol.FromNetworkPolicy(&np, model.Source{File: "api.yaml", Line: 1})
	fmt.Println(p == nil)
	for _, pr := range problems {
		fmt.Println(pr)
	}

	np.Spec.Egress = np.Spec.Egress[:1]
	p, _ = netpol.FromNetworkPolicy(&np, model.Source{File: "api.yaml", Line: 1})
	fmt.Println(p.Ref(), "subject:", p.Subject)
	fmt.Println("isolates ingress:", p.IngressIsolation, "egress:", p.EgressIsolation)
	for _, r := range p.Rules {
		fmt.Printf("%s peers=%v ports=%v\n", r.Ref(), r.Peers, r.Ports)
	}
	// Output:
	// true
	// api.yaml:1: networkpolicy shop/api: spec.egress[1].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive
	// NetworkPolicy shop/api subject: namespace=shop, pods app=api
	// isolates ingress: true egress: true
	// ingress[0] peers=[namespaceSelector team=web] ports=[TCP 8080 TCP/metrics]
	// egress[0] peers=[ipBlock 10.0.0.0/8 except 10.1.0.0/16] ports=[UDP 53]
}
