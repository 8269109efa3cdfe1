package blast

import (
	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/model"
)

// Options change what counts as an edge.
type Options struct {
	// IncludeUnknown makes connections that depend on domain names edges,
	// as if every domain name resolved to every external address. By
	// default only connections the policies certainly allow are edges.
	IncludeUnknown bool
}

// Graph is the "can connect" graph of one engine, built once from its
// connectivity: adjacency in compressed rows, endpoints numbered as
// Engine.Endpoints orders them. A Graph is immutable and safe for
// concurrent use.
type Graph struct {
	eng   *eval.Engine
	eps   []*model.Endpoint
	index map[*model.Endpoint]int32
	// off[i]:off[i+1] indexes dst for the out-edges of endpoint i, in
	// endpoint order.
	off []int32
	dst []int32
}

// New builds the graph of c, the connectivity of e.
func New(e *eval.Engine, c *eval.Connectivity, opts Options) *Graph {
	eps := e.Endpoints()
	g := &Graph{eng: e, eps: eps, index: make(map[*model.Endpoint]int32, len(eps)), off: make([]int32, len(eps)+1)}
	for i, ep := range eps {
		g.index[ep] = int32(i)
	}
	// Each yields connections by source then destination, in endpoint
	// order, so the rows fill in sequence.
	var last *model.Endpoint
	var si int32
	c.Each(func(cn eval.Conn) bool {
		if cn.Allowed.IsEmpty() && (!opts.IncludeUnknown || cn.Unknown.IsEmpty()) {
			return true
		}
		if cn.Src != last {
			last, si = cn.Src, g.index[cn.Src]
		}
		g.off[si+1]++
		g.dst = append(g.dst, g.index[cn.Dst])
		return true
	})
	for i := 1; i < len(g.off); i++ {
		g.off[i] += g.off[i-1]
	}
	return g
}

// Engine returns the engine the graph was built from.
func (g *Graph) Engine() *eval.Engine { return g.eng }

// Edges returns the number of edges.
func (g *Graph) Edges() int { return len(g.dst) }

// out returns the endpoints i may connect to.
func (g *Graph) out(i int32) []int32 { return g.dst[g.off[i]:g.off[i+1]] }

// pivot reports whether an attacker who reached endpoint i can move on
// from it: everything but the addresses outside the cluster.
func (g *Graph) pivot(i int32) bool { return g.eps[i].Kind != model.EndpointExternal }
