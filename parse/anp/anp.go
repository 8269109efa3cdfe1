package anp

import (
	"fmt"

	"github.com/bulkhead/bulkhead/model"
	"sigs.k8s.io/network-policy-api/apis/v1alpha1"
	"sigs.k8s.io/network-policy-api/apis/v1alpha2"
	"sigs.k8s.io/network-policy-api/apis/v1beta1"
)

// The converters below are the contract between the manifest loader and
// this package. Each returns the policy in bulkhead's IR, or nil when the
// object is invalid, with every problem found. Problems name the field
// (e.g. "spec.egress[3].to[0].networks[1]"); errors are what the API
// server (CRD schema and CEL rules of network-policy-api v0.3.0) would
// reject, warnings are accepted input that implementations may not honour.
//
// The converters validate against the experimental channel of the CRDs,
// the superset: a standard-channel CRD prunes nodes, domainNames and
// named-port fields, which then leaves a peer or port item with no field
// set, and the API server rejects it.
//
// Fields the Go types cannot tell apart from their zero value (a missing
// priority, podSelector or namespaceSelector) are taken as that zero
// value.

// FromAdminNetworkPolicy converts a policy.networking.k8s.io/v1alpha1
// AdminNetworkPolicy into the Admin tier.
func FromAdminNetworkPolicy(p *v1alpha1.AdminNetworkPolicy, src model.Source) (*model.Policy, []model.Problem) {
	if p == nil {
		return nil, nilObject(anpDialect, src)
	}
	c := newConverter(anpDialect, src, p.Name)
	c.name(p.Name)
	pol := c.policy(p.Name)
	pol.Tier = model.TierAdmin
	pol.Priority = p.Spec.Priority
	c.priority("spec.priority", p.Spec.Priority)
	pol.Subject = c.subject("spec.subject", p.Spec.Subject.Namespaces, v1alpha1Pods(p.Spec.Subject.Pods))

	c.maxItems("spec.ingress", len(p.Spec.Ingress), c.d.maxItems, "ingress rules")
	for i, r := range p.Spec.Ingress {
		peers := make([]peerIn, len(r.From))
		for j, f := range r.From {
			peers[j] = peerIn{namespaces: f.Namespaces, pods: v1alpha1Pods(f.Pods)}
		}
		pol.Rules = append(pol.Rules, c.rule(model.Ingress, i, r.Name, string(r.Action), peers, r.From == nil, ingressPeerFields,
			func(path string) ([]model.PortSpec, []namedPort) { return c.anpPorts(path+".ports", r.Ports) }))
	}
	c.maxItems("spec.egress", len(p.Spec.Egress), c.d.maxItems, "egress rules")
	for i, r := range p.Spec.Egress {
		peers := make([]peerIn, len(r.To))
		for j, t := range r.To {
			peers[j] = peerIn{namespaces: t.Namespaces, pods: v1alpha1Pods(t.Pods), nodes: t.Nodes,
				networks: convertStrings[string](t.Networks), domainNames: convertStrings[string](t.DomainNames)}
		}
		pol.Rules = append(pol.Rules, c.rule(model.Egress, i, r.Name, string(r.Action), peers, r.To == nil, egressPeerFields,
			func(path string) ([]model.PortSpec, []namedPort) { return c.anpPorts(path+".ports", r.Ports) }))
	}
	setIsolation(pol)
	return c.result(pol)
}

// FromBaselineAdminNetworkPolicy converts a v1alpha1
// BaselineAdminNetworkPolicy into the Baseline tier, with priority 0.
// BANP is a singleton named "default" (CEL rule on the type), has no
// priority and no Pass action (its enum is Allow, Deny), and its egress
// peers have no domainNames.
func FromBaselineAdminNetworkPolicy(p *v1alpha1.BaselineAdminNetworkPolicy, src model.Source) (*model.Policy, []model.Problem) {
	if p == nil {
		return nil, nilObject(banpDialect, src)
	}
	c := newConverter(banpDialect, src, p.Name)
	if p.Name != "default" {
		c.errorf("metadata.name", "must be \"default\", got %q: only one BaselineAdminNetworkPolicy, named \"default\", can exist in a cluster", p.Name)
	}
	pol := c.policy(p.Name)
	pol.Tier = model.TierBaseline
	pol.Subject = c.subject("spec.subject", p.Spec.Subject.Namespaces, v1alpha1Pods(p.Spec.Subject.Pods))

	c.maxItems("spec.ingress", len(p.Spec.Ingress), c.d.maxItems, "ingress rules")
	for i, r := range p.Spec.Ingress {
		peers := make([]peerIn, len(r.From))
		for j, f := range r.From {
			peers[j] = peerIn{namespaces: f.Namespaces, pods: v1alpha1Pods(f.Pods)}
		}
		pol.Rules = append(pol.Rules, c.rule(model.Ingress, i, r.Name, string(r.Action), peers, r.From == nil, ingressPeerFields,
			func(path string) ([]model.PortSpec, []namedPort) { return c.anpPorts(path+".ports", r.Ports) }))
	}
	c.maxItems("spec.egress", len(p.Spec.Egress), c.d.maxItems, "egress rules")
	for i, r := range p.Spec.Egress {
		peers := make([]peerIn, len(r.To))
		for j, t := range r.To {
			peers[j] = peerIn{namespaces: t.Namespaces, pods: v1alpha1Pods(t.Pods), nodes: t.Nodes, networks: convertStrings[string](t.Networks)}
		}
		pol.Rules = append(pol.Rules, c.rule(model.Egress, i, r.Name, string(r.Action), peers, r.To == nil, banpEgressPeerFields,
			func(path string) ([]model.PortSpec, []namedPort) { return c.anpPorts(path+".ports", r.Ports) }))
	}
	setIsolation(pol)
	return c.result(pol)
}

// FromClusterNetworkPolicyV1alpha2 converts a v1alpha2 ClusterNetworkPolicy.
// v1alpha2 and v1beta1 have the same schema in v0.3.0 (v1beta1 is the
// storage version), so it is converted field by field to v1beta1 first.
func FromClusterNetworkPolicyV1alpha2(p *v1alpha2.ClusterNetworkPolicy, src model.Source) (*model.Policy, []model.Problem) {
	if p == nil {
		return nil, nilObject(cnpV1alpha2, src)
	}
	return fromCNP(cnpV1alpha2, v1alpha2ToV1beta1(p), src)
}

// FromClusterNetworkPolicyV1beta1 converts a v1beta1 ClusterNetworkPolicy.
func FromClusterNetworkPolicyV1beta1(p *v1beta1.ClusterNetworkPolicy, src model.Source) (*model.Policy, []model.Problem) {
	if p == nil {
		return nil, nilObject(cnpV1beta1, src)
	}
	return fromCNP(cnpV1beta1, p, src)
}

// fromCNP converts a ClusterNetworkPolicy. spec.tier places it in the
// Admin or the Baseline tier. Pass is allowed in both: NPEP-285 chose to
// allow it in Baseline "to make the API more uniform", where it skips
// the rest of the Baseline tier and so leaves the connection to the
// default, allow
// (https://github.com/kubernetes-sigs/network-policy-api/blob/v0.3.0/npeps/npep-285-combine-crds.md).
func fromCNP(d *dialect, p *v1beta1.ClusterNetworkPolicy, src model.Source) (*model.Policy, []model.Problem) {
	c := newConverter(d, src, p.Name)
	c.name(p.Name)
	pol := c.policy(p.Name)
	switch p.Spec.Tier {
	case v1beta1.AdminTier:
		pol.Tier = model.TierAdmin
	case v1beta1.BaselineTier:
		pol.Tier = model.TierBaseline
	case "":
		c.errorf("spec.tier", "required: the tier must be \"Admin\" or \"Baseline\"")
	default:
		c.errorf("spec.tier", "unsupported value %q: supported values: \"Admin\", \"Baseline\"", p.Spec.Tier)
	}
	pol.Priority = p.Spec.Priority
	c.priority("spec.priority", p.Spec.Priority)
	pol.Subject = c.subject("spec.subject", p.Spec.Subject.Namespaces, v1beta1Pods(p.Spec.Subject.Pods))

	c.maxItems("spec.ingress", len(p.Spec.Ingress), c.d.maxItems, "ingress rules")
	for i, r := range p.Spec.Ingress {
		peers := make([]peerIn, len(r.From))
		for j, f := range r.From {
			peers[j] = peerIn{namespaces: f.Namespaces, pods: v1beta1Pods(f.Pods)}
		}
		pol.Rules = append(pol.Rules, c.rule(model.Ingress, i, r.Name, string(r.Action), peers, r.From == nil, ingressPeerFields,
			func(path string) ([]model.PortSpec, []namedPort) {
				return c.cnpProtocols(path+".protocols", r.Protocols)
			}))
	}
	c.maxItems("spec.egress", len(p.Spec.Egress), c.d.maxItems, "egress rules")
	for i, r := range p.Spec.Egress {
		peers := make([]peerIn, len(r.To))
		for j, t := range r.To {
			peers[j] = peerIn{namespaces: t.Namespaces, pods: v1beta1Pods(t.Pods), nodes: t.Nodes,
				networks: convertStrings[string](t.Networks), domainNames: convertStrings[string](t.DomainNames)}
		}
		pol.Rules = append(pol.Rules, c.rule(model.Egress, i, r.Name, string(r.Action), peers, r.To == nil, egressPeerFields,
			func(path string) ([]model.PortSpec, []namedPort) {
				return c.cnpProtocols(path+".protocols", r.Protocols)
			}))
	}
	setIsolation(pol)
	return c.result(pol)
}

// rule converts one rule of any kind. Rules keep their order: "a rule
// that appears at the top of the ingress rules would take the highest
// precedence". from/to are required with MinItems=1, so AllPeers is
// never set for these kinds.
func (c *converter) rule(dir model.Direction, i int, name, action string, peers []peerIn, absent bool, fields []string,
	ports func(path string) ([]model.PortSpec, []namedPort)) model.Rule {
	path := fmt.Sprintf("spec.%s[%d]", dir, i)
	peerField := "from"
	if dir == model.Egress {
		peerField = "to"
	}
	r := model.Rule{Direction: dir, Index: i, Name: name}
	c.ruleName(path+".name", name)
	r.Action = c.action(path+".action", action)
	switch {
	case absent:
		c.errorf(path+"."+peerField, "required: a rule must list at least one peer")
	case len(peers) == 0:
		c.errorf(path+"."+peerField, "must list at least one peer")
	}
	c.maxItems(path+"."+peerField, len(peers), c.d.maxItems, "peers")
	for j, p := range peers {
		if mp, ok := c.peer(fmt.Sprintf("%s.%s[%d]", path, peerField, j), fields, p, action); ok {
			r.Peers = append(r.Peers, mp)
		}
	}
	var named []namedPort
	r.Ports, named = ports(path)
	if dir == model.Egress {
		c.namedPortConflicts(path, peers, named)
	}
	return r
}

// setIsolation marks the directions the policy has rules for: "ANPs with
// no ingress rules do not affect ingress traffic" (and likewise for
// egress, BANP and ClusterNetworkPolicy). Cluster tiers never isolate by
// selecting a pod alone.
func setIsolation(p *model.Policy) {
	for _, r := range p.Rules {
		switch r.Direction {
		case model.Ingress:
			p.IngressIsolation = true
		case model.Egress:
			p.EgressIsolation = true
		}
	}
}

func nilObject(d *dialect, src model.Source) []model.Problem {
	if src.Kind == "" {
		src.Kind = d.kind
	}
	return []model.Problem{{Source: src, Severity: model.SeverityError, Msg: "no object to convert"}}
}

func v1alpha1Pods(p *v1alpha1.NamespacedPod) *podsIn {
	if p == nil {
		return nil
	}
	return &podsIn{namespaceSelector: &p.NamespaceSelector, podSelector: &p.PodSelector}
}

func v1beta1Pods(p *v1beta1.NamespacedPod) *podsIn {
	if p == nil {
		return nil
	}
	return &podsIn{namespaceSelector: &p.NamespaceSelector, podSelector: &p.PodSelector}
}
