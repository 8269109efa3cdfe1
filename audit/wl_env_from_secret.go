package audit

// envFromSecret is BH-WL-011.
var envFromSecret = Check{
	ID:       "BH-WL-011",
	Category: Workloads,
	Severity: Low,
	Title:    "Whole Secret injected into the environment",
	Rationale: "envFrom.secretRef puts every key of a Secret into the container's environment, whether the " +
		"program needs it or not, and Secrets grow: credentials added later for another consumer leak into this " +
		"one. Environment variables end up in crash dumps, /proc of anyone with the same UID, child processes " +
		"and debugging output.",
	Remediation: "Mount the Secret as a volume with only the items the container reads, or reference single " +
		"keys with env[].valueFrom.secretKeyRef.",
	Equivalents: Equivalents{Kubescape: "C-0207", CIS: "5.4.1"},
	References:  []string{"https://kubernetes.io/docs/concepts/security/secrets-good-practices/"},
	Run: func(c *Context) []Finding {
		var out []Finding
		for _, u := range c.Units {
			for _, ct := range u.Containers() {
				for i, ef := range ct.EnvFrom {
					if ef.SecretRef == nil {
						continue
					}
					name := ef.SecretRef.Name
					out = append(out, u.containerFinding(ct, "container "+ct.Name+" receives every key of Secret "+name+" as environment variables",
						"secret="+name, ct.Path+".envFrom["+itoa(i)+"].secretRef"))
				}
			}
		}
		return out
	},
}
