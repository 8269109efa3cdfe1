package compile

import (
	"cmp"
	"net/netip"
	"slices"

	"go4.org/netipx"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/nft"
)

// Compiler compiles one node's rulesets one after another, keeping what
// it computed between calls: the address sets of peers, which dominate
// the cost on a large cluster (a peer selecting thousands of pods is
// computed once, then patched as pods come and go), named-port sets, and,
// while the engine stays the same (eval.Tracker updates it in place), the
// chains of programs whose sets did not come or go.
//
// The caller reports every endpoint change since the previous Compile with
// EndpointsChanged and node changes with NodesChanged, and calls Reset
// when namespace labels change or when it cannot say what changed (a
// full re-read). Compile with an engine for the state after those changes
// then gives exactly what the package-level Compile gives for that engine
// (the tests check it on random change sequences). A Compiler is not safe
// for concurrent use.
type Compiler struct {
	opts Options
	k    *cache
	// prev is the ruleset of the last successful Compile, the base of
	// the next Result's Delta. It survives Reset: a delta from it is
	// still right, only dearer to compute.
	prev *nft.Ruleset
}

// NewCompiler returns a Compiler with an empty cache.
func NewCompiler(opts Options) *Compiler {
	return &Compiler{opts: opts, k: newCache()}
}

// Compile compiles the ruleset of e's policies for the endpoints in local;
// see the package-level Compile.
func (c *Compiler) Compile(e *eval.Engine, local []*model.Endpoint) (*Result, error) {
	k := c.k
	if ext := e.Options().IPBlockExternalOnly; k.extOnlySet && k.extOnly != ext {
		c.Reset()
		k = c.k
	}
	k.extOnly, k.extOnlySet = e.Options().IPBlockExternalOnly, true
	if k.engine != e {
		// Peer ids, program ids and programs' rules are an engine's own.
		k.engine = e
		k.peerMeta = map[int]peerMeta{}
		k.progs = map[progKey]progInfo{}
		k.chains = map[groupKey]*chainEntry{}
	}
	k.run++
	res, err := compileWith(e, local, c.opts, k)
	k.evict()
	if err != nil {
		return nil, err
	}
	res.Base = c.prev
	res.Delta = nft.DiffHinted(c.prev, res.Ruleset, k.hints())
	c.prev = res.Ruleset
	return res, nil
}

// hints returns, for the pod peer sets that changed since the last
// Compile, the addresses added and removed, and makes the current sets
// the base of the next ones.
func (k *cache) hints() map[string]nft.ElemHint {
	var out map[string]nft.ElemHint
	for _, pe := range k.pods {
		for f, s := range pe.sets {
			if s != nil && len(pe.changes[f]) > 0 {
				h := nft.ElemHint{Base: pe.base[f]}
				for e, added := range pe.changes[f] {
					if added {
						h.Add = append(h.Add, e)
					} else {
						h.Del = append(h.Del, e)
					}
				}
				if out == nil {
					out = map[string]nft.ElemHint{}
				}
				out[s.Name] = h
			}
			pe.base[f] = pe.elems[f]
			clear(pe.changes[f])
		}
	}
	return out
}

// Reset empties the cache.
func (c *Compiler) Reset() { c.k = newCache() }

// EndpointChange is an endpoint before and after a change: Old is nil for
// an endpoint that appeared, New for one that went away.
type EndpointChange struct{ Old, New *model.Endpoint }

// EndpointsChanged updates the cache for endpoint changes that happened
// since the last Compile. namespaceLabels returns the labels of a
// namespace, nil for one that has only its name label (a namespace whose
// labels changed needs Reset instead).
func (c *Compiler) EndpointsChanged(changes []EndpointChange, namespaceLabels func(ns string) map[string]string) {
	k := c.k
	for _, ch := range changes {
		var ips []netip.Addr
		for _, ep := range []*model.Endpoint{ch.Old, ch.New} {
			if ep == nil {
				continue
			}
			for _, ip := range ep.IPs {
				ips = append(ips, ip.Unmap())
			}
		}
		for _, pe := range k.pods {
			if ch.Old != nil && podPeerMatches(&pe.peer, ch.Old, namespaceLabels) {
				pe.patch(ch.Old.IPs, -1)
			}
			if ch.New != nil && podPeerMatches(&pe.peer, ch.New, namespaceLabels) {
				pe.patch(ch.New.IPs, +1)
			}
		}
		if len(ips) == 0 {
			continue
		}
		if k.namedOK {
			if ch.Old != nil {
				k.indexNamed(ch.Old, -1)
			}
			if ch.New != nil {
				k.indexNamed(ch.New, +1)
			}
		}
		k.podNetOK = false
		for _, ip := range ips {
			for _, ne := range k.named {
				if ne.scope.Contains(ip) {
					ne.dirty = true
				}
			}
			for _, be := range k.blocks {
				if be.watch != nil && be.watch.Contains(ip) {
					be.dirty = true
				}
			}
		}
	}
}

// NodesChanged tells the compiler that nodes changed (their addresses
// are what nodes peers match).
func (c *Compiler) NodesChanged() {
	c.k.nodeGen++
}

// podPeerMatches reports whether pod peer p matches ep, as the engine
// decides it: pods and workloads on the pod network, in a namespace the
// peer admits, with labels its pod selector selects.
func podPeerMatches(p *model.Peer, ep *model.Endpoint, nsLabels func(string) map[string]string) bool {
	if !ep.IsPolicySubject() {
		return false
	}
	if p.Namespace != "" {
		if ep.Namespace != p.Namespace {
			return false
		}
	} else if !p.NamespaceSelector.Matches(namespaceLabelsOr(nsLabels, ep.Namespace)) {
		return false
	}
	return p.PodSelector.Matches(ep.Labels)
}

func namespaceLabelsOr(f func(string) map[string]string, ns string) map[string]string {
	if f != nil {
		if ls := f(ns); ls != nil {
			return ls
		}
	}
	return map[string]string{model.NamespaceNameLabel: ns}
}

// cache is what a Compiler keeps between compilations. Entries the last
// compilation did not use are dropped.
type cache struct {
	run        int
	extOnly    bool
	extOnlySet bool
	nodeGen    int

	// Engine-scoped: valid while compilations use the same engine.
	engine   *eval.Engine
	peerMeta map[int]peerMeta
	progs    map[progKey]progInfo
	chains   map[groupKey]*chainEntry

	pods   map[string]*podPeer    // pod peers by peer key
	blocks map[string]*blockEntry // ipBlock and networks peers by peer key
	named  map[namedKey]*namedEntry

	namedIdx []*namedAddr // addresses of pods with named ports, sorted
	namedOK  bool
	podNet   model.IPSet // addresses of pods on the pod network
	podNetOK bool
}

func newCache() *cache {
	return &cache{pods: map[string]*podPeer{}, blocks: map[string]*blockEntry{}, named: map[namedKey]*namedEntry{}}
}

func (k *cache) evict() {
	for key, pe := range k.pods {
		if pe.used != k.run {
			delete(k.pods, key)
		}
	}
	for key, be := range k.blocks {
		if be.used != k.run {
			delete(k.blocks, key)
		}
	}
	for key, ne := range k.named {
		if ne.used != k.run {
			delete(k.named, key)
		}
	}
	for key, ce := range k.chains {
		if ce.used != k.run {
			delete(k.chains, key)
		}
	}
}

// indexNamed adds (+1) or removes (-1) ep's addresses in the index of
// addresses of pods with named ports.
func (k *cache) indexNamed(ep *model.Endpoint, delta int) {
	if !ep.IsPodLike() || !hasNamedPort(ep) {
		return
	}
	for _, ip := range ep.IPs {
		ip = ip.Unmap()
		i, found := slices.BinarySearchFunc(k.namedIdx, ip, func(na *namedAddr, a netip.Addr) int { return na.ip.Compare(a) })
		if delta > 0 {
			if !found {
				k.namedIdx = slices.Insert(k.namedIdx, i, &namedAddr{ip: ip})
			}
			na := k.namedIdx[i]
			na.eps = append(slices.Clip(na.eps), ep)
			continue
		}
		if !found {
			continue
		}
		na := k.namedIdx[i]
		if j := slices.Index(na.eps, ep); j >= 0 {
			na.eps = slices.Delete(slices.Clone(na.eps), j, j+1)
		}
		if len(na.eps) == 0 {
			k.namedIdx = slices.Delete(k.namedIdx, i, i+1)
		}
	}
}

type progKey struct {
	dir model.Direction
	id  int
}

// podPeer is the address set of a pod peer: every address of the pods it
// matches, with how many of them have it.
type podPeer struct {
	peer  model.Peer
	key   string
	count map[netip.Addr]int
	// elems are the single-address elements per family, sorted, and sets
	// the sets holding them (nil for an empty family). Both are replaced
	// on change, never modified: rulesets handed out share them.
	elems   [2][]nft.Elem
	sets    [2]*nft.Set
	version int
	used    int
	// base holds elems as the last Compile's ruleset has them, and
	// changes the addresses added (true) and removed (false) since, for
	// the Result's Delta.
	base    [2][]nft.Elem
	changes [2]map[nft.Elem]bool
}

func newPodPeer(p model.Peer, key string, eps []*model.Endpoint) *podPeer {
	pe := &podPeer{peer: p, key: key, count: map[netip.Addr]int{}}
	for _, ep := range eps {
		for _, ip := range ep.IPs {
			ip = ip.Unmap()
			if pe.count[ip]++; pe.count[ip] == 1 {
				f := familyIndex(ip)
				pe.elems[f] = append(pe.elems[f], nft.AddrElem(ip))
			}
		}
	}
	for f := range pe.elems {
		slices.SortFunc(pe.elems[f], compareElems)
	}
	pe.sets = pe.build()
	return pe
}

func (pe *podPeer) build() [2]*nft.Set {
	var out [2]*nft.Set
	base := peerBase(pe.key)
	for f, elems := range pe.elems {
		if len(elems) > 0 {
			out[f] = &nft.Set{Name: base + familySuffix[f], Type: addrTypes[f], Comment: comment(pe.key), Elems: elems}
		}
	}
	return out
}

// patch adds (delta +1) or removes (-1) one pod's addresses.
func (pe *podPeer) patch(ips []netip.Addr, delta int) {
	changed := false
	for _, ip := range ips {
		ip = ip.Unmap()
		n := pe.count[ip] + delta
		f := familyIndex(ip)
		e := nft.AddrElem(ip)
		i, found := slices.BinarySearchFunc(pe.elems[f], e, compareElems)
		switch {
		case n <= 0:
			delete(pe.count, ip)
			if found {
				pe.elems[f] = without(pe.elems[f], i)
				pe.change(f, e, false)
				changed = true
			}
		default:
			pe.count[ip] = n
			if !found {
				pe.elems[f] = with(pe.elems[f], i, e)
				pe.change(f, e, true)
				changed = true
			}
		}
	}
	if changed {
		pe.version++
		pe.sets = pe.build()
	}
}

// with returns a new list: elems with e inserted at i. Lists handed out
// in rulesets are never modified, so a change copies, once.
func with(elems []nft.Elem, i int, e nft.Elem) []nft.Elem {
	out := make([]nft.Elem, len(elems)+1)
	copy(out, elems[:i])
	out[i] = e
	copy(out[i+1:], elems[i:])
	return out
}

// without returns a new list: elems without position i.
func without(elems []nft.Elem, i int) []nft.Elem {
	out := make([]nft.Elem, len(elems)-1)
	copy(out, elems[:i])
	copy(out[i:], elems[i+1:])
	return out
}

// change records that e was added to (or removed from) family f's
// elements: an addition cancels an earlier removal, and the reverse.
func (pe *podPeer) change(f int, e nft.Elem, added bool) {
	if pe.changes[f] == nil {
		pe.changes[f] = map[nft.Elem]bool{}
	}
	if was, ok := pe.changes[f][e]; ok && was != added {
		delete(pe.changes[f], e)
		return
	}
	pe.changes[f][e] = added
}

// blockEntry is the sets of an ipBlock or networks peer. With
// IPBlockExternalOnly, pod addresses are carved out, so a pod coming or
// going inside watch makes it dirty.
type blockEntry struct {
	sets  [2]*nft.Set
	watch *netipx.IPSet
	dirty bool
	used  int
}

// namedEntry is the sets of a named-port egress rule: valid while no
// endpoint address in scope (the rule's peer addresses and blocks)
// changed, no pod peer of the rule changed and nodes did not change.
type namedEntry struct {
	sets    [2]*nft.Set
	scope   *netipx.IPSet
	peers   []peerVersion
	nodeGen int
	dirty   bool
	used    int
}

type peerVersion struct {
	pe      *podPeer
	version int
}

func (ne *namedEntry) valid(k *cache) bool {
	if ne.dirty || ne.nodeGen != k.nodeGen {
		return false
	}
	for _, pv := range ne.peers {
		if pv.pe.version != pv.version || k.pods[pv.pe.key] != pv.pe {
			return false
		}
	}
	return true
}

// compareElems orders elements as package nft does (address, second
// address, protocol, ports), so that Diff finds them sorted.
func compareElems(a, b nft.Elem) int {
	return cmp.Or(
		a.Addr.From().Compare(b.Addr.From()), a.Addr.To().Compare(b.Addr.To()),
		a.Addr2.From().Compare(b.Addr2.From()), a.Addr2.To().Compare(b.Addr2.To()),
		cmp.Compare(a.Proto, b.Proto), cmp.Compare(a.Ports.First, b.Ports.First), cmp.Compare(a.Ports.Last, b.Ports.Last))
}
