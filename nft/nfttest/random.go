package nfttest

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"

	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/nft"
)

// Gen builds small random valid rulesets and packets over fixed pools of
// addresses, ports and protocols, so that random packets often hit random
// rules. Rulesets use every statement, set type and verdict. Jumps only go
// from a chain to one defined after it, so there are no loops.
type Gen struct {
	Rand   *rand.Rand
	Addrs4 []netip.Addr // at least one
	Addrs6 []netip.Addr // at least one
	Ports  []uint16     // at least one
	Protos []nft.Proto  // at least one
	// Hooks lists the hooks base chains may use; nil means forward,
	// input and output.
	Hooks []nft.Hook
}

// NewGen returns a generator seeded with seed over a pool of documentation
// addresses and a few ports.
func NewGen(seed uint64) *Gen {
	g := &Gen{Rand: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	for i := range 4 {
		g.Addrs4 = append(g.Addrs4, netip.AddrFrom4([4]byte{10, 0, byte(i / 2), byte(1 + i)}))
		g.Addrs6 = append(g.Addrs6, netip.MustParseAddr(fmt.Sprintf("fd00:0:0:%d::%d", i/2, 1+i)))
	}
	g.Ports = []uint16{22, 53, 80, 81, 443, 8080}
	g.Protos = []nft.Proto{nft.ProtoTCP, nft.ProtoUDP, nft.ProtoSCTP}
	return g
}

func (g *Gen) pick(n int) int { return g.Rand.IntN(n) }

func (g *Gen) chance(p float64) bool { return g.Rand.Float64() < p }

func (g *Gen) addrs(f nft.Family) []netip.Addr {
	if f == nft.IPv6 {
		return g.Addrs6
	}
	return g.Addrs4
}

// addrSet returns a random set of addresses of family f around the pool:
// single addresses and prefixes of a few lengths, sometimes minus an
// address, merged by the model.
func (g *Gen) addrSet(f nft.Family) model.IPSet {
	pool := g.addrs(f)
	var s model.IPSet
	for range 1 + g.pick(3) {
		a := pool[g.pick(len(pool))]
		bits := a.BitLen() - []int{0, 0, 1, 2, 8}[g.pick(5)]
		p := netip.PrefixFrom(a, bits).Masked()
		if g.chance(0.3) {
			s = s.Union(model.IPBlock(p, netip.PrefixFrom(pool[g.pick(len(pool))], a.BitLen())))
		} else {
			s = s.Union(model.IPBlock(p))
		}
	}
	return s
}

func (g *Gen) addrElems(f nft.Family, exact bool) []nft.Elem {
	if exact {
		// AddrElems merges neighbours into ranges; exact sets need singles.
		seen := map[netip.Addr]bool{}
		var out []nft.Elem
		pool := g.addrs(f)
		for range 1 + g.pick(3) {
			if a := pool[g.pick(len(pool))]; !seen[a] {
				seen[a] = true
				out = append(out, nft.AddrElem(a))
			}
		}
		return out
	}
	v4, v6 := nft.AddrElems(g.addrSet(f))
	if f == nft.IPv6 {
		return v6
	}
	return v4
}

func (g *Gen) portElems(exact bool) []nft.Elem {
	var out []nft.Elem
	for _, p := range g.Protos {
		if !g.chance(0.6) {
			continue
		}
		var rs []model.PortRange
		for range 1 + g.pick(2) {
			first := g.Ports[g.pick(len(g.Ports))]
			last := first
			if !exact && g.chance(0.4) {
				last = first + uint16(g.pick(100))
			}
			rs = append(rs, model.PortRange{First: first, Last: last})
		}
		out = append(out, nft.PortElems(p, model.PortsOf(rs...))...)
	}
	if exact {
		// Merged ranges of single ports can still be ranges; keep singles.
		var singles []nft.Elem
		for _, e := range out {
			for port := uint32(e.Ports.First); port <= uint32(e.Ports.Last); port++ {
				singles = append(singles, nft.Elem{Proto: e.Proto, Ports: model.PortRange{First: uint16(port), Last: uint16(port)}})
			}
		}
		out = singles
	}
	return out
}

func (g *Gen) elems(t nft.SetType, interval bool) []nft.Elem {
	exact := !interval
	switch t {
	case nft.TypeIPv4Addr, nft.TypeIPv6Addr:
		return g.addrElems(t.Family(), exact)
	case nft.TypeProtoPort:
		return g.portElems(exact)
	case nft.TypeIPv4AddrPair, nft.TypeIPv6AddrPair:
		// Each source with a few destinations, as a pod-to-itself set
		// and more.
		var out []nft.Elem
		for _, a := range g.addrElems(t.Family(), exact) {
			for _, b := range g.addrElems(t.Family(), exact) {
				out = append(out, nft.Elem{Addr: a.Addr, Addr2: b.Addr})
			}
		}
		return out
	default:
		return nft.Concat(g.addrElems(t.Family(), exact), g.portElems(exact))
	}
}

// Ruleset returns a random valid ruleset in table table.
func (g *Gen) Ruleset(table string) *nft.Ruleset {
	rs := &nft.Ruleset{Table: table}
	for i, t := range nft.SetTypes {
		for j := range g.pick(3) {
			interval := g.chance(0.7)
			rs.Sets = append(rs.Sets, nft.Set{
				Name:     fmt.Sprintf("s%d_%d", i, j),
				Type:     t,
				Interval: interval,
				Elems:    g.elems(t, interval),
			})
		}
	}
	nRegular := 1 + g.pick(4)
	regular := make([]string, nRegular)
	for i := range regular {
		regular[i] = fmt.Sprintf("c_%d", i)
	}
	// Maps are only used by base chains, and jump to any regular chain.
	for i, f := range []nft.Family{nft.IPv4, nft.IPv6} {
		m := nft.Map{Name: fmt.Sprintf("m_%d", i), Type: nft.TypeIPv4Addr}
		if f == nft.IPv6 {
			m.Type = nft.TypeIPv6Addr
		}
		for _, a := range g.addrs(f) {
			if g.chance(0.6) {
				m.Elems = append(m.Elems, nft.MapElem{Key: nft.AddrElem(a), Verdict: g.verdict(regular, false)})
			}
		}
		rs.Maps = append(rs.Maps, m)
	}
	hooks := g.Hooks
	if hooks == nil {
		hooks = []nft.Hook{nft.HookForward, nft.HookInput, nft.HookOutput}
	}
	for _, h := range hooks {
		for j := range 1 + g.pick(2) {
			c := nft.Chain{
				Name:     fmt.Sprintf("%s_%d", h, j),
				Hook:     h,
				Priority: int32(j*10 - 5),
				Policy:   []nft.Policy{nft.PolicyAccept, nft.PolicyDrop}[g.pick(2)],
			}
			c.Rules = g.rules(rs, regular, true)
			rs.Chains = append(rs.Chains, c)
		}
	}
	for i, name := range regular {
		rs.Chains = append(rs.Chains, nft.Chain{Name: name, Rules: g.rules(rs, regular[i+1:], false)})
	}
	if err := nft.Validate(rs); err != nil {
		panic(fmt.Sprintf("nfttest: generated an invalid ruleset: %v\n%s", err, nft.Render(rs)))
	}
	return rs
}

// verdict returns a random verdict; jumps and gotos go to targets.
func (g *Gen) verdict(targets []string, allowReturn bool) nft.Verdict {
	kinds := []nft.VerdictKind{nft.Accept, nft.Drop}
	if len(targets) > 0 {
		kinds = append(kinds, nft.Jump, nft.Goto)
	}
	if allowReturn {
		kinds = append(kinds, nft.Return)
	}
	k := kinds[g.pick(len(kinds))]
	if k == nft.Jump || k == nft.Goto {
		return nft.Verdict{Kind: k, Chain: targets[g.pick(len(targets))]}
	}
	return nft.Verdict{Kind: k}
}

func (g *Gen) rules(rs *nft.Ruleset, targets []string, base bool) []nft.Rule {
	var out []nft.Rule
	for i := range g.pick(6) {
		// Matches of one family only: nft refuses a rule mixing them.
		fam := []nft.Family{nft.IPv4, nft.IPv6}[g.pick(2)]
		var stmts []nft.Stmt
		for range g.pick(3) {
			if s := g.match(rs); s != nil && familyOf(s) != other(fam) {
				stmts = append(stmts, s)
			}
		}
		if g.chance(0.2) {
			stmts = append(stmts, nft.Counter{})
		}
		// A map of the rule's family (rulesets a State applied deltas to
		// keep them in no particular order, and may have lost one).
		want := nft.TypeIPv4Addr
		if fam == nft.IPv6 {
			want = nft.TypeIPv6Addr
		}
		mi := slices.IndexFunc(rs.Maps, func(m nft.Map) bool { return m.Type == want })
		switch {
		case base && g.chance(0.3) && mi >= 0:
			m := rs.Maps[mi]
			key := nft.KeyDst4
			if m.Type == nft.TypeIPv6Addr {
				key = nft.KeyDst6
			}
			if g.chance(0.5) {
				key = map[nft.Key]nft.Key{nft.KeyDst4: nft.KeySrc4, nft.KeyDst6: nft.KeySrc6}[key]
			}
			stmts = append(stmts, nft.VMap{Key: key, Map: m.Name})
		case g.chance(0.85) || len(stmts) == 0:
			stmts = append(stmts, g.verdict(targets, true))
		}
		r := nft.Rule{Stmts: stmts}
		if g.chance(0.3) {
			r.Comment = fmt.Sprintf("rule %d", i)
		}
		out = append(out, r)
	}
	return out
}

// familyOf returns the address family a statement implies.
func familyOf(s nft.Stmt) nft.Family {
	switch s := s.(type) {
	case nft.NFProtoIs:
		return s.Family
	case nft.AddrIs:
		return s.Key.Type().Family()
	case nft.InSet:
		return s.Key.Type().Family()
	}
	return nft.FamilyUnknown
}

func other(f nft.Family) nft.Family {
	if f == nft.IPv4 {
		return nft.IPv6
	}
	return nft.IPv4
}

func (g *Gen) match(rs *nft.Ruleset) nft.Stmt {
	switch g.pick(6) {
	case 0:
		states := []nft.CtState{nft.CtNew, nft.CtEstablished, nft.CtEstablished | nft.CtRelated, nft.CtInvalid}
		return nft.CtStateIn{States: states[g.pick(len(states))]}
	case 1:
		return nft.NFProtoIs{Family: []nft.Family{nft.IPv4, nft.IPv6}[g.pick(2)]}
	case 2:
		return nft.L4ProtoIs{Proto: g.Protos[g.pick(len(g.Protos))]}
	case 3:
		k := nft.Keys[g.pick(4)]
		pool := g.addrs(k.Type().Family())
		return nft.AddrIs{Key: k, Addr: pool[g.pick(len(pool))], Neg: g.chance(0.3)}
	default:
		if len(rs.Sets) == 0 {
			return nil
		}
		s := rs.Sets[g.pick(len(rs.Sets))]
		var keys []nft.Key
		for _, k := range nft.Keys {
			if k.Type() == s.Type {
				keys = append(keys, k)
			}
		}
		return nft.InSet{Key: keys[g.pick(len(keys))], Set: s.Name, Neg: g.chance(0.2)}
	}
}

// Packet returns a random packet at hook over the pools, with conntrack
// state ct.
func (g *Gen) Packet(hook nft.Hook, ct nft.CtState) nft.Packet {
	f := []nft.Family{nft.IPv4, nft.IPv6}[g.pick(2)]
	pool := g.addrs(f)
	return nft.Packet{
		Hook:  hook,
		Src:   pool[g.pick(len(pool))],
		Dst:   pool[g.pick(len(pool))],
		Proto: g.Protos[g.pick(len(g.Protos))],
		DPort: g.Ports[g.pick(len(g.Ports))] + uint16(g.pick(2)*g.pick(50)),
		Ct:    ct,
	}
}

// Mutate returns a copy of rs with a few random changes of the kinds an
// agent sees: elements added and removed, map verdicts changed, a chain's
// rules or policy changed, a set or a chain added or removed. The result
// is valid.
func (g *Gen) Mutate(rs *nft.Ruleset) *nft.Ruleset {
	for {
		out := rs.Clone()
		for range 1 + g.pick(4) {
			g.mutate(out)
		}
		if nft.Validate(out) == nil {
			return out
		}
	}
}

func (g *Gen) mutate(rs *nft.Ruleset) {
	var regular []string
	for _, c := range rs.Chains {
		if !c.IsBase() {
			regular = append(regular, c.Name)
		}
	}
	switch g.pick(9) {
	case 0, 1: // replace a set's elements, keeping most
		if len(rs.Sets) == 0 {
			return
		}
		s := &rs.Sets[g.pick(len(rs.Sets))]
		s.Elems = g.elems(s.Type, s.Interval)
	case 2: // change map elements
		if len(rs.Maps) == 0 {
			return
		}
		m := &rs.Maps[g.pick(len(rs.Maps))]
		if len(m.Elems) > 0 && g.chance(0.5) {
			i := g.pick(len(m.Elems))
			m.Elems = append(m.Elems[:i:i], m.Elems[i+1:]...)
			return
		}
		pool := g.addrs(m.Type.Family())
		key := nft.AddrElem(pool[g.pick(len(pool))])
		for i := range m.Elems {
			if m.Elems[i].Key == key {
				m.Elems[i].Verdict = g.verdict(regular, false)
				return
			}
		}
		m.Elems = append(m.Elems, nft.MapElem{Key: key, Verdict: g.verdict(regular, false)})
	case 3: // change a base chain's policy
		for i := range rs.Chains {
			if rs.Chains[i].IsBase() && g.chance(0.5) {
				rs.Chains[i].Policy = 3 - rs.Chains[i].Policy
			}
		}
	case 4: // rewrite a chain's rules
		i := g.pick(len(rs.Chains))
		c := &rs.Chains[i]
		var targets []string
		if !c.IsBase() {
			for j, n := range regular {
				if n == c.Name {
					targets = regular[j+1:]
				}
			}
		} else {
			targets = regular
		}
		c.Rules = g.rules(rs, targets, c.IsBase())
	case 5: // add a set
		t := nft.SetTypes[g.pick(len(nft.SetTypes))]
		rs.Sets = append(rs.Sets, nft.Set{Name: fmt.Sprintf("new_%d", g.Rand.Uint32()), Type: t, Interval: true, Elems: g.elems(t, true)})
	case 6: // add a chain at the end and jump to it from a base chain
		name := fmt.Sprintf("newc_%d", g.Rand.Uint32())
		rs.Chains = append(rs.Chains, nft.Chain{Name: name, Rules: g.rules(rs, nil, false)})
		for i := range rs.Chains {
			if rs.Chains[i].IsBase() {
				rs.Chains[i].Rules = append(rs.Chains[i].Rules, nft.Rule{Stmts: []nft.Stmt{nft.L4ProtoIs{Proto: nft.ProtoUDP}, nft.JumpTo(name)}})
				break
			}
		}
	case 7: // delete a set and the rules that use it
		if len(rs.Sets) == 0 {
			return
		}
		i := g.pick(len(rs.Sets))
		name := rs.Sets[i].Name
		rs.Sets = append(rs.Sets[:i:i], rs.Sets[i+1:]...)
		for c := range rs.Chains {
			rs.Chains[c].Rules = slices.DeleteFunc(rs.Chains[c].Rules, func(r nft.Rule) bool {
				return slices.ContainsFunc(r.Stmts, func(s nft.Stmt) bool { l, ok := s.(nft.InSet); return ok && l.Set == name })
			})
		}
	case 8: // delete a regular chain and what jumps to it
		if len(regular) == 0 {
			return
		}
		name := regular[g.pick(len(regular))]
		rs.Chains = slices.DeleteFunc(rs.Chains, func(c nft.Chain) bool { return c.Name == name })
		for c := range rs.Chains {
			rs.Chains[c].Rules = slices.DeleteFunc(rs.Chains[c].Rules, func(r nft.Rule) bool {
				return slices.ContainsFunc(r.Stmts, func(s nft.Stmt) bool { v, ok := s.(nft.Verdict); return ok && v.Chain == name })
			})
		}
		for m := range rs.Maps {
			rs.Maps[m].Elems = slices.DeleteFunc(rs.Maps[m].Elems, func(e nft.MapElem) bool { return e.Verdict.Chain == name })
		}
	}
}
