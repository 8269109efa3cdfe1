package blast

import (
	"cmp"
	"slices"

	"github.com/bulkhead/bulkhead/model"
)

// Hop is one step of a path: From may open Conns to To.
type Hop struct {
	From, To *model.Endpoint
	Conns    model.ConnSet
	// Unknown are connections that depend on domain names; only with
	// Options.IncludeUnknown can a hop have no Conns.
	Unknown model.ConnSet
}

// Target is one endpoint a compromised start can reach.
type Target struct {
	Endpoint *model.Endpoint
	// Hops is the length of the shortest path: 1 for a direct connection.
	Hops int
	// Path is one shortest path from the start, one Hop per edge: the
	// first that a breadth-first search visiting neighbours in endpoint
	// order finds, so it is the same on every run.
	Path []Hop
}

// Radius is the blast radius of one endpoint.
type Radius struct {
	Start *model.Endpoint
	// Targets are the reachable endpoints (never the start itself),
	// nearest first, then in endpoint order.
	Targets []Target
	// MaxHops is the length of the longest shortest path, 0 when nothing
	// is reachable.
	MaxHops int
	// Truncated is true when a hop limit left reachable endpoints out.
	Truncated bool
}

// From computes the blast radius of start by breadth-first search: every
// endpoint reachable from it, with the hop count and one shortest path.
// maxHops > 0 stops the search after that many hops. start may be any
// endpoint, an external address range included (an attacker on the
// internet); the ranges it reaches are sinks. From returns nil when start
// is not an endpoint of the graph's engine.
func (g *Graph) From(start *model.Endpoint, maxHops int) *Radius {
	s, ok := g.index[start]
	if !ok {
		return nil
	}
	n := len(g.eps)
	dist := make([]int32, n)
	parent := make([]int32, n)
	for i := range dist {
		dist[i] = -1
	}
	dist[s], parent[s] = 0, -1
	queue := []int32{s}
	r := &Radius{Start: start}
	for qi := 0; qi < len(queue); qi++ {
		u := queue[qi]
		if u != s && !g.pivot(u) {
			continue
		}
		if maxHops > 0 && int(dist[u]) >= maxHops {
			for _, v := range g.out(u) {
				if dist[v] < 0 {
					r.Truncated = true
					break
				}
			}
			continue
		}
		for _, v := range g.out(u) {
			if dist[v] < 0 {
				dist[v], parent[v] = dist[u]+1, u
				queue = append(queue, v)
			}
		}
	}
	for _, v := range queue[1:] {
		t := Target{Endpoint: g.eps[v], Hops: int(dist[v])}
		t.Path = make([]Hop, t.Hops)
		for w, k := v, t.Hops-1; w != s; w, k = parent[w], k-1 {
			from, to := g.eps[parent[w]], g.eps[w]
			allowed, unknown := g.eng.Allowed(from, to)
			t.Path[k] = Hop{From: from, To: to, Conns: allowed, Unknown: unknown}
		}
		r.Targets = append(r.Targets, t)
		r.MaxHops = max(r.MaxHops, t.Hops)
	}
	slices.SortStableFunc(r.Targets, func(a, b Target) int {
		return cmp.Or(cmp.Compare(a.Hops, b.Hops), cmp.Compare(g.index[a.Endpoint], g.index[b.Endpoint]))
	})
	return r
}
