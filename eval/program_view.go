package eval

import (
	"net/netip"
	"slices"

	"github.com/bulkhead/bulkhead/model"
)

// Program is the read-only view of a program for compilers: the ordered
// rules that apply to a set of endpoints in one direction. Endpoints with
// the same applicable policies share one Program, which is what lets a
// compiled ruleset share one chain between them.
type Program struct {
	e *Engine
	p *program
	// ID is the program's position among the engine's programs; stable for
	// one engine.
	ID int
}

// ProgramRule is one rule of a program.
type ProgramRule struct {
	Tier   model.Tier
	Policy *model.Policy
	Rule   *model.Rule
	// Peers are the rule's peers as engine peer ids (see Engine.PeerIPs);
	// empty with Rule.AllPeers.
	Peers []int
}

// ProgramOf returns the program of ep in direction dir, or nil when ep is
// not subject to policies.
func (e *Engine) ProgramOf(ep *model.Endpoint, dir model.Direction) *Program {
	i, ok := e.index[ep]
	if !ok {
		return nil
	}
	d := 0
	if dir == model.Egress {
		d = 1
	}
	p := e.prog[d][e.epClass[i]]
	if p == nil {
		return nil
	}
	return &Program{e: e, p: p, ID: p.id}
}

// Policies returns the policies whose rules the program runs, in
// evaluation order, then the isolating NetworkPolicies that have no rule
// for its direction (they deny by isolating alone).
func (p *Program) Policies() []*model.Policy {
	var out []*model.Policy
	for _, r := range p.p.rules {
		if len(out) == 0 || out[len(out)-1] != r.pol {
			out = append(out, r.pol)
		}
	}
	for _, pol := range p.p.isolating {
		if !slices.Contains(out, pol) {
			out = append(out, pol)
		}
	}
	return out
}

// IsolatingPolicies returns the NetworkPolicies that isolate the
// program's endpoints in its direction.
func (p *Program) IsolatingPolicies() []*model.Policy { return slices.Clone(p.p.isolating) }

// Direction returns the program's direction.
func (p *Program) Direction() model.Direction { return p.p.dir }

// Isolated reports whether a NetworkPolicy isolates the program's
// endpoints: then connections the Admin tier leaves to NetworkPolicy are
// denied unless a NetworkPolicy rule allows them, and the Baseline tier is
// never consulted.
func (p *Program) Isolated() bool { return p.p.isolated() }

// Rules returns the program's rules: Admin tier first (in evaluation
// order), then NetworkPolicy, then Baseline.
func (p *Program) Rules() []ProgramRule {
	out := make([]ProgramRule, len(p.p.rules))
	for i, r := range p.p.rules {
		tier := model.TierBaseline
		switch {
		case i < p.p.nAdmin:
			tier = model.TierAdmin
		case i < p.p.nAdmin+p.p.nNP:
			tier = model.TierNetworkPolicy
		}
		peers := make([]int, len(r.peers))
		for j, id := range r.peers {
			peers[j] = int(id)
		}
		out[i] = ProgramRule{Tier: tier, Policy: r.pol, Rule: r.rule, Peers: peers}
	}
	return out
}

// PeerKind returns the kind of peer id.
func (e *Engine) PeerKind(id int) model.PeerKind { return e.peers[id].peer.Kind }

// PeerEndpoints returns the endpoints that peer id matches, in endpoint
// order: pods and workloads for pod peers, and for IP-based peers every
// pod, node and external range whose addresses the peer contains.
func (e *Engine) PeerEndpoints(id int) []*model.Endpoint {
	o := e.ord.get(e)
	var ids []int32
	for _, c := range e.peers[id].list {
		ids = append(ids, e.classes[c].members...)
	}
	slices.SortFunc(ids, func(a, b int32) int { return int(o.rank[a] - o.rank[b]) })
	out := make([]*model.Endpoint, len(ids))
	for i, m := range ids {
		out[i] = e.endpoints[m]
	}
	return out
}

// PeerIPs returns the addresses peer id matches: the known addresses of
// the pods a pod peer selects, or the block of an IP-based peer (without
// pod addresses when ipBlocks match only external addresses). Domain peers
// have no addresses a manifest can tell.
func (e *Engine) PeerIPs(id int) model.IPSet {
	info := e.peers[id]
	switch info.peer.Kind {
	case model.PeerPods:
		var ips []netip.Addr
		for _, c := range info.list {
			for _, m := range e.classes[c].members {
				ips = append(ips, e.endpoints[m].IPs...)
			}
		}
		return model.IPsOf(ips)
	case model.PeerIPBlock:
		if e.opts.IPBlockExternalOnly {
			var pods []netip.Addr
			for _, ep := range e.Endpoints() {
				if ep.IsPodLike() && !ep.HostNetwork {
					pods = append(pods, ep.IPs...)
				}
			}
			return info.peer.IPs.Subtract(model.IPsOf(pods))
		}
		return info.peer.IPs
	case model.PeerNetworks, model.PeerNodes:
		return info.peer.IPs
	}
	return model.IPSet{}
}

// PeerDomains returns the domain names of a domain peer.
func (e *Engine) PeerDomains(id int) []string { return e.peers[id].peer.Domains }
