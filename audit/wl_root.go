package audit

// runAsRoot is BH-WL-008.
var runAsRoot = Check{
	ID:       "BH-WL-008",
	Category: Workloads,
	Severity: Medium,
	Title:    "Container may run as root",
	Rationale: "A process running as UID 0 needs only one kernel or runtime bug to be root on the node; as root " +
		"it can also use every capability the container keeps. Most images can run as an unprivileged user.",
	Remediation: "Set securityContext.runAsNonRoot: true (pod or container) and a non-zero runAsUser, and build " +
		"images with a USER.",
	Equivalents: Equivalents{Kubescape: "C-0013", Trivy: "KSV012", Polaris: "runAsRootAllowed",
		KubeScore: "container-security-context-user-group-id", CIS: "5.2.7"},
	References: []string{"https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted"},
	Run: func(c *Context) []Finding {
		var out []Finding
		for _, u := range c.Units {
			psc := u.Spec.SecurityContext
			for _, ct := range u.Containers() {
				sc := ct.SecurityContext
				var nonRoot *bool
				var uid *int64
				if psc != nil {
					nonRoot, uid = psc.RunAsNonRoot, psc.RunAsUser
				}
				if sc != nil && sc.RunAsNonRoot != nil {
					nonRoot = sc.RunAsNonRoot
				}
				if sc != nil && sc.RunAsUser != nil {
					uid = sc.RunAsUser
				}
				switch {
				case uid != nil && *uid == 0:
					out = append(out, u.containerFinding(ct, "container "+ct.Name+" runs as UID 0 (root)", "",
						ct.Path+".securityContext.runAsUser"))
				case uid != nil && *uid > 0, nonRoot != nil && *nonRoot:
				default:
					out = append(out, u.containerFinding(ct, "container "+ct.Name+" runs as root unless its image says otherwise (no runAsNonRoot, no runAsUser)", "",
						ct.Path+".securityContext.runAsNonRoot"))
				}
			}
		}
		return out
	},
}
