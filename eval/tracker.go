package eval

import (
	"sync"

	"github.com/bulkhead/bulkhead/model"
)

// Tracker follows a changing cluster: it holds the current snapshot and
// engine, applies object changes, and reports the connections each change
// adds, removes or alters. `bulkhead watch` and the agent use it.
//
// Engines are immutable; Apply builds the next one and swaps it in, so a
// reader holding Engine() keeps a consistent view.
type Tracker struct {
	opts Options
	mu   sync.Mutex
	snap *model.Snapshot
	eng  *Engine
	conn *Connectivity
}

// NewTracker starts tracking snap.
func NewTracker(snap *model.Snapshot, opts Options) *Tracker {
	e := New(snap, opts)
	return &Tracker{opts: opts, snap: snap, eng: e, conn: e.Connectivity()}
}

// Engine returns the current engine.
func (t *Tracker) Engine() *Engine {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.eng
}

// Snapshot returns the current snapshot. Callers must not modify it.
func (t *Tracker) Snapshot() *model.Snapshot {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.snap
}

// Replace makes snap the current state and returns what changed in
// connectivity. The caller hands over snap and must not modify it after.
func (t *Tracker) Replace(snap *model.Snapshot) []ConnChange {
	e := New(snap, t.opts)
	c := e.Connectivity()
	t.mu.Lock()
	old := t.conn
	t.snap, t.eng, t.conn = snap, e, c
	t.mu.Unlock()
	return DiffConnectivity(old, c)
}
