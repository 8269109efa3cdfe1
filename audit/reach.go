package audit

import (
	"net/netip"
	"sort"
	"strings"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/model"
)

// reach holds the engine with the audit's probe pods and the groups of
// endpoints no policy can tell apart.
//
// A probe is an unlabelled pod without addresses or named ports: no
// policy can anticipate it except by selecting everything. The fresh probe
// lives in a namespace no object refers to, so what it can reach is what
// a pod of any namespace (including one created tomorrow) can reach; a
// namespace probe stands for a new pod of its namespace, so its isolation
// is the namespace's default.
type reach struct {
	e       *eval.Engine
	fresh   *model.Endpoint
	nsProbe map[string]*model.Endpoint
	probes  map[*model.Endpoint]bool
	// groups are the pod-like, non-host-network endpoints of the input,
	// grouped by everything a policy can select them by (namespace,
	// labels, named ports, the ipBlocks their addresses fall in), so that
	// one representative answers for all.
	groups []*group
	byNS   map[string][]*group
	// internet are the external endpoints that hold public addresses.
	internet []*model.Endpoint
}

type group struct {
	ns      string
	rep     *model.Endpoint
	members []*model.Endpoint
}

const probeName = "bulkhead-audit-probe"

// privateRanges are the address ranges that are not the internet: RFC
// 1918, shared address space, loopback, link-local, multicast, reserved
// and their IPv6 counterparts. The documentation ranges (192.0.2.0/24,
// 2001:db8::/32, ...) count as public, since examples use them for it.
var privateRanges = func() model.IPSet {
	var ps []netip.Prefix
	for _, s := range []string{"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
		"172.16.0.0/12", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/3",
		"::/127", "fc00::/7", "fe80::/10", "ff00::/8"} {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return model.IPsOf(nil, ps...)
}()

func newReach(snap *model.Snapshot, opts eval.Options) *reach {
	r := &reach{nsProbe: map[string]*model.Endpoint{}, probes: map[*model.Endpoint]bool{}, byNS: map[string][]*group{}}
	probeSnap := *snap
	probeSnap.Namespaces = make(map[string]*model.Namespace, len(snap.Namespaces)+1)
	for k, v := range snap.Namespaces {
		probeSnap.Namespaces[k] = v
	}
	ids := make(map[string]bool, len(snap.Endpoints))
	for _, ep := range snap.Endpoints {
		ids[ep.ID()] = true
	}
	freshNS := "bulkhead-audit-probe"
	for i := 1; probeSnap.Namespaces[freshNS] != nil; i++ {
		freshNS = "bulkhead-audit-probe-" + itoa(i)
	}
	probeSnap.Namespaces[freshNS] = &model.Namespace{Name: freshNS, Labels: map[string]string{model.NamespaceNameLabel: freshNS}}
	newProbe := func(ns string) *model.Endpoint {
		name := probeName
		for i := 1; ids[ns+"/"+name]; i++ {
			name = probeName + "-" + itoa(i)
		}
		ep := &model.Endpoint{Kind: model.EndpointPod, Namespace: ns, Name: name, Labels: map[string]string{},
			Source: model.Source{Kind: "Pod", Namespace: ns, Name: name}}
		r.probes[ep] = true
		return ep
	}
	probeSnap.Endpoints = append([]*model.Endpoint(nil), snap.Endpoints...)
	r.fresh = newProbe(freshNS)
	probeSnap.Endpoints = append(probeSnap.Endpoints, r.fresh)
	for _, ns := range snap.NamespaceNames() {
		p := newProbe(ns)
		r.nsProbe[ns] = p
		probeSnap.Endpoints = append(probeSnap.Endpoints, p)
	}
	model.SortEndpoints(probeSnap.Endpoints)
	r.e = eval.New(&probeSnap, opts)

	// Group the input's endpoints.
	var ipPeers []model.IPSet
	seenPeer := map[string]bool{}
	for _, pol := range snap.Policies {
		for _, rule := range pol.Rules {
			for _, p := range rule.Peers {
				if p.Kind != model.PeerIPBlock && p.Kind != model.PeerNetworks {
					continue
				}
				if k := p.IPs.String(); !seenPeer[k] {
					seenPeer[k] = true
					ipPeers = append(ipPeers, p.IPs)
				}
			}
		}
	}
	byKey := map[string]*group{}
	var b strings.Builder
	for _, ep := range snap.Endpoints {
		if !ep.IsPolicySubject() {
			continue
		}
		b.Reset()
		b.WriteString(ep.Namespace)
		b.WriteByte(0)
		keys := make([]string, 0, len(ep.Labels))
		for k := range ep.Labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			b.WriteString(k)
			b.WriteByte('=')
			b.WriteString(ep.Labels[k])
			b.WriteByte(',')
		}
		b.WriteByte(0)
		for _, p := range ep.Ports {
			b.WriteString(p.Name)
			b.WriteByte('/')
			b.WriteString(p.Protocol.String())
			b.WriteByte('/')
			b.WriteString(itoa(int(p.Port)))
			b.WriteByte(',')
		}
		b.WriteByte(0)
		for i, set := range ipPeers {
			for _, a := range ep.IPs {
				if set.Contains(a) {
					b.WriteString(itoa(i))
					b.WriteByte(',')
					break
				}
			}
		}
		k := b.String()
		g := byKey[k]
		if g == nil {
			g = &group{ns: ep.Namespace, rep: ep}
			byKey[k] = g
			r.groups = append(r.groups, g)
			r.byNS[ep.Namespace] = append(r.byNS[ep.Namespace], g)
		}
		g.members = append(g.members, ep)
	}
	for _, ep := range r.e.Endpoints() {
		if ep.Kind == model.EndpointExternal && !ep.External.Subtract(privateRanges).IsEmpty() {
			r.internet = append(r.internet, ep)
		}
	}
	return r
}

// allowed returns what src may open to dst; nothing when src is dst.
func (r *reach) allowed(src, dst *model.Endpoint) model.ConnSet {
	if src == dst {
		return model.ConnSet{}
	}
	a, _ := r.e.Allowed(src, dst)
	return a
}

// groupAllowed returns what members of g may open to members of h,
// leaving out an endpoint's connections to itself.
func (r *reach) groupAllowed(g, h *group) model.ConnSet {
	src, dst := g.rep, h.rep
	if src == dst {
		if len(g.members) < 2 {
			return model.ConnSet{}
		}
		dst = g.members[1]
	}
	return r.allowed(src, dst)
}

// fromInternet returns what external endpoints with public addresses may
// open to dst, and from where: "any address", or the ranges of those
// endpoints.
func (r *reach) fromInternet(dst *model.Endpoint) (model.ConnSet, string) {
	var conns model.ConnSet
	var from model.IPSet
	n := 0
	for _, x := range r.internet {
		if a := r.allowed(x, dst); !a.IsEmpty() {
			conns = conns.Union(a)
			from = from.Union(x.External)
			n++
		}
	}
	if n == len(r.internet) {
		return conns, "any address"
	}
	return conns, from.String()
}

// toExternal reports whether src may open connections to any address
// outside the cluster.
func (r *reach) toExternal(src *model.Endpoint) bool {
	for _, ep := range r.e.Endpoints() {
		if ep.Kind == model.EndpointExternal && !r.allowed(src, ep).IsEmpty() {
			return true
		}
	}
	return false
}

// maxExpand is the number of connections up to which namespace-level
// questions enumerate the engine's connections; above it they compare
// group representatives instead.
var maxExpand = 4 << 20

type nsPair struct{ src, dst string }

// crossNamespace returns, for every ordered pair of namespaces where some
// pod (policy subject) of the first can connect to one of the second, an
// example connection "src -> dst (conns)". It enumerates the allowed
// connections when there are not too many (segmented clusters), and
// compares group representatives otherwise (open clusters, where most
// pairs answer at the first try).
func (r *reach) crossNamespace() map[nsPair]string {
	out := map[nsPair]string{}
	conn := r.e.Connectivity()
	if conn.Count() <= maxExpand {
		conn.Each(func(c eval.Conn) bool {
			if c.Src.Namespace == c.Dst.Namespace || r.probes[c.Src] || r.probes[c.Dst] ||
				!c.Src.IsPolicySubject() || !c.Dst.IsPolicySubject() || c.Allowed.IsEmpty() {
				return true
			}
			k := nsPair{c.Src.Namespace, c.Dst.Namespace}
			if _, ok := out[k]; !ok {
				out[k] = c.Src.ID() + " -> " + c.Dst.ID() + " (" + connsText(c.Allowed) + ")"
			}
			return true
		})
		return out
	}
	nss := r.namespacesWithPods()
	for _, src := range nss {
		for _, dst := range nss {
			if src == dst {
				continue
			}
		search:
			for _, h := range r.byNS[src] {
				for _, g := range r.byNS[dst] {
					if a := r.groupAllowed(h, g); !a.IsEmpty() {
						out[nsPair{src, dst}] = h.rep.ID() + " -> " + g.rep.ID() + " (" + connsText(a) + ")"
						break search
					}
				}
			}
		}
	}
	return out
}

// namespacesWithPods returns the input's namespaces that hold pods or
// workloads, sorted.
func (r *reach) namespacesWithPods() []string {
	var out []string
	for ns := range r.byNS {
		out = append(out, ns)
	}
	sort.Strings(out)
	return out
}

// subjectOf returns the audit subject of an endpoint: its workload, or its
// pod.
func subjectOf(ep *model.Endpoint) Subject {
	if ep.Kind == model.EndpointWorkload {
		return Subject{Kind: ep.Workload, Namespace: ep.Namespace, Name: ep.Name}
	}
	return Subject{Kind: "Pod", Namespace: ep.Namespace, Name: ep.Name}
}

// connsText formats connections for messages: "TCP 443" or "all traffic".
func connsText(c model.ConnSet) string {
	if c.IsAll() {
		return "all traffic"
	}
	return c.String()
}
