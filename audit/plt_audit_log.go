package audit

// auditLog is BH-PLT-006.
var auditLog = Check{
	ID:       "BH-PLT-006",
	Category: Platform,
	Severity: Medium,
	Title:    "API server writes no audit log",
	Rationale: "Without an audit policy and a backend, nothing records who read which Secret, who created the " +
		"privileged pod or who bound cluster-admin: an intrusion leaves no trail to investigate or alert on.",
	Remediation: "Give kube-apiserver an --audit-policy-file and a backend (--audit-log-path with rotation, or " +
		"--audit-webhook-config-file).",
	Equivalents: Equivalents{Kubescape: "C-0067", Trivy: "KCV0019", CIS: "1.2.16"},
	References:  []string{"https://kubernetes.io/docs/tasks/debug/debug-cluster/audit/"},
	Run: func(c *Context) []Finding {
		var out []Finding
		for _, a := range apiServers(c) {
			_, policy := a.flag("--audit-policy-file")
			_, logPath := a.flag("--audit-log-path")
			_, webhook := a.flag("--audit-webhook-config-file")
			switch {
			case !policy:
				out = append(out, a.finding("kube-apiserver has no --audit-policy-file: no request is audited", ""))
			case !logPath && !webhook:
				out = append(out, a.finding("kube-apiserver has an audit policy but no backend (--audit-log-path or --audit-webhook-config-file)", ""))
			}
		}
		return out
	},
}
