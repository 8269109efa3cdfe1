package audit

import "fmt"

// cniNetworkPolicy is BH-PLT-001.
var cniNetworkPolicy = Check{
	ID:       "BH-PLT-001",
	Category: Platform,
	Severity: High,
	Title:    "Network plugin does not enforce NetworkPolicy",
	Rationale: "NetworkPolicy objects do nothing by themselves: the network plugin enforces them. On a plugin " +
		"that does not (flannel alone, the AWS VPC CNI without its policy agent, old kindnet), every policy is " +
		"decoration and every pod can reach every other. bulkhead recognises the plugin from its DaemonSet and " +
		"knows which versions enforce what (see the CNI table in docs/checks.md).",
	Remediation: "Run a plugin that enforces NetworkPolicy (Calico, Cilium, Antrea, ...), or add a policy " +
		"engine to the one you have (canal, the VPC CNI's network policy agent).",
	Equivalents: Equivalents{Kubescape: "C-0205", CIS: "5.3.1"},
	References:  []string{"https://kubernetes.io/docs/concepts/services-networking/network-policies/#prerequisites"},
	Run: func(c *Context) []Finding {
		cnis := detectCNIs(c)
		if len(cnis) == 0 || bestSupport(cnis, apiNetworkPolicy) != NotEnforced {
			return nil
		}
		n := c.policyKinds["NetworkPolicy"]
		var out []Finding
		for _, p := range cnis {
			f := Finding{Subject: p.Subject, Source: p.Source, Field: "spec.template.spec.containers"}
			f.Msg = fmt.Sprintf("%s enforces no NetworkPolicy", p.label())
			if n > 0 {
				f.Msg += fmt.Sprintf(": the input's %d NetworkPolicies are decoration", n)
				f.Severity = Critical
			}
			if len(p.Why) > 0 {
				f.Msg += "; " + p.Why[0]
			}
			out = append(out, f)
		}
		return out
	},
}
