package audit

// defaultDenyIngress is BH-NET-001.
var defaultDenyIngress = Check{
	ID:       "BH-NET-001",
	Category: Segmentation,
	Severity: Medium,
	Title:    "Namespace without default-deny ingress",
	Rationale: "Without a default deny, every new pod of the namespace accepts connections from everywhere " +
		"until someone writes a policy for it, and a pod whose labels no policy anticipated stays open forever. " +
		"bulkhead asks the engine about a new, unlabelled pod of the namespace: the namespace fails when no " +
		"NetworkPolicy isolates that pod for ingress and a pod of another namespace or an outside address can " +
		"reach it (a cluster-wide Baseline or Admin deny counts as a default deny).",
	Remediation: "Add a NetworkPolicy with podSelector: {} and policyTypes: [Ingress] to the namespace (or a " +
		"Baseline-tier ClusterNetworkPolicy that denies by default), then allow what each workload needs.",
	Equivalents: Equivalents{Kubescape: "C-0206", CIS: "5.3.2"},
	References:  []string{"https://kubernetes.io/docs/concepts/services-networking/network-policies/#default-deny-all-ingress-traffic"},
	Run: func(c *Context) []Finding {
		r := c.reach
		var out []Finding
		for _, ns := range r.namespacesWithPods() {
			p := r.nsProbe[ns]
			if in, _ := r.e.Isolation(p); in {
				continue
			}
			from := ""
			if a := r.allowed(r.fresh, p); !a.IsEmpty() {
				from = "pods of any namespace"
			} else if a, _ := r.fromInternet(p); !a.IsEmpty() {
				from = "the internet"
			}
			if from == "" {
				continue
			}
			out = append(out, namespaceFinding(c, ns, "no NetworkPolicy isolates new pods for ingress: "+from+" can reach them", "", ""))
		}
		return out
	},
}

// namespaceFinding returns a finding about namespace ns.
func namespaceFinding(c *Context, ns, msg, key, field string) Finding {
	f := Finding{Subject: Subject{Kind: "Namespace", Name: ns}, Msg: msg, Key: key, Field: field}
	if n := c.snap.Namespace(ns); n != nil {
		f.Source = n.Source
	}
	return f
}
