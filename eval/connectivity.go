package eval

import (
	"runtime"
	"slices"

	"github.com/bulkhead/bulkhead/internal/parallel"
	"github.com/bulkhead/bulkhead/model"
)

// Connectivity is every allowed connection between the snapshot's
// endpoints, kept per class pair and expanded to endpoint pairs on demand.
// Pairs where neither side is a pod or workload (node to node, the outside
// world to itself) are not policy questions and are left out, as is every
// endpoint's connection to itself.
type Connectivity struct {
	e     *Engine
	pairs [][]classPair // by source class, ascending destination class
}

type classPair struct {
	dst     int32
	verdict int32
}

// Conn is one connection from Src to Dst: the connections Allowed, and
// those that depend on domain names (Unknown).
type Conn struct {
	Src, Dst         *model.Endpoint
	Allowed, Unknown model.ConnSet
}

// Connectivity returns every allowed connection. It is computed on first
// use and then kept up to date by incremental changes.
func (e *Engine) Connectivity() *Connectivity {
	e.connMu.Lock()
	defer e.connMu.Unlock()
	if e.conn != nil {
		return e.conn
	}
	c := &Connectivity{e: e, pairs: make([][]classPair, len(e.classes))}
	parallel.For(runtime.GOMAXPROCS(0), len(e.classes), func(i int) { c.pairs[i] = e.computeRow(int32(i)) })
	e.conn = c
	return c
}

// Count returns the number of endpoint pairs that can connect.
func (c *Connectivity) Count() int {
	n := 0
	for sc, ps := range c.pairs {
		srcN := len(c.e.classes[sc].members)
		for _, p := range ps {
			n += srcN * len(c.e.classes[p.dst].members)
			if int(p.dst) == sc {
				n -= srcN
			}
		}
	}
	return n
}

// Each calls f for every connection in order of source, then destination
// (the order of Engine.Endpoints), until f returns false.
func (c *Connectivity) Each(f func(Conn) bool) {
	type hit struct{ dst, verdict int32 }
	var buf []hit
	o := c.e.ord.get(c.e)
	for _, si := range o.ids {
		src := c.e.endpoints[si]
		buf = buf[:0]
		for _, p := range c.pairs[c.e.epClass[si]] {
			for _, di := range c.e.classes[p.dst].members {
				if di != si {
					buf = append(buf, hit{di, p.verdict})
				}
			}
		}
		slices.SortFunc(buf, func(a, b hit) int { return int(o.rank[a.dst] - o.rank[b.dst]) })
		for _, h := range buf {
			v := c.e.verdicts.get(h.verdict)
			if !f(Conn{Src: src, Dst: c.e.endpoints[h.dst], Allowed: v.allowed, Unknown: v.unknown}) {
				return
			}
		}
	}
}

// Conns returns every connection, in the order of Each.
func (c *Connectivity) Conns() []Conn {
	var out []Conn
	c.Each(func(cn Conn) bool { out = append(out, cn); return true })
	return out
}

// Stats describes the engine's work, for benchmarks and -v.
type Stats struct {
	Endpoints, Classes, Policies, Programs, Peers, Regions int
}

// Stats returns the engine's sizes.
func (e *Engine) Stats() Stats {
	return Stats{
		Endpoints: len(e.Endpoints()), Classes: len(e.classes), Policies: len(e.policies),
		Programs: len(e.programs), Peers: len(e.peers), Regions: len(e.addr.regions),
	}
}
