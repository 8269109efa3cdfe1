package nft

import (
	"errors"
	"fmt"
	"maps"
	"slices"
)

// State is a valid ruleset kept with the indexes that let Update check a
// Delta against it and apply it in time proportional to the delta rather
// than to the ruleset: what an applier keeps of the table it programs, so
// that adding a pod to a table of 100,000 elements costs that pod's
// elements (plus one copy of each changed element list), not a validation,
// a diff and a copy of the whole table.
//
// Update accepts exactly the deltas Patch accepts (the tests check it on
// random rulesets and random, often invalid, deltas), so that the
// ruleset after a delta always passes Validate; it just looks only at what
// the delta touches, relying on the ruleset before it being valid. A State
// is not safe for concurrent use.
type State struct {
	// rs is the ruleset. Once Ruleset hands it out it is never modified:
	// the next Update makes a new one (exposed). Until then Update
	// changes it in place, and the element lists in fresh (made by the
	// State since) too, so that following a cluster does not copy a
	// large set per pod.
	rs      *Ruleset
	exposed bool
	fresh   map[string]bool
	chains  map[string]int // positions in rs.Chains
	sets    map[string]int
	maps    map[string]int
	// setRefs counts the rules naming each set or map (lookups and
	// verdict maps); chainRefs the rules and map elements that jump or go
	// to each chain. A deleted object must have none left.
	setRefs   map[string]int
	chainRefs map[string]int
	// The jump graph: jumps[c] counts the chains c's rules jump or go to,
	// vmaps[c] the maps they look up, targets[m] the chains map m's
	// elements jump or go to. Loops and depth are checked again only when
	// a delta adds an edge.
	jumps   map[string]map[string]int
	vmaps   map[string]map[string]int
	targets map[string]map[string]int
}

// NewState validates rs and returns it as a State. The State keeps its
// own copy of rs, in canonical order.
func NewState(rs *Ruleset) (*State, error) {
	if err := Validate(rs); err != nil {
		return nil, err
	}
	c := rs.Canonical()
	s := &State{rs: c, fresh: make(map[string]bool, len(c.Sets)+len(c.Maps)),
		chains: make(map[string]int, len(c.Chains)), sets: make(map[string]int, len(c.Sets)), maps: make(map[string]int, len(c.Maps)),
		setRefs: map[string]int{}, chainRefs: map[string]int{},
		jumps: map[string]map[string]int{}, vmaps: map[string]map[string]int{}, targets: map[string]map[string]int{},
	}
	for i, ch := range c.Chains {
		s.chains[ch.Name] = i
		s.indexChain(ch.Name, ch.Rules)
		ruleRefs(ch.Rules, s.setRefs, s.chainRefs, +1)
	}
	for i, st := range c.Sets {
		s.sets[st.Name] = i
		s.fresh[st.Name] = true
	}
	for i, m := range c.Maps {
		s.maps[m.Name] = i
		s.fresh[m.Name] = true
		for _, e := range m.Elems {
			s.addTarget(m.Name, e.Verdict, +1)
		}
	}
	return s, nil
}

// Ruleset returns the ruleset the State holds. It is never modified: the
// next successful Update makes a new value, sharing the element and rule
// lists that did not change. The caller must not modify it.
func (s *State) Ruleset() *Ruleset {
	s.exposed = true
	clear(s.fresh)
	return s.rs
}

// Interval reports whether the set or map called name has the interval
// flag (false if there is none).
func (s *State) Interval(name string) bool {
	if i, ok := s.sets[name]; ok {
		return s.rs.Sets[i].Interval
	}
	if i, ok := s.maps[name]; ok {
		return s.rs.Maps[i].Interval
	}
	return false
}

// Update checks d against the ruleset s holds, as Patch would, and if it
// is valid calls commit (which makes the change in the kernel); if commit
// succeeds, s then holds the ruleset after d. If d is invalid, commit is
// not called; if d is invalid or commit fails, s is unchanged and Update
// returns the error. A d with Replace is checked in full, as NewState
// does.
func (s *State) Update(d Delta, commit func() error) error {
	if d.Replace != nil {
		next, err := NewState(d.Replace)
		if err != nil {
			return err
		}
		if err := commit(); err != nil {
			return err
		}
		*s = *next
		return nil
	}
	p, err := s.prepare(d)
	if err != nil {
		return err
	}
	if err := commit(); err != nil {
		return err
	}
	s.apply(p)
	return nil
}

// pending is a checked delta: what the objects it touches become, and
// how the indexes change.
type pending struct {
	// lazySets and lazyMaps hold the element changes of existing exact
	// sets and maps, whose lists need no check of the whole and are made
	// only once the kernel took the change (in place if fresh).
	lazySets map[string]*listWork[Elem]
	lazyMaps map[string]*listWork[MapElem]

	// chains, sets and maps hold the final version of every object the
	// delta adds or changes (element lists included), and nil for those
	// it deletes; the order slices list their names in the order first
	// touched.
	chains                         map[string]*Chain
	sets                           map[string]*Set
	maps                           map[string]*Map
	chainOrder, setOrder, mapOrder []string
	setRefs, chainRefs             map[string]int            // changes
	targets                        map[string]map[string]int // changes per map
}

func (p *pending) putChain(c *Chain) {
	if _, ok := p.chains[c.Name]; !ok {
		p.chainOrder = append(p.chainOrder, c.Name)
	}
	p.chains[c.Name] = c
}

func (p *pending) putSet(name string, st *Set) {
	if _, ok := p.sets[name]; !ok {
		p.setOrder = append(p.setOrder, name)
	}
	p.sets[name] = st
}

func (p *pending) putMap(name string, m *Map) {
	if _, ok := p.maps[name]; !ok {
		p.mapOrder = append(p.mapOrder, name)
	}
	p.maps[name] = m
}

// The state after the steps of the delta made so far.
func (s *State) chainAfter(p *pending, name string) *Chain {
	if c, ok := p.chains[name]; ok {
		return c
	}
	if i, ok := s.chains[name]; ok {
		return &s.rs.Chains[i]
	}
	return nil
}

func (s *State) setAfter(p *pending, name string) *Set {
	if st, ok := p.sets[name]; ok {
		return st
	}
	if i, ok := s.sets[name]; ok {
		return &s.rs.Sets[i]
	}
	return nil
}

func (s *State) mapAfter(p *pending, name string) *Map {
	if m, ok := p.maps[name]; ok {
		return m
	}
	if i, ok := s.maps[name]; ok {
		return &s.rs.Maps[i]
	}
	return nil
}

// listWork is the element changes of one set or map: base is its sorted
// list before them (the State's, or an added set's), del the positions
// deleted from base, add the elements added.
type listWork[T any] struct {
	base  []T
	del   map[int]bool
	add   []T
	added map[Elem]bool
}

func newWork[T any](base []T) *listWork[T] {
	return &listWork[T]{base: base, del: map[int]bool{}, added: map[Elem]bool{}}
}

// find returns the position of key in the sorted base and whether it is
// there and not deleted.
func (w *listWork[T]) find(key Elem, keyOf func(T) Elem) (int, bool) {
	i, found := slices.BinarySearchFunc(w.base, key, func(x T, k Elem) int { return compareElems(keyOf(x), k) })
	return i, found && !w.del[i]
}

// final returns base without del and with add, sorted, in a new list.
func (w *listWork[T]) final(keyOf func(T) Elem) []T {
	adds := slices.Clone(w.add)
	cmpT := func(a, b T) int { return compareElems(keyOf(a), keyOf(b)) }
	slices.SortFunc(adds, cmpT)
	dels := make([]int, 0, len(w.del))
	for i := range w.del {
		dels = append(dels, i)
	}
	slices.Sort(dels)
	out := make([]T, 0, len(w.base)-len(dels)+len(adds))
	i := 0
	upTo := func(end int) { // copy base[i:end] without the deleted positions
		for len(dels) > 0 && dels[0] < end {
			out = append(out, w.base[i:dels[0]]...)
			i = dels[0] + 1
			dels = dels[1:]
		}
		if end > i {
			out = append(out, w.base[i:end]...)
			i = end
		}
	}
	for _, a := range adds {
		pos, _ := slices.BinarySearchFunc(w.base, a, cmpT)
		upTo(max(pos, i))
		out = append(out, a)
	}
	upTo(len(w.base))
	return out
}

// result returns the list after the changes: base changed in place if
// owned (nobody else holds it), else a new list.
func (w *listWork[T]) result(keyOf func(T) Elem, owned bool) []T {
	if !owned {
		return w.final(keyOf)
	}
	cmpT := func(a, b T) int { return compareElems(keyOf(a), keyOf(b)) }
	list := w.base
	if len(w.del) > 0 {
		dels := make([]int, 0, len(w.del))
		for i := range w.del {
			dels = append(dels, i)
		}
		slices.Sort(dels)
		out := dels[0]
		for k, i := range dels {
			end := len(list)
			if k+1 < len(dels) {
				end = dels[k+1]
			}
			out += copy(list[out:], list[i+1:end])
		}
		clear(list[out:]) // let the collector have what the tail held
		list = list[:out]
	}
	if len(w.add) > 0 {
		adds := slices.Clone(w.add)
		slices.SortFunc(adds, cmpT)
		n := len(list)
		list = slices.Grow(list, len(adds))[:n+len(adds)]
		// From the largest addition down: list[:hi] holds the elements
		// not yet moved; the ones after an addition move right by the
		// number of additions up to it.
		hi := n
		for j := len(adds) - 1; j >= 0; j-- {
			pos, _ := slices.BinarySearchFunc(list[:hi], adds[j], cmpT)
			copy(list[pos+j+1:], list[pos:hi])
			list[pos+j] = adds[j]
			hi = pos
		}
	}
	return list
}

func elemKey(e Elem) Elem          { return e }
func mapElemKey(e MapElem) Elem    { return e.Key }
func cmpMapElems(a, b MapElem) int { return compareElems(a.Key, b.Key) }

// prepare checks d in the order Delta documents, failing where Patch
// fails, and returns what it changes.
func (s *State) prepare(d Delta) (*pending, error) {
	if d.Table != s.rs.TableName() {
		return nil, fmt.Errorf("patch: delta for table %q applied to table %q", d.Table, s.rs.TableName())
	}
	p := &pending{chains: map[string]*Chain{}, sets: map[string]*Set{}, maps: map[string]*Map{},
		lazySets: map[string]*listWork[Elem]{}, lazyMaps: map[string]*listWork[MapElem]{},
		setRefs: map[string]int{}, chainRefs: map[string]int{}, targets: map[string]map[string]int{}}
	// Objects the delta adds (their elements are all checked), and the
	// element work per set and map.
	newSets, newMaps := map[string]bool{}, map[string]bool{}
	setWork := map[string]*listWork[Elem]{}
	mapWork := map[string]*listWork[MapElem]{}
	var setWorkOrder, mapWorkOrder []string // deterministic

	// 1. Chains are declared, empty.
	for _, c := range d.AddChains {
		if s.chainAfter(p, c.Name) != nil {
			return nil, fmt.Errorf("add chain %q: exists", c.Name)
		}
		nc := c
		nc.Rules = nil
		p.putChain(&nc)
	}
	// 2. Sets and maps with their elements.
	for _, st := range d.AddSets {
		if s.setAfter(p, st.Name) != nil || s.mapAfter(p, st.Name) != nil {
			return nil, fmt.Errorf("add set %q: exists", st.Name)
		}
		ns := st
		ns.Elems = sortedElems(st.Elems)
		p.putSet(st.Name, &ns)
		newSets[st.Name] = true
	}
	for _, m := range d.AddMaps {
		if s.setAfter(p, m.Name) != nil || s.mapAfter(p, m.Name) != nil {
			return nil, fmt.Errorf("add map %q: exists", m.Name)
		}
		nm := m
		nm.Elems = sortedMapElems(m.Elems)
		p.putMap(m.Name, &nm)
		newMaps[m.Name] = true
	}
	workOfSet := func(name string) (*Set, *listWork[Elem]) {
		st := s.setAfter(p, name)
		if st == nil {
			return nil, nil
		}
		w := setWork[name]
		if w == nil {
			w = newWork(st.Elems)
			setWork[name] = w
			setWorkOrder = append(setWorkOrder, name)
		}
		return st, w
	}
	workOfMap := func(name string) (*Map, *listWork[MapElem]) {
		m := s.mapAfter(p, name)
		if m == nil {
			return nil, nil
		}
		w := mapWork[name]
		if w == nil {
			w = newWork(m.Elems)
			mapWork[name] = w
			mapWorkOrder = append(mapWorkOrder, name)
		}
		return m, w
	}
	// 3. Deletions of elements, then additions.
	for _, del := range d.DelElems {
		st, w := workOfSet(del.Name)
		if st == nil {
			return nil, fmt.Errorf("delete elements of set %q: no such set", del.Name)
		}
		for _, e := range del.Elems {
			i, ok := w.find(e, elemKey)
			if !ok {
				return nil, fmt.Errorf("set %q: delete element %v: not found", st.Name, e)
			}
			w.del[i] = true
		}
	}
	for _, del := range d.DelMapElems {
		m, w := workOfMap(del.Name)
		if m == nil {
			return nil, fmt.Errorf("delete elements of map %q: no such map", del.Name)
		}
		for _, e := range del.Elems {
			i, ok := w.find(e.Key, mapElemKey)
			if !ok {
				return nil, fmt.Errorf("map %q: delete element %v: not found", m.Name, e.Key)
			}
			w.del[i] = true
		}
	}
	for _, add := range d.AddElems {
		st, w := workOfSet(add.Name)
		if st == nil {
			return nil, fmt.Errorf("add elements to set %q: no such set", add.Name)
		}
		for _, e := range add.Elems {
			if _, ok := w.find(e, elemKey); ok || w.added[e] {
				return nil, fmt.Errorf("set %q: add element %v: exists", st.Name, e)
			}
			w.added[e] = true
			w.add = append(w.add, e)
		}
	}
	for _, add := range d.AddMapElems {
		m, w := workOfMap(add.Name)
		if m == nil {
			return nil, fmt.Errorf("add elements to map %q: no such map", add.Name)
		}
		for _, e := range add.Elems {
			if _, ok := w.find(e.Key, mapElemKey); ok || w.added[e.Key] {
				return nil, fmt.Errorf("map %q: add element %v: exists", m.Name, e.Key)
			}
			w.added[e.Key] = true
			w.add = append(w.add, e)
		}
	}
	// 4. Chains are rewritten.
	for _, c := range d.ReplaceChains {
		o := s.chainAfter(p, c.Name)
		if o == nil {
			return nil, fmt.Errorf("replace chain %q: no such chain", c.Name)
		}
		if o.Hook != c.Hook || o.Priority != c.Priority {
			return nil, fmt.Errorf("replace chain %q: hook and priority cannot change", c.Name)
		}
		nc := *o
		nc.Policy, nc.Rules = c.Policy, c.Rules
		p.putChain(&nc)
	}
	// 5. Added chains get their rules.
	for _, c := range d.AddChains {
		nc := *s.chainAfter(p, c.Name)
		nc.Rules = c.Rules
		p.putChain(&nc)
	}
	// 6. Maps, sets and chains are deleted.
	for _, name := range d.DelMaps {
		if s.mapAfter(p, name) == nil {
			return nil, fmt.Errorf("delete map %q: no such map", name)
		}
		p.putMap(name, nil)
	}
	for _, name := range d.DelSets {
		if s.setAfter(p, name) == nil {
			return nil, fmt.Errorf("delete set %q: no such set", name)
		}
		p.putSet(name, nil)
	}
	for _, name := range d.DelChains {
		if s.chainAfter(p, name) == nil {
			return nil, fmt.Errorf("delete chain %q: no such chain", name)
		}
		p.putChain(&Chain{Name: name})
		p.chains[name] = nil
	}

	// The element lists after the delta.
	for _, name := range setWorkOrder {
		if w := setWork[name]; !isDeleted(p.sets, name) {
			ns := *s.setAfter(p, name)
			if ns.Interval || newSets[name] {
				ns.Elems = w.final(elemKey) // checked whole below
			} else {
				ns.Elems = nil
				p.lazySets[name] = w
			}
			p.putSet(name, &ns)
		}
	}
	for _, name := range mapWorkOrder {
		if w := mapWork[name]; !isDeleted(p.maps, name) {
			nm := *s.mapAfter(p, name)
			if nm.Interval || newMaps[name] {
				nm.Elems = w.final(mapElemKey)
			} else {
				nm.Elems = nil
				p.lazyMaps[name] = w
			}
			p.putMap(name, &nm)
		}
	}
	if err := s.check(p, newSets, newMaps, setWork, mapWork); err != nil {
		return nil, err
	}
	return p, nil
}

func isDeleted[T any](m map[string]*T, name string) bool {
	v, ok := m[name]
	return ok && v == nil
}

// check validates the ruleset after p where p differs from s: the
// objects it adds or changes, the references to what it deletes, and the
// jump graph if p adds an edge to it.
func (s *State) check(p *pending, newSets, newMaps map[string]bool, setWork map[string]*listWork[Elem], mapWork map[string]*listWork[MapElem]) error {
	v := &validator{
		chain:    func(n string) *Chain { return s.chainAfter(p, n) },
		set:      func(n string) *Set { return s.setAfter(p, n) },
		mapNamed: func(n string) *Map { return s.mapAfter(p, n) },
	}
	removedSet, removedChain := map[string]int{}, map[string]int{}
	addedSet, addedChain := map[string]int{}, map[string]int{}
	graph := false

	// Chains added or rewritten, and what the rewritten and deleted ones
	// no longer reference.
	for _, name := range p.chainOrder {
		c := p.chains[name]
		if i, ok := s.chains[name]; ok {
			ruleRefs(s.rs.Chains[i].Rules, removedSet, removedChain, +1)
		}
		if c == nil {
			continue
		}
		if _, ok := s.chains[name]; !ok {
			if err := checkName(name); err != nil {
				v.errorf("chain %q: %w", name, err)
			}
		}
		switch {
		case c.Hook == HookNone:
			if c.Policy != PolicyUnset || c.Priority != 0 {
				v.errorf("chain %q: a regular chain has no policy or priority", name)
			}
		case c.Hook > HookPostrouting:
			v.errorf("chain %q: unknown hook %v", name, c.Hook)
		default:
			if c.Policy != PolicyAccept && c.Policy != PolicyDrop {
				v.errorf("chain %q: a base chain needs policy accept or drop", name)
			}
		}
		for i, r := range c.Rules {
			v.checkRule(name, i, r)
		}
		ruleRefs(c.Rules, addedSet, addedChain, +1)
		jumps, vmaps := chainEdges(c.Rules)
		for t := range jumps {
			if s.jumps[name][t] == 0 {
				graph = true
			}
		}
		for m := range vmaps {
			if s.vmaps[name][m] == 0 {
				graph = true
			}
		}
	}
	s.checkBaseSlots(p, v)

	// Sets: names and comments of new ones, every element of new ones,
	// the added elements of others, and overlaps where intervals can.
	for _, name := range p.setOrder {
		st := p.sets[name]
		if st == nil {
			continue
		}
		where := "set " + quote(name)
		if newSets[name] {
			if err := checkName(name); err != nil {
				v.errorf("set %q: %w", name, err)
			}
			v.checkComment(where, st.Comment)
			if !st.Type.IsKnown() {
				v.errorf("set %q: unknown type", name)
				continue
			}
			v.checkElems(where, st.Type, st.Interval, st.Elems)
			continue
		}
		if w := setWork[name]; w != nil && checkAdded(v, where, st.Type, st.Interval, w.add, elemKey) && st.Interval {
			v.checkOverlap(where, st.Type, st.Elems)
		}
	}
	for _, name := range p.mapOrder {
		m := p.maps[name]
		if i, ok := s.maps[name]; ok {
			// What the map no longer holds: all of it if deleted, else
			// what the delta deletes from it.
			old := s.rs.Maps[i].Elems
			if m == nil {
				for _, e := range old {
					p.addTarget(name, e.Verdict, -1)
					countTarget(removedChain, e.Verdict)
				}
			} else if w := mapWork[name]; w != nil {
				for j := range w.del {
					p.addTarget(name, old[j].Verdict, -1)
					countTarget(removedChain, old[j].Verdict)
				}
			}
		}
		if m == nil {
			continue
		}
		where := "map " + quote(name)
		added := m.Elems
		if newMaps[name] {
			if err := checkName(name); err != nil {
				v.errorf("map %q: %w", name, err)
			}
			v.checkComment(where, m.Comment)
			if !m.Type.IsKnown() {
				v.errorf("map %q: unknown type", name)
				continue
			}
			keys := make([]Elem, len(m.Elems))
			for i, e := range m.Elems {
				keys[i] = e.Key
			}
			v.checkElems(where, m.Type, m.Interval, keys)
		} else {
			added = nil
			if w := mapWork[name]; w != nil {
				added = w.add
			}
			if checkAdded(v, where, m.Type, m.Interval, added, mapElemKey) && m.Interval {
				keys := make([]Elem, len(m.Elems))
				for i, e := range m.Elems {
					keys[i] = e.Key
				}
				v.checkOverlap(where, m.Type, keys)
			}
		}
		for _, e := range added {
			v.checkMapVerdict(name, e)
			countTarget(addedChain, e.Verdict)
			if p.addTarget(name, e.Verdict, +1) && s.targets[name][e.Verdict.Chain] == 0 {
				graph = true
			}
		}
	}

	// What the delta deletes must no longer be referenced by what it
	// leaves; references from what it adds are missing targets above.
	for _, name := range p.chainOrder {
		if p.chains[name] == nil {
			if n := s.chainRefs[name] - removedChain[name]; n > 0 {
				v.errorf("delete chain %q: still the target of %d rules or map elements", name, n)
			}
		}
	}
	for _, order := range [][]string{p.setOrder, p.mapOrder} {
		for _, name := range order {
			if isDeleted(p.sets, name) || isDeleted(p.maps, name) {
				if n := s.setRefs[name] - removedSet[name]; n > 0 {
					v.errorf("delete set or map %q: still named by %d rules", name, n)
				}
			}
		}
	}
	if graph && len(v.errs) == 0 {
		s.checkGraphAfter(p, v)
	}
	if len(v.errs) > 0 {
		return errors.Join(v.errs...)
	}
	for k, n := range addedSet {
		p.setRefs[k] += n
	}
	for k, n := range removedSet {
		p.setRefs[k] -= n
	}
	for k, n := range addedChain {
		p.chainRefs[k] += n
	}
	for k, n := range removedChain {
		p.chainRefs[k] -= n
	}
	return nil
}

// checkAdded checks the elements a delta adds to an existing set or map
// of type t and reports whether they are valid.
func checkAdded[T any](v *validator, where string, t SetType, interval bool, added []T, keyOf func(T) Elem) bool {
	ok := true
	for _, e := range added {
		if err := checkElem(t, interval, keyOf(e)); err != nil {
			v.errorf("%s: %w", where, err)
			ok = false
		}
	}
	return ok
}

// checkOverlap reports overlapping elements of the sorted list elems.
func (v *validator) checkOverlap(where string, t SetType, elems []Elem) {
	if a, b, ok := firstOverlap(t, elems); ok {
		if a == b {
			v.errorf("%s: element %v appears twice", where, a)
		} else {
			v.errorf("%s: elements %v and %v overlap (merge them, e.g. with AddrElems)", where, a, b)
		}
	}
}

// checkMapVerdict checks the verdict of an element of map name.
func (v *validator) checkMapVerdict(name string, e MapElem) {
	switch e.Verdict.Kind {
	case Accept, Drop:
		if e.Verdict.Chain != "" {
			v.errorf("map %q: element %v: verdict %v takes no chain", name, e.Key, e.Verdict.Kind)
		}
	case Jump, Goto:
		if err := v.target(e.Verdict.Chain); err != nil {
			v.errorf("map %q: element %v: %w", name, e.Key, err)
		}
	default:
		v.errorf("map %q: element %v: verdict must be accept, drop, jump or goto, not %v", name, e.Key, e.Verdict.Kind)
	}
}

// checkBaseSlots rejects two base chains on one hook with one priority
// after p.
func (s *State) checkBaseSlots(p *pending, v *validator) {
	type slot struct {
		hook Hook
		prio int32
	}
	changed := false
	for _, name := range p.chainOrder {
		if c := p.chains[name]; c != nil && c.IsBase() {
			changed = true
		}
	}
	if !changed {
		return
	}
	taken := map[slot]string{}
	var names []string
	for _, c := range s.rs.Chains {
		if _, touched := p.chains[c.Name]; c.IsBase() && !touched {
			names = append(names, c.Name)
		}
	}
	for _, name := range p.chainOrder {
		if c := p.chains[name]; c != nil && c.IsBase() {
			names = append(names, name)
		}
	}
	for _, name := range names {
		c := s.chainAfter(p, name)
		if c.Hook > HookPostrouting {
			continue
		}
		sl := slot{c.Hook, c.Priority}
		if other, ok := taken[sl]; ok {
			v.errorf("chain %q: hook %v priority %d is taken by chain %q (their order would be undefined)", name, c.Hook, c.Priority, other)
		}
		taken[sl] = name
	}
}

// checkGraphAfter checks the jump graph of the whole ruleset after p.
func (s *State) checkGraphAfter(p *pending, v *validator) {
	var names []string
	for _, c := range s.rs.Chains {
		if _, touched := p.chains[c.Name]; !touched {
			names = append(names, c.Name)
		}
	}
	for _, name := range p.chainOrder {
		if p.chains[name] != nil {
			names = append(names, name)
		}
	}
	mapTargets := func(m string) []string {
		if isDeleted(p.maps, m) {
			return nil
		}
		var out []string
		for t, n := range s.targets[m] {
			if n+p.targets[m][t] > 0 {
				out = append(out, t)
			}
		}
		for t, n := range p.targets[m] {
			if s.targets[m][t] == 0 && n > 0 {
				out = append(out, t)
			}
		}
		return out
	}
	edges := func(name string) []string {
		var jumps, vmaps map[string]int
		if c, ok := p.chains[name]; ok {
			if c == nil {
				return nil
			}
			jumps, vmaps = chainEdges(c.Rules)
		} else {
			jumps, vmaps = s.jumps[name], s.vmaps[name]
		}
		out := slices.Collect(maps.Keys(jumps))
		for m := range vmaps {
			out = append(out, mapTargets(m)...)
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	v.checkJumps(names, edges)
}

// apply makes s hold the ruleset after p: a new Ruleset value sharing
// every list p does not change if the current one was handed out, else
// the current one changed in place; the indexes are updated in place.
func (s *State) apply(p *pending) {
	rs := s.rs
	if s.exposed {
		rs = &Ruleset{Table: s.rs.Table, Chains: slices.Clone(s.rs.Chains), Sets: slices.Clone(s.rs.Sets), Maps: slices.Clone(s.rs.Maps)}
		s.exposed = false
	}
	for _, name := range p.chainOrder {
		c := p.chains[name]
		i, ok := s.chains[name]
		switch {
		case c == nil && ok:
			rs.Chains = removeAt(rs.Chains, i, s.chains, func(c Chain) string { return c.Name })
			delete(s.chains, name)
			delete(s.jumps, name)
			delete(s.vmaps, name)
		case c == nil:
		case ok:
			rs.Chains[i] = cloneChain(*c)
			s.indexChain(name, c.Rules)
		default:
			s.chains[name] = len(rs.Chains)
			rs.Chains = append(rs.Chains, cloneChain(*c))
			s.indexChain(name, c.Rules)
		}
	}
	for _, name := range p.setOrder {
		st := p.sets[name]
		i, ok := s.sets[name]
		if w := p.lazySets[name]; st != nil && w != nil {
			st.Elems = w.result(elemKey, s.fresh[name])
		}
		switch {
		case st == nil && ok:
			rs.Sets = removeAt(rs.Sets, i, s.sets, func(s Set) string { return s.Name })
			delete(s.sets, name)
			delete(s.fresh, name)
		case st == nil:
		case ok:
			rs.Sets[i] = *st
			s.fresh[name] = true
		default:
			s.sets[name] = len(rs.Sets)
			rs.Sets = append(rs.Sets, *st)
			s.fresh[name] = true
		}
	}
	for _, name := range p.mapOrder {
		m := p.maps[name]
		i, ok := s.maps[name]
		if w := p.lazyMaps[name]; m != nil && w != nil {
			m.Elems = w.result(mapElemKey, s.fresh[name])
		}
		switch {
		case m == nil && ok:
			rs.Maps = removeAt(rs.Maps, i, s.maps, func(m Map) string { return m.Name })
			delete(s.maps, name)
			delete(s.targets, name)
			delete(s.fresh, name)
		case m == nil:
		case ok:
			rs.Maps[i] = *m
			s.fresh[name] = true
		default:
			s.maps[name] = len(rs.Maps)
			rs.Maps = append(rs.Maps, *m)
			s.fresh[name] = true
		}
	}
	addCounts(s.setRefs, p.setRefs)
	addCounts(s.chainRefs, p.chainRefs)
	for m, changes := range p.targets {
		if _, ok := s.maps[m]; !ok {
			continue
		}
		if s.targets[m] == nil {
			s.targets[m] = map[string]int{}
		}
		addCounts(s.targets[m], changes)
	}
	s.rs = rs
}

// removeAt removes position i of list by moving the last element there,
// keeping the positions in index right.
func removeAt[T any](list []T, i int, index map[string]int, name func(T) string) []T {
	last := len(list) - 1
	if i != last {
		list[i] = list[last]
		index[name(list[i])] = i
	}
	var zero T
	list[last] = zero
	return list[:last]
}

func addCounts(dst, changes map[string]int) {
	for k, n := range changes {
		if dst[k] += n; dst[k] == 0 {
			delete(dst, k)
		}
	}
}

func cloneChain(c Chain) Chain {
	c.Rules = slices.Clone(c.Rules)
	for i := range c.Rules {
		c.Rules[i].Stmts = slices.Clone(c.Rules[i].Stmts)
	}
	return c
}

// indexChain records the edges of chain name's rules.
func (s *State) indexChain(name string, rules []Rule) {
	jumps, vmaps := chainEdges(rules)
	if len(jumps) > 0 {
		s.jumps[name] = jumps
	} else {
		delete(s.jumps, name)
	}
	if len(vmaps) > 0 {
		s.vmaps[name] = vmaps
	} else {
		delete(s.vmaps, name)
	}
}

func (s *State) addTarget(m string, v Verdict, n int) {
	if v.Kind != Jump && v.Kind != Goto {
		return
	}
	if s.targets[m] == nil {
		s.targets[m] = map[string]int{}
	}
	s.targets[m][v.Chain] += n
	ruleRefsVerdict(s.chainRefs, v, n)
}

// addTarget records a change of the elements of map m jumping or going
// to v's chain and reports whether v has one.
func (p *pending) addTarget(m string, v Verdict, n int) bool {
	if v.Kind != Jump && v.Kind != Goto {
		return false
	}
	if p.targets[m] == nil {
		p.targets[m] = map[string]int{}
	}
	p.targets[m][v.Chain] += n
	return true
}

func countTarget(counts map[string]int, v Verdict) { ruleRefsVerdict(counts, v, 1) }

func ruleRefsVerdict(chains map[string]int, v Verdict, n int) {
	if v.Kind == Jump || v.Kind == Goto {
		if chains[v.Chain] += n; chains[v.Chain] == 0 {
			delete(chains, v.Chain)
		}
	}
}

// ruleRefs adds n for every set or map and every chain the rules name.
func ruleRefs(rules []Rule, sets, chains map[string]int, n int) {
	for _, r := range rules {
		for _, st := range r.Stmts {
			switch st := st.(type) {
			case InSet:
				sets[st.Set] += n
			case VMap:
				sets[st.Map] += n
			case Verdict:
				ruleRefsVerdict(chains, st, n)
			}
		}
	}
}

// chainEdges returns the chains rules jump or go to and the maps they
// look up, with counts.
func chainEdges(rules []Rule) (jumps, vmaps map[string]int) {
	for _, r := range rules {
		for _, st := range r.Stmts {
			switch st := st.(type) {
			case VMap:
				if vmaps == nil {
					vmaps = map[string]int{}
				}
				vmaps[st.Map]++
			case Verdict:
				if st.Kind == Jump || st.Kind == Goto {
					if jumps == nil {
						jumps = map[string]int{}
					}
					jumps[st.Chain]++
				}
			}
		}
	}
	return jumps, vmaps
}
