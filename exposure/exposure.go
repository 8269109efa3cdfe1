package exposure

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/model"
)

// Report is the exposure of every pod and workload of a snapshot.
type Report struct {
	// Endpoints are the pods and workloads, in endpoint order.
	Endpoints []*Exposure
	// Namespaces counts the pods and workloads each namespace has that
	// policies can select as peers (hostNetwork pods excepted).
	Namespaces map[string]int
}

// Exposure is one endpoint's exposure in both directions.
type Exposure struct {
	Endpoint        *model.Endpoint
	Ingress, Egress Side
}

// Side is the exposure of an endpoint in one direction: for ingress, who
// its ingress rules admit; for egress, what its egress rules let it reach.
// The peers are the other side of each allowed connection, never the
// endpoint itself.
type Side struct {
	Direction model.Direction
	// Unprotected is true when no policy of any tier selects the endpoint
	// in this direction: everything is allowed by default. HostNetwork
	// pods are always unprotected: no policy applies to them.
	Unprotected bool
	// Isolated is true when a NetworkPolicy isolates the endpoint in this
	// direction.
	Isolated bool
	// Policies are the policies that select the endpoint in this
	// direction, in evaluation order.
	Policies []*model.Policy
	// Internet lists the address ranges outside the cluster allowed, with
	// the connections; InternetConns is their union.
	Internet      []Peer
	InternetConns model.ConnSet
	// Nodes lists the cluster nodes allowed.
	Nodes []Peer
	// AllPods is true when every other pod and workload of the cluster
	// (hostNetwork pods excepted, as policies cannot select them) is
	// allowed some connection: the endpoint is open to every namespace.
	// AllPodsConns is what all of them are allowed.
	AllPods      bool
	AllPodsConns model.ConnSet
	// Namespaces lists, by name, the namespaces with at least one allowed
	// pod or workload.
	Namespaces []NamespacePeers
	// Rules are the rules that allow connections with the internet or
	// with other namespaces, the ones that widen exposure beyond the
	// endpoint's own namespace.
	Rules []eval.Step

	namespace string // the endpoint's
}

// Peer is an endpoint on the other side of allowed connections.
type Peer struct {
	Endpoint *model.Endpoint
	Conns    model.ConnSet
}

// NamespacePeers says how much of one namespace is allowed.
type NamespacePeers struct {
	Namespace string
	// Peers of Total pods and workloads are allowed some connection
	// (Total leaves out hostNetwork pods and the endpoint itself).
	Peers, Total int
	// Conns is the union of what they are allowed.
	Conns model.ConnSet
}

// Levels of exposure, widest first.
const (
	LevelInternet      = "internet"
	LevelAllNamespaces = "all namespaces"
	LevelNamespaces    = "other namespaces"
	LevelOwnNamespace  = "own namespace"
	LevelNodes         = "nodes only"
	LevelNone          = "none"
)

// Level summarises a side by its widest exposure: LevelInternet when an
// address outside the cluster is allowed, else LevelAllNamespaces when
// every pod is, else LevelNamespaces when pods of another namespace are,
// else LevelOwnNamespace, LevelNodes or LevelNone.
func (s *Side) Level() string {
	switch {
	case len(s.Internet) > 0:
		return LevelInternet
	case s.AllPods:
		return LevelAllNamespaces
	}
	own := false
	for _, n := range s.Namespaces {
		if n.Namespace != s.namespace {
			return LevelNamespaces
		}
		own = true
	}
	switch {
	case own:
		return LevelOwnNamespace
	case len(s.Nodes) > 0:
		return LevelNodes
	}
	return LevelNone
}

// Compute computes the exposure of every pod and workload that e's
// snapshot holds, with e's options.
func Compute(e *eval.Engine) *Report {
	r := &Report{Namespaces: map[string]int{}}
	byEP := map[*model.Endpoint]*Exposure{}
	for _, ep := range e.Endpoints() {
		if !ep.IsPodLike() {
			continue
		}
		x := &Exposure{Endpoint: ep, Ingress: Side{Direction: model.Ingress, namespace: ep.Namespace},
			Egress: Side{Direction: model.Egress, namespace: ep.Namespace}}
		r.Endpoints = append(r.Endpoints, x)
		byEP[ep] = x
		if !ep.HostNetwork {
			r.Namespaces[ep.Namespace]++
		}
		for _, s := range []*Side{&x.Ingress, &x.Egress} {
			s.Policies = e.PoliciesFor(ep, s.Direction)
			s.Unprotected = len(s.Policies) == 0
		}
		x.Ingress.Isolated, x.Egress.Isolated = e.Isolation(ep)
	}
	total := 0
	for _, n := range r.Namespaces {
		total += n
	}
	index := make(map[*model.Endpoint]int32, len(e.Endpoints()))
	for i, ep := range e.Endpoints() {
		index[ep] = int32(i)
	}
	// The two directions are independent: compute them side by side.
	var wg sync.WaitGroup
	for _, dir := range model.Directions {
		wg.Go(func() { computeSide(e, dir, index, byEP, r.Namespaces, total) })
	}
	wg.Wait()
	return r
}

// computeSide fills in direction dir of every exposure.
func computeSide(e *eval.Engine, dir model.Direction, index map[*model.Endpoint]int32, byEP map[*model.Endpoint]*Exposure, perNS map[string]int, total int) {
	// Side verdicts come straight from the engine's classes: one lookup
	// per (subject, peer group), never the other direction.
	one := e
	ext := map[*model.Endpoint][]*model.Endpoint{}
	for _, f := range e.Endpoints() {
		if f.Kind == model.EndpointExternal {
			ext[f] = []*model.Endpoint{f}
		}
	}
	// Endpoints that no policy can tell apart get the same verdict from
	// every side: evaluate one pair per (subject group, peer group) instead
	// of every endpoint pair. Subjects group by program (the rules that
	// apply to them) and namespace; peers by everything policies match on.
	peers := peerGroups(one)
	type subjectKey struct {
		prog int
		ns   string
		solo *model.Endpoint // subjects policies do not apply to
	}
	subjects := map[subjectKey][]*model.Endpoint{}
	var order []subjectKey
	for _, ep := range one.Endpoints() {
		if !ep.IsPodLike() {
			continue
		}
		k := subjectKey{prog: -1, ns: ep.Namespace}
		if p := one.ProgramOf(ep, dir); p != nil {
			k.prog = p.ID
		} else {
			k.solo = ep
		}
		if _, ok := subjects[k]; !ok {
			order = append(order, k)
		}
		subjects[k] = append(subjects[k], ep)
	}
	groupOf := map[*model.Endpoint]int{}
	allGroups := make([]int, len(peers))
	for gi, g := range peers {
		allGroups[gi] = gi
		for _, m := range g {
			groupOf[m] = gi
		}
	}
	for _, k := range order {
		members := subjects[k]
		s := members[0]
		a := &accum{ns: map[string]*NamespacePeers{}, rules: map[ruleKey]eval.Step{}}
		allowedFrom := make([]model.ConnSet, len(peers))
		// A default-deny side can only allow peers its rules match: visit
		// those groups, not every group.
		visit := allGroups
		if cands, all := one.SidePeers(s, dir); !all && len(cands) < len(peers) {
			seen := map[int]bool{}
			visit = visit[:0:0]
			for _, c := range cands {
				if gi, ok := groupOf[c]; ok && !seen[gi] {
					seen[gi] = true
					visit = append(visit, gi)
				}
			}
			slices.Sort(visit)
		}
		for _, gi := range visit {
			g := peers[gi]
			p := g[0]
			if p == s {
				if len(g) == 1 {
					continue
				}
				p = g[1]
			}
			allowed, _ := one.SideAllowed(s, p, dir)
			if allowed.IsEmpty() {
				continue
			}
			allowedFrom[gi] = allowed
			wide := false
			switch {
			case p.Kind == model.EndpointExternal:
				for _, o := range ext[p] {
					a.internet = append(a.internet, Peer{o, allowed})
				}
				wide = true
			case p.Kind == model.EndpointNode || p.HostNetwork:
				for _, m := range g {
					a.nodes = append(a.nodes, Peer{m, allowed})
				}
			default:
				n := a.ns[p.Namespace]
				if n == nil {
					n = &NamespacePeers{Namespace: p.Namespace}
					a.ns[p.Namespace] = n
				}
				n.Peers += len(g)
				n.Conns = union(n.Conns, allowed)
				if a.pods == 0 {
					a.podConns = allowed
				} else if !a.podConns.Equal(allowed) {
					a.podConns = a.podConns.Intersect(allowed)
				}
				a.pods += len(g)
				wide = p.Namespace != s.Namespace
			}
			if wide {
				for _, st := range one.SideAllowedBy(s, p, dir) {
					if st.Policy == nil {
						continue
					}
					k := ruleKey{st.Policy, st.Rule}
					if _, ok := a.rules[k]; !ok {
						a.rules[k] = st
					}
				}
			}
		}
		for _, x := range members {
			b := a.forSubject(x, groupOf[x], allowedFrom, peers, total)
			ex := byEP[x]
			side := &ex.Ingress
			if dir == model.Egress {
				side = &ex.Egress
			}
			b.fill(side, x, perNS, total)
		}
	}
}

// forSubject returns the group's peers as subject x sees them: without
// x itself, which its own peer group (own) counted if it was allowed.
func (a *accum) forSubject(x *model.Endpoint, own int, allowed []model.ConnSet, groups [][]*model.Endpoint, total int) *accum {
	b := *a
	b.ns = make(map[string]*NamespacePeers, len(a.ns))
	for k, v := range a.ns {
		c := *v
		b.ns[k] = &c
	}
	if allowed[own].IsEmpty() {
		return &b
	}
	if x.HostNetwork {
		b.nodes = slices.DeleteFunc(slices.Clone(a.nodes), func(p Peer) bool { return p.Endpoint == x })
		return &b
	}
	n := b.ns[x.Namespace]
	n.Peers--
	b.pods--
	if n.Peers == 0 {
		delete(b.ns, x.Namespace)
	}
	if len(groups[own]) > 1 {
		return &b // the rest of its group still contributes the same
	}
	// x alone made up its group: what the others are allowed may be less
	// (namespace union) or more (intersection over every pod).
	if n.Peers > 0 {
		n.Conns = model.ConnSet{}
		for gi, g := range groups {
			if gi != own && g[0].IsPodLike() && !g[0].HostNetwork && g[0].Namespace == x.Namespace {
				n.Conns = union(n.Conns, allowed[gi])
			}
		}
	}
	if b.pods == total-1 {
		first := true
		for gi, g := range groups {
			if gi == own || !g[0].IsPodLike() || g[0].HostNetwork || allowed[gi].IsEmpty() {
				continue
			}
			if first {
				b.podConns, first = allowed[gi], false
			} else {
				b.podConns = b.podConns.Intersect(allowed[gi])
			}
		}
	}
	return &b
}

// peerGroups partitions the endpoints of e into groups that every policy
// treats alike as peers: same kind, namespace, labels, named ports,
// host network and, for their addresses, the same membership in every
// CIDR and node address set the policies name. That is the engine's own
// notion of a class (see package eval), which the tests check.
func peerGroups(e *eval.Engine) [][]*model.Endpoint {
	var sets []model.IPSet
	seen := map[string]bool{}
	for _, pol := range e.Policies() {
		for _, r := range pol.Rules {
			for _, p := range r.Peers {
				var s model.IPSet
				switch p.Kind {
				case model.PeerIPBlock, model.PeerNetworks:
					s = p.IPs
				case model.PeerNodes:
					var ips []netip.Addr
					for _, n := range e.Snapshot().Nodes {
						if p.NodeSelector.Matches(n.Labels) {
							ips = append(ips, n.IPs...)
						}
					}
					s = model.IPsOf(ips)
				default:
					continue
				}
				if k := s.String(); !seen[k] {
					seen[k] = true
					sets = append(sets, s)
				}
			}
		}
	}
	byKey := map[string]int{}
	var groups [][]*model.Endpoint
	var kb strings.Builder
	for _, ep := range e.Endpoints() {
		kb.Reset()
		if !ep.IsPodLike() {
			kb.WriteString("\x00" + ep.ID())
		} else {
			kb.WriteString(ep.Namespace + "\x00" + model.LabelsKey(ep.Labels) + "\x00" + portsKey(ep.Ports))
			if ep.HostNetwork {
				kb.WriteString("\x00host")
			}
			var regions []string
			for _, ip := range ep.IPs {
				var r strings.Builder
				for _, s := range sets {
					if s.Contains(ip) {
						r.WriteByte('1')
					} else {
						r.WriteByte('0')
					}
				}
				regions = append(regions, r.String())
			}
			slices.Sort(regions)
			kb.WriteString("\x00" + strings.Join(slices.Compact(regions), ","))
		}
		k := kb.String()
		gi, ok := byKey[k]
		if !ok {
			gi = len(groups)
			byKey[k] = gi
			groups = append(groups, nil)
		}
		groups[gi] = append(groups[gi], ep)
	}
	return groups
}

func portsKey(ps []model.ContainerPort) string {
	var parts []string
	for _, p := range ps {
		if p.Name != "" {
			parts = append(parts, fmt.Sprintf("%s/%s/%d", p.Name, p.Protocol, p.Port))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

type ruleKey struct {
	pol  *model.Policy
	rule *model.Rule
}

// accum collects one side's peers while the connections stream by.
type accum struct {
	internet, nodes []Peer
	ns              map[string]*NamespacePeers
	pods            int
	podConns        model.ConnSet // what every pod peer so far is allowed
	rules           map[ruleKey]eval.Step
}

func (a *accum) fill(s *Side, ep *model.Endpoint, perNS map[string]int, total int) {
	s.Internet, s.Nodes = a.internet, a.nodes
	for _, p := range a.internet {
		s.InternetConns = union(s.InternetConns, p.Conns)
	}
	others := total
	if !ep.HostNetwork {
		others-- // itself
	}
	s.AllPods = others > 0 && a.pods == others
	if s.AllPods {
		s.AllPodsConns = a.podConns
	}
	for name, n := range a.ns {
		n.Total = perNS[name]
		if name == ep.Namespace && !ep.HostNetwork {
			n.Total--
		}
		s.Namespaces = append(s.Namespaces, *n)
	}
	sort.Slice(s.Namespaces, func(i, j int) bool { return s.Namespaces[i].Namespace < s.Namespaces[j].Namespace })
	for _, st := range a.rules {
		s.Rules = append(s.Rules, st)
	}
	slices.SortFunc(s.Rules, func(x, y eval.Step) int {
		return cmp.Or(cmp.Compare(x.Policy.Ref(), y.Policy.Ref()), cmp.Compare(ruleRef(x.Rule), ruleRef(y.Rule)))
	})
}

func ruleRef(r *model.Rule) string {
	if r == nil {
		return ""
	}
	return r.Ref()
}

// union avoids the allocation of a union when one side holds the other,
// the common case when many peers are allowed the same ports.
func union(a, b model.ConnSet) model.ConnSet {
	if a.Equal(b) || b.IsEmpty() {
		return a
	}
	if a.IsEmpty() {
		return b
	}
	return a.Union(b)
}
