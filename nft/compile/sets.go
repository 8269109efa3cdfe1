package compile

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"go4.org/netipx"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/nft"
)

// peerSet returns the names of the sets holding the addresses peer id
// matches, per family ("" for a family with none), and adds the sets. A
// set is named after the peer's kind and selectors or blocks, so every
// rule naming the same peer shares it and pod churn changes only its
// elements.
//
// Pod peers become plain (hashed) sets of pod addresses; ipBlocks,
// networks and nodes interval sets, whose elements AddrElems merges so
// that none overlap (an ipBlock minus its excepts, several blocks), as the
// kernel requires.
func (c *compiler) peerSet(id int, p *model.Peer) ([2]string, error) {
	names, ok := c.peerSets[id]
	if !ok {
		sets := c.peerSets2(id, p)
		for f, s := range sets {
			if s != nil {
				if err := c.addSet(s, s.Comment); err != nil {
					return names, err
				}
				names[f] = s.Name
			}
		}
		c.peerSets[id] = names
	}
	c.record(dep{peer: id, p: p, names: names})
	return names, nil
}

// peerNames returns the names of peer id's sets without adding them.
func (c *compiler) peerNames(id int, p *model.Peer) [2]string {
	if names, ok := c.peerSets[id]; ok {
		return names
	}
	var names [2]string
	for f, s := range c.peerSets2(id, p) {
		if s != nil {
			names[f] = s.Name
		}
	}
	return names
}

// record notes that the chain being built names a set.
func (c *compiler) record(d dep) {
	if c.cur != nil {
		c.cur.deps = append(c.cur.deps, d)
	}
}

// peerMeta is the identity of a peer, computed once per engine.
type peerMeta struct {
	kind model.PeerKind
	key  string
}

func (c *compiler) meta(id int, p *model.Peer) peerMeta {
	m, ok := c.k.peerMeta[id]
	if !ok {
		m = peerMeta{kind: c.e.PeerKind(id)}
		m.key = peerKey(m.kind, p)
		c.k.peerMeta[id] = m
	}
	return m
}

// peerSets2 returns the sets (nil for an empty family) of peer id: for
// pod peers the addresses of the pods it selects, single addresses; for
// the others merged ranges, as eval.Engine.PeerIPs defines them. Pod
// peers and blocks come from the cache when it has them.
func (c *compiler) peerSets2(id int, p *model.Peer) [2]*nft.Set {
	k := c.k
	m := c.meta(id, p)
	switch m.kind {
	case model.PeerPods:
		pe := k.pods[m.key]
		if pe == nil {
			pe = newPodPeer(*p, m.key, c.e.PeerEndpoints(id))
			k.pods[m.key] = pe
		}
		pe.used = k.run
		return pe.sets
	case model.PeerIPBlock, model.PeerNetworks:
		be := k.blocks[m.key]
		if be == nil || be.dirty {
			ips := p.IPs
			if m.kind == model.PeerIPBlock && c.e.Options().IPBlockExternalOnly {
				ips = ips.Subtract(c.podNetwork())
				be = &blockEntry{watch: ipSet(p.IPs)}
			} else {
				be = &blockEntry{}
			}
			be.sets = addrSets(m.key, addrElems(ips))
			k.blocks[m.key] = be
		}
		be.used = k.run
		return be.sets
	}
	return addrSets(m.key, addrElems(c.e.PeerIPs(id)))
}

// podNetwork returns the addresses of every pod on the pod network, which
// ipBlocks do not match with eval.Options.IPBlockExternalOnly.
func (c *compiler) podNetwork() model.IPSet {
	k := c.k
	if !k.podNetOK {
		k.podNetOK = true
		var ips []netip.Addr
		for _, ep := range c.e.Endpoints() {
			if ep != nil && ep.IsPolicySubject() {
				ips = append(ips, ep.IPs...)
			}
		}
		k.podNet = model.IPsOf(ips)
	}
	return k.podNet
}

// peerKey identifies what a peer matches: two peers with the same key
// match the same endpoints (as the engine's own peer identity).
func peerKey(kind model.PeerKind, p *model.Peer) string {
	switch kind {
	case model.PeerPods:
		ns := "namespaces " + selectorKey(p.NamespaceSelector)
		if p.Namespace != "" {
			ns = "namespace " + p.Namespace
		}
		return "pods " + ns + " pods " + selectorKey(p.PodSelector)
	case model.PeerNodes:
		return "nodes " + selectorKey(p.NodeSelector)
	}
	return kind.String() + " " + p.IPs.String()
}

// selectorKey is the selector's canonical form, "{}" for everything.
func selectorKey(s model.Selector) string {
	if k := s.Key(); k != "" {
		return k
	}
	return "{}"
}

// peerBase is the name of a peer's sets without the family suffix:
// "pods_…", "ipblock_…", "networks_…", "nodes_…".
func peerBase(key string) string {
	kind, _, _ := strings.Cut(key, " ")
	return strings.ToLower(kind) + "_" + hashName(key)
}

type famElems struct {
	elems    []nft.Elem
	interval bool
}

// addrSets returns the sets of a peer with key from its elements.
func addrSets(key string, elems [2]famElems) [2]*nft.Set {
	var out [2]*nft.Set
	base := peerBase(key)
	for f, fe := range elems {
		if len(fe.elems) > 0 {
			out[f] = &nft.Set{Name: base + familySuffix[f], Type: addrTypes[f], Interval: fe.interval, Comment: comment(key), Elems: fe.elems}
		}
	}
	return out
}

var (
	familySuffix = [2]string{"_v4", "_v6"}
	addrTypes    = [2]nft.SetType{nft.TypeIPv4Addr, nft.TypeIPv6Addr}
	concatTypes  = [2]nft.SetType{nft.TypeIPv4ProtoPort, nft.TypeIPv6ProtoPort}
)

// addrElems splits s into merged-range elements per family.
func addrElems(s model.IPSet) [2]famElems {
	v4, v6 := nft.AddrElems(s)
	return [2]famElems{{elems: v4, interval: true}, {elems: v6, interval: true}}
}

// addSet adds s, which stands for key, unless a set of that name exists;
// two different keys with one name (a hash collision) fail.
func (c *compiler) addSet(s *nft.Set, key string) error {
	if k, ok := c.setKeys[s.Name]; ok {
		if k != key {
			return fmt.Errorf("compile: set name %s stands for two different sets (hash collision); please report it", s.Name)
		}
		return nil
	}
	c.setKeys[s.Name] = key
	c.sets[s.Name] = s
	return nil
}

// portMatch returns the statements matching the connections in cs: none
// for every connection, `meta l4proto tcp` for every port of one
// protocol, else `meta l4proto . th dport @ports_…`. The set is named
// after its content (a rule's ports are part of the rule, so a change of
// ports replaces the rule anyway) and shared by every rule with the same
// ports.
func (c *compiler) portMatch(cs model.ConnSet) ([]nft.Stmt, error) {
	if cs.IsAll() {
		return nil, nil
	}
	if cs.Other() {
		return nil, errOtherWithPorts
	}
	var used []model.Protocol
	for _, p := range model.Protocols {
		if !cs.Ports(p).IsEmpty() {
			used = append(used, p)
		}
	}
	if len(used) == 1 && cs.Ports(used[0]).IsFull() {
		return []nft.Stmt{nft.L4ProtoIs{Proto: nft.ProtoOf(used[0])}}, nil
	}
	key := cs.String()
	s, ok := c.portSets[key]
	if !ok {
		s = &nft.Set{Name: portSetName(cs), Type: nft.TypeProtoPort, Interval: true, Elems: connElems(cs)}
		if err := c.addSet(s, "ports "+s.Name); err != nil {
			return nil, err
		}
		c.portSets[key] = s
	}
	c.record(dep{peer: -1, ports: s})
	return []nft.Stmt{nft.InSet{Key: nft.KeyProtoPort, Set: s.Name}}, nil
}

// portSetName spells short port sets out ("ports_tcp_80_443",
// "ports_tcp_8000to9000_udp_53") and hashes long ones.
func portSetName(cs model.ConnSet) string {
	var b strings.Builder
	b.WriteString("ports")
	for _, p := range model.Protocols {
		ps := cs.Ports(p)
		if ps.IsEmpty() {
			continue
		}
		b.WriteString("_" + strings.ToLower(p.String()))
		for _, r := range ps.Ranges() {
			b.WriteString("_" + strconv.Itoa(int(r.First)))
			if r.Last != r.First {
				b.WriteString("to" + strconv.Itoa(int(r.Last)))
			}
		}
	}
	if b.Len() > 48 {
		return "ports_" + hashName(cs.String())
	}
	return b.String()
}

// connElems returns the "protocol . port" elements of cs's ports.
func connElems(cs model.ConnSet) []nft.Elem {
	var out []nft.Elem
	for _, p := range model.Protocols {
		out = append(out, nft.PortElems(nft.ProtoOf(p), cs.Ports(p))...)
	}
	return out
}

// namedSet returns the "address . protocol . port" sets of an egress rule
// that names ports, per family, and adds them. A named port resolves on
// the destination (NetworkPolicy: the port "on the pods selected by the
// policy" is the destination's for egress), so each address of a pod
// declaring named ports gets the rule's ports resolved on that pod, and
// every other address of the rule's peers the rule's numbered ports only.
// The set is named after the policy and the rule.
func (c *compiler) namedSet(r eval.ProgramRule) ([2]string, error) {
	k := namedKey{r.Policy, r.Rule}
	names, ok := c.namedSets[k]
	if !ok {
		ne, err := c.named(r)
		if err != nil {
			return names, err
		}
		for f, s := range ne.sets {
			if s != nil {
				if err := c.addSet(s, "named "+s.Comment); err != nil {
					return names, err
				}
				names[f] = s.Name
			}
		}
		c.namedSets[k] = names
	}
	c.record(dep{peer: -1, rule: &r, names: names})
	return names, nil
}

// namedNames returns the names of namedSet's sets without adding them.
func (c *compiler) namedNames(r eval.ProgramRule) ([2]string, error) {
	if names, ok := c.namedSets[namedKey{r.Policy, r.Rule}]; ok {
		return names, nil
	}
	var names [2]string
	ne, err := c.named(r)
	if err != nil {
		return names, err
	}
	for f, s := range ne.sets {
		if s != nil {
			names[f] = s.Name
		}
	}
	return names, nil
}

// named returns the cache entry of a named-port egress rule, computing it
// if missing or stale.
func (c *compiler) named(r eval.ProgramRule) (*namedEntry, error) {
	k := namedKey{r.Policy, r.Rule}
	ne := c.k.named[k]
	if ne == nil || !ne.valid(c.k) {
		var err error
		if ne, err = c.namedElems(r); err != nil {
			return nil, err
		}
		c.k.named[k] = ne
	}
	ne.used = c.k.run
	// The pod peers the entry was computed from stay cached with it:
	// evicted, they would make it stale at the next change in scope, and
	// rebuilding them costs the engine a look at every endpoint.
	for _, pv := range ne.peers {
		pv.pe.used = c.k.run
	}
	return ne, nil
}

// namedElems computes the cache entry of a named-port egress rule.
func (c *compiler) namedElems(r eval.ProgramRule) (*namedEntry, error) {
	ne := &namedEntry{nodeGen: c.k.nodeGen}
	var b, scope netipx.IPSetBuilder
	if r.Rule.AllPeers {
		b.AddPrefix(netip.MustParsePrefix("0.0.0.0/0"))
		b.AddPrefix(netip.MustParsePrefix("::/0"))
	} else {
		for j, id := range r.Peers {
			if j >= len(r.Rule.Peers) {
				break
			}
			p := &r.Rule.Peers[j]
			m := c.meta(id, p)
			if m.kind == model.PeerDomains {
				continue
			}
			for _, s := range c.peerSets2(id, p) {
				if s != nil {
					for _, e := range s.Elems {
						b.AddRange(e.Addr)
					}
				}
			}
			switch m.kind {
			case model.PeerPods:
				pe := c.k.pods[m.key]
				ne.peers = append(ne.peers, peerVersion{pe, pe.version})
			case model.PeerIPBlock, model.PeerNetworks:
				scope.AddSet(ipSet(p.IPs)) // pods leaving a block enter it
			}
		}
	}
	addrs, err := b.IPSet()
	if err != nil {
		return nil, fmt.Errorf("compile: %s %s: peer addresses: %w", r.Policy.Ref(), r.Rule.Ref(), err)
	}
	scope.AddSet(addrs)
	if ne.scope, err = scope.IPSet(); err != nil {
		return nil, fmt.Errorf("compile: %s %s: peer addresses: %w", r.Policy.Ref(), r.Rule.Ref(), err)
	}
	numbered := r.Rule.ResolvePorts(&model.Endpoint{})
	b = netipx.IPSetBuilder{}
	b.AddSet(addrs)
	var elems [2][]nft.Elem
	for _, na := range c.namedAddrsIn(addrs) {
		b.Remove(na.ip)
		var conns model.ConnSet
		for _, ep := range na.reached() {
			conns = conns.Union(r.Rule.ResolvePorts(ep))
		}
		f := familyIndex(na.ip)
		elems[f] = append(elems[f], nft.Concat([]nft.Elem{nft.AddrElem(na.ip)}, connElems(conns))...)
	}
	rest, err := b.IPSet()
	if err != nil {
		return nil, fmt.Errorf("compile: %s %s: peer addresses: %w", r.Policy.Ref(), r.Rule.Ref(), err)
	}
	v4, v6 := nft.AddrElems(model.IPRangesOf(rest.Ranges()...))
	pe := connElems(numbered)
	elems[0] = append(elems[0], nft.Concat(v4, pe)...)
	elems[1] = append(elems[1], nft.Concat(v6, pe)...)
	base := "named_" + hashName("named "+r.Policy.Kind+"/"+r.Policy.Namespace+"/"+r.Policy.Name+" "+r.Rule.Ref())
	for f := range elems {
		if len(elems[f]) == 0 {
			continue
		}
		slices.SortFunc(elems[f], compareElems)
		ne.sets[f] = &nft.Set{Name: base + familySuffix[f], Type: concatTypes[f], Interval: true,
			Comment: comment(r.Policy.Ref() + " " + r.Rule.Ref() + " named ports"), Elems: elems[f]}
	}
	return ne, nil
}

// ipSet returns the netipx set of s.
func ipSet(s model.IPSet) *netipx.IPSet {
	var b netipx.IPSetBuilder
	for _, r := range s.Ranges() {
		b.AddRange(r)
	}
	out, _ := b.IPSet()
	return out
}

func hasNamedPort(ep *model.Endpoint) bool {
	for _, p := range ep.Ports {
		if p.Name != "" {
			return true
		}
	}
	return false
}

// namedAddr is an address of pods that declare named ports.
type namedAddr struct {
	ip  netip.Addr
	eps []*model.Endpoint
}

// reached returns the pods whose ports a packet to the address reaches.
// An address normally belongs to one pod; hostNetwork pods share their
// node's, and then a packet reaches whichever of them listens on the
// port, so the rule's ports resolve on each of them. A pod on the pod
// network wins over hostNetwork pods of the same address.
func (na *namedAddr) reached() []*model.Endpoint {
	var pod, host []*model.Endpoint
	for _, ep := range na.eps {
		if ep.HostNetwork {
			host = append(host, ep)
		} else {
			pod = append(pod, ep)
		}
	}
	if len(pod) > 0 {
		return pod
	}
	return host
}

// namedAddrsIn returns the addresses in s of pods that declare named
// ports, sorted.
func (c *compiler) namedAddrsIn(s *netipx.IPSet) []*namedAddr {
	k := c.k
	if !k.namedOK {
		k.namedOK = true
		k.namedIdx = nil
		for _, ep := range c.e.Endpoints() {
			if ep != nil {
				k.indexNamed(ep, +1)
			}
		}
	}
	named := k.namedIdx
	var out []*namedAddr
	for _, r := range s.Ranges() {
		i, _ := slices.BinarySearchFunc(named, r.From(), func(na *namedAddr, a netip.Addr) int { return na.ip.Compare(a) })
		for ; i < len(named) && named[i].ip.Compare(r.To()) <= 0; i++ {
			out = append(out, named[i])
		}
	}
	return out
}
