package eval

import (
	"cmp"
	"net/netip"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/bulkhead/bulkhead/internal/parallel"
	"github.com/bulkhead/bulkhead/model"
)

// Options change how the engine reads policies where Kubernetes leaves
// room for implementations to differ.
type Options struct {
	// IPBlockExternalOnly makes NetworkPolicy ipBlocks match only
	// addresses outside the cluster, as some CNIs implement them. By
	// default an ipBlock also matches a pod whose IP it contains, which is
	// what the upstream conformance suite expects. Node addresses stay
	// matchable either way. Cluster-tier networks peers always match pod
	// IPs, as their API specifies.
	IPBlockExternalOnly bool
	// ClusterCIDRs are address ranges that belong to the cluster (pod and
	// service networks). They are left out of the external endpoints, as
	// pod and node addresses always are.
	ClusterCIDRs []netip.Prefix
}

// Engine answers connectivity questions about one snapshot. Build it with
// New; its methods are safe for concurrent use.
type Engine struct {
	opts Options
	snap *model.Snapshot

	// endpoints stores every endpoint by id; ids are stable for the
	// engine's life (incremental updates append, and a deleted endpoint's
	// slot becomes nil). The display order is kept separately (order.go).
	endpoints []*model.Endpoint
	index     map[*model.Endpoint]int32
	byID      map[string]int32
	epClass   []int32
	extRegion map[int32]int32 // external endpoint id -> region, for ordering
	ord       order

	classes []*class
	byNS    map[string][]int32 // pod-like classes per namespace
	// layoutRep holds one endpoint per distinct named-port layout; id 0 is
	// the empty layout (no named ports).
	layoutRep   []*model.Endpoint
	layoutByKey map[string]int32
	classByKey  map[string]int32
	addr        *addressSpace

	peers    []*peerInfo
	peerByID map[string]int32
	nsLabels map[string]map[string]string

	// policies in evaluation order: Admin by priority, NetworkPolicy by
	// namespace/name, Baseline by priority.
	policies  []*model.Policy
	subjects  map[*model.Policy][]int32 // classes each policy selects
	serial    map[*model.Policy]int     // stable policy numbers for program keys
	classPols [][]*model.Policy         // policies selecting each class, in evaluation order

	programs   []*program
	progByKey  map[string]*program
	nextSerial int
	prog       [2][]*program // per direction (0 ingress, 1 egress), per class; nil = not a policy subject

	verdicts *verdictTable
	conn     *Connectivity // computed on first use, then kept up to date
	connMu   sync.Mutex

	// Bookkeeping for incremental updates.
	policyByKey  map[string]*model.Policy
	ipRefs       map[string]int // IP-peer address sets by text, per peer occurrence
	setByKey     map[string]int // address-space set id by text
	clusterIPs   map[netip.Addr]int
	clusterCIDRs model.IPSet
	scratch      sync.Pool // *scratch for partition
}

// class is a set of endpoints no policy can tell apart.
type class struct {
	id      int32
	kind    model.EndpointKind // EndpointPod stands for pods and workloads alike
	ns      string
	labels  map[string]string
	key     string
	layout  string // named ports, canonical
	lid     int32  // layout id: index into Engine.layoutRep
	regions []int32
	hostNet bool
	members []int32 // endpoint indices, ascending
	rep     *model.Endpoint
}

func (c *class) podLike() bool { return c.kind == model.EndpointPod }

// subject reports whether policies can apply to the class's endpoints.
func (c *class) subject() bool { return c.kind == model.EndpointPod && !c.hostNet }

// New builds an engine for snap. The snapshot must not change afterwards.
func New(snap *model.Snapshot, opts Options) *Engine {
	e := &Engine{
		opts:      opts,
		snap:      snap,
		index:     map[*model.Endpoint]int32{},
		byID:      map[string]int32{},
		extRegion: map[int32]int32{},
		byNS:      map[string][]int32{},
		peerByID:  map[string]int32{},
		nsLabels:  map[string]map[string]string{},
		verdicts:  newVerdictTable(),
	}
	e.scratch.New = func() any { return &scratch{} }
	e.policyByKey = map[string]*model.Policy{}
	e.ipRefs = map[string]int{}
	e.clusterIPs = map[netip.Addr]int{}
	e.clusterCIDRs = model.IPsOf(nil, opts.ClusterCIDRs...)
	for name, ns := range snap.Namespaces {
		e.nsLabels[name] = ns.Labels
	}
	e.sortPolicies()
	e.collectPeers()
	e.buildAddressSpace()
	e.buildEndpoints()
	e.buildClasses()
	e.resolvePeers()
	e.resolveSubjects()
	e.buildPrograms()
	return e
}

// Snapshot returns the snapshot the engine was built from.
func (e *Engine) Snapshot() *model.Snapshot { return e.snap }

// Options returns the engine's options.
func (e *Engine) Options() Options { return e.opts }

// Endpoints returns every endpoint: pods and workloads in ID order, then
// nodes, then the external address ranges. The caller must not modify it.
func (e *Engine) Endpoints() []*model.Endpoint { return e.ord.get(e).view }

// Policies returns the snapshot's policies in evaluation order.
func (e *Engine) Policies() []*model.Policy { return e.policies }

// Lookup returns the endpoint with the given ID, or nil.
func (e *Engine) Lookup(id string) *model.Endpoint {
	if i, ok := e.byID[id]; ok {
		return e.endpoints[i]
	}
	return nil
}

// EndpointForIP returns the endpoint that owns addr: a pod or node with
// that address, else the external range holding it. It returns nil only
// for an invalid address.
func (e *Engine) EndpointForIP(addr netip.Addr) *model.Endpoint {
	if !addr.IsValid() {
		return nil
	}
	addr = addr.Unmap()
	eps := e.Endpoints()
	for _, ep := range eps {
		if ep.Kind == model.EndpointExternal {
			if ep.External.Contains(addr) {
				return ep
			}
			continue
		}
		if slices.Contains(ep.IPs, addr) && !ep.HostNetwork {
			return ep
		}
	}
	for _, ep := range eps {
		if slices.Contains(ep.IPs, addr) {
			return ep
		}
	}
	return nil
}

// tierRank orders policies: Admin, then NetworkPolicy, then Baseline.
func tierRank(t model.Tier) int {
	switch t {
	case model.TierAdmin:
		return 0
	case model.TierNetworkPolicy:
		return 1
	}
	return 2
}

// sortPolicies fixes the evaluation order. Within the Admin and Baseline
// tiers, lower priority values come first. The API leaves the order of two
// policies with the same priority undefined; bulkhead orders them by kind
// (AdminNetworkPolicy/BaselineAdminNetworkPolicy before
// ClusterNetworkPolicy) and then by name, so that results are
// deterministic, and the lint reports overlapping ties.
func (e *Engine) sortPolicies() {
	e.policies = slices.Clone(e.snap.Policies)
	slices.SortStableFunc(e.policies, comparePolicies)
	e.serial = make(map[*model.Policy]int, len(e.policies))
	for _, pol := range e.policies {
		e.serial[pol] = e.nextSerial
		e.nextSerial++
		e.policyByKey[policyKey(pol)] = pol
	}
}

// comparePolicies is the evaluation order.
func comparePolicies(a, b *model.Policy) int {
	return cmp.Or(
		cmp.Compare(tierRank(a.Tier), tierRank(b.Tier)),
		cmp.Compare(a.Priority, b.Priority),
		cmp.Compare(a.Kind, b.Kind),
		cmp.Compare(a.Namespace, b.Namespace),
		cmp.Compare(a.Name, b.Name),
	)
}

// peerInfo is one distinct peer of all rules, resolved to classes.
type peerInfo struct {
	peer model.Peer
	// set is the IP set id for IP-based peers, else -1.
	set int
	// classes matches definitely; maybe matches only possibly (domain
	// names against external addresses).
	classes bitset
	list    []int32
	maybe   bool
}

// collectPeers interns every peer of every rule and resolves node
// selectors to the addresses of the nodes they select.
func (e *Engine) collectPeers() {
	for _, pol := range e.policies {
		e.eachNewPeer(pol, func(*peerInfo) {})
	}
}

// eachNewPeer interns pol's peers that are not interned yet and calls f
// on each new one.
func (e *Engine) eachNewPeer(pol *model.Policy, f func(*peerInfo)) {
	for ri := range pol.Rules {
		for pi := range pol.Rules[ri].Peers {
			p := &pol.Rules[ri].Peers[pi]
			k := p.Key()
			if _, ok := e.peerByID[k]; ok {
				continue
			}
			info := &peerInfo{peer: *p, set: -1}
			if p.Kind == model.PeerNodes {
				info.peer.IPs = e.nodeIPs(p.NodeSelector)
			}
			e.peerByID[k] = int32(len(e.peers))
			e.peers = append(e.peers, info)
			f(info)
		}
	}
}

// buildAddressSpace partitions the address space by the IP-based peers.
func (e *Engine) buildAddressSpace() {
	var sets []model.IPSet
	byKey := map[string]int{}
	e.setByKey = byKey
	for _, pol := range e.policies {
		for _, k := range e.ipSetKeys(pol) {
			e.ipRefs[k]++
		}
	}
	for _, info := range e.peers {
		switch info.peer.Kind {
		case model.PeerIPBlock, model.PeerNetworks, model.PeerNodes:
			k := info.peer.IPs.String()
			id, ok := byKey[k]
			if !ok {
				id = len(sets)
				byKey[k] = id
				sets = append(sets, info.peer.IPs)
			}
			info.set = id
		}
	}
	e.addr = newAddressSpace(sets)
}

// buildEndpoints lists pods and workloads, then nodes, then the external
// endpoints: each address region minus the cluster's own addresses.
func (e *Engine) buildEndpoints() {
	eps := slices.Clone(e.snap.Endpoints)
	model.SortEndpoints(eps)
	var cluster []netip.Addr
	for _, ep := range eps {
		cluster = append(cluster, ep.IPs...)
		for _, ip := range ep.IPs {
			e.clusterIPs[ip.Unmap()]++
		}
	}
	nodes := slices.Clone(e.snap.Nodes)
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Name < nodes[j].Name })
	for _, n := range nodes {
		eps = append(eps, &model.Endpoint{
			Kind: model.EndpointNode, Name: n.Name, Labels: n.Labels,
			IPs: n.IPs, Source: n.Source,
		})
		cluster = append(cluster, n.IPs...)
		for _, ip := range n.IPs {
			e.clusterIPs[ip.Unmap()]++
		}
	}
	clusterSet := model.IPsOf(cluster, e.opts.ClusterCIDRs...)
	for ri, r := range e.addr.regions {
		ips := r.ips.Subtract(clusterSet)
		if ips.IsEmpty() {
			continue
		}
		e.extRegion[int32(len(eps))] = int32(ri)
		eps = append(eps, &model.Endpoint{Kind: model.EndpointExternal, Name: ips.String(), External: ips})
	}
	e.endpoints = eps
	for i, ep := range e.endpoints {
		e.index[ep] = int32(i)
		e.byID[ep.ID()] = int32(i)
	}
}

// buildClasses groups endpoints that no policy can tell apart.
func (e *Engine) buildClasses() {
	e.classByKey = map[string]int32{}
	e.layoutByKey = map[string]int32{"": 0}
	e.layoutRep = []*model.Endpoint{{Kind: model.EndpointPod}}
	e.epClass = make([]int32, len(e.endpoints))
	for i, ep := range e.endpoints {
		c := e.classOf(ep)
		id, ok := e.classByKey[c.key]
		if !ok {
			id = e.registerClass(c)
		}
		e.classes[id].members = append(e.classes[id].members, int32(i))
		e.epClass[i] = id
	}
}

// classOf returns a new, unregistered class for ep with its key set.
func (e *Engine) classOf(ep *model.Endpoint) *class {
	c := &class{ns: ep.Namespace, labels: ep.Labels, rep: ep}
	switch ep.Kind {
	case model.EndpointPod, model.EndpointWorkload:
		c.kind = model.EndpointPod
		c.hostNet = ep.HostNetwork
		c.layout = layoutKey(ep.Ports)
	default:
		c.kind = ep.Kind
	}
	if ep.Kind == model.EndpointExternal {
		c.regions = []int32{e.addr.regionOf(ep.External.Ranges()[0].From())}
	} else {
		for _, ip := range ep.IPs {
			c.regions = append(c.regions, e.addr.regionOf(ip))
		}
		slices.Sort(c.regions)
		c.regions = slices.Compact(c.regions)
	}
	var kb strings.Builder
	kb.WriteString(c.kind.String())
	kb.WriteByte(0)
	if c.podLike() {
		kb.WriteString(c.ns)
		kb.WriteByte(0)
		kb.WriteString(model.LabelsKey(c.labels))
		kb.WriteByte(0)
		kb.WriteString(c.layout)
		kb.WriteByte(0)
		if c.hostNet {
			kb.WriteString("host")
		}
		kb.WriteByte(0)
	}
	kb.WriteString(regionsKey(c.regions))
	c.key = kb.String()
	return c
}

// registerClass gives c an id and a layout id and indexes it. It does not
// resolve peers, subjects or programs.
func (e *Engine) registerClass(c *class) int32 {
	lid, seen := e.layoutByKey[c.layout]
	if !seen {
		lid = int32(len(e.layoutRep))
		e.layoutByKey[c.layout] = lid
		e.layoutRep = append(e.layoutRep, c.rep)
	}
	c.lid = lid
	c.id = int32(len(e.classes))
	e.classByKey[c.key] = c.id
	e.classes = append(e.classes, c)
	if c.podLike() {
		e.byNS[c.ns] = append(e.byNS[c.ns], c.id)
	}
	return c.id
}

// layoutKey returns a canonical form of the named ports, the only ports
// that change how rules resolve.
func layoutKey(ports []model.ContainerPort) string {
	var parts []string
	for _, p := range ports {
		if p.Name != "" {
			parts = append(parts, p.Name+"/"+p.Protocol.String()+"/"+itoa(int(p.Port)))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// nsMatches reports whether a namespace constraint (an exact namespace, or
// a selector when ns is "") admits namespace name.
func (e *Engine) nsMatches(ns string, sel model.Selector, name string) bool {
	if ns != "" {
		return ns == name
	}
	return sel.Matches(e.namespaceLabels(name))
}

func (e *Engine) namespaceLabels(name string) map[string]string {
	if ls, ok := e.nsLabels[name]; ok {
		return ls
	}
	return map[string]string{model.NamespaceNameLabel: name}
}

// podClassesIn calls f for each pod-like class in the namespaces that the
// constraint (ns, sel) admits.
func (e *Engine) podClassesIn(ns string, sel model.Selector, f func(c *class)) {
	if ns != "" {
		for _, id := range e.byNS[ns] {
			f(e.classes[id])
		}
		return
	}
	for name, ids := range e.byNS {
		if !sel.Matches(e.namespaceLabels(name)) {
			continue
		}
		for _, id := range ids {
			f(e.classes[id])
		}
	}
}

// resolvePeers computes the classes each peer matches, in parallel.
func (e *Engine) resolvePeers() {
	parallel.For(runtime.GOMAXPROCS(0), len(e.peers), func(i int) { e.resolvePeer(e.peers[i]) })
}

// resolvePeer computes the classes one peer matches.
func (e *Engine) resolvePeer(info *peerInfo) {
	info.classes = info.classes.grow(len(e.classes))
	info.maybe = info.peer.Kind == model.PeerDomains
	p := &info.peer
	if p.Kind == model.PeerPods {
		e.podClassesIn(p.Namespace, p.NamespaceSelector, func(c *class) {
			if e.peerMatches(info, c) {
				info.classes.set(int(c.id))
			}
		})
	} else {
		for _, c := range e.classes {
			if e.peerMatches(info, c) {
				info.classes.set(int(c.id))
			}
		}
	}
	info.list = info.list[:0]
	info.classes.each(func(i int) { info.list = append(info.list, int32(i)) })
}

// peerMatches reports whether a peer matches class c.
func (e *Engine) peerMatches(info *peerInfo, c *class) bool {
	p := &info.peer
	switch p.Kind {
	case model.PeerPods:
		return c.podLike() && !c.hostNet && e.nsMatches(p.Namespace, p.NamespaceSelector, c.ns) && p.PodSelector.Matches(c.labels)
	case model.PeerIPBlock, model.PeerNetworks, model.PeerNodes:
		if p.Kind == model.PeerIPBlock && e.opts.IPBlockExternalOnly && c.podLike() && !c.hostNet {
			return false
		}
		for _, r := range c.regions {
			if e.addr.regions[r].members.has(info.set) {
				return true
			}
		}
	case model.PeerDomains:
		return c.kind == model.EndpointExternal
	}
	return false
}

// selects reports whether pol's subject selects class c.
func (e *Engine) selects(pol *model.Policy, c *class) bool {
	if !c.subject() {
		return false
	}
	s := &pol.Subject
	return e.nsMatches(s.Namespace, s.NamespaceSelector, c.ns) && s.PodSelector.Matches(c.labels)
}

// resolveSubjects computes the classes each policy applies to.
func (e *Engine) resolveSubjects() {
	e.subjects = make(map[*model.Policy][]int32, len(e.policies))
	out := make([][]int32, len(e.policies))
	parallel.For(runtime.GOMAXPROCS(0), len(e.policies), func(i int) { out[i] = e.subjectClasses(e.policies[i]) })
	for i, pol := range e.policies {
		e.subjects[pol] = out[i]
	}
}

// subjectClasses returns the classes pol selects, ascending.
func (e *Engine) subjectClasses(pol *model.Policy) []int32 {
	var out []int32
	e.podClassesIn(pol.Subject.Namespace, pol.Subject.NamespaceSelector, func(c *class) {
		if e.selects(pol, c) {
			out = append(out, c.id)
		}
	})
	slices.Sort(out)
	return out
}
