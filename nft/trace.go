package nft

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
)

// Packet is what Trace needs to know of a packet: the hook it is seen at,
// its addresses (both IPv4 or both IPv6; an IPv4-mapped IPv6 address is
// IPv6, as on the wire), its transport protocol, the 16 bits `th dport`
// reads (the destination port for TCP, UDP and SCTP) and its conntrack
// state, which is exactly one of the CtState values.
type Packet struct {
	Hook     Hook
	Src, Dst netip.Addr
	Proto    Proto
	DPort    uint16
	Ct       CtState
}

func (p Packet) String() string {
	return fmt.Sprintf("%s %s -> %s %s dport %d ct %s", p.Hook, p.Src, p.Dst, p.Proto, p.DPort, p.Ct)
}

// Step is one thing Trace saw: a rule that matched (Rule is its index in
// Chain) and the verdict it gave, if any, or a chain's policy (Rule is -1).
type Step struct {
	Chain   string
	Rule    int
	Verdict Verdict
}

func (s Step) String() string {
	if s.Rule < 0 {
		return fmt.Sprintf("%s: policy %v", s.Chain, s.Verdict)
	}
	if s.Verdict.Kind == VerdictUnknown {
		return fmt.Sprintf("%s[%d]: matched", s.Chain, s.Rule)
	}
	return fmt.Sprintf("%s[%d]: %v", s.Chain, s.Rule, s.Verdict)
}

// Trace returns what the kernel does with p in rs: Accept or Drop.
//
// It evaluates, as nf_tables does, every base chain of the table on
// p.Hook from the lowest priority up. In each, rules run in order; a rule
// matches if all its matches hold; accept ends that base chain (the next
// one still sees the packet) and drop ends everything. Jump pushes a
// return point and continues in the target; goto continues without one;
// return, or the end of a chain, pops the last return point, and with none
// left the base chain's policy applies. A verdict map applies the verdict
// of the element holding the packet's key and does not match if there is
// none. Address matches and lookups imply the address family, as they do
// in an inet table. With no base chain on the hook the packet is
// accepted. Trace looks at one hook: a forwarded packet also crosses
// prerouting and postrouting, so a ruleset with chains there needs a
// Trace per hook.
//
// rs should be valid (see Validate). On an invalid ruleset Trace still
// terminates and never panics: missing chains, sets and maps match
// nothing, and a jump loop or overdeep stack drops the packet.
func Trace(rs *Ruleset, p Packet) Verdict {
	v, _ := trace(rs, p, false)
	return v
}

// TraceSteps is Trace that also returns the rules that matched and the
// policies applied, in order, to explain a verdict.
func TraceSteps(rs *Ruleset, p Packet) (Verdict, []Step) {
	return trace(rs, p, true)
}

// maxTraceRules bounds the rules one trace evaluates, so that an invalid
// ruleset with a goto loop cannot hang Trace.
const maxTraceRules = 1 << 20

func trace(rs *Ruleset, p Packet, record bool) (Verdict, []Step) {
	t := tracer{rs: rs, p: p, record: record, family: FamilyOf(p.Src)}
	var bases []*Chain
	for i := range rs.Chains {
		if c := &rs.Chains[i]; c.Hook == p.Hook && c.IsBase() {
			bases = append(bases, c)
		}
	}
	slices.SortStableFunc(bases, func(a, b *Chain) int {
		if c := cmp.Compare(a.Priority, b.Priority); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	for _, c := range bases {
		if t.run(c).Kind == Drop {
			return VerdictDrop, t.steps
		}
	}
	return VerdictAccept, t.steps
}

type tracer struct {
	rs     *Ruleset
	p      Packet
	family Family
	record bool
	steps  []Step
	budget int
}

type frame struct {
	chain *Chain
	next  int
}

// run evaluates base chain base and returns Accept or Drop.
func (t *tracer) run(base *Chain) Verdict {
	policy := func() Verdict {
		v := VerdictAccept
		if base.Policy == PolicyDrop {
			v = VerdictDrop
		}
		t.step(base.Name, -1, v)
		return v
	}
	var stack []frame
	cur, i := base, 0
	for {
		if i >= len(cur.Rules) {
			if len(stack) == 0 {
				return policy()
			}
			cur, i = stack[len(stack)-1].chain, stack[len(stack)-1].next
			stack = stack[:len(stack)-1]
			continue
		}
		if t.budget++; t.budget > maxTraceRules {
			return VerdictDrop
		}
		idx := i
		v, ok := t.rule(cur.Rules[i])
		i++
		if !ok {
			continue
		}
		t.step(cur.Name, idx, v)
		switch v.Kind {
		case Accept, Drop:
			return v
		case Jump, Goto:
			target := t.rs.Chain(v.Chain)
			if target == nil || target.IsBase() {
				continue
			}
			if v.Kind == Jump {
				if len(stack) >= MaxJumpDepth+1 {
					return VerdictDrop
				}
				stack = append(stack, frame{cur, i})
			}
			cur, i = target, 0
		case Return:
			i = len(cur.Rules)
		}
	}
}

func (t *tracer) step(chain string, rule int, v Verdict) {
	if t.record {
		t.steps = append(t.steps, Step{Chain: chain, Rule: rule, Verdict: v})
	}
}

// rule reports whether r matches the packet and the verdict it gives; a
// zero Verdict means none.
func (t *tracer) rule(r Rule) (Verdict, bool) {
	var verdict Verdict
	for _, s := range r.Stmts {
		switch s := s.(type) {
		case CtStateIn:
			if t.p.Ct&s.States == 0 {
				return Verdict{}, false
			}
		case NFProtoIs:
			if t.family != s.Family {
				return Verdict{}, false
			}
		case L4ProtoIs:
			if t.p.Proto != s.Proto {
				return Verdict{}, false
			}
		case AddrIs:
			a, ok := t.addr(s.Key)
			if !ok || (a == s.Addr) == s.Neg {
				return Verdict{}, false
			}
		case InSet:
			if !t.familyOK(s.Key) {
				return Verdict{}, false
			}
			set := t.rs.Set(s.Set)
			found := set != nil && t.lookup(s.Key, set.Elems) >= 0
			if found == s.Neg {
				return Verdict{}, false
			}
		case VMap:
			if !t.familyOK(s.Key) {
				return Verdict{}, false
			}
			m := t.rs.Map(s.Map)
			if m == nil {
				return Verdict{}, false
			}
			keys := make([]Elem, len(m.Elems))
			for i, e := range m.Elems {
				keys[i] = e.Key
			}
			i := t.lookup(s.Key, keys)
			if i < 0 {
				return Verdict{}, false
			}
			verdict = m.Elems[i].Verdict
		case Counter:
		case Verdict:
			verdict = s
		default:
			return Verdict{}, false
		}
	}
	return verdict, true
}

// familyOK reports whether a key with an address applies to the packet's
// family (the implicit `meta nfproto` of an inet table).
func (t *tracer) familyOK(k Key) bool {
	f := k.Type().Family()
	return f == FamilyUnknown || f == t.family
}

func (t *tracer) addr(k Key) (netip.Addr, bool) {
	if !t.familyOK(k) || k.Type().Family() == FamilyUnknown {
		return netip.Addr{}, false
	}
	if k.IsSource() {
		return t.p.Src, true
	}
	return t.p.Dst, true
}

// lookup returns the index of the element holding the packet's key k, or
// -1. Valid sets have no overlapping elements, so at most one matches.
func (t *tracer) lookup(k Key, elems []Elem) int {
	a, a2 := t.p.Dst, t.p.Dst
	if k.IsSource() {
		a = t.p.Src
	}
	typ := k.Type()
	for i, e := range elems {
		if e.contains(typ, a, a2, t.p.Proto, t.p.DPort) {
			return i
		}
	}
	return -1
}
