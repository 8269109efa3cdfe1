package audit

// crossEnvironment is BH-NET-006.
var crossEnvironment = Check{
	ID:       "BH-NET-006",
	Category: Segmentation,
	Severity: High,
	Title:    "Environments can reach each other",
	Rationale: "Namespaces labelled as different environments (env=dev and env=prod, ...) should not talk: " +
		"development is where weak credentials, debug endpoints and experiments live, and a path from it into " +
		"production turns any of those into a production breach. bulkhead reports each pair of namespaces of " +
		"different environments where some pod can connect, with an example connection.",
	Remediation: "Deny traffic between environments with an Admin-tier ClusterNetworkPolicy (or per-namespace " +
		"policies) and allow the few flows that must cross explicitly.",
	References: []string{"https://network-policy-api.sigs.k8s.io/api-overview/"},
	Run: func(c *Context) []Finding {
		r := c.reach
		env := map[string]string{}
		for _, ns := range r.namespacesWithPods() {
			n := c.snap.Namespace(ns)
			if n == nil {
				continue
			}
			for _, k := range c.envLabels() {
				if v := n.Labels[k]; v != "" {
					env[ns] = k + "=" + v
					break
				}
			}
		}
		if len(env) < 2 {
			return nil
		}
		pairs := r.crossNamespace()
		var out []Finding
		nss := r.namespacesWithPods()
		for _, dst := range nss {
			for _, src := range nss {
				if src == dst || env[src] == "" || env[dst] == "" || env[src] == env[dst] {
					continue
				}
				example := pairs[nsPair{src, dst}]
				if example == "" {
					continue
				}
				out = append(out, namespaceFinding(c, dst, "pods of "+src+" ("+env[src]+") can reach "+dst+" ("+env[dst]+"), e.g. "+example, "from="+src, ""))
			}
		}
		return out
	},
}
