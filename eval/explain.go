package eval

import (
	"slices"

	"github.com/bulkhead/bulkhead/model"
)

// Step is one step of a decision: a rule that decided some connections,
// or a tier-level outcome (isolation without an allowing rule, default
// allow) when Rule is nil.
type Step struct {
	Tier   model.Tier // TierUnknown for the final default
	Policy *model.Policy
	Rule   *model.Rule
	Action model.Action
	// Conns are the connections this step decided.
	Conns model.ConnSet
	// Unknown marks a rule that matches only if one of its domain names
	// resolves to the peer: the connections' fate is unknown.
	Unknown bool
	Note    string
}

// Side is the decision of one direction of a connection: the source's
// egress or the destination's ingress.
type Side struct {
	Direction model.Direction
	// Endpoint is the side's subject: the source for egress, the
	// destination for ingress.
	Endpoint *model.Endpoint
	// Subject is false for endpoints no policy applies to (nodes, the
	// outside world, hostNetwork pods): they allow everything.
	Subject bool
	// Policies are the policies that select the endpoint for this
	// direction, in evaluation order.
	Policies []*model.Policy
	// Isolated reports whether a NetworkPolicy isolates the endpoint.
	Isolated bool
	Steps    []Step
	Allowed  model.ConnSet
	Unknown  model.ConnSet
}

// Decision is the engine's answer for the connections in Scope from Src
// to Dst, with the trace of both sides.
type Decision struct {
	Src, Dst *model.Endpoint
	Scope    model.ConnSet
	// Self is true when Src and Dst are the same endpoint: a pod can
	// always reach itself.
	Self            bool
	Egress, Ingress Side
	// Allowed is what both sides allow; Unknown what depends on domain
	// names; the rest of Scope is denied.
	Allowed, Unknown model.ConnSet
}

// Explain decides the connections in scope from src to dst and records
// why, evaluating the pair directly rather than through classes.
func (e *Engine) Explain(src, dst *model.Endpoint, scope model.ConnSet) *Decision {
	d := &Decision{Src: src, Dst: dst, Scope: scope}
	if src == dst {
		d.Self = true
		d.Allowed = scope
		d.Egress = Side{Direction: model.Egress, Endpoint: src, Allowed: scope}
		d.Ingress = Side{Direction: model.Ingress, Endpoint: dst, Allowed: scope}
		return d
	}
	d.Egress = e.decideDirect(model.Egress, src, dst, dst, scope)
	d.Ingress = e.decideDirect(model.Ingress, dst, src, dst, scope)
	eg, in := d.Egress, d.Ingress
	d.Allowed = eg.Allowed.Intersect(in.Allowed)
	d.Unknown = eg.Allowed.Union(eg.Unknown).Intersect(in.Allowed.Union(in.Unknown)).Subtract(d.Allowed)
	return d
}

// decideDirect decides direction dir for subject, talking to peer, with
// ports resolved on dst.
func (e *Engine) decideDirect(dir model.Direction, subject, peer, dst *model.Endpoint, scope model.ConnSet) Side {
	s := Side{Direction: dir, Endpoint: subject}
	if !subject.IsPolicySubject() {
		s.Allowed = scope
		s.Steps = []Step{{Action: model.Allow, Conns: scope, Note: notSubjectNote(subject)}}
		return s
	}
	s.Subject = true
	for _, pol := range e.policies {
		if pol.Isolates(dir) && e.selectsDirect(pol, subject) {
			s.Policies = append(s.Policies, pol)
		}
	}
	p := e.newProgram(dir, s.Policies)
	s.Isolated = p.isolated()
	match := func(i int) matchKind {
		r := p.rules[i].rule
		if r.AllPeers {
			return yesMatch
		}
		m := noMatch
		for pi := range r.Peers {
			switch e.matchPeerDirect(&r.Peers[pi], peer) {
			case yesMatch:
				return yesMatch
			case maybeMatch:
				m = maybeMatch
			}
		}
		return m
	}
	ports := func(i int) model.ConnSet { return p.rules[i].rule.ResolvePorts(dst) }
	s.Allowed, s.Unknown = p.decide(scope, match, ports, &s)
	return s
}

func notSubjectNote(ep *model.Endpoint) string {
	switch {
	case ep.HostNetwork:
		return "hostNetwork pods are not subject to network policies"
	case ep.Kind == model.EndpointNode:
		return "nodes are not subject to network policies"
	case ep.Kind == model.EndpointExternal:
		return "addresses outside the cluster are not subject to network policies"
	}
	return "not subject to network policies"
}

// selectsDirect reports whether pol applies to ep, without classes.
func (e *Engine) selectsDirect(pol *model.Policy, ep *model.Endpoint) bool {
	if !ep.IsPolicySubject() {
		return false
	}
	s := &pol.Subject
	return e.nsMatches(s.Namespace, s.NamespaceSelector, ep.Namespace) && s.PodSelector.Matches(ep.Labels)
}

// matchPeerDirect reports whether peer p matches endpoint ep, without
// classes or address regions.
func (e *Engine) matchPeerDirect(p *model.Peer, ep *model.Endpoint) matchKind {
	podNet := ep.IsPodLike() && !ep.HostNetwork
	ipMatch := func(set model.IPSet) matchKind {
		if ep.Kind == model.EndpointExternal {
			if set.Overlaps(ep.External) {
				return yesMatch
			}
			return noMatch
		}
		for _, ip := range ep.IPs {
			if set.Contains(ip) {
				return yesMatch
			}
		}
		return noMatch
	}
	switch p.Kind {
	case model.PeerPods:
		if podNet && e.nsMatches(p.Namespace, p.NamespaceSelector, ep.Namespace) && p.PodSelector.Matches(ep.Labels) {
			return yesMatch
		}
	case model.PeerIPBlock:
		if e.opts.IPBlockExternalOnly && podNet {
			return noMatch
		}
		return ipMatch(p.IPs)
	case model.PeerNetworks:
		return ipMatch(p.IPs)
	case model.PeerNodes:
		var ips []model.IPSet
		for _, n := range e.snap.Nodes {
			if p.NodeSelector.Matches(n.Labels) {
				ips = append(ips, model.IPsOf(n.IPs))
			}
		}
		for _, s := range ips {
			if ipMatch(s) == yesMatch {
				return yesMatch
			}
		}
	case model.PeerDomains:
		if ep.Kind == model.EndpointExternal {
			return maybeMatch
		}
	}
	return noMatch
}

// Allowed returns what src may open to dst (allowed) and what depends on
// domain names (unknown), through the engine's classes. An endpoint can
// always reach itself.
func (e *Engine) Allowed(src, dst *model.Endpoint) (allowed, unknown model.ConnSet) {
	v := e.verdicts.get(e.pairVerdict(src, dst))
	return v.allowed, v.unknown
}

// AllowedBy returns the steps that allow connections from src to dst, per
// direction, as the class machinery computed them: the rules that
// analyze --explain prints next to each connection.
func (e *Engine) AllowedBy(src, dst *model.Endpoint) (egress, ingress []Step) {
	si, di := e.index[src], e.index[dst]
	sc, dc := e.epClass[si], e.epClass[di]
	if p := e.prog[1][sc]; p != nil {
		egress = p.groupFor(dc, e.classes[dc].lid).allowBy
	}
	if p := e.prog[0][dc]; p != nil {
		ingress = p.groupFor(sc, e.classes[sc].lid).allowBy
	}
	return slices.Clip(egress), slices.Clip(ingress)
}

// pairVerdict returns the verdict id of src -> dst.
func (e *Engine) pairVerdict(src, dst *model.Endpoint) int32 {
	if src == dst {
		return verdictAll
	}
	si, ok1 := e.index[src]
	di, ok2 := e.index[dst]
	if !ok1 || !ok2 {
		return verdictNone
	}
	return e.classVerdict(e.epClass[si], e.epClass[di])
}

// classVerdict returns the verdict id of class sc -> class dc.
func (e *Engine) classVerdict(sc, dc int32) int32 {
	s, d := e.classes[sc], e.classes[dc]
	if !s.podLike() && !d.podLike() {
		return verdictAll
	}
	eg, in := verdictAll, verdictAll
	if p := e.prog[1][sc]; p != nil {
		eg = p.groupFor(dc, d.lid).verdict
	}
	if eg == verdictNone {
		return verdictNone
	}
	if p := e.prog[0][dc]; p != nil {
		in = p.groupFor(sc, s.lid).verdict
	}
	return e.verdicts.both(eg, in)
}

// Isolation reports whether a NetworkPolicy isolates ep for ingress and
// for egress. Endpoints policies cannot apply to are never isolated.
func (e *Engine) Isolation(ep *model.Endpoint) (ingress, egress bool) {
	i, ok := e.index[ep]
	if !ok {
		return false, false
	}
	c := e.epClass[i]
	if p := e.prog[0][c]; p != nil {
		ingress = p.isolated()
	}
	if p := e.prog[1][c]; p != nil {
		egress = p.isolated()
	}
	return ingress, egress
}

// PoliciesFor returns the policies that apply to ep in direction dir, in
// evaluation order.
func (e *Engine) PoliciesFor(ep *model.Endpoint, dir model.Direction) []*model.Policy {
	i, ok := e.index[ep]
	if !ok {
		return nil
	}
	var out []*model.Policy
	for _, pol := range e.classPols[e.epClass[i]] {
		if pol.Isolates(dir) {
			out = append(out, pol)
		}
	}
	return out
}

// SideAllowed returns what one side of a connection allows: for Ingress,
// what subject's ingress admits from peer; for Egress, what subject's
// egress lets it open to peer. The other side is not consulted. An
// endpoint policies do not apply to allows everything.
func (e *Engine) SideAllowed(subject, peer *model.Endpoint, dir model.Direction) (allowed, unknown model.ConnSet) {
	g := e.sideGroup(subject, peer, dir)
	if g == nil {
		return model.AllConns(), model.ConnSet{}
	}
	v := e.verdicts.get(g.verdict)
	return v.allowed, v.unknown
}

// SideAllowedBy returns the steps that allow connections on one side, as
// SideAllowed computes them.
func (e *Engine) SideAllowedBy(subject, peer *model.Endpoint, dir model.Direction) []Step {
	g := e.sideGroup(subject, peer, dir)
	if g == nil {
		return nil
	}
	return slices.Clip(g.allowBy)
}

func (e *Engine) sideGroup(subject, peer *model.Endpoint, dir model.Direction) *group {
	si, ok1 := e.index[subject]
	pi, ok2 := e.index[peer]
	if !ok1 || !ok2 {
		return nil
	}
	d := 0
	if dir == model.Egress {
		d = 1
	}
	p := e.prog[d][e.epClass[si]]
	if p == nil {
		return nil
	}
	pc := e.epClass[pi]
	return p.groupFor(pc, e.classes[pc].lid)
}

// SidePeers returns the peers subject's side in direction dir might
// allow: with all false, only the returned endpoints (those some rule of
// its program matches); with all true, possibly any endpoint. It lets
// callers that look at one side skip peers that are denied anyway.
func (e *Engine) SidePeers(subject *model.Endpoint, dir model.Direction) (peers []*model.Endpoint, all bool) {
	si, ok := e.index[subject]
	if !ok {
		return nil, true
	}
	d := 0
	if dir == model.Egress {
		d = 1
	}
	p := e.prog[d][e.epClass[si]]
	if p == nil || !p.unmatchedDenied {
		return nil, true
	}
	for _, c := range p.matched {
		for _, m := range e.classes[c].members {
			peers = append(peers, e.endpoints[m])
		}
	}
	return peers, false
}
