package lint

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/model"
)

// Context is what checks read: the engine, its snapshot and indexes over
// the snapshot's endpoints that answer "which pods does this selector
// select" without a pass over every pod.
type Context struct {
	Engine *eval.Engine
	Snap   *model.Snapshot

	// hasWorkloads: the input has pods or workloads, so checks can tell
	// "selects nothing" from "the workloads are elsewhere".
	hasWorkloads bool
	// declaredNS: the input declares Namespace objects, so namespace
	// labels other than kubernetes.io/metadata.name are known.
	declaredNS bool
	nsNames    []string
	nsLabels   map[string]map[string]string
	byNS       map[string][]*group
	withIPs    []*model.Endpoint
	podIPs     model.IPSet // the addresses of withIPs

	// pos is each endpoint's position in the engine's order (by ID), for
	// sorting without building IDs.
	pos map[*model.Endpoint]int

	annotations func(model.Source) map[string]string
	subjects    map[*model.Policy]picked
	peerPods    map[string]picked
	reqs        map[string]parsedReqs
}

// group is the endpoints of one namespace with the same labels and
// host-network setting: selectors cannot tell them apart.
type group struct {
	labels  map[string]string
	hostNet bool
	members []*model.Endpoint
}

// picked is what a selector picked: endpoints policies apply to, and
// hostNetwork pods, which policies never apply to and peers never match.
type picked struct {
	eps, host []*model.Endpoint
}

func newContext(e *eval.Engine, annotations func(model.Source) map[string]string) *Context {
	snap := e.Snapshot()
	c := &Context{
		Engine: e, Snap: snap,
		nsLabels:    map[string]map[string]string{},
		byNS:        map[string][]*group{},
		annotations: annotations,
		subjects:    map[*model.Policy]picked{},
		peerPods:    map[string]picked{},
		pos:         map[*model.Endpoint]int{},
	}
	for name, ns := range snap.Namespaces {
		c.nsLabels[name] = ns.Labels
		if ns.Declared {
			c.declaredNS = true
		}
	}
	index := map[string]*group{}
	var kb strings.Builder
	for i, ep := range e.Endpoints() {
		c.pos[ep] = i
		if !ep.IsPodLike() {
			continue
		}
		c.hasWorkloads = true
		if _, ok := c.nsLabels[ep.Namespace]; !ok {
			c.nsLabels[ep.Namespace] = map[string]string{model.NamespaceNameLabel: ep.Namespace}
		}
		kb.Reset()
		kb.WriteString(ep.Namespace)
		kb.WriteByte(0)
		if ep.HostNetwork {
			kb.WriteString("host")
		}
		kb.WriteByte(0)
		keys := make([]string, 0, len(ep.Labels))
		for k := range ep.Labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			kb.WriteString(k + "=" + ep.Labels[k])
			kb.WriteByte(0)
		}
		g, ok := index[kb.String()]
		if !ok {
			g = &group{labels: ep.Labels, hostNet: ep.HostNetwork}
			index[kb.String()] = g
			c.byNS[ep.Namespace] = append(c.byNS[ep.Namespace], g)
		}
		g.members = append(g.members, ep)
		if len(ep.IPs) > 0 && !ep.HostNetwork {
			c.withIPs = append(c.withIPs, ep)
		}
	}
	var ips []netip.Addr
	for _, ep := range c.withIPs {
		ips = append(ips, ep.IPs...)
	}
	c.podIPs = model.IPsOf(ips)
	for name := range c.nsLabels {
		c.nsNames = append(c.nsNames, name)
	}
	sort.Strings(c.nsNames)
	return c
}

// namespaceLabels returns the labels of namespace name, as the engine
// sees them: only kubernetes.io/metadata.name when the input does not
// declare it.
func (c *Context) namespaceLabels(name string) map[string]string {
	if ls, ok := c.nsLabels[name]; ok {
		return ls
	}
	return map[string]string{model.NamespaceNameLabel: name}
}

// namespaces returns the known namespaces a constraint admits: exactly ns
// when set, else those whose labels sel matches.
func (c *Context) namespaces(ns string, sel model.Selector) []string {
	if ns != "" {
		return []string{ns}
	}
	var out []string
	for _, n := range c.nsNames {
		if sel.Matches(c.namespaceLabels(n)) {
			out = append(out, n)
		}
	}
	return out
}

// hasPods reports whether the input has pods or workloads in namespace
// ns.
func (c *Context) hasPods(ns string) bool { return len(c.byNS[ns]) > 0 }

// pods returns the endpoints of the namespaces that pod selector sel
// selects, namespace by namespace (see sortEndpoints).
func (c *Context) pods(namespaces []string, sel model.Selector) picked {
	var s picked
	for _, ns := range namespaces {
		for _, g := range c.byNS[ns] {
			if !sel.Matches(g.labels) {
				continue
			}
			if g.hostNet {
				s.host = append(s.host, g.members...)
			} else {
				s.eps = append(s.eps, g.members...)
			}
		}
	}
	return s
}

// anyPods reports whether pod selector sel selects an endpoint in the
// namespaces: one policies apply to, or a hostNetwork one.
func (c *Context) anyPods(namespaces []string, sel model.Selector) (eps, host bool) {
	for _, ns := range namespaces {
		for _, g := range c.byNS[ns] {
			if sel.Matches(g.labels) {
				if !g.hostNet {
					return true, host
				}
				host = true
			}
		}
	}
	return false, host
}

// sortEndpoints orders endpoints as the engine does (by ID).
func (c *Context) sortEndpoints(eps []*model.Endpoint) {
	slices.SortFunc(eps, func(a, b *model.Endpoint) int { return c.pos[a] - c.pos[b] })
}

// Subjects returns the endpoints pol selects: those it applies to, and
// the hostNetwork pods its selectors match but which it cannot apply to.
func (c *Context) Subjects(pol *model.Policy) picked {
	if s, ok := c.subjects[pol]; ok {
		return s
	}
	sub := pol.Subject
	s := c.pods(c.namespaces(sub.Namespace, sub.NamespaceSelector), sub.PodSelector)
	c.subjects[pol] = s
	return s
}

// PeerPods returns the endpoints a pod peer matches (and the hostNetwork
// pods its selectors match, which it does not).
func (c *Context) PeerPods(p *model.Peer) picked {
	if p.Kind != model.PeerPods {
		return picked{}
	}
	key := p.Namespace + "\x00" + p.NamespaceSelector.Key() + "\x00" + p.PodSelector.Key()
	if s, ok := c.peerPods[key]; ok {
		return s
	}
	s := c.pods(c.namespaces(p.Namespace, p.NamespaceSelector), p.PodSelector)
	c.peerPods[key] = s
	return s
}

// PeerEndpoints returns the pods and workloads a peer of any kind
// matches: by selectors, or by address for IP-based peers.
func (c *Context) PeerEndpoints(p *model.Peer) []*model.Endpoint {
	switch p.Kind {
	case model.PeerPods:
		return c.PeerPods(p).eps
	case model.PeerIPBlock, model.PeerNetworks:
		if p.Kind == model.PeerIPBlock && c.Engine.Options().IPBlockExternalOnly {
			return nil
		}
		return c.podsWithIPIn(p.IPs)
	}
	return nil
}

// podsWithIPIn returns the pods (not on the host network) with an address
// in set.
func (c *Context) podsWithIPIn(set model.IPSet) []*model.Endpoint {
	if !set.Overlaps(c.podIPs) {
		return nil
	}
	var out []*model.Endpoint
	for _, ep := range c.withIPs {
		if slices.ContainsFunc(ep.IPs, set.Contains) {
			out = append(out, ep)
		}
	}
	return out
}

// RuleDestinations returns the pods and workloads that can be the
// destination of rule r of pol: the policy's subjects for ingress, what
// the peers match for egress (every pod for a rule without peers).
func (c *Context) RuleDestinations(pol *model.Policy, r *model.Rule) []*model.Endpoint {
	if r.Direction == model.Ingress {
		return c.Subjects(pol).eps
	}
	if r.AllPeers {
		var out []*model.Endpoint
		for _, ns := range c.nsNames {
			for _, g := range c.byNS[ns] {
				if !g.hostNet {
					out = append(out, g.members...)
				}
			}
		}
		return out
	}
	var out []*model.Endpoint
	seen := map[*model.Endpoint]bool{}
	for i := range r.Peers {
		for _, ep := range c.PeerEndpoints(&r.Peers[i]) {
			if !seen[ep] {
				seen[ep] = true
				out = append(out, ep)
			}
		}
	}
	return out
}

// idList formats up to max endpoint IDs, the first in ID order: "a/x,
// a/y and 3 more".
func (c *Context) idList(eps []*model.Endpoint, max int) string {
	// The max first by position, without sorting every endpoint.
	first := make([]*model.Endpoint, 0, max+1)
	for _, ep := range eps {
		i, _ := slices.BinarySearchFunc(first, ep, func(a, b *model.Endpoint) int { return c.pos[a] - c.pos[b] })
		if i < max {
			first = slices.Insert(first, i, ep)
			if len(first) > max {
				first = first[:max]
			}
		}
	}
	ids := make([]string, 0, len(first))
	for _, ep := range first {
		ids = append(ids, ep.ID())
	}
	s := strings.Join(ids, ", ")
	if n := len(eps) - max; n > 0 {
		s += fmt.Sprintf(" and %d more", n)
	}
	return s
}
