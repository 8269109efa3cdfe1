package nft

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxNameLen is the longest table, chain, set or map name Validate accepts
// (the kernel's NFT_NAME_MAXLEN, 256, counts the final NUL).
const MaxNameLen = 255

// MaxJumpDepth is how many jumps and gotos deep a chain may be from a base
// chain: the kernel keeps a jump stack of 16 (NFT_JUMP_STACK_SIZE) and
// rejects rulesets that could overflow it.
const MaxJumpDepth = 15

// Validate reports every reason the kernel would reject rs, or nft would
// fail to read Render's text, plus the ambiguities bulkhead forbids so that
// Trace is exact: two base chains on one hook with the same priority, and
// overlapping elements in any set. Each problem names its object; they are
// joined with errors.Join. Validate returns nil for a valid ruleset.
func Validate(rs *Ruleset) error {
	if rs == nil {
		return errors.New("nil ruleset")
	}
	chains := make(map[string]*Chain, len(rs.Chains))
	sets := make(map[string]*Set, len(rs.Sets))
	maps := make(map[string]*Map, len(rs.Maps))
	for i := range rs.Chains {
		chains[rs.Chains[i].Name] = &rs.Chains[i]
	}
	for i := range rs.Sets {
		sets[rs.Sets[i].Name] = &rs.Sets[i]
	}
	for i := range rs.Maps {
		maps[rs.Maps[i].Name] = &rs.Maps[i]
	}
	v := validator{rs: rs,
		chain:    func(n string) *Chain { return chains[n] },
		set:      func(n string) *Set { return sets[n] },
		mapNamed: func(n string) *Map { return maps[n] },
	}
	v.check()
	return errors.Join(v.errs...)
}

// validator collects problems. Its lookups name the objects of the
// ruleset being checked: the whole ruleset for Validate, the ruleset after
// a delta for State.Update, which checks only what the delta touches.
type validator struct {
	rs       *Ruleset // Validate only
	errs     []error
	chain    func(string) *Chain
	set      func(string) *Set
	mapNamed func(string) *Map
}

func (v *validator) errorf(format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf(format, args...))
}

func (v *validator) check() {
	if name := v.rs.TableName(); name != DefaultTable {
		if err := checkName(name); err != nil {
			v.errorf("table: %w", err)
		}
	}
	v.checkChains()
	v.checkSetsAndMaps()
	for _, c := range v.rs.Chains {
		for i, r := range c.Rules {
			v.checkRule(c.Name, i, r)
		}
	}
	v.checkGraph()
}

func (v *validator) checkChains() {
	type slot struct {
		hook Hook
		prio int32
	}
	seen := map[string]bool{}
	base := map[slot]string{}
	for _, c := range v.rs.Chains {
		if err := checkName(c.Name); err != nil {
			v.errorf("chain %q: %w", c.Name, err)
		}
		if seen[c.Name] {
			v.errorf("chain %q: defined twice", c.Name)
		}
		seen[c.Name] = true
		switch {
		case c.Hook == HookNone:
			if c.Policy != PolicyUnset || c.Priority != 0 {
				v.errorf("chain %q: a regular chain has no policy or priority", c.Name)
			}
		case c.Hook > HookPostrouting:
			v.errorf("chain %q: unknown hook %v", c.Name, c.Hook)
		default:
			if c.Policy != PolicyAccept && c.Policy != PolicyDrop {
				v.errorf("chain %q: a base chain needs policy accept or drop", c.Name)
			}
			s := slot{c.Hook, c.Priority}
			if other, ok := base[s]; ok {
				v.errorf("chain %q: hook %v priority %d is taken by chain %q (their order would be undefined)", c.Name, c.Hook, c.Priority, other)
			}
			base[s] = c.Name
		}
	}
}

func (v *validator) checkSetsAndMaps() {
	seen := map[string]bool{}
	name := func(kind, n string) {
		if err := checkName(n); err != nil {
			v.errorf("%s %q: %w", kind, n, err)
		}
		if seen[n] {
			v.errorf("%s %q: a set or map of that name is already defined", kind, n)
		}
		seen[n] = true
	}
	for _, s := range v.rs.Sets {
		name("set", s.Name)
		v.checkComment("set "+quote(s.Name), s.Comment)
		if !s.Type.IsKnown() {
			v.errorf("set %q: unknown type", s.Name)
			continue
		}
		v.checkElems("set "+quote(s.Name), s.Type, s.Interval, s.Elems)
	}
	for _, m := range v.rs.Maps {
		name("map", m.Name)
		v.checkComment("map "+quote(m.Name), m.Comment)
		if !m.Type.IsKnown() {
			v.errorf("map %q: unknown type", m.Name)
			continue
		}
		keys := make([]Elem, len(m.Elems))
		for i, e := range m.Elems {
			keys[i] = e.Key
			switch e.Verdict.Kind {
			case Accept, Drop:
				if e.Verdict.Chain != "" {
					v.errorf("map %q: element %v: verdict %v takes no chain", m.Name, e.Key, e.Verdict.Kind)
				}
			case Jump, Goto:
				if err := v.target(e.Verdict.Chain); err != nil {
					v.errorf("map %q: element %v: %w", m.Name, e.Key, err)
				}
			default:
				v.errorf("map %q: element %v: verdict must be accept, drop, jump or goto, not %v", m.Name, e.Key, e.Verdict.Kind)
			}
		}
		v.checkElems("map "+quote(m.Name), m.Type, m.Interval, keys)
	}
}

func (v *validator) checkElems(where string, t SetType, interval bool, elems []Elem) {
	bad := false
	for _, e := range elems {
		if err := checkElem(t, interval, e); err != nil {
			v.errorf("%s: %w", where, err)
			bad = true
		}
	}
	if bad {
		return
	}
	if a, b, ok := firstOverlap(t, sortedView(elems)); ok {
		if a == b {
			v.errorf("%s: element %v appears twice", where, a)
		} else {
			v.errorf("%s: elements %v and %v overlap (merge them, e.g. with AddrElems)", where, a, b)
		}
	}
}

func (v *validator) checkRule(chain string, i int, r Rule) {
	where := func() string { return fmt.Sprintf("chain %q: rule %d", chain, i) }
	if r.Comment != "" {
		v.checkComment(where(), r.Comment)
	}
	if len(r.Stmts) == 0 {
		v.errorf("%s: no statements", where())
	}
	if stmtFamilies(r.Stmts) == 1<<IPv4|1<<IPv6 {
		v.errorf("%s: mixes IPv4 and IPv6 matches, which can never match (and nft refuses address matches of both)", where())
	}
	for j, s := range r.Stmts {
		if err := v.checkStmt(s, j == len(r.Stmts)-1); err != nil {
			v.errorf("%s: statement %d: %w", where(), j, err)
		}
	}
}

// checkStmt reports what is wrong with s, the last statement of its rule
// if last.
func (v *validator) checkStmt(s Stmt, last bool) error {
	switch s := s.(type) {
	case CtStateIn:
		if s.States == 0 || s.States&^allCtStates != 0 {
			return fmt.Errorf("ct state: unknown states %v", s.States)
		}
	case NFProtoIs:
		if s.Family != IPv4 && s.Family != IPv6 {
			return errors.New("meta nfproto: unknown family")
		}
	case L4ProtoIs:
		if s.Proto == 0 {
			return errors.New("meta l4proto: missing protocol")
		}
	case AddrIs:
		if !s.Key.IsAddr() {
			return fmt.Errorf("%v is not an address", s.Key)
		} else if FamilyOf(s.Addr) != s.Key.Type().Family() {
			return fmt.Errorf("%v cannot equal %v", s.Key, s.Addr)
		}
	case InSet:
		set := v.set(s.Set)
		switch {
		case s.Key.Type() == TypeUnknown:
			return errors.New("unknown key")
		case set == nil:
			return fmt.Errorf("set %q not found", s.Set)
		case set.Type != s.Key.Type():
			return fmt.Errorf("%v is looked up in set %q of type %v", s.Key, s.Set, set.Type)
		}
	case VMap:
		m := v.mapNamed(s.Map)
		switch {
		case !last:
			return errors.New("vmap must be the last statement")
		case s.Key.Type() == TypeUnknown:
			return errors.New("unknown key")
		case m == nil:
			return fmt.Errorf("map %q not found", s.Map)
		case m.Type != s.Key.Type():
			return fmt.Errorf("%v is looked up in map %q of type %v", s.Key, s.Map, m.Type)
		}
	case Counter:
	case Verdict:
		if !last {
			return fmt.Errorf("verdict %v must be the last statement", s)
		}
		switch s.Kind {
		case Accept, Drop, Return:
			if s.Chain != "" {
				return fmt.Errorf("verdict %v takes no chain", s.Kind)
			}
		case Jump, Goto:
			return v.target(s.Chain)
		default:
			return errors.New("unknown verdict")
		}
	case nil:
		return errors.New("nil statement")
	default:
		return fmt.Errorf("unknown statement %T", s)
	}
	return nil
}

// stmtFamilies returns the address families the statements imply, as a
// bit set indexed by Family.
func stmtFamilies(stmts []Stmt) int {
	fams := 0
	for _, s := range stmts {
		var f Family
		switch s := s.(type) {
		case NFProtoIs:
			f = s.Family
		case AddrIs:
			f = s.Key.Type().Family()
		case InSet:
			f = s.Key.Type().Family()
		case VMap:
			f = s.Key.Type().Family()
		}
		if f != FamilyUnknown {
			fams |= 1 << f
		}
	}
	return fams
}

// target reports a jump or goto target that is missing or a base chain.
func (v *validator) target(chain string) error {
	c := v.chain(chain)
	switch {
	case c == nil:
		return fmt.Errorf("chain %q not found", chain)
	case c.IsBase():
		return fmt.Errorf("cannot jump or go to base chain %q", chain)
	}
	return nil
}

func (v *validator) checkComment(where, c string) {
	if len(c) > MaxCommentLen {
		v.errorf("%s: comment longer than %d bytes", where, MaxCommentLen)
	}
	if !utf8.ValidString(c) || strings.ContainsFunc(c, func(r rune) bool { return r == '"' || !unicode.IsPrint(r) }) {
		v.errorf("%s: comment %q: want printable UTF-8 without double quotes", where, c)
	}
}

// checkGraph rejects jump loops, which the kernel refuses, and paths deeper
// than its jump stack.
func (v *validator) checkGraph() {
	edges := targets(v.rs.Chains, v.mapNamed)
	names := make([]string, len(v.rs.Chains))
	for i, c := range v.rs.Chains {
		names[i] = c.Name
	}
	v.checkJumps(names, func(name string) []string { return edges[name] })
}

// checkJumps rejects jump loops and paths deeper than the kernel's jump
// stack among the chains named, whose jump and goto targets edges
// returns (directly or through verdict maps).
func (v *validator) checkJumps(names []string, edges func(string) []string) {
	const (
		unvisited = iota
		inProgress
		done
	)
	state := map[string]int{}
	depth := map[string]int{} // longest path below a chain, in edges
	var visit func(name string, path []string) bool
	visit = func(name string, path []string) bool {
		switch state[name] {
		case inProgress:
			i := slices.Index(path, name)
			v.errorf("chain %q: jump loop %v", name, append(path[i:], name))
			return false
		case done:
			return true
		}
		state[name] = inProgress
		d := 0
		for _, t := range edges(name) {
			if v.chain(t) == nil {
				continue // reported as a missing target
			}
			if !visit(t, append(slices.Clone(path), name)) {
				return false
			}
			d = max(d, depth[t]+1)
		}
		depth[name] = d
		state[name] = done
		return true
	}
	for _, name := range names {
		if !visit(name, nil) {
			return
		}
	}
	for _, name := range names {
		if c := v.chain(name); c != nil && c.IsBase() && depth[name] > MaxJumpDepth {
			v.errorf("chain %q: chains reach %d jumps deep, more than the kernel's %d", name, depth[name], MaxJumpDepth)
		}
	}
}

// targets returns, per chain, the chains its rules can jump or go to,
// directly or through a verdict map.
func targets(chains []Chain, mapNamed func(string) *Map) map[string][]string {
	out := map[string][]string{}
	for _, c := range chains {
		seen := map[string]bool{}
		add := func(v Verdict) {
			if (v.Kind == Jump || v.Kind == Goto) && !seen[v.Chain] {
				seen[v.Chain] = true
				out[c.Name] = append(out[c.Name], v.Chain)
			}
		}
		for _, r := range c.Rules {
			for _, s := range r.Stmts {
				switch s := s.(type) {
				case Verdict:
					add(s)
				case VMap:
					if m := mapNamed(s.Map); m != nil {
						for _, e := range m.Elems {
							add(e.Verdict)
						}
					}
				}
			}
		}
		slices.Sort(out[c.Name])
	}
	return out
}

// checkName accepts the identifiers Render can write unquoted and that can
// never be mistaken for a keyword by any version of nft: letters, digits
// and underscores, starting with a letter or underscore and holding at
// least one underscore. nft's scanner turns keywords into tokens even where
// a name is expected ("set all", "jump tcp" fail), its keywords never hold
// an underscore, and nft 1.0 does not accept quoted names everywhere.
func checkName(n string) error {
	if n == "" {
		return errors.New("empty name")
	}
	if len(n) > MaxNameLen {
		return fmt.Errorf("name longer than %d bytes", MaxNameLen)
	}
	for i, r := range n {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_'
		digit := r >= '0' && r <= '9'
		if !letter && !(digit && i > 0) {
			return fmt.Errorf("name %q: want a letter or underscore, then letters, digits or underscores", n)
		}
	}
	if !strings.Contains(n, "_") {
		return fmt.Errorf("name %q: want at least one underscore, so that it is never an nft keyword", n)
	}
	return nil
}

func quote(s string) string { return fmt.Sprintf("%q", s) }
