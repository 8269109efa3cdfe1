package eval

import (
	"cmp"
	"slices"
	"sync"

	"github.com/bulkhead/bulkhead/model"
)

// order is the display order of the live endpoints: pods and workloads by
// ID, then nodes by name, then external ranges in address order. It is
// computed on first use after a change, so incremental updates do not pay
// for sorting on every event.
type order struct {
	mu    sync.Mutex
	dirty bool
	built bool
	ids   []int32 // live endpoint ids in display order
	rank  []int32 // display position per endpoint id (-1 if deleted)
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

// get returns the order, rebuilding it if the engine changed.
func (o *order) get(e *Engine) *order {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.built && !o.dirty {
		return o
	}
	o.ids = o.ids[:0]
	for i, ep := range e.endpoints {
		if ep != nil {
			o.ids = append(o.ids, int32(i))
		}
	}
	slices.SortFunc(o.ids, func(a, b int32) int {
		x, y := e.endpoints[a], e.endpoints[b]
		if c := cmp.Compare(displayGroup(x), displayGroup(y)); c != 0 {
			return c
		}
		if x.Kind == model.EndpointExternal {
			return cmp.Compare(e.extRegion[a], e.extRegion[b])
		}
		return cmp.Compare(x.ID(), y.ID())
	})
	if cap(o.rank) < len(e.endpoints) {
		o.rank = make([]int32, len(e.endpoints))
	}
	o.rank = o.rank[:len(e.endpoints)]
	for i := range o.rank {
		o.rank[i] = -1
	}
	o.view = make([]*model.Endpoint, len(o.ids))
	for pos, id := range o.ids {
		o.rank[id] = int32(pos)
		o.view[pos] = e.endpoints[id]
	}
	o.built, o.dirty = true, false
	return o
}
