package eval

import (
	"cmp"
	"slices"
	"strings"
	"sync"

	"github.com/bulkhead/bulkhead/model"
)

// order is the display order of the live endpoints: pods and workloads by
// ID, then nodes by name, then external ranges in address order. It is
// computed on first use after a change, so incremental updates do not pay
// for sorting on every event, and then only the endpoints added since the
// last use are sorted and merged in: endpoint ids are never reused (the
// engine appends) and an id keeps its ID and external region for the
// engine's life, so the old order of the survivors stays valid.
type order struct {
	mu    sync.Mutex
	dirty bool
	built bool
	ids   []int32  // live endpoint ids in display order
	rank  []int32  // display position per endpoint id (-1 if deleted); its length is the ids seen
	keys  []string // ID() per endpoint id, computed once
	view  []*model.Endpoint
}

func (o *order) invalidate() {
	o.mu.Lock()
	o.dirty = true
	o.mu.Unlock()
}

func displayGroup(ep *model.Endpoint) int {
	switch ep.Kind {
	case model.EndpointNode:
		return 1
	case model.EndpointExternal:
		return 2
	}
	return 0
}

// compare orders two live endpoint ids for display.
func (o *order) compare(e *Engine, a, b int32) int {
	x, y := e.endpoints[a], e.endpoints[b]
	if c := cmp.Compare(displayGroup(x), displayGroup(y)); c != 0 {
		return c
	}
	if x.Kind == model.EndpointExternal {
		return cmp.Compare(e.extRegion[a], e.extRegion[b])
	}
	return strings.Compare(o.keys[a], o.keys[b])
}

// get returns the order, bringing it up to date if the engine changed.
func (o *order) get(e *Engine) *order {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.built && !o.dirty {
		return o
	}
	n := len(e.endpoints)
	for id := len(o.keys); id < n; id++ {
		key := ""
		if ep := e.endpoints[id]; ep != nil {
			key = ep.ID()
		}
		o.keys = append(o.keys, key)
	}
	var added []int32
	for id := len(o.rank); id < n; id++ {
		if e.endpoints[id] != nil {
			added = append(added, int32(id))
		}
	}
	byDisplay := func(a, b int32) int { return o.compare(e, a, b) }
	slices.SortFunc(added, byDisplay)
	kept := o.ids[:0]
	for _, id := range o.ids {
		if e.endpoints[id] != nil {
			kept = append(kept, id)
		}
	}
	o.ids = mergeSorted(kept, added, byDisplay)
	if cap(o.rank) < n {
		o.rank = make([]int32, n, n+n/4)
	}
	o.rank = o.rank[:n]
	for i := range o.rank {
		o.rank[i] = -1
	}
	// A new slice: callers may hold the previous view.
	o.view = make([]*model.Endpoint, len(o.ids))
	for pos, id := range o.ids {
		o.rank[id] = int32(pos)
		o.view[pos] = e.endpoints[id]
	}
	o.built, o.dirty = true, false
	return o
}

// mergeSorted merges b into a, both sorted by cmp, reusing a's array when
// b is empty.
func mergeSorted(a, b []int32, cmp func(x, y int32) int) []int32 {
	if len(b) == 0 {
		return a
	}
	if len(a) == 0 {
		return b
	}
	out := make([]int32, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if cmp(b[j], a[i]) < 0 {
			out = append(out, b[j])
			j++
		} else {
			out = append(out, a[i])
			i++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}
