package nft

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Render returns rs as the text `nft -f` reads: one "table inet NAME {…}"
// block declaring sets (by name), maps (by name), base chains (by hook,
// then priority) and regular chains (by name), with elements sorted. The
// text depends only on the value, so golden tests show every change. It
// adds to or updates a table that exists; RenderReplace replaces it.
//
// Render does not validate; text rendered from an invalid ruleset is
// rejected by nft.
func Render(rs *Ruleset) string {
	var w writer
	w.linef("table inet %s {", rs.TableName())
	first := true
	sep := func() {
		if !first {
			w.line("")
		}
		first = false
	}
	rs = rs.Canonical()
	for _, s := range rs.Sets {
		sep()
		elems := make([]string, 0, len(s.Elems))
		for _, e := range s.Elems {
			elems = append(elems, e.format(s.Type))
		}
		w.setBlock("set", s.Name, s.Type.String(), s.Interval, s.Comment, elems)
	}
	for _, m := range rs.Maps {
		sep()
		elems := make([]string, 0, len(m.Elems))
		for _, e := range m.Elems {
			elems = append(elems, e.Key.format(m.Type)+" : "+e.Verdict.String())
		}
		w.setBlock("map", m.Name, m.Type.String()+" : verdict", m.Interval, m.Comment, elems)
	}
	for _, c := range rs.Chains {
		sep()
		w.linef("\tchain %s {", c.Name)
		if c.IsBase() {
			w.linef("\t\t%s", chainSpec(c))
		}
		for _, r := range c.Rules {
			w.linef("\t\t%s", FormatRule(r))
		}
		w.line("\t}")
	}
	w.line("}")
	return w.String()
}

// RenderReplace returns text that replaces the table with rs in one `nft -f`
// transaction, whether or not the table exists: "table" creates it if
// missing, "delete table" removes it with everything in it, and Render's
// block creates it anew.
func RenderReplace(rs *Ruleset) string {
	name := rs.TableName()
	return fmt.Sprintf("table inet %s\ndelete table inet %s\n", name, name) + Render(rs)
}

// RenderDelta returns d as `nft -f` commands, in the order Delta documents,
// for debugging and for comparing the netlink applier with nft.
func RenderDelta(d Delta) string {
	if d.Replace != nil {
		return RenderReplace(d.Replace)
	}
	var w writer
	t := "inet " + d.Table
	for _, c := range d.AddChains {
		w.line(addChain(t, c))
	}
	for _, s := range d.AddSets {
		w.linef("add set %s %s { type %s;%s%s%s }", t, s.Name, s.Type,
			flags(s.Interval), comment(s.Comment), elemList(s.Type, s.Elems, " elements = ", ";"))
	}
	for _, m := range d.AddMaps {
		w.linef("add map %s %s { type %s : verdict;%s%s%s }", t, m.Name, m.Type,
			flags(m.Interval), comment(m.Comment), mapElemList(m.Type, m.Elems, " elements = ", ";"))
	}
	for _, s := range d.DelElems {
		w.linef("delete element %s %s %s", t, s.Name, elemList(s.Type, s.Elems, "", ""))
	}
	for _, m := range d.DelMapElems {
		keys := make([]Elem, len(m.Elems))
		for i, e := range m.Elems {
			keys[i] = e.Key
		}
		w.linef("delete element %s %s %s", t, m.Name, elemList(m.Type, keys, "", ""))
	}
	for _, s := range d.AddElems {
		w.linef("add element %s %s %s", t, s.Name, elemList(s.Type, s.Elems, "", ""))
	}
	for _, m := range d.AddMapElems {
		w.linef("add element %s %s %s", t, m.Name, mapElemList(m.Type, m.Elems, "", ""))
	}
	for _, c := range d.ReplaceChains {
		if c.IsBase() {
			w.line(addChain(t, c))
		}
		w.linef("flush chain %s %s", t, c.Name)
		for _, r := range c.Rules {
			w.linef("add rule %s %s %s", t, c.Name, FormatRule(r))
		}
	}
	for _, c := range d.AddChains {
		for _, r := range c.Rules {
			w.linef("add rule %s %s %s", t, c.Name, FormatRule(r))
		}
	}
	for _, c := range d.DelChains {
		w.linef("flush chain %s %s", t, c)
	}
	for _, m := range d.DelMaps {
		w.linef("delete map %s %s", t, m)
	}
	for _, s := range d.DelSets {
		w.linef("delete set %s %s", t, s)
	}
	for _, c := range d.DelChains {
		w.linef("delete chain %s %s", t, c)
	}
	return w.String()
}

// FormatRule returns a rule as nft writes it, statements separated by
// spaces and the comment last: `ip saddr @peers accept comment "…"`.
func FormatRule(r Rule) string {
	parts := make([]string, 0, len(r.Stmts)+1)
	for _, s := range r.Stmts {
		parts = append(parts, FormatStmt(s))
	}
	if r.Comment != "" {
		parts = append(parts, `comment "`+r.Comment+`"`)
	}
	return strings.Join(parts, " ")
}

// FormatStmt returns one statement as nft writes it.
func FormatStmt(s Stmt) string {
	switch s := s.(type) {
	case CtStateIn:
		return "ct state " + s.States.String()
	case NFProtoIs:
		return "meta nfproto " + s.Family.String()
	case L4ProtoIs:
		return "meta l4proto " + s.Proto.String()
	case AddrIs:
		return s.Key.String() + neg(s.Neg) + s.Addr.String()
	case InSet:
		return s.Key.String() + neg(s.Neg) + "@" + s.Set
	case VMap:
		return s.Key.String() + " vmap @" + s.Map
	case Counter:
		return "counter"
	case Verdict:
		return s.String()
	}
	return fmt.Sprintf("<unknown statement %T>", s)
}

func neg(n bool) string {
	if n {
		return " != "
	}
	return " "
}

func chainSpec(c Chain) string {
	return fmt.Sprintf("type filter hook %s priority %d; policy %s;", c.Hook, c.Priority, c.Policy)
}

func addChain(t string, c Chain) string {
	if c.IsBase() {
		return fmt.Sprintf("add chain %s %s { %s }", t, c.Name, chainSpec(c))
	}
	return fmt.Sprintf("add chain %s %s", t, c.Name)
}

func flags(interval bool) string {
	if interval {
		return " flags interval;"
	}
	return ""
}

func comment(c string) string {
	if c == "" {
		return ""
	}
	return ` comment "` + c + `";`
}

func elemList(t SetType, elems []Elem, prefix, suffix string) string {
	if len(elems) == 0 {
		return ""
	}
	parts := make([]string, len(elems))
	for i, e := range sortedElems(elems) {
		parts[i] = e.format(t)
	}
	return prefix + "{ " + strings.Join(parts, ", ") + " }" + suffix
}

func mapElemList(t SetType, elems []MapElem, prefix, suffix string) string {
	if len(elems) == 0 {
		return ""
	}
	parts := make([]string, len(elems))
	for i, e := range sortedMapElems(elems) {
		parts[i] = e.Key.format(t) + " : " + e.Verdict.String()
	}
	return prefix + "{ " + strings.Join(parts, ", ") + " }" + suffix
}

// Canonical returns a copy of rs in the order Render writes it: sets and
// maps by name, base chains by hook then priority, regular chains by
// name, elements sorted. Rules keep their order. Appliers create objects
// in this order, so that the kernel lists them as nft would after reading
// Render's text.
func (rs *Ruleset) Canonical() *Ruleset {
	out := rs.Clone()
	slices.SortFunc(out.Sets, func(a, b Set) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(out.Maps, func(a, b Map) int { return cmp.Compare(a.Name, b.Name) })
	for i := range out.Sets {
		slices.SortFunc(out.Sets[i].Elems, compareElems)
	}
	for i := range out.Maps {
		slices.SortFunc(out.Maps[i].Elems, func(a, b MapElem) int { return compareElems(a.Key, b.Key) })
	}
	slices.SortFunc(out.Chains, func(a, b Chain) int {
		if a.IsBase() != b.IsBase() {
			if a.IsBase() {
				return -1
			}
			return 1
		}
		if c := cmp.Compare(a.Hook, b.Hook); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Priority, b.Priority); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	return out
}

type writer struct{ strings.Builder }

// setBlock writes the declaration of a set or map inside a table block.
func (w *writer) setBlock(kind, name, typ string, interval bool, comment string, elems []string) {
	w.linef("\t%s %s {", kind, name)
	w.linef("\t\ttype %s", typ)
	if interval {
		w.line("\t\tflags interval")
	}
	if comment != "" {
		w.linef("\t\tcomment \"%s\"", comment)
	}
	if len(elems) > 0 {
		w.line("\t\telements = {")
		for _, e := range elems {
			w.linef("\t\t\t%s,", e)
		}
		w.line("\t\t}")
	}
	w.line("\t}")
}

func (w *writer) line(s string) {
	w.WriteString(s)
	w.WriteByte('\n')
}

func (w *writer) linef(format string, args ...any) {
	fmt.Fprintf(w, format, args...)
	w.WriteByte('\n')
}
