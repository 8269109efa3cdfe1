package lint

import (
	"fmt"

	"github.com/bulkhead/bulkhead/model"
)

// redundantRule reports NetworkPolicy rules that another rule already
// covers.
type redundantRule struct{}

func (redundantRule) Info() Info {
	return Info{
		ID: "BH-LINT-009", Name: "redundant-rule", Severity: model.SeverityInfo,
		Summary: "A NetworkPolicy rule allows nothing that a broader rule does not already allow to the same pods.",
		Doc: `NetworkPolicies add up: a pod may receive (or send) whatever any rule
of any policy selecting it allows. A rule whose peers and ports are all
covered by another rule, of the same policy or of a policy in the same
namespace that selects every pod this one selects, changes nothing. It
misleads readers, who expect it to matter, and it stays behind when the
broader rule is narrowed later.

Coverage is proven from the selectors (matchLabels and matchExpressions
implications), address sets and port sets, so it holds for pods that do
not exist yet; a rule is never reported because of the pods that happen to
be in the input. Of two identical rules, the later one (in namespace,
name and rule order) is reported.`,
		Fix: "Delete the redundant rule, or narrow the broader rule if it allows more than intended.",
	}
}

func (redundantRule) Run(c *Context) []Finding {
	byNS := map[string][]*model.Policy{}
	var nss []string
	for _, pol := range c.Engine.Policies() {
		if pol.Tier != model.TierNetworkPolicy {
			continue
		}
		if byNS[pol.Namespace] == nil {
			nss = append(nss, pol.Namespace)
		}
		byNS[pol.Namespace] = append(byNS[pol.Namespace], pol)
	}
	var out []Finding
	for _, ns := range nss {
		pols := byNS[ns]
		for pi, p := range pols {
			for ri := range p.Rules {
				a := &p.Rules[ri]
				if !p.Isolates(a.Direction) {
					continue
				}
			search:
				for qi, q := range pols {
					if !q.Isolates(a.Direction) || q != p && !c.subjectWithin(p, q) {
						continue
					}
					for rj := range q.Rules {
						b := &q.Rules[rj]
						if qi == pi && rj == ri || !c.ruleWithin(a, b) {
							continue
						}
						// Of two equal rules, report the later one only.
						if c.ruleWithin(b, a) && c.subjectWithin(q, p) && (qi > pi || qi == pi && rj > ri) {
							continue
						}
						where := "the same policy's " + b.Ref()
						if q != p {
							where = ruleName(q, b) + ", whose policy selects every pod this one selects,"
						}
						out = append(out, Finding{
							Subject: p.Ref(), Object: p.Source, Path: rulePath(a), Key: ruleName(q, b),
							Related: []model.Source{q.Source},
							Msg:     fmt.Sprintf("%s is redundant: %s already allows every peer and port it allows", a.Ref(), where),
							Fix:     "Delete the redundant rule, or narrow the broader one if it allows more than intended.",
						})
						break search
					}
				}
			}
		}
	}
	return out
}
