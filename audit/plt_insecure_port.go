package audit

// insecurePort is BH-PLT-004.
var insecurePort = Check{
	ID:       "BH-PLT-004",
	Category: Platform,
	Severity: Critical,
	Title:    "API server serves an insecure port",
	Rationale: "--insecure-port serves the whole API over plain HTTP with no authentication and no " +
		"authorization: anyone who reaches it is cluster-admin. Kubernetes removed it in 1.24, but older " +
		"clusters and hand-written manifests still set it.",
	Remediation: "Remove --insecure-port (or set it to 0) and --insecure-bind-address; upgrade clusters " +
		"older than 1.20.",
	Equivalents: Equivalents{Kubescape: "C-0005"},
	References:  []string{"https://kubernetes.io/docs/concepts/security/controlling-access/"},
	Run: func(c *Context) []Finding {
		var out []Finding
		for _, a := range apiServers(c) {
			v, set := a.flag("--insecure-port")
			if !set || v == "0" {
				continue
			}
			bind, _ := a.flag("--insecure-bind-address")
			msg := "kube-apiserver serves an unauthenticated HTTP port (--insecure-port=" + v + ")"
			if bind != "" {
				msg += " on " + bind
			}
			out = append(out, a.finding(msg, ""))
		}
		return out
	},
}
