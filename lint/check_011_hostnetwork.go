package lint

import (
	"fmt"

	"github.com/bulkhead/bulkhead/model"
)

// selectsHostNetwork reports policies that target hostNetwork pods, which
// no network policy applies to.
type selectsHostNetwork struct{}

func (selectsHostNetwork) Info() Info {
	return Info{
		ID: "BH-LINT-011", Name: "selects-hostnetwork", Severity: model.SeverityWarning,
		Summary: "The policy selects hostNetwork pods, which network policies do not apply to.",
		Doc: `Pods with hostNetwork: true share their node's network namespace; no
NetworkPolicy or cluster policy applies to them (the API leaves it to the
implementation, and the common ones ignore them). A policy written for such
a pod (node exporters, CNI agents, ingress controllers on the host network)
restricts nothing, and its author believes otherwise.

The check reports a policy whose pod selector is specific (not {}) and
matches hostNetwork pods, and a policy of any selector that matches only
hostNetwork pods, so that namespace-wide defaults (podSelector: {}) in a
namespace that also runs a hostNetwork DaemonSet stay quiet.`,
		Fix:            "Protect hostNetwork pods with the nodes' firewall instead, or stop running them on the host network.",
		NeedsWorkloads: true,
	}
}

func (selectsHostNetwork) Run(c *Context) []Finding {
	var out []Finding
	for _, pol := range c.Engine.Policies() {
		s := c.Subjects(pol)
		if len(s.host) == 0 || pol.Subject.PodSelector.SelectsAll() && len(s.eps) > 0 {
			continue
		}
		path := "spec.subject"
		if pol.Tier == model.TierNetworkPolicy {
			path = "spec.podSelector"
		}
		msg := fmt.Sprintf("it selects hostNetwork pods (%s), which network policies do not apply to", c.idList(s.host, 3))
		if len(s.eps) == 0 {
			msg += ": the policy has no effect at all"
		} else {
			msg += fmt.Sprintf("; it applies only to the other %s (%s)", plural(len(s.eps), "pod"), c.idList(s.eps, 3))
		}
		var related []model.Source
		for _, ep := range s.host {
			related = append(related, ep.Source)
		}
		out = append(out, Finding{Subject: pol.Ref(), Object: pol.Source, Path: path, Msg: msg, Related: related,
			Fix: "Protect hostNetwork pods with the nodes' firewall instead, or run them off the host network; narrow the selector to the pods policies can apply to."})
	}
	return out
}
