package lint

import (
	"fmt"

	"github.com/bulkhead/bulkhead/model"
)

// unreachableRule reports cluster-tier rules that an earlier rule always
// decides first.
type unreachableRule struct{}

func (unreachableRule) Info() Info {
	return Info{
		ID: "BH-LINT-010", Name: "unreachable-rule", Severity: model.SeverityWarning,
		Summary: "A cluster-tier rule can never match: an earlier rule decides every connection it would.",
		Doc: `In the Admin and Baseline tiers the first matching rule decides: rules
run in policy priority order (lower first) and, within a policy, in order.
A rule whose peers and ports are covered by an earlier rule (of the same
policy, or of a policy with a lower priority whose subject covers this
one's) never decides anything. When the two rules have different actions,
the later one was surely meant to matter: a warning; with the same action
it is only dead weight: info.

Coverage is proven from the selectors, address sets and ports (see
BH-LINT-009). Policies at the same priority are not compared: their order
is undefined, which BH-LINT-013 reports.`,
		Fix: "Move the rule before the broader one (or give its policy a lower priority), narrow the broader rule, or delete this one.",
	}
}

func (unreachableRule) Run(c *Context) []Finding {
	var out []Finding
	pols := c.Engine.Policies()
	for pi, p := range pols {
		if p.Tier != model.TierAdmin && p.Tier != model.TierBaseline {
			continue
		}
		for ri := range p.Rules {
			a := &p.Rules[ri]
			if f, ok := c.shadowOf(pols, pi, a); ok {
				out = append(out, f)
			}
		}
	}
	return out
}

// shadowOf finds an earlier rule of the same tier that covers rule a of
// pols[pi].
func (c *Context) shadowOf(pols []*model.Policy, pi int, a *model.Rule) (Finding, bool) {
	p := pols[pi]
	for qi := 0; qi <= pi; qi++ {
		q := pols[qi]
		if q.Tier != p.Tier || q != p && (q.Priority >= p.Priority || !c.subjectWithin(p, q)) {
			continue
		}
		for rj := range q.Rules {
			b := &q.Rules[rj]
			if q == p && b.Index >= a.Index && b.Direction == a.Direction || !c.ruleWithin(a, b) {
				continue
			}
			f := Finding{
				Subject: p.Ref(), Object: p.Source, Path: rulePath(a), Key: ruleName(q, b),
				Related: []model.Source{q.Source},
			}
			where := "the earlier " + b.Ref() + " of the same policy"
			if q != p {
				where = fmt.Sprintf("%s (priority %d, before this policy's %d), whose subject covers this one's,", ruleName(q, b), q.Priority, p.Priority)
			}
			f.Msg = fmt.Sprintf("%s (%s) can never match: %s matches every connection it would and decides it first (%s)", a.Ref(), a.Action, where, b.Action)
			if a.Action == b.Action {
				f.Severity = model.SeverityInfo
				f.Fix = "Delete the rule: the earlier rule already does the same."
			} else {
				f.Fix = fmt.Sprintf("If the %s should win, move it before the broader rule or give its policy a lower priority; otherwise delete it.", a.Action)
			}
			return f, true
		}
	}
	return Finding{}, false
}
