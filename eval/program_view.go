package eval

import (
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
	var out []*model.Endpoint
	for _, c := range e.peers[id].list {
		for _, m := range e.classes[c].members {
			out = append(out, e.endpoints[m])
		}
	}
	model.SortEndpoints(out)
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
		var ips []model.IPSet
		for _, ep := range e.PeerEndpoints(id) {
			ips = append(ips, model.IPsOf(ep.IPs))
		}
		var s model.IPSet
		for _, x := range ips {
			s = s.Union(x)
		}
		return s
	case model.PeerIPBlock:
		if e.opts.IPBlockExternalOnly {
			var pods []model.IPSet
			for _, ep := range e.Endpoints() {
				if ep.IsPodLike() && !ep.HostNetwork {
					pods = append(pods, model.IPsOf(ep.IPs))
				}
			}
			s := info.peer.IPs
			for _, p := range pods {
				s = s.Subtract(p)
			}
			return s
		}
		return info.peer.IPs
	case model.PeerNetworks, model.PeerNodes:
		return info.peer.IPs
	}
	return model.IPSet{}
}

// PeerDomains returns the domain names of a domain peer.
func (e *Engine) PeerDomains(id int) []string { return e.peers[id].peer.Domains }
