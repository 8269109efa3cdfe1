package exposure

import (
	"cmp"
	"slices"
	"sort"
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
	one := eval.New(oneDirection(e.Snapshot(), dir), e.Options())
	// One-direction engines hold copies of the policies; map them back.
	orig := map[*model.Policy]*model.Policy{}
	for i, p := range one.Snapshot().Policies {
		orig[p] = e.Snapshot().Policies[i]
	}
	// Without the other direction's CIDRs the outside world splits into
	// coarser ranges; report the original engine's ranges, each of which
	// lies inside exactly one coarse range.
	ext := map[*model.Endpoint][]*model.Endpoint{}
	for _, f := range one.Endpoints() {
		if f.Kind != model.EndpointExternal {
			continue
		}
		for _, o := range e.Endpoints() {
			if o.Kind == model.EndpointExternal && o.External.Overlaps(f.External) {
				ext[f] = append(ext[f], o)
			}
		}
	}
	acc := make([]*accum, len(e.Endpoints()))
	one.Connectivity().Each(func(c eval.Conn) bool {
		subject, peer := c.Dst, c.Src
		if dir == model.Egress {
			subject, peer = c.Src, c.Dst
		}
		if !subject.IsPodLike() || c.Allowed.IsEmpty() {
			return true
		}
		si := index[subject]
		a := acc[si]
		if a == nil {
			a = &accum{ns: map[string]*NamespacePeers{}, rules: map[ruleKey]eval.Step{}, seenSteps: map[*eval.Step]bool{}}
			acc[si] = a
		}
		wide := false
		switch peer.Kind {
		case model.EndpointExternal:
			for _, o := range ext[peer] {
				a.internet = append(a.internet, Peer{o, c.Allowed})
			}
			wide = true
		case model.EndpointNode:
			a.nodes = append(a.nodes, Peer{peer, c.Allowed})
		default:
			if peer.HostNetwork {
				a.nodes = append(a.nodes, Peer{peer, c.Allowed})
				break
			}
			n := a.last
			if n == nil || n.Namespace != peer.Namespace {
				n = a.ns[peer.Namespace]
				if n == nil {
					n = &NamespacePeers{Namespace: peer.Namespace}
					a.ns[peer.Namespace] = n
				}
				a.last = n
			}
			n.Peers++
			n.Conns = union(n.Conns, c.Allowed)
			if a.pods == 0 {
				a.podConns = c.Allowed
			} else if !a.podConns.Equal(c.Allowed) {
				a.podConns = a.podConns.Intersect(c.Allowed)
			}
			a.pods++
			wide = peer.Namespace != subject.Namespace
		}
		if wide {
			eg, in := one.AllowedBy(c.Src, c.Dst)
			steps := in
			if dir == model.Egress {
				steps = eg
			}
			// Pairs of one peer group share their steps: skip those seen.
			if len(steps) > 0 && !a.seenSteps[&steps[0]] {
				a.seenSteps[&steps[0]] = true
				for _, st := range steps {
					if st.Policy == nil {
						continue
					}
					k := ruleKey{st.Policy, st.Rule}
					if _, ok := a.rules[k]; !ok {
						st.Policy = orig[st.Policy]
						a.rules[k] = st
					}
				}
			}
		}
		return true
	})
	for i, a := range acc {
		if a == nil {
			continue
		}
		ep := e.Endpoints()[i]
		x := byEP[ep]
		s := &x.Ingress
		if dir == model.Egress {
			s = &x.Egress
		}
		a.fill(s, ep, perNS, total)
	}
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
	seenSteps       map[*eval.Step]bool
	last            *NamespacePeers // the namespace of the previous peer
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

// oneDirection returns a copy of snap whose policies keep only direction
// dir: their rules of that direction and their isolation in it. The
// engine decides each direction on its own, so the copy's connectivity is
// exactly the original's verdict for dir, with the other direction open.
func oneDirection(snap *model.Snapshot, dir model.Direction) *model.Snapshot {
	s := *snap
	s.Policies = make([]*model.Policy, len(snap.Policies))
	for i, p := range snap.Policies {
		q := *p
		q.Rules = nil
		for _, r := range p.Rules {
			if r.Direction == dir {
				q.Rules = append(q.Rules, r)
			}
		}
		if dir == model.Ingress {
			q.EgressIsolation = false
		} else {
			q.IngressIsolation = false
		}
		s.Policies[i] = &q
	}
	return &s
}
