package blast

import (
	"cmp"
	"math/bits"
	"slices"

	"github.com/bulkhead/bulkhead/model"
)

// Score is how much the compromise of one workload reaches.
type Score struct {
	Endpoint *model.Endpoint
	// Reachable counts every endpoint reachable from it, itself excluded;
	// PodLike, Nodes and External split that count by kind, and
	// Sensitive counts those the sensitive predicate selects.
	Reachable, PodLike, Nodes, External, Sensitive int
}

// RankBy chooses the ranking order.
type RankBy uint8

const (
	// ByReachable ranks by Reachable, then Sensitive.
	ByReachable RankBy = iota
	// BySensitive ranks by Sensitive, then Reachable.
	BySensitive
)

// Rank scores every pod and workload by what its compromise reaches and
// returns them best first (ties in endpoint order). sensitive may be nil.
//
// It does not search from every endpoint. The graph (with the outside
// world's edges removed: it is a sink) is condensed into its strongly
// connected components, whose endpoints all reach the same set; the
// components form a DAG, which is walked once from the sinks up, each
// component's reachable set being the union of its successors' sets,
// kept as bitsets over the endpoints and dropped as soon as every
// predecessor has used them. That costs one pass over the edges plus one
// bitset union per edge of the DAG: O(V + E + E_dag·V/64) instead of
// V breadth-first searches.
func (g *Graph) Rank(sensitive func(*model.Endpoint) bool, by RankBy) []Score {
	n := len(g.eps)
	comp, comps := g.components()
	words := (n + 63) / 64
	masks := struct{ pod, node, ext, sens []uint64 }{make([]uint64, words), make([]uint64, words), make([]uint64, words), make([]uint64, words)}
	for i, ep := range g.eps {
		w, b := i/64, uint64(1)<<(i%64)
		switch ep.Kind {
		case model.EndpointPod, model.EndpointWorkload:
			masks.pod[w] |= b
		case model.EndpointNode:
			masks.node[w] |= b
		case model.EndpointExternal:
			masks.ext[w] |= b
		}
		if sensitive != nil && sensitive(ep) {
			masks.sens[w] |= b
		}
	}

	// Successor components of each component, deduplicated, and how many
	// predecessors will read each component's set.
	succ := make([][]int32, len(comps))
	preds := make([]int32, len(comps))
	seen := make([]int32, len(comps))
	for i := range seen {
		seen[i] = -1
	}
	for c, members := range comps {
		for _, v := range members {
			if !g.pivot(v) {
				continue
			}
			for _, w := range g.out(v) {
				if d := comp[w]; d != int32(c) && seen[d] != int32(c) {
					seen[d] = int32(c)
					succ[c] = append(succ[c], d)
					preds[d]++
				}
			}
		}
	}

	type counts struct{ all, pod, node, ext, sens int }
	count := func(set []uint64) counts {
		var k counts
		for i, x := range set {
			k.all += bits.OnesCount64(x)
			k.pod += bits.OnesCount64(x & masks.pod[i])
			k.node += bits.OnesCount64(x & masks.node[i])
			k.ext += bits.OnesCount64(x & masks.ext[i])
			k.sens += bits.OnesCount64(x & masks.sens[i])
		}
		return k
	}
	reach := make([][]uint64, len(comps)) // members ∪ descendants, while needed
	reached := make([]counts, len(comps)) // the same, counted
	var pool [][]uint64
	alloc := func() []uint64 {
		if k := len(pool); k > 0 {
			s := pool[k-1]
			pool = pool[:k-1]
			clear(s)
			return s
		}
		return make([]uint64, words)
	}
	// components() returns components sinks first: successors are done.
	for c, members := range comps {
		set := alloc()
		for _, d := range succ[c] {
			for i, x := range reach[d] {
				set[i] |= x
			}
			if preds[d]--; preds[d] == 0 {
				pool = append(pool, reach[d])
				reach[d] = nil
			}
		}
		for _, v := range members {
			set[v/64] |= 1 << (v % 64)
		}
		reached[c] = count(set)
		if preds[c] > 0 {
			reach[c] = set
		} else {
			pool = append(pool, set)
		}
	}

	var out []Score
	for i, ep := range g.eps {
		if !ep.IsPodLike() {
			continue
		}
		k := reached[comp[i]]
		// The endpoint reaches its component and descendants, not itself.
		s := Score{Endpoint: ep, Reachable: k.all - 1, PodLike: k.pod - 1, Nodes: k.node, External: k.ext, Sensitive: k.sens}
		if sensitive != nil && sensitive(ep) {
			s.Sensitive--
		}
		out = append(out, s)
	}
	slices.SortStableFunc(out, func(a, b Score) int {
		if by == BySensitive {
			return cmp.Or(cmp.Compare(b.Sensitive, a.Sensitive), cmp.Compare(b.Reachable, a.Reachable))
		}
		return cmp.Or(cmp.Compare(b.Reachable, a.Reachable), cmp.Compare(b.Sensitive, a.Sensitive))
	})
	return out
}

// components computes the strongly connected components of the lateral
// movement graph (the outside world has no out-edges) with an iterative
// Tarjan's algorithm. It returns each endpoint's component and the
// components' members, in reverse topological order: every component
// comes after the components it has edges to.
func (g *Graph) components() (comp []int32, comps [][]int32) {
	n := len(g.eps)
	index := make([]int32, n) // 0 = unvisited, else visit order + 1
	low := make([]int32, n)
	onStack := make([]bool, n)
	comp = make([]int32, n)
	var stack []int32
	type frame struct{ v, next int32 }
	var calls []frame
	counter := int32(0)
	visit := func(v int32) {
		counter++
		index[v], low[v] = counter, counter
		stack = append(stack, v)
		onStack[v] = true
		calls = append(calls, frame{v, 0})
	}
	edges := func(v int32) []int32 {
		if !g.pivot(v) {
			return nil
		}
		return g.out(v)
	}
	for root := range int32(n) {
		if index[root] != 0 {
			continue
		}
		visit(root)
		for len(calls) > 0 {
			f := &calls[len(calls)-1]
			v := f.v
			if es := edges(v); int(f.next) < len(es) {
				w := es[f.next]
				f.next++
				switch {
				case index[w] == 0:
					visit(w)
				case onStack[w]:
					low[v] = min(low[v], index[w])
				}
				continue
			}
			calls = calls[:len(calls)-1]
			if low[v] == index[v] {
				id := int32(len(comps))
				var members []int32
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					comp[w] = id
					members = append(members, w)
					if w == v {
						break
					}
				}
				slices.Sort(members)
				comps = append(comps, members)
			}
			if len(calls) > 0 {
				p := calls[len(calls)-1].v
				low[p] = min(low[p], low[v])
			}
		}
	}
	return comp, comps
}
