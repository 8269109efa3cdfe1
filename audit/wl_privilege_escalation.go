package audit

// privilegeEscalation is BH-WL-009.
var privilegeEscalation = Check{
	ID:       "BH-WL-009",
	Category: Workloads,
	Severity: Medium,
	Title:    "Privilege escalation allowed",
	Rationale: "Unless allowPrivilegeEscalation is false, the no_new_privs flag is off and a process can gain " +
		"privileges through setuid binaries or file capabilities in the image: an attacker who lands as an " +
		"unprivileged user becomes root in the container.",
	Remediation: "Set securityContext.allowPrivilegeEscalation: false on every container.",
	Equivalents: Equivalents{Kubescape: "C-0016", Trivy: "KSV001", Polaris: "privilegeEscalationAllowed", CIS: "5.2.6"},
	References:  []string{"https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted"},
	Run: func(c *Context) []Finding {
		var out []Finding
		for _, u := range c.Units {
			for _, ct := range u.Containers() {
				sc := ct.SecurityContext
				if sc != nil && sc.Privileged != nil && *sc.Privileged {
					continue // BH-WL-001
				}
				if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
					out = append(out, u.containerFinding(ct, "container "+ct.Name+" allows privilege escalation (allowPrivilegeEscalation is not false)", "",
						ct.Path+".securityContext.allowPrivilegeEscalation"))
				}
			}
		}
		return out
	},
}
