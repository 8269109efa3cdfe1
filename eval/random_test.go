package eval

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/bulkhead/bulkhead/model"
)

// randomSnapshot builds a small random cluster in the IR: namespaces,
// pods with addresses and named ports, hostNetwork pods, nodes, and
// NetworkPolicy, Admin and Baseline policies with every peer kind. It is
// the input of the differential tests between the class machinery and
// direct evaluation.
func randomSnapshot(r *rand.Rand) *model.Snapshot {
	snap := &model.Snapshot{Namespaces: map[string]*model.Namespace{}}
	nsNames := []string{"a", "b", "c"}[:1+r.IntN(3)]
	for _, n := range nsNames {
		ls := map[string]string{model.NamespaceNameLabel: n}
		if r.IntN(2) == 0 {
			ls["env"] = []string{"prod", "dev"}[r.IntN(2)]
		}
		snap.Namespaces[n] = &model.Namespace{Name: n, Labels: ls, Declared: true}
	}
	for i := range 2 {
		snap.Nodes = append(snap.Nodes, &model.Node{
			Name: fmt.Sprintf("node%d", i), Labels: map[string]string{"zone": []string{"x", "y"}[i]},
			IPs: []netip.Addr{netip.AddrFrom4([4]byte{192, 168, 0, byte(1 + i)})},
		})
	}
	apps := []string{"web", "db", "api"}
	portNames := []string{"http", "dns", "metrics"}
	for i := range 3 + r.IntN(6) {
		ns := nsNames[r.IntN(len(nsNames))]
		ep := &model.Endpoint{Kind: model.EndpointPod, Namespace: ns, Name: fmt.Sprintf("p%d", i),
			Labels: map[string]string{"app": apps[r.IntN(len(apps))]}}
		if r.IntN(3) == 0 {
			ep.Labels["tier"] = "x"
		}
		switch r.IntN(4) {
		case 0: // no IP
		case 1:
			ep.IPs = []netip.Addr{netip.AddrFrom4([4]byte{10, 0, byte(r.IntN(2)), byte(1 + i)})}
		case 2:
			ep.IPs = []netip.Addr{netip.AddrFrom4([4]byte{10, 1, 0, byte(1 + i)}), netip.MustParseAddr(fmt.Sprintf("fd00::%x", i+1))}
		case 3:
			if r.IntN(3) == 0 {
				ep.HostNetwork = true
				ep.IPs = snap.Nodes[r.IntN(2)].IPs
			}
		}
		for range r.IntN(3) {
			ep.Ports = append(ep.Ports, model.ContainerPort{
				Name: portNames[r.IntN(len(portNames))], Protocol: model.Protocols[r.IntN(3)], Port: uint16(80 + r.IntN(3)),
			})
		}
		snap.Endpoints = append(snap.Endpoints, ep)
	}
	sel := func() model.Selector {
		switch r.IntN(4) {
		case 0:
			return model.Selector{}
		case 1:
			return model.MustSelector("app=" + apps[r.IntN(len(apps))])
		case 2:
			return model.MustSelector("app in (web,db),tier!=x")
		}
		return model.MustSelector("tier")
	}
	nsSel := func() model.Selector {
		switch r.IntN(3) {
		case 0:
			return model.Selector{}
		case 1:
			return model.MustSelector("env=prod")
		}
		return model.MustSelector(model.NamespaceNameLabel + "=" + nsNames[r.IntN(len(nsNames))])
	}
	cidrs := []string{"10.0.0.0/16", "10.0.1.0/24", "0.0.0.0/0", "192.168.0.0/24", "fd00::/120", "203.0.113.0/24", "10.1.0.0/16"}
	peer := func(tier model.Tier) model.Peer {
		switch r.IntN(6) {
		case 0, 1:
			p := model.Peer{Kind: model.PeerPods, PodSelector: sel()}
			if tier == model.TierNetworkPolicy && r.IntN(2) == 0 {
				p.Namespace = nsNames[r.IntN(len(nsNames))]
			} else {
				p.NamespaceSelector = nsSel()
			}
			return p
		case 2, 3:
			c := netip.MustParsePrefix(cidrs[r.IntN(len(cidrs))])
			var ex []netip.Prefix
			if c.Bits() < 20 && c.Addr().Is4() && r.IntN(2) == 0 {
				ex = append(ex, netip.PrefixFrom(c.Addr(), c.Bits()+4))
			}
			kind := model.PeerIPBlock
			if tier != model.TierNetworkPolicy {
				kind = model.PeerNetworks
			}
			return model.Peer{Kind: kind, IPs: model.IPBlock(c, ex...)}
		case 4:
			if tier != model.TierNetworkPolicy {
				return model.Peer{Kind: model.PeerNodes, NodeSelector: model.MustSelector("zone=x")}
			}
		}
		if tier != model.TierNetworkPolicy && r.IntN(2) == 0 {
			return model.Peer{Kind: model.PeerDomains, Domains: []string{"example.com"}}
		}
		return model.Peer{Kind: model.PeerPods, NamespaceSelector: nsSel(), PodSelector: model.Selector{}}
	}
	ports := func() []model.PortSpec {
		var ps []model.PortSpec
		for range r.IntN(3) {
			switch r.IntN(3) {
			case 0:
				ps = append(ps, model.PortSpec{Protocol: model.Protocols[r.IntN(3)], Ports: model.SinglePort(uint16(80 + r.IntN(3)))})
			case 1:
				ps = append(ps, model.PortSpec{Protocol: model.TCP, Ports: model.PortsOf(model.PortRange{First: 79, Last: 81})})
			case 2:
				proto := model.Protocols[r.IntN(3)]
				if r.IntN(2) == 0 {
					proto = model.ProtocolUnknown
				}
				ps = append(ps, model.PortSpec{Protocol: proto, Name: portNames[r.IntN(len(portNames))]})
			}
		}
		return ps
	}
	for i := range r.IntN(7) {
		tier := []model.Tier{model.TierNetworkPolicy, model.TierNetworkPolicy, model.TierAdmin, model.TierBaseline}[r.IntN(4)]
		pol := &model.Policy{Tier: tier, Name: fmt.Sprintf("pol%d", i), Priority: int32(r.IntN(3))}
		switch tier {
		case model.TierNetworkPolicy:
			pol.Kind = "NetworkPolicy"
			pol.Namespace = nsNames[r.IntN(len(nsNames))]
			pol.Subject = model.Subject{Namespace: pol.Namespace, PodSelector: sel()}
			pol.IngressIsolation = r.IntN(4) != 0
			pol.EgressIsolation = r.IntN(2) == 0
		default:
			pol.Kind = "ClusterNetworkPolicy"
			pol.Subject = model.Subject{NamespaceSelector: nsSel(), PodSelector: sel()}
		}
		for _, dir := range model.Directions {
			idx := 0
			for range r.IntN(3) {
				rule := model.Rule{Direction: dir, Index: idx, Action: model.Allow, Ports: ports()}
				idx++
				if tier != model.TierNetworkPolicy {
					rule.Action = []model.Action{model.Allow, model.Deny, model.Pass}[r.IntN(3)]
				}
				if tier == model.TierNetworkPolicy && r.IntN(4) == 0 {
					rule.AllPeers = true
				} else {
					for range 1 + r.IntN(2) {
						p := peer(tier)
						if p.Kind == model.PeerDomains && (dir == model.Ingress || rule.Action != model.Allow) {
							continue
						}
						rule.Peers = append(rule.Peers, p)
					}
				}
				pol.Rules = append(pol.Rules, rule)
			}
			if tier != model.TierNetworkPolicy && idx > 0 {
				if dir == model.Ingress {
					pol.IngressIsolation = true
				} else {
					pol.EgressIsolation = true
				}
			}
		}
		snap.Policies = append(snap.Policies, pol)
	}
	return snap
}

// TestClassesAgreeWithDirect checks, on random clusters, that the class
// machinery (address regions, classes, shared programs, peer groups,
// cached verdict combination) gives the same answer for every endpoint
// pair as evaluating the pair directly.
func TestClassesAgreeWithDirect(t *testing.T) {
	iters := 3000
	if testing.Short() {
		iters = 300
	}
	for seed := range iters {
		r := rand.New(rand.NewPCG(uint64(seed), 7))
		snap := randomSnapshot(r)
		for _, extOnly := range []bool{false, true} {
			e := New(snap, Options{IPBlockExternalOnly: extOnly})
			conns := map[[2]*model.Endpoint]Conn{}
			for _, c := range e.Connectivity().Conns() {
				conns[[2]*model.Endpoint{c.Src, c.Dst}] = c
			}
			for _, src := range e.Endpoints() {
				for _, dst := range e.Endpoints() {
					d := e.Explain(src, dst, model.AllConns())
					allowed, unknown := e.Allowed(src, dst)
					if !allowed.Equal(d.Allowed) || !unknown.Equal(d.Unknown) {
						t.Fatalf("seed %d extOnly=%v: %s -> %s: classes say %v (unknown %v), direct says %v (unknown %v)",
							seed, extOnly, src.ID(), dst.ID(), allowed, unknown, d.Allowed, d.Unknown)
					}
					if src == dst || !src.IsPodLike() && !dst.IsPodLike() {
						continue
					}
					c, listed := conns[[2]*model.Endpoint{src, dst}]
					open := !d.Allowed.IsEmpty() || !d.Unknown.IsEmpty()
					if listed != open || listed && !c.Allowed.Equal(d.Allowed) {
						t.Fatalf("seed %d: %s -> %s: Connectivity lists %v (%v), direct says %v", seed, src.ID(), dst.ID(), listed, c.Allowed, d.Allowed)
					}
				}
			}
			if got := e.Connectivity().Count(); got != len(conns) {
				t.Fatalf("seed %d: Count = %d, Conns = %d", seed, got, len(conns))
			}
		}
	}
}
