package lint

import (
	"fmt"
	"strings"

	"github.com/bulkhead/bulkhead/model"
)

// invertedDirection reports policies whose name says "a to b" while their
// rules admit b to a.
type invertedDirection struct{}

func (invertedDirection) Info() Info {
	return Info{
		ID: "BH-LINT-005", Name: "inverted-direction", Severity: model.SeverityWarning,
		Summary: "The policy's name says traffic goes one way, its rules allow the other way.",
		Doc: `Policies are often named after the traffic they allow: web-to-api,
api-from-web. NetworkPolicy makes it easy to write the opposite: a policy
web-to-api that selects the web pods and admits api in ingress lets api
connect to web, and web still cannot reach api.

The check reads names of the form <a>-to-<b> and <b>-from-<a> (ignoring an
allow-/deny- prefix and an -ingress/-egress/-traffic suffix), and matches a
and b against what the subject and the peers name: namespaces, label
values in selectors, and the names and label values of the pods they
select. It reports a policy whose subject names a and whose ingress admits
b, or whose subject names b and whose egress reaches a, and nothing when
the rules also read the right way round or the subject names both.`,
		Fix: "Select the destination and admit the source in ingress (or select the source and allow egress to the destination); if the rules are right, rename the policy.",
	}
}

// directionFromName reads "a-to-b" and "b-from-a" as traffic from src to
// dst.
func directionFromName(name string) (src, dst string, ok bool) {
	trim := func(a, b string) (string, string) {
		for _, p := range []string{"allow-", "deny-", "permit-"} {
			a = strings.TrimPrefix(a, p)
		}
		for _, s := range []string{"-ingress", "-egress", "-traffic", "-access"} {
			b = strings.TrimSuffix(b, s)
		}
		return a, b
	}
	if a, b, found := strings.Cut(name, "-to-"); found {
		src, dst = trim(a, b)
	} else if b, a, found := strings.Cut(name, "-from-"); found {
		dst, src = trim(b, a)
	} else {
		return "", "", false
	}
	if src == "" || dst == "" || src == dst {
		return "", "", false
	}
	return src, dst, true
}

// names is the set of words a part of a policy refers to.
type names map[string]bool

func (n names) addEndpoints(eps []*model.Endpoint) {
	for _, ep := range eps {
		n[ep.Name] = true
		for _, v := range ep.Labels {
			n[v] = true
		}
	}
}

func (n names) addSelector(c *Context, s model.Selector) {
	for _, v := range c.selectorValues(s) {
		n[v] = true
	}
}

func (invertedDirection) Run(c *Context) []Finding {
	var out []Finding
	for _, pol := range c.Engine.Policies() {
		src, dst, ok := directionFromName(pol.Name)
		if !ok {
			continue
		}
		subj := names{}
		if pol.Subject.Namespace != "" {
			subj[pol.Subject.Namespace] = true
		} else {
			subj.addSelector(c, pol.Subject.NamespaceSelector)
		}
		subj.addSelector(c, pol.Subject.PodSelector)
		subj.addEndpoints(c.Subjects(pol).eps)
		if subj[src] == subj[dst] {
			continue // names neither or both: nothing to go by
		}
		peerNames := func(r *model.Rule) names {
			n := names{}
			for i := range r.Peers {
				p := &r.Peers[i]
				if p.Kind != model.PeerPods {
					continue
				}
				if p.Namespace != "" {
					n[p.Namespace] = true
				} else {
					n.addSelector(c, p.NamespaceSelector)
				}
				n.addSelector(c, p.PodSelector)
				n.addEndpoints(c.PeerPods(p).eps)
			}
			return n
		}
		var right bool
		var wrong *model.Rule
		for ri := range pol.Rules {
			r := &pol.Rules[ri]
			if !pol.Isolates(r.Direction) || r.Action == model.Deny {
				continue
			}
			pn := peerNames(r)
			if pn[src] && pn[dst] {
				continue
			}
			switch {
			case r.Direction == model.Ingress && subj[dst] && pn[src], r.Direction == model.Egress && subj[src] && pn[dst]:
				right = true
			case r.Direction == model.Ingress && subj[src] && pn[dst], r.Direction == model.Egress && subj[dst] && pn[src]:
				if wrong == nil {
					wrong = r
				}
			}
		}
		if right || wrong == nil {
			continue
		}
		var msg string
		if wrong.Direction == model.Ingress {
			msg = fmt.Sprintf("the name says traffic goes from %q to %q, but the policy selects %s and %s admits %s: it lets %s connect to %s, not the other way",
				src, dst, src, wrong.Ref(), dst, dst, src)
		} else {
			msg = fmt.Sprintf("the name says traffic goes from %q to %q, but the policy selects %s and %s lets it reach %s: it lets %s connect to %s, not the other way",
				src, dst, dst, wrong.Ref(), src, dst, src)
		}
		out = append(out, Finding{
			Subject: pol.Ref(), Object: pol.Source, Path: rulePath(wrong), Msg: msg,
			Fix: fmt.Sprintf("For %s to reach %s, select %s and admit %s in ingress (from), or select %s and allow egress to %s; if the rules are what you want, rename the policy %s-to-%s.",
				src, dst, dst, src, src, dst, dst, src),
		})
	}
	return out
}
