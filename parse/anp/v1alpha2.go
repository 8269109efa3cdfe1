package anp

import (
	"sigs.k8s.io/network-policy-api/apis/v1alpha2"
	"sigs.k8s.io/network-policy-api/apis/v1beta1"
)

// v1alpha2ToV1beta1 copies a v1alpha2 ClusterNetworkPolicy into the
// v1beta1 types, which have the same fields in network-policy-api v0.3.0
// (the CRD serves both from one schema). It keeps nil and empty lists
// apart, as validation needs. Status is not copied: nothing reads it.
// TestV1alpha2ToV1beta1Complete checks that no field is forgotten.
func v1alpha2ToV1beta1(p *v1alpha2.ClusterNetworkPolicy) *v1beta1.ClusterNetworkPolicy {
	out := &v1beta1.ClusterNetworkPolicy{TypeMeta: p.TypeMeta, ObjectMeta: p.ObjectMeta}
	s := &p.Spec
	out.Spec = v1beta1.ClusterNetworkPolicySpec{
		Tier:     v1beta1.Tier(s.Tier),
		Priority: s.Priority,
		Subject: v1beta1.ClusterNetworkPolicySubject{
			Namespaces: s.Subject.Namespaces,
			Pods:       pods(s.Subject.Pods),
		},
	}
	if s.Ingress != nil {
		out.Spec.Ingress = make([]v1beta1.ClusterNetworkPolicyIngressRule, len(s.Ingress))
	}
	for i, r := range s.Ingress {
		o := v1beta1.ClusterNetworkPolicyIngressRule{
			Name:      r.Name,
			Action:    v1beta1.ClusterNetworkPolicyRuleAction(r.Action),
			Protocols: protocols(r.Protocols),
		}
		if r.From != nil {
			o.From = make([]v1beta1.ClusterNetworkPolicyIngressPeer, len(r.From))
		}
		for j, f := range r.From {
			o.From[j] = v1beta1.ClusterNetworkPolicyIngressPeer{Namespaces: f.Namespaces, Pods: pods(f.Pods)}
		}
		out.Spec.Ingress[i] = o
	}
	if s.Egress != nil {
		out.Spec.Egress = make([]v1beta1.ClusterNetworkPolicyEgressRule, len(s.Egress))
	}
	for i, r := range s.Egress {
		o := v1beta1.ClusterNetworkPolicyEgressRule{
			Name:      r.Name,
			Action:    v1beta1.ClusterNetworkPolicyRuleAction(r.Action),
			Protocols: protocols(r.Protocols),
		}
		if r.To != nil {
			o.To = make([]v1beta1.ClusterNetworkPolicyEgressPeer, len(r.To))
		}
		for j, t := range r.To {
			o.To[j] = v1beta1.ClusterNetworkPolicyEgressPeer{
				Namespaces:  t.Namespaces,
				Pods:        pods(t.Pods),
				Nodes:       t.Nodes,
				Networks:    convertStrings[v1beta1.CIDR](t.Networks),
				DomainNames: convertStrings[v1beta1.DomainName](t.DomainNames),
			}
		}
		out.Spec.Egress[i] = o
	}
	return out
}

func pods(p *v1alpha2.NamespacedPod) *v1beta1.NamespacedPod {
	if p == nil {
		return nil
	}
	return &v1beta1.NamespacedPod{NamespaceSelector: p.NamespaceSelector, PodSelector: p.PodSelector}
}

func protocols(ps []v1alpha2.ClusterNetworkPolicyProtocol) []v1beta1.ClusterNetworkPolicyProtocol {
	if ps == nil {
		return nil
	}
	out := make([]v1beta1.ClusterNetworkPolicyProtocol, len(ps))
	for i, p := range ps {
		o := v1beta1.ClusterNetworkPolicyProtocol{DestinationNamedPort: p.DestinationNamedPort}
		if p.TCP != nil {
			o.TCP = &v1beta1.ClusterNetworkPolicyProtocolTCP{DestinationPort: port(p.TCP.DestinationPort)}
		}
		if p.UDP != nil {
			o.UDP = &v1beta1.ClusterNetworkPolicyProtocolUDP{DestinationPort: port(p.UDP.DestinationPort)}
		}
		if p.SCTP != nil {
			o.SCTP = &v1beta1.ClusterNetworkPolicyProtocolSCTP{DestinationPort: port(p.SCTP.DestinationPort)}
		}
		out[i] = o
	}
	return out
}

func port(p *v1alpha2.Port) *v1beta1.Port {
	if p == nil {
		return nil
	}
	o := &v1beta1.Port{Number: p.Number}
	if p.Range != nil {
		o.Range = &v1beta1.PortRange{Start: p.Range.Start, End: p.Range.End}
	}
	return o
}

// convertStrings converts between string list types, keeping nil
// (absent) apart from empty (present, and invalid).
func convertStrings[T ~string, F ~string](xs []F) []T {
	if xs == nil {
		return nil
	}
	out := make([]T, len(xs))
	for i, x := range xs {
		out[i] = T(x)
	}
	return out
}
