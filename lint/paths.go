package lint

import (
	"fmt"

	"github.com/bulkhead/bulkhead/model"
)

// Field paths of the parts of a policy, as the manifest spells them. Every
// policy kind keeps its rules and peers in order, so the model's indexes
// are the manifest's.

// rulePath is "spec.ingress[2]" or "spec.egress[0]".
func rulePath(r *model.Rule) string {
	return fmt.Sprintf("spec.%s[%d]", r.Direction, r.Index)
}

// peersField is "from" for ingress and "to" for egress.
func peersField(r *model.Rule) string {
	if r.Direction == model.Ingress {
		return "from"
	}
	return "to"
}

// peerPath is "spec.ingress[2].from[1]".
func peerPath(r *model.Rule, j int) string {
	return fmt.Sprintf("%s.%s[%d]", rulePath(r), peersField(r), j)
}

// portPath is the path of the k-th port item of a rule: "ports[k]" for
// NetworkPolicy; the cluster tiers nest ports differently by version, so
// their findings point at the rule.
func portPath(pol *model.Policy, r *model.Rule, k int) string {
	if pol.Tier == model.TierNetworkPolicy {
		return fmt.Sprintf("%s.ports[%d]", rulePath(r), k)
	}
	return rulePath(r)
}

// ruleName names a rule for messages: "ingress[0]" or "egress[1] 'dns'".
func ruleName(pol *model.Policy, r *model.Rule) string {
	return pol.Ref() + " " + r.Ref()
}
