package lint

import (
	"fmt"
	"strings"

	"github.com/bulkhead/bulkhead/model"
)

// peerMatchesNothing reports peers (from/to items) that match no pod, no
// namespace or no node.
type peerMatchesNothing struct{}

func (peerMatchesNothing) Info() Info {
	return Info{
		ID: "BH-LINT-002", Name: "peer-matches-nothing", Severity: model.SeverityWarning,
		Summary: "A from/to item matches no pod, namespace or node, so it allows nothing.",
		Doc: `Each item of a rule's from or to list names peers. An item whose
namespace selector selects no namespace, whose pod selector matches no pod
in the namespaces it selects, or whose node selector matches no node adds
nothing to the rule: the traffic its author wanted to allow stays denied
(or, in a Deny rule, stays allowed).

A pod selector without a namespace selector in a NetworkPolicy looks only
in the policy's own namespace, a frequent surprise; and peers never match
hostNetwork pods, which the message points out when those are all the
selector matches. Namespace selectors are judged only when the input
declares Namespace objects (otherwise their labels are unknown), and pod
selectors only in namespaces that have pods or workloads in the input.`,
		Fix:            "Correct the selectors of the item, add a namespaceSelector when the pods live in another namespace, or remove the item.",
		NeedsWorkloads: true,
	}
}

func (peerMatchesNothing) Run(c *Context) []Finding {
	var out []Finding
	for _, pol := range c.Engine.Policies() {
		for ri := range pol.Rules {
			r := &pol.Rules[ri]
			for j := range r.Peers {
				p := &r.Peers[j]
				msg, fix := c.peerMatchesNothing(pol, p)
				if msg == "" {
					continue
				}
				out = append(out, Finding{
					Subject: pol.Ref(), Object: pol.Source, Path: peerPath(r, j),
					Msg: fmt.Sprintf("%s %s: %s", r.Ref(), p, msg), Fix: fix,
				})
			}
		}
	}
	return out
}

// peerMatchesNothing explains why p matches nothing, or returns "".
func (c *Context) peerMatchesNothing(pol *model.Policy, p *model.Peer) (msg, fix string) {
	switch p.Kind {
	case model.PeerPods:
		nss := c.namespaces(p.Namespace, p.NamespaceSelector)
		if len(nss) == 0 {
			if !c.declaredNS {
				return "", ""
			}
			return fmt.Sprintf("the namespace selector %s selects none of the namespaces in the input (%s)", p.NamespaceSelector, strings.Join(c.nsNames, ", ")),
				"Correct the namespace selector to match the namespaces' labels (kubectl get ns --show-labels); every namespace carries kubernetes.io/metadata.name=<name>."
		}
		var withPods []string
		for _, ns := range nss {
			if c.hasPods(ns) {
				withPods = append(withPods, ns)
			}
		}
		if len(withPods) == 0 {
			return "", ""
		}
		if found, _ := c.anyPods(nss, p.PodSelector); found {
			return "", ""
		}
		s := c.PeerPods(p)
		where := "namespace " + withPods[0]
		if len(withPods) > 1 {
			where = "namespaces " + strings.Join(withPods, ", ")
		}
		if len(s.host) > 0 {
			return fmt.Sprintf("it matches only hostNetwork pods (%s), which peers never match: their traffic carries the node's address", c.idList(s.host, 3)),
				"Allow the nodes' addresses (an ipBlock, or a nodes peer in a cluster policy) instead of selecting hostNetwork pods."
		}
		msg = fmt.Sprintf("the pod selector %s matches no pod in %s", p.PodSelector, where)
		if pol.Tier == model.TierNetworkPolicy && p.Namespace != "" {
			if other := c.pods(c.namespaces("", model.Selector{}), p.PodSelector); len(other.eps) > 0 {
				msg += fmt.Sprintf(" (a podSelector alone looks only in the policy's namespace; elsewhere it matches %s)", c.idList(other.eps, 3))
				return msg, "Add a namespaceSelector to the same item (no dash before it) to select pods in other namespaces."
			}
		}
		if hint := nearMiss(c, withPods, p.PodSelector); hint != "" {
			msg += "; did you mean " + hint + "?"
		}
		return msg, "Correct the pod selector to match the pods' labels, or remove the item."
	case model.PeerNodes:
		if len(c.Snap.Nodes) == 0 {
			return "", ""
		}
		for _, n := range c.Snap.Nodes {
			if p.NodeSelector.Matches(n.Labels) {
				return "", ""
			}
		}
		return fmt.Sprintf("the node selector %s matches none of the %s in the input", p.NodeSelector, plural(len(c.Snap.Nodes), "node")),
			"Correct the node selector to match the nodes' labels (kubectl get nodes --show-labels)."
	}
	return "", ""
}
