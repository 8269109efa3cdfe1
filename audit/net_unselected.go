package audit

import "github.com/bulkhead/bulkhead/model"

// unselectedPods is BH-NET-005.
var unselectedPods = Check{
	ID:       "BH-NET-005",
	Category: Segmentation,
	Severity: Medium,
	Title:    "Pods no policy selects",
	Rationale: "No policy of any tier (NetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy, " +
		"ClusterNetworkPolicy) applies to these pods in either direction: they accept everything and reach " +
		"everything, and nothing records what they are supposed to talk to.",
	Remediation: "Add a default-deny policy to the namespace and allow the workload's real flows.",
	Equivalents: Equivalents{Kubescape: "C-0260", KubeScore: "pod-networkpolicy"},
	References:  []string{"https://kubernetes.io/docs/concepts/services-networking/network-policies/#the-two-sorts-of-pod-isolation"},
	Run: func(c *Context) []Finding {
		r := c.reach
		var out []Finding
		for _, g := range r.groups {
			if in, eg := r.e.Isolation(g.rep); in || eg {
				continue
			}
			if len(r.e.PoliciesFor(g.rep, model.Ingress)) > 0 || len(r.e.PoliciesFor(g.rep, model.Egress)) > 0 {
				continue
			}
			for _, ep := range g.members {
				s := c.subjectOf(ep)
				out = append(out, Finding{Subject: s, Source: c.sourceOf(s, ep.Source), Msg: "no policy of any tier selects it, in either direction"})
			}
		}
		return out
	},
}
