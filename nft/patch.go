package nft

import (
	"errors"
	"fmt"
	"slices"
)

// Patch applies d to a copy of old in the order Delta documents and returns
// the result, failing where the kernel would fail the transaction: adding a
// chain, set, map or element that exists, deleting one that does not, or
// ending with an invalid ruleset. old is not modified. In-memory appliers
// (the dataplane's fake) use it, so that tests see the same failures as
// the kernel.
func Patch(old *Ruleset, d Delta) (*Ruleset, error) {
	if d.Replace != nil {
		rs := d.Replace.Clone()
		if err := Validate(rs); err != nil {
			return nil, err
		}
		return rs, nil
	}
	if old == nil {
		return nil, errors.New("patch: no table to change")
	}
	if old.TableName() != d.Table {
		return nil, fmt.Errorf("patch: delta for table %q applied to table %q", d.Table, old.TableName())
	}
	rs := old.Clone()
	for _, c := range d.AddChains {
		if rs.Chain(c.Name) != nil {
			return nil, fmt.Errorf("add chain %q: exists", c.Name)
		}
		c.Rules = nil
		rs.Chains = append(rs.Chains, c)
	}
	for _, s := range d.AddSets {
		if rs.Set(s.Name) != nil || rs.Map(s.Name) != nil {
			return nil, fmt.Errorf("add set %q: exists", s.Name)
		}
		s.Elems = slices.Clone(s.Elems)
		rs.Sets = append(rs.Sets, s)
	}
	for _, m := range d.AddMaps {
		if rs.Set(m.Name) != nil || rs.Map(m.Name) != nil {
			return nil, fmt.Errorf("add map %q: exists", m.Name)
		}
		m.Elems = slices.Clone(m.Elems)
		rs.Maps = append(rs.Maps, m)
	}
	for _, del := range d.DelElems {
		s := rs.Set(del.Name)
		if s == nil {
			return nil, fmt.Errorf("delete elements of set %q: no such set", del.Name)
		}
		for _, e := range del.Elems {
			i := slices.Index(s.Elems, e)
			if i < 0 {
				return nil, fmt.Errorf("set %q: delete element %v: not found", s.Name, e)
			}
			s.Elems = slices.Delete(s.Elems, i, i+1)
		}
	}
	for _, del := range d.DelMapElems {
		m := rs.Map(del.Name)
		if m == nil {
			return nil, fmt.Errorf("delete elements of map %q: no such map", del.Name)
		}
		for _, e := range del.Elems {
			i := slices.IndexFunc(m.Elems, func(x MapElem) bool { return x.Key == e.Key })
			if i < 0 {
				return nil, fmt.Errorf("map %q: delete element %v: not found", m.Name, e.Key)
			}
			m.Elems = slices.Delete(m.Elems, i, i+1)
		}
	}
	for _, add := range d.AddElems {
		s := rs.Set(add.Name)
		if s == nil {
			return nil, fmt.Errorf("add elements to set %q: no such set", add.Name)
		}
		for _, e := range add.Elems {
			if slices.Contains(s.Elems, e) {
				return nil, fmt.Errorf("set %q: add element %v: exists", s.Name, e)
			}
			s.Elems = append(s.Elems, e)
		}
	}
	for _, add := range d.AddMapElems {
		m := rs.Map(add.Name)
		if m == nil {
			return nil, fmt.Errorf("add elements to map %q: no such map", add.Name)
		}
		for _, e := range add.Elems {
			if slices.ContainsFunc(m.Elems, func(x MapElem) bool { return x.Key == e.Key }) {
				return nil, fmt.Errorf("map %q: add element %v: exists", m.Name, e.Key)
			}
			m.Elems = append(m.Elems, e)
		}
	}
	for _, c := range d.ReplaceChains {
		o := rs.Chain(c.Name)
		if o == nil {
			return nil, fmt.Errorf("replace chain %q: no such chain", c.Name)
		}
		if o.Hook != c.Hook || o.Priority != c.Priority {
			return nil, fmt.Errorf("replace chain %q: hook and priority cannot change", c.Name)
		}
		o.Policy = c.Policy
		o.Rules = slices.Clone(c.Rules)
	}
	for _, c := range d.AddChains {
		rs.Chain(c.Name).Rules = slices.Clone(c.Rules)
	}
	for _, name := range d.DelMaps {
		i := slices.IndexFunc(rs.Maps, func(m Map) bool { return m.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("delete map %q: no such map", name)
		}
		rs.Maps = slices.Delete(rs.Maps, i, i+1)
	}
	for _, name := range d.DelSets {
		i := slices.IndexFunc(rs.Sets, func(s Set) bool { return s.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("delete set %q: no such set", name)
		}
		rs.Sets = slices.Delete(rs.Sets, i, i+1)
	}
	for _, name := range d.DelChains {
		i := slices.IndexFunc(rs.Chains, func(c Chain) bool { return c.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("delete chain %q: no such chain", name)
		}
		rs.Chains = slices.Delete(rs.Chains, i, i+1)
	}
	if err := Validate(rs); err != nil {
		return nil, err
	}
	return rs, nil
}
