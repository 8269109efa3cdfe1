package lint

import (
	"github.com/bulkhead/bulkhead/model"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// Selector reasoning that holds for every possible object, not only for
// the pods in the input: a rule is reported redundant only when another
// rule covers it for pods that do not exist yet as well.

// requirements returns the requirements of a selector, or ok false when
// they cannot be read (which makes callers answer conservatively).
func (c *Context) requirements(s model.Selector) (labels.Requirements, bool) {
	key := s.Key()
	if r, ok := c.reqs[key]; ok {
		return r.reqs, r.ok
	}
	var r parsedReqs
	if sel, err := labels.Parse(key); err == nil {
		r.reqs, r.ok = sel.Requirements()
	}
	if c.reqs == nil {
		c.reqs = map[string]parsedReqs{}
	}
	c.reqs[key] = r
	return r.reqs, r.ok
}

// parsedReqs are the requirements of one selector key, cached in the
// Context: the same selectors recur across thousands of policies.
type parsedReqs struct {
	reqs labels.Requirements
	ok   bool
}

// selectorWithin reports whether every object a selects is provably
// selected by b: b selects everything, a selects nothing, or each
// requirement of b is implied by a requirement of a on the same key. It
// may answer false for selectors that are in fact contained; never true
// for selectors that are not.
func (c *Context) selectorWithin(a, b model.Selector) bool {
	switch {
	case b.SelectsAll() || a.SelectsNone():
		return true
	case b.SelectsNone():
		return false
	}
	ra, ok1 := c.requirements(a)
	rb, ok2 := c.requirements(b)
	if !ok1 || !ok2 {
		return a.Key() == b.Key()
	}
	for _, q := range rb {
		implied := false
		for _, p := range ra {
			if p.Key() == q.Key() && implies(p, q) {
				implied = true
				break
			}
		}
		if !implied {
			return false
		}
	}
	return true
}

func isIn(op selection.Operator) bool {
	return op == selection.In || op == selection.Equals || op == selection.DoubleEquals
}

func isNotIn(op selection.Operator) bool {
	return op == selection.NotIn || op == selection.NotEquals
}

// implies reports whether every label set satisfying p satisfies q; p
// and q are on the same key.
func implies(p, q labels.Requirement) bool {
	pv, qv := p.ValuesUnsorted(), q.ValuesUnsorted()
	po, qo := p.Operator(), q.Operator()
	switch {
	case isIn(po):
		switch {
		case isIn(qo):
			return subset(pv, qv)
		case isNotIn(qo):
			return disjointValues(pv, qv)
		case qo == selection.Exists:
			return true
		}
	case po == selection.Exists:
		return qo == selection.Exists
	case po == selection.DoesNotExist:
		return qo == selection.DoesNotExist || isNotIn(qo)
	case isNotIn(po):
		return isNotIn(qo) && subset(qv, pv)
	}
	return false
}

// selectorsDisjoint reports whether no object can match both a and b:
// one selects nothing, or two of their requirements on one key conflict.
func (c *Context) selectorsDisjoint(a, b model.Selector) bool {
	if a.SelectsNone() || b.SelectsNone() {
		return true
	}
	ra, ok1 := c.requirements(a)
	rb, ok2 := c.requirements(b)
	if !ok1 || !ok2 {
		return false
	}
	for _, p := range ra {
		for _, q := range rb {
			if p.Key() == q.Key() && (conflict(p, q) || conflict(q, p)) {
				return true
			}
		}
	}
	return false
}

// conflict reports whether no label set satisfies both p and q.
func conflict(p, q labels.Requirement) bool {
	pv, qv := p.ValuesUnsorted(), q.ValuesUnsorted()
	po, qo := p.Operator(), q.Operator()
	switch {
	case isIn(po) && isIn(qo):
		return disjointValues(pv, qv)
	case isIn(po) && isNotIn(qo):
		return subset(pv, qv)
	case (isIn(po) || po == selection.Exists) && qo == selection.DoesNotExist:
		return true
	}
	return false
}

func subset(a, b []string) bool {
	for _, x := range a {
		found := false
		for _, y := range b {
			if x == y {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func disjointValues(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return false
			}
		}
	}
	return true
}

// selectorValues returns the label values a selector names (in = and
// "in" requirements) and the keys it requires, for matching names against
// selectors.
func (c *Context) selectorValues(s model.Selector) []string {
	reqs, ok := c.requirements(s)
	if !ok {
		return nil
	}
	var out []string
	for _, r := range reqs {
		if isIn(r.Operator()) {
			out = append(out, r.ValuesUnsorted()...)
		}
	}
	return out
}
