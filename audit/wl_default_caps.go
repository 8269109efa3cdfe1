package audit

// defaultCaps is BH-WL-003.
var defaultCaps = Check{
	ID:       "BH-WL-003",
	Category: Workloads,
	Severity: Low,
	Title:    "Default capabilities not dropped (NET_RAW kept)",
	Rationale: "Container runtimes grant a default set of capabilities that includes NET_RAW. With it, a " +
		"compromised process can craft raw packets: spoof addresses, poison ARP and DNS on the node's bridge, and " +
		"probe the network below what policies describe. Few applications need any of the defaults.",
	Remediation: "Set securityContext.capabilities.drop: [ALL] (the Pod Security Standard \"restricted\" " +
		"profile requires it) and add back only what is needed.",
	Equivalents: Equivalents{Trivy: "KSV003", Polaris: "insecureCapabilities", CIS: "5.2.8"},
	References:  []string{"https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted"},
	Run: func(c *Context) []Finding {
		var out []Finding
		for _, u := range c.Units {
			for _, ct := range u.Containers() {
				sc := ct.SecurityContext
				if sc != nil && sc.Privileged != nil && *sc.Privileged {
					continue // BH-WL-001 covers it
				}
				dropped := false
				if sc != nil && sc.Capabilities != nil {
					for _, cp := range sc.Capabilities.Drop {
						if n := normCap(string(cp)); n == "ALL" || n == "NET_RAW" {
							dropped = true
						}
					}
				}
				if !dropped {
					out = append(out, u.containerFinding(ct, "container "+ct.Name+" keeps the runtime's default capabilities, NET_RAW included", "",
						ct.Path+".securityContext.capabilities.drop"))
				}
			}
		}
		return out
	},
}
