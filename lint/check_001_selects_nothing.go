package lint

import (
	"fmt"
	"sort"
	"strings"

	"github.com/bulkhead/bulkhead/internal/typo"
	"github.com/bulkhead/bulkhead/model"
)

// selectsNothing reports policies whose subject selects no pod.
type selectsNothing struct{}

func (selectsNothing) Info() Info {
	return Info{
		ID: "BH-LINT-001", Name: "policy-selects-nothing", Severity: model.SeverityWarning,
		Summary: "The policy selects no pod, so it has no effect.",
		Doc: `A policy applies to the pods its subject selects: a NetworkPolicy's
spec.podSelector in its namespace, a cluster policy's spec.subject. When no
pod or workload in the input matches, the policy changes nothing, which
usually means a typo in a label, a label that the pod template does not
carry, or a policy applied to the wrong namespace.

The check only speaks about namespaces that have pods or workloads in the
input, so linting policies without their workloads reports nothing. Where a
label value of the selector is close to one the namespace's pods carry, the
message suggests it. Selectors that match only hostNetwork pods are
reported by BH-LINT-011 instead.`,
		Fix:            "Correct the selector so it matches the pods' labels, or delete the policy.",
		NeedsWorkloads: true,
	}
}

func (selectsNothing) Run(c *Context) []Finding {
	var out []Finding
	for _, pol := range c.Engine.Policies() {
		s := c.Subjects(pol)
		if len(s.eps) > 0 || len(s.host) > 0 {
			continue
		}
		sub := pol.Subject
		f := Finding{Subject: pol.Ref(), Object: pol.Source, Path: "spec.subject"}
		if pol.Tier == model.TierNetworkPolicy {
			f.Path = "spec.podSelector"
		}
		var nss []string
		if sub.Namespace != "" {
			nss = []string{sub.Namespace}
		} else {
			nss = c.namespaces("", sub.NamespaceSelector)
			if len(nss) == 0 {
				if !c.declaredNS {
					continue
				}
				f.Msg = fmt.Sprintf("the namespace selector %s selects none of the namespaces in the input (%s), so the policy applies to nothing",
					sub.NamespaceSelector, strings.Join(c.nsNames, ", "))
				f.Fix = "Correct spec.subject's namespace selector to match the namespaces' labels (kubectl get ns --show-labels), or delete the policy."
				out = append(out, f)
				continue
			}
		}
		var withPods []string
		n := 0
		for _, ns := range nss {
			for _, g := range c.byNS[ns] {
				n += len(g.members)
			}
			if c.hasPods(ns) {
				withPods = append(withPods, ns)
			}
		}
		if len(withPods) == 0 {
			continue
		}
		where := "namespace " + withPods[0]
		if len(withPods) > 1 {
			where = "namespaces " + strings.Join(withPods, ", ")
		}
		f.Msg = fmt.Sprintf("the pod selector %s matches none of the %s in %s, so the policy applies to nothing",
			sub.PodSelector, plural(n, "pod"), where)
		if hint := nearMiss(c, withPods, sub.PodSelector); hint != "" {
			f.Msg += "; did you mean " + hint + "?"
		}
		f.Fix = fmt.Sprintf("Correct the pod selector to match the pods' labels (kubectl get pods -n %s --show-labels), or delete the policy.", withPods[0])
		out = append(out, f)
	}
	return out
}

// nearMiss suggests a label the pods of the namespaces carry that is one
// or two edits away from a value the selector requires: "app=payments".
func nearMiss(c *Context, nss []string, sel model.Selector) string {
	reqs, ok := c.requirements(sel)
	if !ok {
		return ""
	}
	for _, r := range reqs {
		if !isIn(r.Operator()) {
			continue
		}
		want := r.ValuesUnsorted()
		var cands []string
		for _, ns := range nss {
			for _, g := range c.byNS[ns] {
				v, ok := g.labels[r.Key()]
				if !ok {
					continue
				}
				for _, w := range want {
					if d := typo.Distance(v, w); d > 0 && d <= 2 {
						cands = append(cands, r.Key()+"="+v)
					}
				}
			}
		}
		if len(cands) > 0 {
			sort.Strings(cands)
			return cands[0]
		}
	}
	return ""
}
