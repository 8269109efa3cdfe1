package eval

import (
	"cmp"
	"slices"

	"github.com/bulkhead/bulkhead/model"
)

// ChangeKind says how a connection differs between two analyses.
type ChangeKind uint8

const (
	ChangeUnknown ChangeKind = iota
	Added
	Removed
	// Changed: both allow something, but not the same connections.
	Changed
)

func (k ChangeKind) String() string {
	switch k {
	case Added:
		return "added"
	case Removed:
		return "removed"
	case Changed:
		return "changed"
	}
	return "unknown"
}

// ConnChange is one endpoint pair whose allowed connections differ.
// Endpoints are matched by ID, so Old and New may be different pointers
// of two snapshots (either is nil for an endpoint that exists on one side
// only).
type ConnChange struct {
	Kind     ChangeKind
	Src, Dst string // endpoint IDs
	// Old and New are the allowed connections before and after; Old is
	// empty for Added and New for Removed.
	Old, New model.ConnSet
	// OldConn and NewConn are the connections themselves, for callers
	// that explain the change; the zero Conn where absent.
	OldConn, NewConn Conn
}

// DiffConnectivity compares two analyses, matching endpoints by ID, and
// returns every pair whose allowed or unknown connections differ, ordered
// by source then destination ID.
func DiffConnectivity(old, new *Connectivity) []ConnChange {
	type key struct{ src, dst string }
	index := func(c *Connectivity) map[key]Conn {
		m := map[key]Conn{}
		if c == nil {
			return m
		}
		c.Each(func(cn Conn) bool {
			m[key{cn.Src.ID(), cn.Dst.ID()}] = cn
			return true
		})
		return m
	}
	a, b := index(old), index(new)
	var out []ConnChange
	for k, oc := range a {
		nc, ok := b[k]
		switch {
		case !ok:
			out = append(out, ConnChange{Kind: Removed, Src: k.src, Dst: k.dst, Old: oc.Allowed, OldConn: oc})
		case !oc.Allowed.Equal(nc.Allowed) || !oc.Unknown.Equal(nc.Unknown):
			out = append(out, ConnChange{Kind: Changed, Src: k.src, Dst: k.dst, Old: oc.Allowed, New: nc.Allowed, OldConn: oc, NewConn: nc})
		}
	}
	for k, nc := range b {
		if _, ok := a[k]; !ok {
			out = append(out, ConnChange{Kind: Added, Src: k.src, Dst: k.dst, New: nc.Allowed, NewConn: nc})
		}
	}
	slices.SortFunc(out, func(x, y ConnChange) int {
		return cmp.Or(cmp.Compare(x.Src, y.Src), cmp.Compare(x.Dst, y.Dst))
	})
	return out
}

// coalesce nets a sequence of changes per endpoint pair: a pair removed
// then added again with the same connections disappears, removed then
// added with others becomes Changed. Order of first appearance is kept.
func coalesce(cs []ConnChange) []ConnChange {
	type key struct{ src, dst string }
	type net struct {
		first, last ConnChange
	}
	idx := map[key]int{}
	var nets []net
	for _, c := range cs {
		k := key{c.Src, c.Dst}
		if i, ok := idx[k]; ok {
			nets[i].last = c
			continue
		}
		idx[k] = len(nets)
		nets = append(nets, net{c, c})
	}
	out := cs[:0:0]
	for _, n := range nets {
		before := n.first.Kind != Added
		after := n.last.Kind != Removed
		oldC, newC := n.first.OldConn, n.last.NewConn
		switch {
		case !before && !after:
		case !before:
			out = append(out, ConnChange{Kind: Added, Src: n.first.Src, Dst: n.first.Dst, New: newC.Allowed, NewConn: newC})
		case !after:
			out = append(out, ConnChange{Kind: Removed, Src: n.first.Src, Dst: n.first.Dst, Old: oldC.Allowed, OldConn: oldC})
		case oldC.Allowed.Equal(newC.Allowed) && oldC.Unknown.Equal(newC.Unknown):
		default:
			out = append(out, ConnChange{Kind: Changed, Src: n.first.Src, Dst: n.first.Dst, Old: oldC.Allowed, New: newC.Allowed, OldConn: oldC, NewConn: newC})
		}
	}
	return out
}
