package eval

import (
	"sort"
	"sync"

	"github.com/bulkhead/bulkhead/model"
)

// Tracker follows a changing cluster: it holds the current state and
// engine, applies object changes, and reports the connections each change
// adds, removes or alters. `bulkhead watch` and the agent use it.
//
// Apply updates the engine in place, recomputing only what a change
// touches (see Engine.apply); changes that alter the engine's foundations
// (the address partition that IP-based peers induce, the labels of a
// namespace that already has pods, nodes) rebuild it, which costs a full
// analysis. Pods whose addresses lie outside Options.ClusterCIDRs rename
// the external range they are carved from, so give the cluster's pod
// CIDRs when following a live cluster.
//
// Read gives consistent access to the engine between changes.
type Tracker struct {
	opts Options
	mu   sync.RWMutex
	eng  *Engine

	endpoints  map[string]*model.Endpoint
	policies   map[string]*model.Policy
	namespaces map[string]*model.Namespace
	nodes      map[string]*model.Node
	snap       *model.Snapshot // materialised on demand; nil when stale
	rebuilds   int
}

// NewTracker starts tracking snap.
func NewTracker(snap *model.Snapshot, opts Options) *Tracker {
	t := &Tracker{opts: opts}
	t.load(snap)
	t.eng = New(snap, opts)
	t.eng.Connectivity()
	return t
}

func (t *Tracker) load(snap *model.Snapshot) {
	t.endpoints = map[string]*model.Endpoint{}
	t.policies = map[string]*model.Policy{}
	t.namespaces = map[string]*model.Namespace{}
	t.nodes = map[string]*model.Node{}
	for _, ep := range snap.Endpoints {
		t.endpoints[ep.ID()] = ep
	}
	for _, p := range snap.Policies {
		t.policies[policyKey(p)] = p
	}
	for n, ns := range snap.Namespaces {
		t.namespaces[n] = ns
	}
	for _, n := range snap.Nodes {
		t.nodes[n.Name] = n
	}
	t.snap = snap
}

// Read calls f with the current engine; no change is applied while f
// runs. f must not keep the engine.
func (t *Tracker) Read(f func(e *Engine)) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	f(t.eng)
}

// Engine returns the current engine. It is safe to use only until the
// next Apply or Replace; concurrent readers use Read.
func (t *Tracker) Engine() *Engine {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.eng
}

// Rebuilds returns how many changes needed a full rebuild.
func (t *Tracker) Rebuilds() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.rebuilds
}

// Snapshot returns the current state as a snapshot. Callers must not
// modify it.
func (t *Tracker) Snapshot() *model.Snapshot {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.snapshotLocked()
}

func (t *Tracker) snapshotLocked() *model.Snapshot {
	if t.snap != nil {
		return t.snap
	}
	s := &model.Snapshot{Namespaces: map[string]*model.Namespace{}}
	for _, ep := range t.endpoints {
		s.Endpoints = append(s.Endpoints, ep)
	}
	model.SortEndpoints(s.Endpoints)
	for _, p := range t.policies {
		s.Policies = append(s.Policies, p)
	}
	sort.Slice(s.Policies, func(i, j int) bool { return policyKey(s.Policies[i]) < policyKey(s.Policies[j]) })
	for n, ns := range t.namespaces {
		s.Namespaces[n] = ns
	}
	for _, n := range t.nodes {
		s.Nodes = append(s.Nodes, n)
	}
	sort.Slice(s.Nodes, func(i, j int) bool { return s.Nodes[i].Name < s.Nodes[j].Name })
	t.snap = s
	return s
}

// Apply applies changes in order and returns the connections that
// changed, in the order they changed. A namespace an endpoint refers to
// should be upserted before the endpoint (as the API server guarantees);
// an undeclared one is assumed to carry only its name label.
func (t *Tracker) Apply(changes ...Change) []ConnChange {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []ConnChange
	rebuild := false
	for _, ch := range changes {
		t.record(ch)
		if rebuild {
			continue
		}
		if ch.Endpoint != nil && ch.Op == OpUpsert && t.namespaces[ch.Endpoint.Namespace] == nil {
			ns := &model.Namespace{Name: ch.Endpoint.Namespace, Labels: map[string]string{model.NamespaceNameLabel: ch.Endpoint.Namespace}}
			t.namespaces[ns.Name] = ns
			t.eng.apply(Change{Op: OpUpsert, Namespace: ns})
		}
		cs, ok := t.eng.apply(ch)
		if !ok {
			rebuild = true
			continue
		}
		out = append(out, cs...)
	}
	if rebuild {
		t.rebuilds++
		old := t.eng.Connectivity()
		t.eng = New(t.snapshotLocked(), t.opts)
		// old holds what the changes before the rebuild already did;
		// the difference to the rebuilt analysis follows them.
		out = append(out, DiffConnectivity(old, t.eng.Connectivity())...)
	}
	return coalesce(out)
}

// record updates the tracker's own view of the objects.
func (t *Tracker) record(ch Change) {
	t.snap = nil
	del := ch.Op == OpDelete
	switch {
	case ch.Endpoint != nil:
		if del {
			delete(t.endpoints, ch.Endpoint.ID())
		} else {
			t.endpoints[ch.Endpoint.ID()] = ch.Endpoint
		}
	case ch.Policy != nil:
		if del {
			delete(t.policies, policyKey(ch.Policy))
		} else {
			t.policies[policyKey(ch.Policy)] = ch.Policy
		}
	case ch.Namespace != nil:
		if del {
			delete(t.namespaces, ch.Namespace.Name)
		} else {
			t.namespaces[ch.Namespace.Name] = ch.Namespace
		}
	case ch.Node != nil:
		if del {
			delete(t.nodes, ch.Node.Name)
		} else {
			t.nodes[ch.Node.Name] = ch.Node
		}
	}
}

// Replace makes snap the current state, rebuilding the engine, and
// returns what changed in connectivity. The caller hands over snap.
func (t *Tracker) Replace(snap *model.Snapshot) []ConnChange {
	e := New(snap, t.opts)
	c := e.Connectivity()
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.eng.Connectivity()
	t.load(snap)
	t.eng = e
	return DiffConnectivity(old, c)
}
