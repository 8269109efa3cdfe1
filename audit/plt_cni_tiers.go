package audit

import (
	"fmt"
	"strings"
)

// cniTiers is BH-PLT-002.
var cniTiers = Check{
	ID:       "BH-PLT-002",
	Category: Platform,
	Severity: High,
	Title:    "Cluster policy tiers in use but not enforced",
	Rationale: "AdminNetworkPolicy, BaselineAdminNetworkPolicy and ClusterNetworkPolicy are CRDs: the API " +
		"server stores them whether or not the network plugin implements them. Support differs by plugin and " +
		"version (Calico 3.29-3.31 enforce AdminNetworkPolicy, 3.32+ only ClusterNetworkPolicy; Cilium enforces " +
		"ClusterNetworkPolicy from 1.20 when enabled; Antrea behind feature gates), so guardrails the platform " +
		"team relies on may not exist on the wire.",
	Remediation: "Use the policy API your plugin enforces (and enable its feature gate), or upgrade the plugin; " +
		"meanwhile express the guardrails as NetworkPolicies.",
	References: []string{"https://network-policy-api.sigs.k8s.io/", "https://network-policy-api.sigs.k8s.io/blog/2025/10/09/clusternetworkpolicy-or-what-happened-to-the-adminnetworkpolicy-and-baselineadminnetworkpolicy/"},
	Run: func(c *Context) []Finding {
		cnis := detectCNIs(c)
		if len(cnis) == 0 {
			return nil
		}
		var names []string
		for _, p := range cnis {
			names = append(names, p.label())
		}
		var out []Finding
		for _, api := range []string{apiANP, apiBANP, apiClusterNetwork} {
			n := c.policyKinds[api]
			if n == 0 {
				continue
			}
			switch best := bestSupport(cnis, api); best {
			case NotEnforced, OptIn:
				p := cnis[0]
				how := "does not enforce"
				if best == OptIn {
					how = "enforces only with its feature gate or flag on, and the input shows no sign that it is, for"
				}
				var why []string
				for _, q := range cnis {
					why = append(why, q.Why...)
				}
				msg := fmt.Sprintf("%d %s object(s) in the input, but %s %s them", n, api, strings.Join(names, ", "), how)
				if len(why) > 0 {
					msg += "; " + strings.Join(why, "; ")
				}
				out = append(out, Finding{Subject: p.Subject, Source: p.Source, Msg: msg, Key: api})
			}
		}
		return out
	},
}
