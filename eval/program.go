package eval

import (
	"slices"
	"strings"

	"github.com/bulkhead/bulkhead/model"
)

// program is the ordered list of rules that apply to an endpoint in one
// direction: Admin-tier rules, then NetworkPolicy rules, then
// Baseline-tier rules. Classes with the same applicable policies share a
// program.
type program struct {
	dir   model.Direction
	rules []progRule
	// rules[:nAdmin] are Admin-tier, rules[nAdmin:nAdmin+nNP]
	// NetworkPolicy, the rest Baseline-tier.
	nAdmin, nNP int
	// isolating lists the NetworkPolicies that select the endpoint for
	// this direction; with any, the endpoint is isolated.
	isolating []*model.Policy
	named     bool // some rule names ports

	// For the class path: layout is the subject's named-port layout for
	// ingress programs with named ports (the destination is the subject).
	layoutRep *model.Endpoint
	groupOf   map[int32]int32 // peer class -> group; absent means group 0
	groups    []group
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
				pr.peers = append(pr.peers, e.peerByID[peerKey(&r.Peers[pi])])
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
	perClass := make([][]int32, len(e.classes))
	for pi, cs := range e.subjects {
		for _, c := range cs {
			perClass[c] = append(perClass[c], int32(pi))
		}
	}
	byKey := map[string]*program{}
	var kb strings.Builder
	for d, dir := range model.Directions {
		e.prog[d] = make([]*program, len(e.classes))
		for _, c := range e.classes {
			if !c.subject() {
				continue
			}
			kb.Reset()
			kb.WriteString(dir.String())
			var pols []*model.Policy
			for _, pi := range perClass[c.id] {
				if pol := e.policies[pi]; pol.Isolates(dir) {
					pols = append(pols, pol)
					kb.WriteByte(',')
					kb.WriteString(itoa(int(pi)))
				}
			}
			if dir == model.Ingress && hasNamedPorts(pols, dir) {
				kb.WriteString("|" + c.layout)
			}
			key := kb.String()
			p, ok := byKey[key]
			if !ok {
				p = e.newProgram(dir, pols)
				if dir == model.Ingress {
					p.layoutRep = c.rep
				}
				byKey[key] = p
				e.programs = append(e.programs, p)
			}
			e.prog[d][c.id] = p
		}
	}
	parallel(len(e.programs), func(i int) { e.partition(e.programs[i]) })
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
// rules match alike, by refining one peer at a time, and computes each
// group's verdict. Classes no peer matches stay in group 0.
func (e *Engine) partition(p *program) {
	var used []int32
	for _, r := range p.rules {
		used = append(used, r.peers...)
	}
	slices.Sort(used)
	used = slices.Compact(used)

	p.groupOf = map[int32]int32{}
	next := int32(1)
	for _, pid := range used {
		split := map[int32]int32{}
		for _, c := range e.peers[pid].list {
			g := p.groupOf[c]
			ng, ok := split[g]
			if !ok {
				ng = next
				next++
				split[g] = ng
			}
			p.groupOf[c] = ng
		}
	}
	if p.named && p.dir == model.Egress {
		// Named ports resolve on the destination, so classes with different
		// named ports need separate groups, even unmatched ones: a rule for
		// all peers still resolves its named ports on each of them.
		for _, c := range e.classes {
			if _, ok := p.groupOf[c.id]; !ok && c.layout != "" {
				p.groupOf[c.id] = 0
			}
		}
		split := map[string]int32{}
		for c, g := range p.groupOf {
			k := itoa(int(g)) + "|" + e.classes[c].layout
			ng, ok := split[k]
			if !ok {
				ng = next
				next++
				split[k] = ng
			}
			p.groupOf[c] = ng
		}
	}
	// Renumber densely in class order so results are deterministic.
	reps := map[int32]int32{}
	dense := map[int32]int32{0: 0}
	classes := make([]int32, 0, len(p.groupOf))
	for c := range p.groupOf {
		classes = append(classes, c)
	}
	slices.Sort(classes)
	p.groups = []group{{rep: -1}}
	for _, c := range classes {
		g := p.groupOf[c]
		ng, ok := dense[g]
		if !ok {
			ng = int32(len(p.groups))
			dense[g] = ng
			p.groups = append(p.groups, group{rep: c})
		}
		p.groupOf[c] = ng
		if _, ok := reps[ng]; !ok {
			reps[ng] = c
		}
	}
	for gi := range p.groups {
		g := &p.groups[gi]
		var tr Side
		allowed, unknown := p.decide(model.AllConns(), e.classMatcher(p, g.rep), e.classPorts(p, g.rep), &tr)
		g.verdict = e.verdicts.intern(allowed, unknown)
		for _, s := range tr.Steps {
			if s.Action == model.Allow && !s.Unknown {
				g.allowBy = append(g.allowBy, s)
			}
		}
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

// classPorts resolves rule ports on the destination: the peer class for
// egress, the subject for ingress.
func (e *Engine) classPorts(p *program, rep int32) func(int) model.ConnSet {
	return func(i int) model.ConnSet {
		r := &p.rules[i]
		if !r.rule.HasNamedPorts() {
			return r.ports
		}
		dst := p.layoutRep
		if p.dir == model.Egress {
			dst = nil
			if rep >= 0 {
				dst = e.classes[rep].rep
			}
		}
		return r.rule.ResolvePorts(dst)
	}
}

// verdictOf returns p's verdict and group for peer class c.
func (p *program) groupFor(c int32) *group {
	return &p.groups[p.groupOf[c]]
}
