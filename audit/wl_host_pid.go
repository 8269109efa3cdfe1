package audit

// hostPID is BH-WL-005.
var hostPID = Check{
	ID:       "BH-WL-005",
	Category: Workloads,
	Severity: High,
	Title:    "Pod shares the host PID namespace",
	Rationale: "With hostPID a container sees every process of the node, can read their environment and, with " +
		"ptrace or as root, inject into them: the kubelet's and other pods' credentials are one step away.",
	Remediation: "Remove spec.hostPID.",
	Equivalents: Equivalents{Kubescape: "C-0038", Trivy: "KSV010", Polaris: "hostPIDSet", CIS: "5.2.3"},
	References:  []string{"https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline"},
	Run: func(c *Context) []Finding {
		var out []Finding
		for _, u := range c.Units {
			if u.Spec.HostPID {
				out = append(out, u.finding("shares the node's process namespace", "", u.SpecPath+".hostPID"))
			}
		}
		return out
	},
}
