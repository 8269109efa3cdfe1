package eval

import (
	"sync"

	"github.com/bulkhead/bulkhead/model"
)

// verdict is the outcome for one direction or one connection: what is
// allowed, and what depends on domain names that manifests cannot
// resolve. Everything else is denied.
type verdict struct {
	allowed, unknown model.ConnSet
}

func (v verdict) isEmpty() bool { return v.allowed.IsEmpty() && v.unknown.IsEmpty() }

// verdictTable interns verdicts so that class pairs carry small ids and
// combining two sides is a cached lookup.
type verdictTable struct {
	mu      sync.RWMutex
	list    []verdict
	byKey   map[string]int32
	combine map[[2]int32]int32
}

const (
	verdictNone int32 = 0
	verdictAll  int32 = 1
)

func newVerdictTable() *verdictTable {
	t := &verdictTable{byKey: map[string]int32{}, combine: map[[2]int32]int32{}}
	t.intern(model.ConnSet{}, model.ConnSet{})
	t.intern(model.AllConns(), model.ConnSet{})
	return t
}

func (t *verdictTable) intern(allowed, unknown model.ConnSet) int32 {
	key := allowed.String() + "|" + unknown.String()
	t.mu.RLock()
	id, ok := t.byKey[key]
	t.mu.RUnlock()
	if ok {
		return id
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if id, ok := t.byKey[key]; ok {
		return id
	}
	id = int32(len(t.list))
	t.list = append(t.list, verdict{allowed, unknown})
	t.byKey[key] = id
	return id
}

func (t *verdictTable) get(id int32) verdict {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.list[id]
}

// both returns the verdict of a connection whose egress side has verdict
// eg and whose ingress side has verdict in: allowed where both allow,
// unknown where both at least might.
func (t *verdictTable) both(eg, in int32) int32 {
	switch {
	case eg == verdictNone || in == verdictNone:
		return verdictNone
	case eg == verdictAll:
		return in
	case in == verdictAll:
		return eg
	case eg == in:
		return eg
	}
	k := [2]int32{eg, in}
	t.mu.RLock()
	id, ok := t.combine[k]
	t.mu.RUnlock()
	if ok {
		return id
	}
	e, i := t.get(eg), t.get(in)
	allowed := e.allowed.Intersect(i.allowed)
	unknown := e.allowed.Union(e.unknown).Intersect(i.allowed.Union(i.unknown)).Subtract(allowed)
	id = t.intern(allowed, unknown)
	t.mu.Lock()
	t.combine[k] = id
	t.mu.Unlock()
	return id
}
