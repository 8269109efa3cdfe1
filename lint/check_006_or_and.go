package lint

import (
	"fmt"

	"github.com/bulkhead/bulkhead/model"
)

// orInsteadOfAnd reports a namespaceSelector item and a podSelector item
// side by side where one item with both selectors was probably meant.
type orInsteadOfAnd struct{}

func (orInsteadOfAnd) Info() Info {
	return Info{
		ID: "BH-LINT-006", Name: "or-instead-of-and", Severity: model.SeverityWarning,
		Summary: "Separate namespaceSelector and podSelector items are ORed; one item with both (an AND) was probably meant.",
		Doc: `In a NetworkPolicy, the items of from/to are ORed, and the selectors
inside one item are ANDed. One dash decides which:

    - namespaceSelector: {matchLabels: {team: a}}   # every pod of team a's namespaces
    - podSelector: {matchLabels: {app: x}}          # OR pods app=x of this namespace

    - namespaceSelector: {matchLabels: {team: a}}   # pods app=x
      podSelector: {matchLabels: {app: x}}          # in team a's namespaces

The first form admits every pod of the selected namespaces, far more than
intended. The check reports a rule holding an item with only a
namespaceSelector and an item with only a podSelector when the AND reading
makes sense and the OR reading looks accidental: pods matching the pod
selector exist in the selected namespaces, or the pod selector matches
nothing in the policy's own namespace (or the input has no pods to tell).
It stays quiet when the pod selector clearly means pods of the policy's own
namespace (it matches some there, and none in the other namespaces).`,
		Fix: "Put both selectors in one item (no dash before podSelector), or add a comment and a suppression if the OR is intended.",
	}
}

func (orInsteadOfAnd) Run(c *Context) []Finding {
	var out []Finding
	for _, pol := range c.Engine.Policies() {
		if pol.Tier != model.TierNetworkPolicy {
			continue
		}
		for ri := range pol.Rules {
			r := &pol.Rules[ri]
			for i := range r.Peers {
				ns := &r.Peers[i]
				if ns.Kind != model.PeerPods || ns.Namespace != "" || !ns.PodSelector.SelectsAll() || ns.NamespaceSelector.SelectsAll() {
					continue
				}
				for j := range r.Peers {
					pod := &r.Peers[j]
					if pod.Kind != model.PeerPods || pod.Namespace == "" || pod.PodSelector.SelectsAll() {
						continue
					}
					if f, ok := c.orAnd(pol, r, ns, pod, j); ok {
						out = append(out, f)
					}
				}
			}
		}
	}
	return out
}

func (c *Context) orAnd(pol *model.Policy, r *model.Rule, ns, pod *model.Peer, j int) (Finding, bool) {
	nss := c.namespaces("", ns.NamespaceSelector)
	local := c.pods([]string{pod.Namespace}, pod.PodSelector).eps
	and := c.pods(nss, pod.PodSelector).eps
	all := c.pods(nss, model.Selector{}).eps
	why := "the input has no pods to tell"
	switch {
	case !c.hasWorkloads:
	case len(and) > 0:
		match := plural(len(and), "pod") + " match"
		if len(and) == 1 {
			match = "1 pod matches"
		}
		why = fmt.Sprintf("as written it admits all %s of those namespaces, where %s the pod selector (%s)",
			plural(len(all), "pod"), match, c.idList(and, 3))
	case len(local) == 0:
		why = fmt.Sprintf("the pod selector matches nothing in the policy's namespace %s, and as written the rule admits all %s of the selected namespaces",
			pod.Namespace, plural(len(all), "pod"))
	default:
		return Finding{}, false
	}
	return Finding{
		Subject: pol.Ref(), Object: pol.Source, Path: peerPath(r, j),
		Msg: fmt.Sprintf("%s lists %q and %q as separate items, which are ORed; one item with both selectors (pods %s in namespaces %s) was probably meant: %s",
			r.Ref(), ns.String(), pod.String(), pod.PodSelector, ns.NamespaceSelector, why),
		Fix: fmt.Sprintf("Merge the items: `- namespaceSelector: {...}` followed by `  podSelector: {...}` without a dash, in %s.%s.", rulePath(r), peersField(r)),
	}, true
}
