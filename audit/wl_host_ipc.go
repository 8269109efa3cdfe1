package audit

// hostIPC is BH-WL-006.
var hostIPC = Check{
	ID:       "BH-WL-006",
	Category: Workloads,
	Severity: Medium,
	Title:    "Pod shares the host IPC namespace",
	Rationale: "With hostIPC a container reaches the node's System V IPC and POSIX shared memory: it can read " +
		"and tamper with what host processes and other pods exchange there.",
	Remediation: "Remove spec.hostIPC.",
	Equivalents: Equivalents{Kubescape: "C-0038", Trivy: "KSV008", Polaris: "hostIPCSet", CIS: "5.2.4"},
	References:  []string{"https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline"},
	Run: func(c *Context) []Finding {
		var out []Finding
		for _, u := range c.Units {
			if u.Spec.HostIPC {
				out = append(out, u.finding("shares the node's IPC namespace", "", u.SpecPath+".hostIPC"))
			}
		}
		return out
	},
}
