package lint

import (
	"fmt"

	"github.com/bulkhead/bulkhead/model"
)

// passToNothing reports Admin-tier Pass rules whose connections no lower
// tier decides.
type passToNothing struct{}

func (passToNothing) Info() Info {
	return Info{
		ID: "BH-LINT-012", Name: "pass-to-nothing", Severity: model.SeverityWarning,
		Summary: "An Admin-tier Pass hands connections to lower tiers, but nothing below decides them: they are allowed by default.",
		Doc: `A Pass rule in the Admin tier skips the rest of the tier and leaves the
connection to the namespace's NetworkPolicies and then to the Baseline
tier. When no NetworkPolicy isolates the selected pods in that direction
and no Baseline policy applies to them, nothing decides the connection and
Kubernetes' default allows it. Pass then means Allow, and a reader of the
cluster policy would not guess it.

The check asks the engine, for each pod a Pass rule's policy selects,
whether a NetworkPolicy isolates it in the rule's direction or a Baseline
policy applies to it, and reports the rule when some pods have neither.`,
		Fix:            "Use Accept if allowing is the intent; otherwise isolate the pods with a NetworkPolicy or add a Baseline policy (for example a default deny).",
		NeedsWorkloads: true,
	}
}

func (passToNothing) Run(c *Context) []Finding {
	e := c.Engine
	var baseline []*model.Policy
	for _, pol := range e.Policies() {
		if pol.Tier == model.TierBaseline {
			baseline = append(baseline, pol)
		}
	}
	below := func(ep *model.Endpoint, dir model.Direction) bool {
		in, eg := e.Isolation(ep)
		if dir == model.Ingress && in || dir == model.Egress && eg {
			return true
		}
		for _, b := range baseline {
			if b.Isolates(dir) && selectsEndpoint(c, b, ep) {
				return true
			}
		}
		return false
	}
	var out []Finding
	for _, pol := range e.Policies() {
		if pol.Tier != model.TierAdmin {
			continue
		}
		subjects := c.Subjects(pol).eps
		for ri := range pol.Rules {
			r := &pol.Rules[ri]
			if r.Action != model.Pass {
				continue
			}
			var open []*model.Endpoint
			for _, ep := range subjects {
				if !below(ep, r.Direction) {
					open = append(open, ep)
				}
			}
			if len(open) == 0 {
				continue
			}
			out = append(out, Finding{
				Subject: pol.Ref(), Object: pol.Source, Path: rulePath(r),
				Msg: fmt.Sprintf("%s passes connections to lower tiers, but for %s of the %d it applies to (%s) no NetworkPolicy isolates %s and no Baseline policy applies: the passed connections are allowed by default",
					r.Ref(), plural(len(open), "pod"), len(subjects), c.idList(open, 3), r.Direction),
				Fix: "Use action Accept if allowing is the intent; otherwise isolate these pods with a NetworkPolicy, or add a Baseline policy such as a default deny.",
			})
		}
	}
	return out
}

// selectsEndpoint reports whether pol's subject selects ep.
func selectsEndpoint(c *Context, pol *model.Policy, ep *model.Endpoint) bool {
	if !ep.IsPolicySubject() {
		return false
	}
	s := pol.Subject
	if s.Namespace != "" {
		if s.Namespace != ep.Namespace {
			return false
		}
	} else if !s.NamespaceSelector.Matches(c.namespaceLabels(ep.Namespace)) {
		return false
	}
	return s.PodSelector.Matches(ep.Labels)
}
