package eval

import (
	"runtime"
	"slices"
	"strings"

	"github.com/bulkhead/bulkhead/internal/parallel"
	"github.com/bulkhead/bulkhead/model"
)

// program is the ordered list of rules that apply to an endpoint in one
// direction: Admin-tier rules, then NetworkPolicy rules, then
// Baseline-tier rules. Classes with the same applicable policies share a
// program.
type program struct {
	id    int // position in Engine.programs
	dir   model.Direction
	rules []progRule
	// rules[:nAdmin] are Admin-tier, rules[nAdmin:nAdmin+nNP]
	// NetworkPolicy, the rest Baseline-tier.
	nAdmin, nNP int
	// isolating lists the NetworkPolicies that select the endpoint for
	// this direction; with any, the endpoint is isolated.
	isolating []*model.Policy
	named     bool // some rule names ports

	// For the class path: layoutRep is the subject for ingress programs
	// (the destination whose named ports the rules resolve on).
	layoutRep *model.Endpoint
	// matched lists, ascending, the classes some peer of the program
	// matches, and members their peer groups; every other class is in peer
	// group 0.
	matched, members []int32
	// used are the program's distinct peer ids, ascending; vecGroup maps
	// the set of used peers matching a class to its peer group, built on
	// first need by incremental updates.
	used     []int32
	vecGroup map[string]int32
	// groups[peerGroup][layout]: with byLayout, one group per destination
	// named-port layout; otherwise one.
	byLayout bool
	groups   [][]group
	// unmatchedDenied: peer group 0 is denied whatever the layout, so only
	// matched classes can be reached.
	unmatchedDenied bool
}

type progRule struct {
	pol   *model.Policy
	rule  *model.Rule
	peers []int32 // peer ids
	ports model.ConnSet
}

// group is a set of peer classes that the program's rules cannot tell
// apart, with the program's verdict for them.
type group struct {
	rep     int32 // a member class, or -1 for an empty group 0
	verdict int32
	allowBy []Step
}

func (p *program) isolated() bool { return len(p.isolating) > 0 }

// newProgram builds the program of the given policies, which must be in
// evaluation order and all select the subject.
func (e *Engine) newProgram(dir model.Direction, pols []*model.Policy) *program {
	p := &program{dir: dir}
	for _, pol := range pols {
		if !pol.Isolates(dir) {
			continue
		}
		if pol.Tier == model.TierNetworkPolicy {
			p.isolating = append(p.isolating, pol)
		}
		for ri := range pol.Rules {
			r := &pol.Rules[ri]
			if r.Direction != dir {
				continue
			}
			pr := progRule{pol: pol, rule: r}
			for pi := range r.Peers {
				pr.peers = append(pr.peers, e.peerByID[r.Peers[pi].Key()])
			}
			if r.HasNamedPorts() {
				p.named = true
			} else {
				pr.ports = r.ResolvePorts(nil)
			}
			p.rules = append(p.rules, pr)
			switch pol.Tier {
			case model.TierAdmin:
				p.nAdmin++
			case model.TierNetworkPolicy:
				p.nNP++
			}
		}
	}
	return p
}

// matchKind is how a rule matches a peer.
type matchKind uint8

const (
	noMatch matchKind = iota
	yesMatch
	// maybeMatch: the rule matches only if a domain name it names resolves
	// to the peer's address, which manifests cannot tell.
	maybeMatch
)

// decide runs the tiered decision of one direction for the connections in
// scope. match says whether rule i matches the peer, ports which
// connections rule i matches on the destination. It returns what is
// allowed and what is undecidable (depends on domain names); the rest of
// scope is denied. When tr is not nil it records every step.
//
// The semantics (network-policy-api, "ClusterNetworkPolicy" and
// "AdminNetworkPolicy"; Kubernetes NetworkPolicy):
//   - Admin tier: rules of policies in ascending priority, each policy's
//     rules in order; the first rule that matches a connection decides it.
//     Allow (Accept) and Deny are final; Pass hands it to the
//     NetworkPolicy tier.
//   - NetworkPolicy tier: if any NetworkPolicy selects the endpoint for
//     this direction it is isolated, and a connection is allowed only if
//     some rule of those policies allows it ("union"); otherwise the tier
//     does not decide.
//   - Baseline tier (only for connections the NetworkPolicy tier did not
//     decide): first match decides, Allow or Deny.
//   - Anything left is allowed.
func (p *program) decide(scope model.ConnSet, match func(i int) matchKind, ports func(i int) model.ConnSet, tr *Side) (allowed, unknown model.ConnSet) {
	undecided := scope
	var passed model.ConnSet
	firstMatch := func(from, to int, tier model.Tier) {
		for i := from; i < to && !undecided.IsEmpty(); i++ {
			m := match(i)
			if m == noMatch {
				continue
			}
			r := &p.rules[i]
			portion := undecided.Intersect(ports(i))
			if portion.IsEmpty() {
				continue
			}
			undecided = undecided.Subtract(portion)
			if tr != nil {
				tr.Steps = append(tr.Steps, Step{Tier: tier, Policy: r.pol, Rule: r.rule, Action: r.rule.Action, Conns: portion, Unknown: m == maybeMatch})
			}
			switch {
			case m == maybeMatch:
				unknown = unknown.Union(portion)
			case r.rule.Action == model.Allow:
				allowed = allowed.Union(portion)
			case r.rule.Action == model.Pass:
				passed = passed.Union(portion)
			}
		}
	}
	firstMatch(0, p.nAdmin, model.TierAdmin)
	rest := undecided.Union(passed)
	if rest.IsEmpty() {
		return allowed, unknown
	}
	if p.isolated() {
		var npAllowed model.ConnSet
		for i := p.nAdmin; i < p.nAdmin+p.nNP; i++ {
			if match(i) != yesMatch {
				continue
			}
			portion := rest.Intersect(ports(i))
			if portion.IsEmpty() {
				continue
			}
			npAllowed = npAllowed.Union(portion)
			if tr != nil {
				r := &p.rules[i]
				tr.Steps = append(tr.Steps, Step{Tier: model.TierNetworkPolicy, Policy: r.pol, Rule: r.rule, Action: model.Allow, Conns: portion})
			}
		}
		allowed = allowed.Union(npAllowed)
		if denied := rest.Subtract(npAllowed); tr != nil && !denied.IsEmpty() {
			tr.Steps = append(tr.Steps, Step{Tier: model.TierNetworkPolicy, Action: model.Deny, Conns: denied,
				Note: "isolated by " + policyRefs(p.isolating) + " and no rule of those policies allows it"})
		}
		return allowed, unknown
	}
	// A Pass in the Baseline tier (ClusterNetworkPolicy allows it, NPEP-285)
	// skips the rest of the tier, which leaves the default allow.
	undecided, passed = rest, model.ConnSet{}
	firstMatch(p.nAdmin+p.nNP, len(p.rules), model.TierBaseline)
	if def := undecided.Union(passed); !def.IsEmpty() {
		allowed = allowed.Union(def)
		if tr != nil {
			tr.Steps = append(tr.Steps, Step{Action: model.Allow, Conns: def, Note: "no policy isolates it: allowed by default"})
		}
	}
	return allowed, unknown
}

func policyRefs(pols []*model.Policy) string {
	refs := make([]string, len(pols))
	for i, p := range pols {
		refs[i] = p.Namespace + "/" + p.Name
	}
	return strings.Join(refs, ", ")
}

// buildPrograms computes each subject class's program per direction,
// sharing programs between classes, then partitions the peer classes of
// every program.
func (e *Engine) buildPrograms() {
	e.classPols = make([][]*model.Policy, len(e.classes))
	for _, pol := range e.policies {
		for _, c := range e.subjects[pol] {
			e.classPols[c] = append(e.classPols[c], pol)
		}
	}
	e.progByKey = map[string]*program{}
	for d := range model.Directions {
		e.prog[d] = make([]*program, len(e.classes))
	}
	var fresh []*program
	for _, c := range e.classes {
		for d := range model.Directions {
			if p, isNew := e.programFor(c, d); isNew {
				fresh = append(fresh, p)
			}
		}
	}
	parallel.For(runtime.GOMAXPROCS(0), len(fresh), func(i int) { e.partition(fresh[i]) })
}

// programFor finds or creates the program of class c in direction d
// (0 ingress, 1 egress) from its policies, records it, and reports whether
// it is new (and so still needs partition).
func (e *Engine) programFor(c *class, d int) (*program, bool) {
	if !c.subject() {
		e.prog[d][c.id] = nil
		return nil, false
	}
	dir := model.Directions[d]
	var kb strings.Builder
	kb.WriteString(dir.String())
	var pols []*model.Policy
	for _, pol := range e.classPols[c.id] {
		if pol.Isolates(dir) {
			pols = append(pols, pol)
			kb.WriteByte(',')
			kb.WriteString(itoa(e.serial[pol]))
		}
	}
	if dir == model.Ingress && hasNamedPorts(pols, dir) {
		kb.WriteString("|" + c.layout)
	}
	key := kb.String()
	p, ok := e.progByKey[key]
	if !ok {
		p = e.newProgram(dir, pols)
		if dir == model.Ingress {
			p.layoutRep = c.rep
		}
		p.id = len(e.programs)
		e.progByKey[key] = p
		e.programs = append(e.programs, p)
	}
	e.prog[d][c.id] = p
	return p, !ok
}

func hasNamedPorts(pols []*model.Policy, dir model.Direction) bool {
	for _, pol := range pols {
		for i := range pol.Rules {
			if pol.Rules[i].Direction == dir && pol.Rules[i].HasNamedPorts() {
				return true
			}
		}
	}
	return false
}

// partition splits the peer classes of p into groups that all of p's
// rules match alike and computes each group's verdict.
//
// Peer groups come from refining one peer at a time over the classes it
// matches, with a dense scratch array (no per-class maps): classes no peer
// matches stay in peer group 0. Named ports resolve on the destination, so
// an egress program that names ports also splits by the destination's
// named-port layout: its groups are (peer group, layout) pairs, evaluated
// for every layout, which costs layouts × peer groups rather than a pass
// over every class.
func (e *Engine) partition(p *program) {
	var used []int32
	for _, r := range p.rules {
		used = append(used, r.peers...)
	}
	slices.Sort(used)
	used = slices.Compact(used)

	sc := e.scratch.Get().(*scratch)
	defer e.scratch.Put(sc)
	sc.reset(len(e.classes))
	next := int32(1)
	for _, pid := range used {
		sc.remap = sc.remap[:0]
		for _, c := range e.peers[pid].list {
			if sc.group[c] == 0 && !sc.seen[c] {
				sc.seen[c] = true
				sc.touched = append(sc.touched, c)
			}
			g := sc.group[c]
			for int(g) >= len(sc.remap) {
				sc.remap = append(sc.remap, -1)
			}
			if sc.remap[g] < 0 {
				sc.remap[g] = next
				next++
			}
			sc.group[c] = sc.remap[g]
		}
	}
	// Renumber peer groups densely in class order, for determinism.
	slices.Sort(sc.touched)
	dense := map[int32]int32{0: 0}
	reps := []int32{-1}
	p.matched = make([]int32, len(sc.touched))
	p.members = make([]int32, len(sc.touched))
	for i, c := range sc.touched {
		g := sc.group[c]
		ng, ok := dense[g]
		if !ok {
			ng = int32(len(reps))
			dense[g] = ng
			reps = append(reps, c)
		}
		p.matched[i] = c
		p.members[i] = ng
	}
	p.byLayout = p.named && p.dir == model.Egress
	p.used = used
	p.vecGroup = nil
	p.groups = make([][]group, len(reps))
	for pg, rep := range reps {
		e.evalPeerGroup(p, int32(pg), rep)
	}
	p.updateUnmatched()
}

// evalPeerGroup evaluates peer group pg (represented by class rep, -1
// for none) for every layout the program distinguishes.
func (e *Engine) evalPeerGroup(p *program, pg, rep int32) {
	n := 1
	if p.byLayout {
		n = len(e.layoutRep)
	}
	for len(p.groups[pg]) < n {
		p.groups[pg] = append(p.groups[pg], e.evalGroup(p, rep, len(p.groups[pg])))
	}
}

// evalGroup computes one group's verdict: peers as class rep matches
// them, ports resolved on layout lid (egress programs that name ports) or
// on the subject.
func (e *Engine) evalGroup(p *program, rep int32, lid int) group {
	g := group{rep: rep}
	dst := p.layoutRep
	if p.byLayout {
		dst = e.layoutRep[lid]
	}
	var tr Side
	allowed, unknown := p.decide(model.AllConns(), e.classMatcher(p, rep), e.classPorts(p, dst), &tr)
	g.verdict = e.verdicts.intern(allowed, unknown)
	for _, s := range tr.Steps {
		if s.Action == model.Allow && !s.Unknown {
			g.allowBy = append(g.allowBy, s)
		}
	}
	return g
}

// updateUnmatched recomputes whether classes no peer matches are denied
// whatever their layout.
func (p *program) updateUnmatched() {
	p.unmatchedDenied = true
	for _, g := range p.groups[0] {
		if g.verdict != verdictNone {
			p.unmatchedDenied = false
		}
	}
}

// scratch is per-worker memory for partition, reused across programs.
type scratch struct {
	group   []int32
	seen    []bool
	touched []int32
	remap   []int32
}

func (s *scratch) reset(n int) {
	for _, c := range s.touched {
		s.group[c] = 0
		s.seen[c] = false
	}
	s.touched = s.touched[:0]
	if len(s.group) < n {
		s.group = make([]int32, n)
		s.seen = make([]bool, n)
	}
}

// classMatcher answers rule matches for peer class rep (-1: no class).
func (e *Engine) classMatcher(p *program, rep int32) func(int) matchKind {
	return func(i int) matchKind {
		r := &p.rules[i]
		if r.rule.AllPeers {
			return yesMatch
		}
		if rep < 0 {
			return noMatch
		}
		m := noMatch
		for _, pid := range r.peers {
			info := e.peers[pid]
			if !info.classes.has(int(rep)) {
				continue
			}
			if !info.maybe {
				return yesMatch
			}
			m = maybeMatch
		}
		return m
	}
}

// classPorts resolves rule ports on the destination dst: a class of the
// destination's layout for egress, the subject for ingress.
func (e *Engine) classPorts(p *program, dst *model.Endpoint) func(int) model.ConnSet {
	return func(i int) model.ConnSet {
		r := &p.rules[i]
		if !r.rule.HasNamedPorts() {
			return r.ports
		}
		return r.rule.ResolvePorts(dst)
	}
}

// groupFor returns p's group for peer class c, whose named-port layout
// is lid.
func (p *program) groupFor(c, lid int32) *group {
	pg := int32(0)
	if i, ok := slices.BinarySearch(p.matched, c); ok {
		pg = p.members[i]
	}
	if p.byLayout {
		return &p.groups[pg][lid]
	}
	return &p.groups[pg][0]
}
