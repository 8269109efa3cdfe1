package compile

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/nft"
)

// Options change the compiled ruleset.
type Options struct {
	// Table names the table; "" means nft.DefaultTable ("bulkhead").
	// Other names are for tests that keep several tables side by side.
	Table string
}

// Names of the fixed objects of every compiled ruleset.
const (
	ForwardChain = "filter_forward"
	IngressV4    = "ingress_v4"
	IngressV6    = "ingress_v6"
	EgressV4     = "egress_v4"
	EgressV6     = "egress_v6"
	SelfV4       = "self_v4"
	SelfV6       = "self_v6"
)

// Result is a compiled ruleset with what it was compiled from, for the
// agent's logs and metrics.
type Result struct {
	Ruleset *nft.Ruleset
	// Chains describes each policy chain by name.
	Chains map[string]ChainInfo
	// Warnings list what the ruleset enforces differently from the engine:
	// domain-name peers, which never match (the engine reports them as
	// unknown), and addresses that several local pods share.
	Warnings []string
	Stats    Stats
	// Base is the ruleset of the Compiler's previous successful Compile
	// (nil for its first and for the package-level Compile), and Delta
	// the change from Base to Ruleset (nft.Full(Ruleset) without a Base):
	// what dataplane.Applier.ApplyDelta takes. The Compiler computes it
	// from what it knows changed (the addresses pod peers gained and
	// lost, the lists it shares between results), so that its cost
	// follows the change rather than the ruleset. Rulesets the Compiler
	// hands out share those lists and are never modified.
	Base  *nft.Ruleset
	Delta nft.Delta
}

// ChainInfo is what a policy chain enforces.
type ChainInfo struct {
	Direction model.Direction
	// Policies are the policies whose rules the chain holds, and the
	// NetworkPolicies that isolate its pods, as Policy.Ref() ("NetworkPolicy
	// shop/allow-web"), Admin tier first.
	Policies []string
	// Pods are the IDs of the local pods dispatched to the chain, sorted.
	// A chain that combines the chains of pods sharing an address lists
	// them all.
	Pods []string
}

// Stats are the sizes of a compiled ruleset.
type Stats struct {
	// LocalPods counts the local pods with an address that policies
	// restrict in at least one direction.
	LocalPods int
	// Chains counts every chain, the base chain included; Rules every
	// rule of every chain.
	Chains, Rules int
	// Sets counts named sets and Maps verdict maps; SetElements and
	// MapElements their elements.
	Sets, Maps               int
	SetElements, MapElements int
}

// Elements returns the number of set and map elements.
func (s Stats) Elements() int { return s.SetElements + s.MapElements }

// StatsOf measures rs.
func StatsOf(rs *nft.Ruleset) Stats {
	s := Stats{Chains: len(rs.Chains), Sets: len(rs.Sets), Maps: len(rs.Maps)}
	for _, c := range rs.Chains {
		s.Rules += len(c.Rules)
	}
	for _, st := range rs.Sets {
		s.SetElements += len(st.Elems)
	}
	for _, m := range rs.Maps {
		s.MapElements += len(m.Elems)
	}
	return s
}

// Node compiles the ruleset enforcing e's policies for the endpoints in
// local (the pods of one node; all pod-like endpoints for a single-node
// lab). See Compile.
func Node(e *eval.Engine, local []*model.Endpoint, opts Options) (*nft.Ruleset, error) {
	r, err := Compile(e, local, opts)
	if err != nil {
		return nil, err
	}
	return r.Ruleset, nil
}

// Compile compiles the ruleset enforcing e's policies for the endpoints in
// local, with a description of its chains.
//
// Each local pod or workload that policies can apply to and that has
// addresses is dispatched, per direction, to the chain of its program
// (eval.Engine.ProgramOf). Endpoints policies cannot apply to (hostNetwork
// pods, nodes, external ranges) and endpoints without addresses (pending
// pods, workload templates) have nothing to enforce and are left out, as
// are pods whose policies allow everything in a direction. Traffic from or
// to anything that is not a local pod is restricted only by the local
// pod's side; the other side's node enforces its own pods.
//
// Compile fails, producing nothing, if a local endpoint is not one of e's.
// The ruleset passes nft.Validate (the differential tests check it on
// random clusters; the dataplane checks it again before applying). Sets
// and maps hold their elements sorted, and chains, sets and maps are
// sorted by name, so the value is deterministic and the canonical order is
// cheap to reach.
func Compile(e *eval.Engine, local []*model.Endpoint, opts Options) (*Result, error) {
	return NewCompiler(opts).Compile(e, local)
}

func compileWith(e *eval.Engine, local []*model.Endpoint, opts Options, k *cache) (*Result, error) {
	c := newCompiler(e, opts, k)
	// The order of local does not matter: pods of one group share their
	// chain whichever comes first, and every list in the result is sorted.
	seen := make(map[*model.Endpoint]bool, len(local))
	for _, ep := range local {
		if ep == nil || seen[ep] || !ep.IsPolicySubject() || len(ep.IPs) == 0 {
			continue
		}
		seen[ep] = true
		restricted := false
		for _, dir := range model.Directions {
			p := e.ProgramOf(ep, dir)
			if p == nil {
				return nil, fmt.Errorf("compile: local %s %s is not in the engine's cluster", strings.ToLower(ep.Kind.String()), ep.ID())
			}
			name, err := c.chainFor(p, ep)
			if err != nil {
				return nil, err
			}
			if name == "" {
				continue
			}
			restricted = true
			for _, ip := range ep.IPs {
				c.dispatch(dir, ip.Unmap(), name, ep)
			}
		}
		if restricted {
			c.stats.LocalPods++
			for _, ip := range ep.IPs {
				ip = ip.Unmap()
				c.self[familyIndex(ip)][ip] = true
			}
		}
	}
	if err := c.finishDispatch(); err != nil {
		return nil, err
	}
	rs := c.ruleset()
	st := StatsOf(rs)
	st.LocalPods = c.stats.LocalPods
	for name, info := range c.info {
		slices.Sort(info.Pods)
		info.Pods = slices.Compact(info.Pods)
		c.info[name] = info
	}
	return &Result{Ruleset: rs, Chains: c.info, Warnings: c.warnings(), Stats: st}, nil
}

// familyIndex is 0 for IPv4 and 1 for IPv6.
func familyIndex(a netip.Addr) int {
	if a.Is4() {
		return 0
	}
	return 1
}

// compiler holds one compilation's state: chains, sets and dispatch
// entries built so far, cached by what they stand for.
type compiler struct {
	e     *eval.Engine
	table string

	chains    map[string]*nft.Chain
	chainKeys map[string]string // chain name -> identity key, to catch hash collisions
	sets      map[string]*nft.Set
	setKeys   map[string]string
	info      map[string]ChainInfo

	groups    map[groupKey]string // program group -> chain name ("" = unrestricted)
	peerSets  map[int][2]string   // engine peer id -> set names per family
	portSets  map[string]*nft.Set // ConnSet.String() -> set
	cur       *chainEntry         // the chain being built
	namedSets map[namedKey][2]string
	npByNS    map[string][]*model.Policy
	k         *cache

	// targets[dir][family][addr] lists the chains of the local pods
	// with that address.
	targets [2][2]map[netip.Addr][]string
	owners  [2][2]map[netip.Addr][]string // pod IDs, for warnings
	self    [2]map[netip.Addr]bool
	domains map[string]bool // policy refs with domain peers
	shared  []string
	stats   Stats
}

type groupKey struct {
	dir    model.Direction
	prog   int
	layout string
}

type namedKey struct {
	pol  *model.Policy
	rule *model.Rule
}

func newCompiler(e *eval.Engine, opts Options, k *cache) *compiler {
	c := &compiler{
		e: e, table: opts.Table, k: k,
		chains: map[string]*nft.Chain{}, chainKeys: map[string]string{},
		sets: map[string]*nft.Set{}, setKeys: map[string]string{},
		info: map[string]ChainInfo{}, groups: map[groupKey]string{},
		peerSets: map[int][2]string{}, portSets: map[string]*nft.Set{},
		namedSets: map[namedKey][2]string{}, domains: map[string]bool{},
	}
	for d := range 2 {
		for f := range 2 {
			c.targets[d][f] = map[netip.Addr][]string{}
			c.owners[d][f] = map[netip.Addr][]string{}
		}
	}
	c.self = [2]map[netip.Addr]bool{{}, {}}
	return c
}

func dirIndex(d model.Direction) int {
	if d == model.Egress {
		return 1
	}
	return 0
}

// dispatch records that packets of local pod ep with address ip go to
// chain in direction dir.
func (c *compiler) dispatch(dir model.Direction, ip netip.Addr, chain string, ep *model.Endpoint) {
	d, f := dirIndex(dir), familyIndex(ip)
	if !slices.Contains(c.targets[d][f][ip], chain) {
		c.targets[d][f][ip] = append(c.targets[d][f][ip], chain)
	}
	c.owners[d][f][ip] = append(c.owners[d][f][ip], ep.ID())
	info := c.info[chain]
	info.Pods = append(info.Pods, ep.ID())
	c.info[chain] = info
}

// finishDispatch resolves addresses that several local pods with
// different chains share (a pod's address reused before the old pod is
// gone): their packets go through every such chain in turn, so each
// pod's policies must allow them. Kubernetes never gives two live pods one
// address, so this only closes a window, conservatively, and is reported.
func (c *compiler) finishDispatch() error {
	for d := range 2 {
		for f := range 2 {
			for ip, chains := range c.targets[d][f] {
				if len(chains) < 2 {
					continue
				}
				slices.Sort(chains)
				c.shared = append(c.shared, fmt.Sprintf("%s is the address of several local pods (%s): enforcing the %s policies of all of them",
					ip, strings.Join(slices.Compact(slices.Sorted(slices.Values(c.owners[d][f][ip]))), ", "), model.Directions[d]))
				key := "all|" + strings.Join(chains, ",")
				name := prefixFor(model.Directions[d]) + "all_" + hashName(key)
				if _, ok := c.chains[name]; !ok {
					if err := c.claimChain(name, key); err != nil {
						return err
					}
					ch := &nft.Chain{Name: name}
					var pols []string
					for _, t := range chains {
						ch.Rules = append(ch.Rules, nft.Rule{Stmts: []nft.Stmt{nft.JumpTo(t)}})
						pols = append(pols, c.info[t].Policies...)
					}
					c.chains[name] = ch
					c.info[name] = ChainInfo{Direction: model.Directions[d], Policies: slices.Compact(pols)}
				}
				info := c.info[name]
				info.Pods = append(info.Pods, c.owners[d][f][ip]...)
				c.info[name] = info
				c.targets[d][f][ip] = []string{name}
			}
		}
	}
	slices.Sort(c.shared)
	return nil
}

func (c *compiler) warnings() []string {
	var out []string
	refs := make([]string, 0, len(c.domains))
	for r := range c.domains {
		refs = append(refs, r)
	}
	slices.Sort(refs)
	for _, r := range refs {
		out = append(out, r+": domain-name peers never match in the ruleset (resolving names needs DNS); the engine reports their connections as unknown")
	}
	return append(out, c.shared...)
}

// claimChain reserves a chain name for an identity key, failing on the
// (astronomically unlikely) hash collision rather than merging two
// different chains.
func (c *compiler) claimChain(name, key string) error {
	if k, ok := c.chainKeys[name]; ok && k != key {
		return fmt.Errorf("compile: chain name %s stands for two different chains (hash collision); please report it", name)
	}
	c.chainKeys[name] = key
	return nil
}

// ruleset assembles the table.
func (c *compiler) ruleset() *nft.Ruleset {
	rs := &nft.Ruleset{Table: c.table}
	rs.Chains = append(rs.Chains, forwardChain())
	for _, ch := range c.chains {
		rs.Chains = append(rs.Chains, *ch)
	}
	for _, s := range c.sets {
		rs.Sets = append(rs.Sets, *s)
	}
	for f, name := range []string{SelfV4, SelfV6} {
		s := nft.Set{Name: name, Type: nft.TypeIPv4AddrPair}
		if f == 1 {
			s.Type = nft.TypeIPv6AddrPair
		}
		for ip := range c.self[f] {
			s.Elems = append(s.Elems, nft.PairElem(ip, ip))
		}
		slices.SortFunc(s.Elems, compareElems)
		rs.Sets = append(rs.Sets, s)
	}
	maps := [2][2]string{{IngressV4, IngressV6}, {EgressV4, EgressV6}}
	for d := range 2 {
		for f := range 2 {
			m := nft.Map{Name: maps[d][f], Type: nft.TypeIPv4Addr}
			if f == 1 {
				m.Type = nft.TypeIPv6Addr
			}
			for ip, chains := range c.targets[d][f] {
				m.Elems = append(m.Elems, nft.MapElem{Key: nft.AddrElem(ip), Verdict: nft.JumpTo(chains[0])})
			}
			slices.SortFunc(m.Elems, func(a, b nft.MapElem) int { return compareElems(a.Key, b.Key) })
			rs.Maps = append(rs.Maps, m)
		}
	}
	slices.SortFunc(rs.Chains[1:], func(a, b nft.Chain) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(rs.Sets, func(a, b nft.Set) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(rs.Maps, func(a, b nft.Map) int { return cmp.Compare(a.Name, b.Name) })
	return rs
}

// forwardChain is the base chain: replies first, and IPv6 neighbour
// discovery, then a packet from a local pod to itself, then the source's
// egress chain and the destination's ingress chain, each of which returns
// if its direction allows the packet and drops it otherwise.
func forwardChain() nft.Chain {
	return nft.Chain{
		Name: ForwardChain, Hook: nft.HookForward, Policy: nft.PolicyAccept,
		Rules: []nft.Rule{
			// ct state established,related accept
			{Stmts: []nft.Stmt{nft.CtStateIn{States: nft.CtEstablished | nft.CtRelated}, nft.VerdictAccept}, Comment: "replies and related packets of allowed connections"},
			// ct state untracked meta l4proto 58 accept: conntrack leaves
			// exactly IPv6 neighbour discovery (router and neighbour
			// solicitations and advertisements) and MLD untracked; bridged
			// between pods they cross this hook, and dropping them would
			// cut IPv6 between pods that policies let talk.
			{Stmts: []nft.Stmt{nft.CtStateIn{States: nft.CtUntracked}, nft.L4ProtoIs{Proto: protoICMPv6}, nft.VerdictAccept}, Comment: "IPv6 neighbour discovery and MLD (untracked ICMPv6)"},
			// ip saddr . ip daddr @self_v4 accept
			{Stmts: []nft.Stmt{nft.InSet{Key: nft.KeyAddrPair4, Set: SelfV4}, nft.VerdictAccept}, Comment: "a pod may always reach itself"},
			// ip6 saddr . ip6 daddr @self_v6 accept
			{Stmts: []nft.Stmt{nft.InSet{Key: nft.KeyAddrPair6, Set: SelfV6}, nft.VerdictAccept}, Comment: "a pod may always reach itself"},
			// ip saddr vmap @egress_v4
			{Stmts: []nft.Stmt{nft.VMap{Key: nft.KeySrc4, Map: EgressV4}}, Comment: "egress policies of local pods"},
			// ip6 saddr vmap @egress_v6
			{Stmts: []nft.Stmt{nft.VMap{Key: nft.KeySrc6, Map: EgressV6}}, Comment: "egress policies of local pods"},
			// ip daddr vmap @ingress_v4
			{Stmts: []nft.Stmt{nft.VMap{Key: nft.KeyDst4, Map: IngressV4}}, Comment: "ingress policies of local pods"},
			// ip6 daddr vmap @ingress_v6
			{Stmts: []nft.Stmt{nft.VMap{Key: nft.KeyDst6, Map: IngressV6}}, Comment: "ingress policies of local pods"},
		},
	}
}

// protoICMPv6 is ipv6-icmp's protocol number.
const protoICMPv6 nft.Proto = 58

var errOtherWithPorts = errors.New("a rule matches other protocols but not every port, which nftables rules here cannot express")
