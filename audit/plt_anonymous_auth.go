package audit

// anonymousAuth is BH-PLT-003.
var anonymousAuth = Check{
	ID:       "BH-PLT-003",
	Category: Platform,
	Severity: High,
	Title:    "API server allows anonymous requests",
	Rationale: "kube-apiserver accepts unauthenticated requests as system:anonymous unless --anonymous-auth=false. " +
		"Any RoleBinding that (deliberately or by mistake) grants system:anonymous or system:unauthenticated " +
		"becomes open to the internet; it is how cryptomining campaigns enter exposed clusters.",
	Remediation: "Start kube-apiserver with --anonymous-auth=false, or restrict anonymous access to the health " +
		"endpoints with an AuthenticationConfiguration (anonymous.conditions).",
	Equivalents: Equivalents{Kubescape: "C-0113", Trivy: "KCV0001", CIS: "1.2.1"},
	References:  []string{"https://kubernetes.io/docs/reference/access-authn-authz/authentication/#anonymous-requests"},
	Run: func(c *Context) []Finding {
		var out []Finding
		for _, a := range apiServers(c) {
			v, set := a.flag("--anonymous-auth")
			if set && v == "false" {
				continue
			}
			if _, cfg := a.flag("--authentication-config"); cfg && !set {
				continue // anonymous access is configured in the file, which the input does not hold
			}
			msg := "kube-apiserver runs without --anonymous-auth=false (anonymous requests are accepted)"
			if set {
				msg = "kube-apiserver runs with --anonymous-auth=" + v
			}
			out = append(out, a.finding(msg, ""))
		}
		return out
	},
}
