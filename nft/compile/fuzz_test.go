package compile_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"testing"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/nft"
	"github.com/bulkhead/bulkhead/nft/compile"
)

// randomCluster builds a small random cluster on two nodes: namespaces,
// pods with unique addresses (some dual-stack, some without any) and named
// ports, hostNetwork pods on their node's address, and NetworkPolicy,
// Admin and Baseline policies with every peer kind, named ports, Pass and
// domain names. It follows eval's own random clusters, with addresses
// that make every pod addressable.
func randomCluster(r *rand.Rand) *model.Snapshot {
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
			IPs: []netip.Addr{netip.AddrFrom4([4]byte{192, 168, 0, byte(1 + i)}), netip.MustParseAddr(fmt.Sprintf("fd00:ff::%d", 1+i))},
		})
	}
	apps := []string{"web", "db", "api"}
	portNames := []string{"http", "dns", "metrics"}
	for i := range 3 + r.IntN(7) {
		ns := nsNames[r.IntN(len(nsNames))]
		node := r.IntN(2)
		ep := &model.Endpoint{Kind: model.EndpointPod, Namespace: ns, Name: fmt.Sprintf("p%d", i),
			Labels: map[string]string{"app": apps[r.IntN(len(apps))]}, NodeName: snap.Nodes[node].Name}
		if r.IntN(3) == 0 {
			ep.Labels["tier"] = "x"
		}
		switch r.IntN(8) {
		case 0: // pending: no address
		case 1, 2, 3:
			ep.IPs = []netip.Addr{netip.AddrFrom4([4]byte{10, 0, byte(r.IntN(2)), byte(1 + i)})}
		case 4, 5:
			ep.IPs = []netip.Addr{netip.AddrFrom4([4]byte{10, 1, 0, byte(1 + i)}), netip.MustParseAddr(fmt.Sprintf("fd00::%x", i+1))}
		case 6:
			ep.IPs = []netip.Addr{netip.MustParseAddr(fmt.Sprintf("fd00::%x", i+1))}
		case 7:
			ep.HostNetwork = true
			ep.IPs = snap.Nodes[node].IPs
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
	cidrs := []string{"10.0.0.0/16", "10.0.1.0/24", "0.0.0.0/0", "192.168.0.0/24", "fd00::/120", "203.0.113.0/24", "10.1.0.0/16", "::/0", "10.0.0.0/8"}
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
				if r.IntN(2) == 0 {
					ex = append(ex, netip.MustParsePrefix("10.0.0.0/30"))
				}
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
			switch r.IntN(4) {
			case 0:
				ps = append(ps, model.PortSpec{Protocol: model.Protocols[r.IntN(3)], Ports: model.SinglePort(uint16(80 + r.IntN(3)))})
			case 1:
				ps = append(ps, model.PortSpec{Protocol: model.TCP, Ports: model.PortsOf(model.PortRange{First: 79, Last: 81})})
			case 2:
				ps = append(ps, model.PortSpec{Protocol: model.Protocols[r.IntN(3)], Ports: model.AllPorts()})
			case 3:
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

// probe is one connection the differential test sends.
type probe struct {
	proto model.Protocol // ProtocolUnknown: another IP protocol (ICMP)
	port  uint16
}

var probes = func() []probe {
	var out []probe
	for _, p := range model.Protocols {
		for _, port := range []uint16{1, 53, 79, 80, 81, 82, 65535} {
			out = append(out, probe{p, port})
		}
	}
	return append(out, probe{})
}()

func (p probe) allowedBy(cs model.ConnSet) bool {
	if p.proto == model.ProtocolUnknown {
		return cs.Other()
	}
	return cs.Contains(p.proto, p.port)
}

func (p probe) packet(src, dst netip.Addr) nft.Packet {
	pk := nft.Packet{Hook: nft.HookForward, Src: src, Dst: dst, Proto: nft.ProtoOf(p.proto), DPort: p.port, Ct: nft.CtNew}
	if p.proto == model.ProtocolUnknown {
		pk.Proto, pk.DPort = 1, 0 // ICMP
		if src.Is6() {
			pk.Proto = 58 // ICMPv6
		}
	}
	return pk
}

// addrsOf returns the addresses a packet from or to ep can carry: its
// own, or for an external range its first and last address.
func addrsOf(ep *model.Endpoint) []netip.Addr {
	if ep.Kind != model.EndpointExternal {
		return ep.IPs
	}
	var out []netip.Addr
	for _, r := range ep.External.Ranges() {
		out = append(out, r.From())
		if r.To() != r.From() {
			out = append(out, r.To())
		}
	}
	return out
}

// checkDifferential compiles snap's policies for every pod on one node,
// and for each node's own pods on two nodes, then sends every probe
// between every pair of endpoints' addresses through the rulesets with
// nft.Trace and compares the verdict with the engine's. A packet between
// pods of different nodes must pass the forward hook of both nodes.
//
// The kernel matches each packet's addresses, while the engine decides
// for endpoints: a dual-stack pod matches an ipBlock if either of its
// addresses does. So the expected verdict of an IPv4 (IPv6) packet comes
// from an engine over the same cluster with only its IPv4 (IPv6)
// addresses, which is what a per-packet reading of the policies means.
//
// Connections whose fate the engine reports as unknown (domain names) are
// skipped, and so are addresses that several endpoints share (a node and
// its hostNetwork pods) when the engine treats those endpoints
// differently: the kernel sees only addresses.
func checkDifferential(t *testing.T, name string, snap *model.Snapshot, opts eval.Options) {
	t.Helper()
	e := eval.New(snap, opts)
	var all []*model.Endpoint
	byNode := map[string][]*model.Endpoint{}
	for _, ep := range e.Endpoints() {
		if ep != nil && ep.IsPodLike() {
			all = append(all, ep)
			byNode[ep.NodeName] = append(byNode[ep.NodeName], ep)
		}
	}
	one, err := compile.Node(e, all, compile.Options{})
	if err != nil {
		t.Fatalf("%s: compile all pods: %v", name, err)
	}
	checkValid(t, name, one)
	nodes := map[string]*nft.Ruleset{}
	for _, n := range snap.Nodes {
		rs, err := compile.Node(e, byNode[n.Name], compile.Options{})
		if err != nil {
			t.Fatalf("%s: compile %s: %v", name, n.Name, err)
		}
		checkValid(t, name+" "+n.Name, rs)
		nodes[n.Name] = rs
	}
	for _, v4 := range []bool{true, false} {
		checkFamily(t, name, eval.New(onlyFamily(snap, v4), opts), one, nodes)
	}
}

// checkValid fails unless rs is valid and already in canonical order.
func checkValid(t *testing.T, name string, rs *nft.Ruleset) {
	t.Helper()
	if err := nft.Validate(rs); err != nil {
		t.Fatalf("%s: invalid ruleset: %v\n%s", name, err, nft.Render(rs))
	}
	if !reflect.DeepEqual(rs, rs.Canonical()) {
		t.Fatalf("%s: ruleset not in canonical order", name)
	}
}

// onlyFamily returns a copy of snap whose pods and nodes keep only their
// IPv4 (v4) or IPv6 addresses.
func onlyFamily(snap *model.Snapshot, v4 bool) *model.Snapshot {
	keep := func(ips []netip.Addr) []netip.Addr {
		var out []netip.Addr
		for _, ip := range ips {
			if ip.Unmap().Is4() == v4 {
				out = append(out, ip)
			}
		}
		return out
	}
	out := &model.Snapshot{Namespaces: snap.Namespaces, Policies: snap.Policies}
	for _, ep := range snap.Endpoints {
		c := *ep
		c.IPs = keep(ep.IPs)
		out.Endpoints = append(out.Endpoints, &c)
	}
	for _, n := range snap.Nodes {
		c := *n
		c.IPs = keep(n.IPs)
		out.Nodes = append(out.Nodes, &c)
	}
	return out
}

// checkFamily compares the engine ef, over one address family, with the
// rulesets for every probe between every pair of ef's endpoints.
func checkFamily(t *testing.T, name string, ef *eval.Engine, one *nft.Ruleset, nodes map[string]*nft.Ruleset) {
	t.Helper()
	owners := map[netip.Addr][]*model.Endpoint{}
	for _, ep := range ef.Endpoints() {
		if ep != nil && ep.Kind != model.EndpointExternal {
			for _, ip := range ep.IPs {
				owners[ip] = append(owners[ip], ep)
			}
		}
	}
	// nodeOf returns the node whose forward hook enforces ep's side, or
	// "" for endpoints no node enforces (nodes, external addresses,
	// hostNetwork pods).
	nodeOf := func(ep *model.Endpoint) string {
		if ep.IsPolicySubject() {
			return ep.NodeName
		}
		return ""
	}
	verdict := func(src, dst *model.Endpoint, p probe) (allowed, known bool) {
		a, u := ef.Allowed(src, dst)
		return p.allowedBy(a), !p.allowedBy(u)
	}
	eps := ef.Endpoints()
	for _, src := range eps {
		for _, dst := range eps {
			if src == nil || dst == nil {
				continue
			}
			for _, p := range probes {
				want, known := verdict(src, dst, p)
				if !known {
					continue
				}
				for _, sa := range addrsOf(src) {
					for _, da := range addrsOf(dst) {
						if sa.Is4() != da.Is4() || ambiguous(owners, sa, da, src, dst, p, verdict, want) {
							continue
						}
						pk := p.packet(sa, da)
						if got := nft.Trace(one, pk) == nft.VerdictAccept; got != want {
							_, steps := nft.TraceSteps(one, pk)
							t.Fatalf("%s: one node: %s -> %s %v: engine allows %v, ruleset %v (%v)\n%s", name, src.ID(), dst.ID(), pk, want, got, steps, nft.Render(one))
						}
						got := true
						var path []string
						for _, n := range []string{nodeOf(src), nodeOf(dst)} {
							if n == "" || len(path) > 0 && path[0] == n {
								continue
							}
							path = append(path, n)
							got = got && nft.Trace(nodes[n], pk) == nft.VerdictAccept
						}
						if got != want {
							t.Fatalf("%s: two nodes: %s -> %s %v through %v: engine allows %v, rulesets %v", name, src.ID(), dst.ID(), pk, path, want, got)
						}
					}
				}
			}
		}
	}
}

// ambiguous reports whether the engine's verdict for p depends on which of
// the endpoints owning address sa (or da) sends (or receives) it.
func ambiguous(owners map[netip.Addr][]*model.Endpoint, sa, da netip.Addr, src, dst *model.Endpoint, p probe,
	verdict func(src, dst *model.Endpoint, p probe) (bool, bool), want bool) bool {
	srcs, dsts := owners[sa], owners[da]
	if len(srcs) < 2 && len(dsts) < 2 {
		return false
	}
	if len(srcs) == 0 {
		srcs = []*model.Endpoint{src}
	}
	if len(dsts) == 0 {
		dsts = []*model.Endpoint{dst}
	}
	for _, s := range srcs {
		for _, d := range dsts {
			if s == d && s != src {
				continue
			}
			if v, known := verdict(s, d, p); v != want || !known {
				return true
			}
		}
	}
	return false
}

// FuzzCompile is the differential test of the compiler against the engine
// on random clusters (see checkDifferential), for both ipBlock readings.
func FuzzCompile(f *testing.F) {
	for seed := range uint64(16) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, seed uint64) {
		snap := randomCluster(rand.New(rand.NewPCG(seed, 11)))
		for _, extOnly := range []bool{false, true} {
			checkDifferential(t, fmt.Sprintf("seed %d, IPBlockExternalOnly=%v", seed, extOnly), snap, eval.Options{IPBlockExternalOnly: extOnly})
		}
	})
}

// TestDifferential runs the differential test on many random clusters
// (fewer with -short).
func TestDifferential(t *testing.T) {
	n := 400
	if testing.Short() {
		n = 100
	}
	for seed := range uint64(n) {
		snap := randomCluster(rand.New(rand.NewPCG(seed, 11)))
		for _, extOnly := range []bool{false, true} {
			checkDifferential(t, fmt.Sprintf("seed %d, IPBlockExternalOnly=%v", seed, extOnly), snap, eval.Options{IPBlockExternalOnly: extOnly})
		}
	}
}
