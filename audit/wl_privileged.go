package audit

// privileged is BH-WL-001.
var privileged = Check{
	ID:       "BH-WL-001",
	Category: Workloads,
	Severity: Critical,
	Title:    "Privileged container",
	Rationale: "A privileged container runs with every capability and every device of the node, outside the " +
		"seccomp and AppArmor confinement: one compromised process can load kernel modules, rewrite the node's " +
		"nftables rules and so every NetworkPolicy on it, and read the other pods' memory and secrets. It turns a " +
		"foothold in one pod into the node and, with the node's credentials, into the cluster.",
	Remediation: "Remove securityContext.privileged (or set it to false) and grant only the capabilities the " +
		"process needs with capabilities.add; node agents that truly need it belong in a dedicated, locked-down namespace.",
	Equivalents: Equivalents{Kubescape: "C-0057", Trivy: "KSV017", Polaris: "runAsPrivileged",
		KubeScore: "container-security-context-privileged", CIS: "5.2.2"},
	References: []string{"https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline"},
	Run: func(c *Context) []Finding {
		var out []Finding
		for _, u := range c.Units {
			for _, ct := range u.Containers() {
				if sc := ct.SecurityContext; sc != nil && sc.Privileged != nil && *sc.Privileged {
					out = append(out, u.containerFinding(ct, "container "+ct.Name+" runs privileged", "",
						ct.Path+".securityContext.privileged"))
				}
			}
		}
		return out
	},
}
