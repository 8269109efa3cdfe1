package lint

import (
	"fmt"

	"github.com/bulkhead/bulkhead/model"
)

// ambiguousPriority reports cluster policies of one tier and priority
// whose rules can decide the same connection differently.
type ambiguousPriority struct{}

func (ambiguousPriority) Info() Info {
	return Info{
		ID: "BH-LINT-013", Name: "ambiguous-priority", Severity: model.SeverityWarning,
		Summary: "Two cluster policies of one tier share a priority and can decide the same connection differently; their order is undefined.",
		Doc: `Within the Admin and Baseline tiers, policies run by priority, and the
API leaves the order of two policies with the same priority undefined:
each implementation may pick its own, and a connection both can decide may
be allowed on one cluster and denied on another.

The check reports two policies of one tier at one priority when their
subjects share a pod (in the input; or, without pods, when their selectors
are not provably disjoint) and a rule of each, in the same direction with
different actions, can match the same peer (the peers share a pod or
addresses, or cannot be told apart without pods) on a common port.
bulkhead orders such ties by kind, then name, so its answers are
deterministic, but a cluster may not agree.`,
		Fix: "Give the policies different priorities, in the order you want them to apply.",
	}
}

func (ambiguousPriority) Run(c *Context) []Finding {
	pols := c.Engine.Policies()
	var out []Finding
	for i, p := range pols {
		if p.Tier != model.TierAdmin && p.Tier != model.TierBaseline {
			continue
		}
		for j := i + 1; j < len(pols); j++ {
			q := pols[j]
			if q.Tier != p.Tier || q.Priority != p.Priority {
				break // evaluation order groups tiers and priorities
			}
			if !c.subjectsOverlap(p, q) {
				continue
			}
			a, b, ok := c.conflictingRules(p, q)
			if !ok {
				continue
			}
			out = append(out, Finding{
				Subject: q.Ref(), Object: q.Source, Path: "spec.priority", Key: p.Ref(),
				Related: []model.Source{p.Source},
				Msg: fmt.Sprintf("%s and %s are both %s-tier at priority %d and can decide the same connections differently (%s %s vs %s %s); the API leaves their order undefined. bulkhead evaluates %s first (ties are ordered by kind, then name), but a cluster may not",
					p.Ref(), q.Ref(), p.Tier, p.Priority, ruleName(p, a), a.Action, ruleName(q, b), b.Action, p.Ref()),
				Fix: "Give the two policies different priorities, in the order you want them to apply.",
			})
		}
	}
	return out
}

// subjectsOverlap reports whether p and q apply to a common pod: one in
// the input, or, without pods, a possible one.
func (c *Context) subjectsOverlap(p, q *model.Policy) bool {
	if !c.hasWorkloads {
		return !c.selectorsDisjoint(p.Subject.NamespaceSelector, q.Subject.NamespaceSelector) &&
			!c.selectorsDisjoint(p.Subject.PodSelector, q.Subject.PodSelector)
	}
	in := map[*model.Endpoint]bool{}
	for _, ep := range c.Subjects(p).eps {
		in[ep] = true
	}
	for _, ep := range c.Subjects(q).eps {
		if in[ep] {
			return true
		}
	}
	return false
}

// conflictingRules finds a rule of p and one of q, in the same direction
// with different actions, that can match a common connection.
func (c *Context) conflictingRules(p, q *model.Policy) (a, b *model.Rule, ok bool) {
	for i := range p.Rules {
		a = &p.Rules[i]
		for j := range q.Rules {
			b = &q.Rules[j]
			if a.Direction != b.Direction || a.Action == b.Action || !portsOverlap(a, b) {
				continue
			}
			if c.peersOverlap(a, b) {
				return a, b, true
			}
		}
	}
	return nil, nil, false
}

// portsOverlap reports whether two rules can match a common connection by
// port; named ports are assumed to.
func portsOverlap(a, b *model.Rule) bool {
	if len(a.Ports) == 0 || len(b.Ports) == 0 || a.HasNamedPorts() || b.HasNamedPorts() {
		return true
	}
	return !a.ResolvePorts(nil).Intersect(b.ResolvePorts(nil)).IsEmpty()
}

// peersOverlap reports whether a peer of a and a peer of b can match the
// same endpoint.
func (c *Context) peersOverlap(a, b *model.Rule) bool {
	if a.AllPeers || b.AllPeers {
		return true
	}
	for i := range a.Peers {
		for j := range b.Peers {
			if c.peerOverlap(&a.Peers[i], &b.Peers[j]) {
				return true
			}
		}
	}
	return false
}

func (c *Context) peerOverlap(x, y *model.Peer) bool {
	ipKind := func(p *model.Peer) bool {
		return p.Kind == model.PeerIPBlock || p.Kind == model.PeerNetworks || p.Kind == model.PeerNodes
	}
	switch {
	case x.Kind == model.PeerPods && y.Kind == model.PeerPods:
		if !c.hasWorkloads {
			return !c.selectorsDisjoint(x.NamespaceSelector, y.NamespaceSelector) && !c.selectorsDisjoint(x.PodSelector, y.PodSelector)
		}
		in := map[*model.Endpoint]bool{}
		for _, ep := range c.PeerPods(x).eps {
			in[ep] = true
		}
		for _, ep := range c.PeerPods(y).eps {
			if in[ep] {
				return true
			}
		}
		return false
	case ipKind(x) && ipKind(y):
		return c.peerIPs(x).Overlaps(c.peerIPs(y))
	case x.Kind == model.PeerDomains || y.Kind == model.PeerDomains:
		return x.Kind != model.PeerPods && y.Kind != model.PeerPods
	case x.Kind == model.PeerPods:
		return c.podsOverlapIPs(x, c.peerIPs(y))
	case y.Kind == model.PeerPods:
		return c.podsOverlapIPs(y, c.peerIPs(x))
	}
	return false
}

// peerIPs returns the addresses of an IP-based peer; for a nodes peer,
// the addresses of the nodes it selects.
func (c *Context) peerIPs(p *model.Peer) model.IPSet {
	if p.Kind != model.PeerNodes {
		return p.IPs
	}
	var s model.IPSet
	for _, n := range c.Snap.Nodes {
		if p.NodeSelector.Matches(n.Labels) {
			s = s.Union(model.IPsOf(n.IPs))
		}
	}
	return s
}

// podsOverlapIPs reports whether a pod peer matches a pod with an address
// in ips.
func (c *Context) podsOverlapIPs(p *model.Peer, ips model.IPSet) bool {
	for _, ep := range c.PeerPods(p).eps {
		for _, ip := range ep.IPs {
			if ips.Contains(ip) {
				return true
			}
		}
	}
	return false
}
