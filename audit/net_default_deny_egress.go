package audit

// defaultDenyEgress is BH-NET-002.
var defaultDenyEgress = Check{
	ID:       "BH-NET-002",
	Category: Segmentation,
	Severity: Low,
	Title:    "Namespace without default-deny egress",
	Rationale: "Egress is how a compromised pod pulls its tools, talks to its command-and-control server and " +
		"sends data out, and how it scans the rest of the cluster. bulkhead asks the engine about a new, " +
		"unlabelled pod of the namespace: the namespace fails when no NetworkPolicy isolates that pod for egress " +
		"and it can reach addresses outside the cluster or pods of other namespaces.",
	Remediation: "Add a NetworkPolicy with podSelector: {} and policyTypes: [Egress] (allowing DNS to " +
		"kube-system), then allow each workload's destinations.",
	Equivalents: Equivalents{Kubescape: "C-0030"},
	References:  []string{"https://kubernetes.io/docs/concepts/services-networking/network-policies/#default-deny-all-egress-traffic"},
	Run: func(c *Context) []Finding {
		r := c.reach
		var out []Finding
		for _, ns := range r.namespacesWithPods() {
			p := r.nsProbe[ns]
			if _, eg := r.e.Isolation(p); eg {
				continue
			}
			to := ""
			if r.toExternal(p) {
				to = "addresses outside the cluster"
			} else if a := r.allowed(p, r.fresh); !a.IsEmpty() {
				to = "pods of other namespaces"
			}
			if to == "" {
				continue
			}
			out = append(out, namespaceFinding(c, ns, "no NetworkPolicy isolates new pods for egress: they can reach "+to, "", ""))
		}
		return out
	},
}
