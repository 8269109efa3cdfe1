package diff

import (
	"cmp"
	"slices"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/model"
)

// Report is everything that differs between two snapshots.
type Report struct {
	Policies   []*PolicyChange
	Endpoints  []*EndpointChange
	Namespaces []*NamespaceChange
	Conns      []ConnChange
}

// ConnChange is one endpoint pair whose allowed connections differ.
type ConnChange struct {
	Kind eval.ChangeKind
	// Src and Dst name the pair. An address range outside the cluster is
	// named by the addresses whose fate changed, which may be part of an
	// external endpoint of either side.
	Src, Dst string
	// OldSrc, OldDst, NewSrc and NewDst are the endpoints of each side;
	// nil on a side where the endpoint does not exist.
	OldSrc, OldDst, NewSrc, NewDst *model.Endpoint
	// Old and New are the allowed connections before and after, and
	// OldUnknown, NewUnknown those that depend on domain names.
	Old, New               model.ConnSet
	OldUnknown, NewUnknown model.ConnSet
	Causes                 []Cause
}

// Opened returns the connections allowed after but not before.
func (c *ConnChange) Opened() model.ConnSet { return c.New.Subtract(c.Old) }

// Closed returns the connections allowed before but not after.
func (c *ConnChange) Closed() model.ConnSet { return c.Old.Subtract(c.New) }

// Cause is one change that contributed to a connection change: exactly one
// of Policy, Endpoint and Namespace is set.
type Cause struct {
	Policy    *PolicyChange
	Endpoint  *EndpointChange
	Namespace *NamespaceChange
	// Direction is the side of the connection a policy acts on: the
	// source's egress or the destination's ingress.
	Direction model.Direction
}

// Widens reports whether the report has a connection added, or a changed
// connection that allows something it did not (or that domain names now
// decide).
func (r *Report) Widens() bool {
	for i := range r.Conns {
		c := &r.Conns[i]
		if c.Kind == eval.Added || !c.Opened().IsEmpty() || !c.NewUnknown.Subtract(c.OldUnknown).IsEmpty() {
			return true
		}
	}
	return false
}

// Narrows reports whether the report has a connection removed, or a
// changed connection that no longer allows something it did.
func (r *Report) Narrows() bool {
	for i := range r.Conns {
		c := &r.Conns[i]
		if c.Kind == eval.Removed || !c.Closed().IsEmpty() || !c.OldUnknown.Subtract(c.NewUnknown).IsEmpty() {
			return true
		}
	}
	return false
}

// Compare compares the snapshots of two engines and attributes every
// connection change to its causes. oldConn and newConn are the engines'
// connectivity; nil computes it.
func Compare(old, new *eval.Engine, oldConn, newConn *eval.Connectivity) *Report {
	if oldConn == nil {
		oldConn = old.Connectivity()
	}
	if newConn == nil {
		newConn = new.Connectivity()
	}
	os, ns := old.Snapshot(), new.Snapshot()
	r := &Report{
		Policies:   comparePolicies(os.Policies, ns.Policies),
		Endpoints:  compareEndpoints(old.Endpoints(), new.Endpoints()),
		Namespaces: compareNamespaces(os.Namespaces, ns.Namespaces),
	}
	r.Conns = diffConns(old, new, oldConn, newConn)
	attribute(r, old, new)
	return r
}

// node is one side of a compared pair: an endpoint of the old snapshot, of
// the new one, or both. External endpoints are split into segments, the
// intersections of an old and a new external endpoint.
type node struct {
	id       string
	old, new *model.Endpoint
}

// diffConns compares the two connectivities over a common set of nodes.
func diffConns(old, new *eval.Engine, oc, nc *eval.Connectivity) []ConnChange {
	var nodes []node
	byID := map[string]int32{}
	oldOf := map[*model.Endpoint][]int32{} // endpoint -> its nodes
	newOf := map[*model.Endpoint][]int32{}
	add := func(id string, o, n *model.Endpoint) int32 {
		i, ok := byID[id]
		if !ok {
			i = int32(len(nodes))
			byID[id] = i
			nodes = append(nodes, node{id: id})
		}
		if o != nil {
			nodes[i].old = o
			oldOf[o] = append(oldOf[o], i)
		}
		if n != nil {
			nodes[i].new = n
			newOf[n] = append(newOf[n], i)
		}
		return i
	}
	var oldExt, newExt []*model.Endpoint
	for _, ep := range old.Endpoints() {
		if ep.Kind == model.EndpointExternal {
			oldExt = append(oldExt, ep)
			continue
		}
		add(ep.ID(), ep, nil)
	}
	for _, ep := range new.Endpoints() {
		if ep.Kind == model.EndpointExternal {
			newExt = append(newExt, ep)
			continue
		}
		add(ep.ID(), nil, ep)
	}
	// Segments: where an old and a new external range overlap, and the
	// parts of either that the other side counts as cluster addresses.
	for _, a := range oldExt {
		rest := a.External
		for _, b := range newExt {
			if seg := a.External.Intersect(b.External); !seg.IsEmpty() {
				i := add(seg.String(), a, nil)
				nodes[i].new = b
				newOf[b] = append(newOf[b], i)
				rest = rest.Subtract(seg)
			}
		}
		if !rest.IsEmpty() {
			add(rest.String(), a, nil)
		}
	}
	for _, b := range newExt {
		rest := b.External
		for _, a := range oldExt {
			rest = rest.Subtract(a.External)
		}
		if !rest.IsEmpty() {
			add(rest.String(), nil, b)
		}
	}

	type verdict struct{ allowed, unknown model.ConnSet }
	collect := func(c *eval.Connectivity, of map[*model.Endpoint][]int32) map[uint64]verdict {
		m := map[uint64]verdict{}
		c.Each(func(cn eval.Conn) bool {
			for _, s := range of[cn.Src] {
				for _, d := range of[cn.Dst] {
					m[uint64(s)<<32|uint64(d)] = verdict{cn.Allowed, cn.Unknown}
				}
			}
			return true
		})
		return m
	}
	a, b := collect(oc, oldOf), collect(nc, newOf)
	var out []ConnChange
	mk := func(k uint64) ConnChange {
		s, d := nodes[k>>32], nodes[uint32(k)]
		return ConnChange{Src: s.id, Dst: d.id, OldSrc: s.old, OldDst: d.old, NewSrc: s.new, NewDst: d.new}
	}
	for k, ov := range a {
		nv, ok := b[k]
		if ok && ov.allowed.Equal(nv.allowed) && ov.unknown.Equal(nv.unknown) {
			continue
		}
		c := mk(k)
		c.Kind, c.Old, c.OldUnknown = eval.Removed, ov.allowed, ov.unknown
		if ok {
			c.Kind, c.New, c.NewUnknown = eval.Changed, nv.allowed, nv.unknown
		}
		out = append(out, c)
	}
	for k, nv := range b {
		if _, ok := a[k]; !ok {
			c := mk(k)
			c.Kind, c.New, c.NewUnknown = eval.Added, nv.allowed, nv.unknown
			out = append(out, c)
		}
	}
	order := func(id string) int {
		// Pods and workloads, nodes, then address ranges, as analyze lists them.
		if i, ok := byID[id]; ok {
			n := nodes[i]
			ep := n.new
			if ep == nil {
				ep = n.old
			}
			switch ep.Kind {
			case model.EndpointNode:
				return 1
			case model.EndpointExternal:
				return 2
			}
		}
		return 0
	}
	slices.SortFunc(out, func(x, y ConnChange) int {
		return cmp.Or(cmp.Compare(order(x.Src), order(y.Src)), cmp.Compare(x.Src, y.Src),
			cmp.Compare(order(x.Dst), order(y.Dst)), cmp.Compare(x.Dst, y.Dst))
	})
	return out
}
