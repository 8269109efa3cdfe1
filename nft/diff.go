package nft

import (
	"cmp"
	"slices"
)

// Delta is the change that turns one ruleset into another. Appliers make it
// in one transaction, in this order, so that every reference is valid at
// every step and nothing is deleted while still in use:
//
//  1. declare AddChains (empty), so that rules and map elements can name them;
//  2. add AddSets and AddMaps with their elements;
//  3. delete DelElems and DelMapElems, then add AddElems and AddMapElems;
//  4. redeclare ReplaceChains (a base chain's policy may change), flush
//     their rules and add the new ones;
//  5. add the rules of AddChains;
//  6. flush the rules of DelChains, delete DelMaps and DelSets, then delete
//     DelChains.
//
// A changed chain is flushed and refilled in the same transaction rather
// than built under a new name and re-pointed: the kernel commits a batch
// atomically, so packets see the old rules or the new ones and never an
// empty chain, names stay stable (vmap elements and jumps need no
// rewriting), and the only cost is that the chain's counters restart.
//
// Changes the kernel cannot make in place (a set's type, flags or comment,
// a chain's hook or priority) make Diff return a Delta with Replace set:
// the applier deletes and re-creates the whole table in one transaction.
type Delta struct {
	// Table is the table's name.
	Table string
	// Replace, if not nil, is the whole new ruleset, to be applied by
	// deleting and re-creating the table; every other field is then
	// empty.
	Replace *Ruleset

	AddChains     []Chain  // new chains with their rules
	ReplaceChains []Chain  // chains whose policy or rules changed, as they are now
	DelChains     []string // chains to delete

	AddSets []Set    // new sets with their elements
	DelSets []string // sets to delete
	AddMaps []Map    // new maps with their elements
	DelMaps []string // maps to delete

	// AddElems and DelElems hold, per existing set, a copy of the set
	// whose Elems are the elements to add or delete.
	AddElems []Set
	DelElems []Set
	// AddMapElems and DelMapElems do the same for maps. A key whose
	// verdict changed is deleted and added again.
	AddMapElems []Map
	DelMapElems []Map
}

// IsEmpty reports whether d changes nothing.
func (d Delta) IsEmpty() bool {
	return d.Replace == nil && len(d.AddChains) == 0 && len(d.ReplaceChains) == 0 &&
		len(d.DelChains) == 0 && len(d.AddSets) == 0 && len(d.DelSets) == 0 &&
		len(d.AddMaps) == 0 && len(d.DelMaps) == 0 && len(d.AddElems) == 0 &&
		len(d.DelElems) == 0 && len(d.AddMapElems) == 0 && len(d.DelMapElems) == 0
}

// Full returns the Delta that creates rs from nothing, replacing any table
// of the same name: what an applier does first, and after a restart.
func Full(rs *Ruleset) Delta {
	return Delta{Table: rs.TableName(), Replace: rs}
}

// Diff returns the smallest change from old to new: element additions and
// deletions for sets and maps that exist in both, whole chains for chains
// whose rules or policy changed, and declarations and deletions for the
// rest. A nil old, or one for another table, gives Full(new). Both rulesets
// should be valid; Diff does not check.
//
// Lists of rules or elements that are the very same slice (one array, one
// length) in old and new are equal without a look, so that rulesets that
// share what did not change, as a compile.Compiler's successive results
// do, are compared in time proportional to what changed. A producer that
// shares lists must never modify one it handed out.
func Diff(old, new *Ruleset) Delta { return DiffHinted(old, new, nil) }

// ElemHint tells DiffHinted how a set's elements changed: if the old
// ruleset's elements of that set are the very slice Base, the new ones are
// Base without Del and with Add. Add and Del must be disjoint, Del a
// subset of Base and Add disjoint from it; DiffHinted trusts them.
type ElemHint struct {
	Base     []Elem
	Add, Del []Elem
}

// DiffHinted is Diff that, for the sets hints names whose old elements are
// the hint's Base, takes the hint's additions and deletions instead of
// comparing the lists: the cost of a set that gained a pod is then that
// pod, not the set. A hint whose Base is not the old list is ignored.
func DiffHinted(old, new *Ruleset, hints map[string]ElemHint) Delta {
	if old == nil || old.TableName() != new.TableName() {
		return Full(new)
	}
	d := Delta{Table: new.TableName()}

	oldSets := make(map[string]*Set, len(old.Sets))
	for i := range old.Sets {
		oldSets[old.Sets[i].Name] = &old.Sets[i]
	}
	newSets := make(map[string]bool, len(new.Sets))
	for _, s := range new.Sets {
		newSets[s.Name] = true
		o := oldSets[s.Name]
		if o == nil {
			d.AddSets = append(d.AddSets, s)
			continue
		}
		if o.Type != s.Type || o.Interval != s.Interval || o.Comment != s.Comment {
			return Full(new)
		}
		if sameList(o.Elems, s.Elems) {
			continue
		}
		var add, del []Elem
		if h, ok := hints[s.Name]; ok && sameList(o.Elems, h.Base) {
			add, del = sortedElems(h.Add), sortedElems(h.Del)
		} else {
			add, del = diffElems(o.Elems, s.Elems)
		}
		if len(add) > 0 {
			d.AddElems = append(d.AddElems, withElems(s, add))
		}
		if len(del) > 0 {
			d.DelElems = append(d.DelElems, withElems(s, del))
		}
	}
	for _, o := range old.Sets {
		if !newSets[o.Name] {
			d.DelSets = append(d.DelSets, o.Name)
		}
	}

	oldMaps := make(map[string]*Map, len(old.Maps))
	for i := range old.Maps {
		oldMaps[old.Maps[i].Name] = &old.Maps[i]
	}
	newMaps := make(map[string]bool, len(new.Maps))
	for _, m := range new.Maps {
		newMaps[m.Name] = true
		o := oldMaps[m.Name]
		if o == nil {
			d.AddMaps = append(d.AddMaps, m)
			continue
		}
		if o.Type != m.Type || o.Interval != m.Interval || o.Comment != m.Comment {
			return Full(new)
		}
		if sameList(o.Elems, m.Elems) {
			continue
		}
		add, del := diffMapElems(o.Elems, m.Elems)
		if len(add) > 0 {
			d.AddMapElems = append(d.AddMapElems, withMapElems(m, add))
		}
		if len(del) > 0 {
			d.DelMapElems = append(d.DelMapElems, withMapElems(m, del))
		}
	}
	for _, o := range old.Maps {
		if !newMaps[o.Name] {
			d.DelMaps = append(d.DelMaps, o.Name)
		}
	}

	oldChains := make(map[string]*Chain, len(old.Chains))
	for i := range old.Chains {
		oldChains[old.Chains[i].Name] = &old.Chains[i]
	}
	newChains := make(map[string]bool, len(new.Chains))
	for _, c := range new.Chains {
		newChains[c.Name] = true
		o := oldChains[c.Name]
		switch {
		case o == nil:
			d.AddChains = append(d.AddChains, c)
		case o.Hook != c.Hook || o.Priority != c.Priority:
			return Full(new)
		case o.Policy != c.Policy || !sameList(o.Rules, c.Rules) && !slices.EqualFunc(o.Rules, c.Rules, Rule.Equal):
			d.ReplaceChains = append(d.ReplaceChains, c)
		}
	}
	for _, o := range old.Chains {
		if !newChains[o.Name] {
			d.DelChains = append(d.DelChains, o.Name)
		}
	}

	byChain := func(a, b Chain) int { return cmp.Compare(a.Name, b.Name) }
	bySet := func(a, b Set) int { return cmp.Compare(a.Name, b.Name) }
	byMap := func(a, b Map) int { return cmp.Compare(a.Name, b.Name) }
	slices.SortFunc(d.AddChains, byChain)
	slices.SortFunc(d.ReplaceChains, byChain)
	slices.Sort(d.DelChains)
	slices.SortFunc(d.AddSets, bySet)
	slices.Sort(d.DelSets)
	slices.SortFunc(d.AddMaps, byMap)
	slices.Sort(d.DelMaps)
	slices.SortFunc(d.AddElems, bySet)
	slices.SortFunc(d.DelElems, bySet)
	slices.SortFunc(d.AddMapElems, byMap)
	slices.SortFunc(d.DelMapElems, byMap)
	return d
}

// sameList reports whether a and b are the very same list: one backing
// array and one length (two empty lists are the same).
func sameList[T any](a, b []T) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// Equal reports whether r and o have the same statements and comment.
func (r Rule) Equal(o Rule) bool {
	// Every Stmt is a comparable struct, so interface equality compares
	// kinds and fields.
	return r.Comment == o.Comment && slices.Equal(r.Stmts, o.Stmts)
}

func withElems(s Set, elems []Elem) Set {
	s.Elems = elems
	return s
}

func withMapElems(m Map, elems []MapElem) Map {
	m.Elems = elems
	return m
}

// diffElems returns the elements of new not in old, and of old not in new,
// each sorted. It merges sorted views of the two lists, which costs one
// pass when they are sorted already, as Canonical and AddrElems leave
// them.
func diffElems(old, new []Elem) (add, del []Elem) {
	merge(sortedView(old), sortedView(new), compareElems,
		func(e Elem) { del = append(del, e) },
		func(e Elem) { add = append(add, e) },
		func(Elem, Elem) {})
	return add, del
}

// diffMapElems is diffElems for maps: an element whose verdict changed is
// both deleted (old verdict) and added (new verdict).
func diffMapElems(old, new []MapElem) (add, del []MapElem) {
	byKey := func(a, b MapElem) int { return compareElems(a.Key, b.Key) }
	merge(sortedMapView(old), sortedMapView(new), byKey,
		func(e MapElem) { del = append(del, e) },
		func(e MapElem) { add = append(add, e) },
		func(o, n MapElem) {
			if o.Verdict != n.Verdict {
				del = append(del, o)
				add = append(add, n)
			}
		})
	return add, del
}

// merge walks the sorted lists a and b together, calling onlyA, onlyB or
// both for each value by cmp.
func merge[T any](a, b []T, cmp func(T, T) int, onlyA, onlyB func(T), both func(T, T)) {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		c := 0
		switch {
		case i == len(a):
			c = 1
		case j == len(b):
			c = -1
		default:
			c = cmp(a[i], b[j])
		}
		switch {
		case c < 0:
			onlyA(a[i])
			i++
		case c > 0:
			onlyB(b[j])
			j++
		default:
			both(a[i], b[j])
			i++
			j++
		}
	}
}

// sortedView returns elems if sorted, else a sorted copy.
func sortedView(elems []Elem) []Elem {
	if slices.IsSortedFunc(elems, compareElems) {
		return elems
	}
	return sortedElems(elems)
}

func sortedMapView(elems []MapElem) []MapElem {
	if slices.IsSortedFunc(elems, func(a, b MapElem) int { return compareElems(a.Key, b.Key) }) {
		return elems
	}
	return sortedMapElems(elems)
}
