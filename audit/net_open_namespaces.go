package audit

// openToAllNamespaces is BH-NET-004.
var openToAllNamespaces = Check{
	ID:       "BH-NET-004",
	Category: Segmentation,
	Severity: Medium,
	Title:    "Workload reachable from every namespace",
	Rationale: "A workload that pods of every namespace can reach is one hop from any compromised pod in the " +
		"cluster, however unrelated. bulkhead flags it when the engine says a pod of a namespace nobody has " +
		"created yet can connect (an all-namespaces selector), or when pods of every other namespace can (with " +
		"three namespaces or more, so that two namespaces talking is not mistaken for an open workload).",
	Remediation: "Replace namespaceSelector: {} (or rules with no from) by the namespaces and pods that need " +
		"the workload.",
	References: []string{"https://kubernetes.io/docs/concepts/services-networking/network-policies/#behavior-of-to-and-from-selectors"},
	Run: func(c *Context) []Finding {
		r := c.reach
		nss := r.namespacesWithPods()
		var out []Finding
		for _, g := range r.groups {
			msg := ""
			if a := r.allowed(r.fresh, g.rep); !a.IsEmpty() {
				msg = "pods of any namespace, even one created tomorrow, can open " + connsText(a)
			} else if len(nss) >= 3 {
				every := true
				for _, ns := range nss {
					if ns == g.ns {
						continue
					}
					reached := false
					for _, h := range r.byNS[ns] {
						if !r.groupAllowed(h, g).IsEmpty() {
							reached = true
							break
						}
					}
					if !reached {
						every = false
						break
					}
				}
				if every {
					msg = "pods of every other namespace can reach it"
				}
			}
			if msg == "" {
				continue
			}
			for _, ep := range g.members {
				s := c.subjectOf(ep)
				out = append(out, Finding{Subject: s, Source: c.sourceOf(s, ep.Source), Msg: msg})
			}
		}
		return out
	},
}
