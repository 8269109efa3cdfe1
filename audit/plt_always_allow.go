package audit

import "strings"

// alwaysAllow is BH-PLT-005.
var alwaysAllow = Check{
	ID:       "BH-PLT-005",
	Category: Platform,
	Severity: Critical,
	Title:    "API server authorizes every request (AlwaysAllow)",
	Rationale: "With the AlwaysAllow authorizer (the default when neither --authorization-mode nor " +
		"--authorization-config is given), every authenticated request, and with anonymous auth every " +
		"request, may do anything: RBAC is not consulted at all.",
	Remediation: "Start kube-apiserver with --authorization-mode=Node,RBAC (or an --authorization-config " +
		"without AlwaysAllow).",
	Equivalents: Equivalents{Kubescape: "C-0118", Trivy: "KCV0007", CIS: "1.2.6"},
	References:  []string{"https://kubernetes.io/docs/reference/access-authn-authz/authorization/#authorization-modules"},
	Run: func(c *Context) []Finding {
		var out []Finding
		for _, a := range apiServers(c) {
			mode, set := a.flag("--authorization-mode")
			_, cfg := a.flag("--authorization-config")
			switch {
			case set && contains(strings.Split(mode, ","), "AlwaysAllow"):
				out = append(out, a.finding("kube-apiserver runs with --authorization-mode="+mode, ""))
			case !set && !cfg:
				out = append(out, a.finding("kube-apiserver has neither --authorization-mode nor --authorization-config: it defaults to AlwaysAllow", ""))
			}
		}
		return out
	},
}
