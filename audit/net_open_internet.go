package audit

// openToInternet is BH-NET-003.
var openToInternet = Check{
	ID:       "BH-NET-003",
	Category: Segmentation,
	Severity: High,
	Title:    "Workload reachable from the internet",
	Rationale: "The effective ingress of the workload, computed from every policy tier, admits connections " +
		"from public addresses: whatever exposes it (a LoadBalancer, a NodePort, an ingress controller, a " +
		"routable pod network) is not backed by any network rule. This is what an attacker scans for first.",
	Remediation: "Restrict ingress to the load balancer's or ingress controller's addresses or pods; add a " +
		"default-deny ingress policy to the namespace.",
	References: []string{"https://kubernetes.io/docs/concepts/services-networking/network-policies/#networkpolicy-resource"},
	Run: func(c *Context) []Finding {
		r := c.reach
		var out []Finding
		for _, g := range r.groups {
			conns, from := r.fromInternet(g.rep)
			if conns.IsEmpty() {
				continue
			}
			msg := "accepts " + connsText(conns) + " from the internet (" + from + ")"
			for _, ep := range g.members {
				s := c.subjectOf(ep)
				out = append(out, Finding{Subject: s, Source: c.sourceOf(s, ep.Source), Msg: msg})
			}
		}
		return out
	},
}
