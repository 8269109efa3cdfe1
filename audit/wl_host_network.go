package audit

// hostNetwork is BH-WL-004.
var hostNetwork = Check{
	ID:       "BH-WL-004",
	Category: Workloads,
	Severity: High,
	Title:    "Pod uses the host network",
	Rationale: "A hostNetwork pod shares the node's network namespace: NetworkPolicy does not apply to it at " +
		"all, it can bind any port of the node, reach the kubelet and every local service on loopback, and see " +
		"the node's traffic. Every segmentation rule is sidestepped by one such pod.",
	Remediation: "Remove spec.hostNetwork; expose the pod through a Service instead. Node agents that need it " +
		"(CNI, kube-proxy) belong in a dedicated namespace with admission rules that keep others out.",
	Equivalents: Equivalents{Kubescape: "C-0041", Trivy: "KSV009", Polaris: "hostNetworkSet", CIS: "5.2.5"},
	References:  []string{"https://kubernetes.io/docs/concepts/services-networking/network-policies/#what-you-can-t-do-with-network-policies-at-least-not-yet"},
	Run: func(c *Context) []Finding {
		var out []Finding
		for _, u := range c.Units {
			if u.Spec.HostNetwork {
				out = append(out, u.finding("uses the host network: no NetworkPolicy applies to it", "", u.SpecPath+".hostNetwork"))
			}
		}
		return out
	},
}
