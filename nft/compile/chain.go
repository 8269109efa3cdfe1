package compile

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/nft"
)

// progInfo caches what chainFor needs of a program.
type progInfo struct {
	rules []eval.ProgramRule
	named bool // some rule names ports
}

func prefixFor(dir model.Direction) string {
	if dir == model.Egress {
		return "eg_"
	}
	return "in_"
}

// chainFor returns the chain enforcing program p for local pod ep, building
// it on first use, or "" when p allows everything (no map entry needed).
//
// Pods share a chain when they share a program, except that ingress rules
// that name ports resolve them on the pod itself (NetworkPolicy: "a named
// port on the pods selected by the policy"), so pods of one ingress program
// with different named ports get different chains. A chain's name hashes
// the direction, the policies and that named-port layout, not the rules:
// editing a policy replaces the chain's rules under the same name.
func (c *compiler) chainFor(p *eval.Program, ep *model.Endpoint) (string, error) {
	dir := p.Direction()
	pk := progKey{dir, p.ID}
	pi, ok := c.k.progs[pk]
	if !ok {
		pi = c.program(p)
		c.k.progs[pk] = pi
	}
	gk := groupKey{dir: dir, prog: p.ID}
	if dir == model.Ingress && pi.named {
		gk.layout = layoutKey(ep.Ports)
	}
	if name, ok := c.groups[gk]; ok {
		return name, nil
	}
	name, reused, err := c.reuseChain(gk)
	if err == nil && !reused {
		name, err = c.buildChain(p, pi, ep, gk)
	}
	if err != nil {
		return "", err
	}
	c.groups[gk] = name
	return name, nil
}

// chainEntry is a chain a Compiler built for a program group with one
// engine, with what it depends on.
type chainEntry struct {
	name, key string
	chains    []*nft.Chain // the chain and its _np tail, or none (allows everything)
	info      ChainInfo
	deps      []dep
	domains   []string // policies with domain-name peers
	used      int
}

// dep is a set a chain's rules name, with the names it had when the
// chain was built: a peer's or a named-port rule's sets come and go per
// family as their addresses do, and then the chain's rules change.
type dep struct {
	peer  int // engine peer id, or -1
	p     *model.Peer
	rule  *eval.ProgramRule // named-port egress rule
	ports *nft.Set          // a port set, which never changes
	names [2]string
}

// reuseChain returns the chain built for group gk by an earlier
// compilation with the same engine if every set it names still exists as
// it did, re-adding the chain and its sets, or "", false.
func (c *compiler) reuseChain(gk groupKey) (string, bool, error) {
	ce := c.k.chains[gk]
	if ce == nil {
		return "", false, nil
	}
	for _, d := range ce.deps {
		var names [2]string
		var err error
		switch {
		case d.ports != nil:
			continue
		case d.rule != nil:
			names, err = c.namedNames(*d.rule)
		default:
			names = c.peerNames(d.peer, d.p)
		}
		if err != nil {
			return "", false, err
		}
		if names != d.names {
			return "", false, nil
		}
	}
	for _, d := range ce.deps {
		var err error
		switch {
		case d.ports != nil:
			err = c.addSet(d.ports, "ports "+d.ports.Name)
		case d.rule != nil:
			_, err = c.namedSet(*d.rule)
		default:
			_, err = c.peerSet(d.peer, d.p)
		}
		if err != nil {
			return "", false, err
		}
	}
	ce.used = c.k.run
	if len(ce.chains) == 0 {
		return "", true, nil
	}
	if err := c.claimChain(ce.name, ce.key); err != nil {
		return "", false, err
	}
	for _, ch := range ce.chains {
		c.chains[ch.Name] = ch
	}
	c.info[ce.name] = ChainInfo{Direction: ce.info.Direction, Policies: ce.info.Policies}
	for _, ref := range ce.domains {
		c.domains[ref] = true
	}
	return ce.name, true, nil
}

func (c *compiler) program(p *eval.Program) progInfo {
	rules := p.Rules()
	pi := progInfo{rules: rules}
	for _, r := range rules {
		if r.Rule.HasNamedPorts() {
			pi.named = true
		}
	}
	return pi
}

// layoutKey is a canonical form of a pod's named ports, the only ports
// that change how rules resolve.
func layoutKey(ports []model.ContainerPort) string {
	var parts []string
	for _, p := range ports {
		if p.Name != "" {
			parts = append(parts, fmt.Sprintf("%s/%s/%d", p.Name, p.Protocol, p.Port))
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// buildChain compiles program p for the pods of group gk (rep is one of
// them) into a chain, or returns "" when the program allows everything.
//
// Admin-tier rules come first, first match wins: Allow returns (this
// direction allows the packet), Deny drops, Pass goes to the rest of the
// program. Then, if a NetworkPolicy isolates the pods, the NetworkPolicy
// rules (any match allows, "union") and a final drop; otherwise the
// Baseline-tier rules, first match: Allow and Pass return (Pass there
// leaves the default, allow), Deny drops. Falling off the end returns:
// the default allow. The rest of the program lives in a second chain,
// NAME_np, only when an Admin Pass rule has to skip to it.
func (c *compiler) buildChain(p *eval.Program, pi progInfo, rep *model.Endpoint, gk groupKey) (string, error) {
	dir := p.Direction()
	pols := c.chainPolicies(p, pi, rep)
	key := dir.String() + "|" + gk.layout + "|" + policyKeys(pols)
	name := prefixFor(dir) + hashName(key)
	if _, ok := c.chains[name]; ok {
		return name, nil // same policies and layout: same chain
	}
	if err := c.claimChain(name, key); err != nil {
		return "", err
	}
	tail := name + "_np"
	ce := &chainEntry{name: name, key: key, used: c.k.run}
	c.cur = ce
	defer func() { c.cur = nil }()
	c.k.chains[gk] = ce

	var rest []nft.Rule
	nAdmin := 0
	for _, r := range pi.rules {
		if r.Tier == model.TierAdmin {
			nAdmin++
			continue
		}
		var v nft.Verdict
		switch {
		case r.Tier == model.TierNetworkPolicy && !p.Isolated():
			continue // cannot happen: NetworkPolicy rules isolate
		case r.Tier == model.TierNetworkPolicy:
			v = nft.VerdictReturn // union: any rule allows
		case p.Isolated():
			continue // Baseline is never consulted for isolated pods
		case r.Rule.Action == model.Deny:
			v = nft.VerdictDrop
		default: // Baseline Allow, and Pass: default allow
			v = nft.VerdictReturn
		}
		rs, err := c.rules(dir, r, rep, v)
		if err != nil {
			return "", err
		}
		rest = append(rest, rs...)
	}
	if p.Isolated() {
		// drop comment "isolated by NetworkPolicy ns/name: no rule allows it"
		rest = append(rest, nft.Rule{Stmts: []nft.Stmt{nft.VerdictDrop}, Comment: comment(isolatedComment(pols))})
	}
	rest = trimReturns(rest)

	var main []nft.Rule
	passes := false
	for _, r := range pi.rules[:nAdmin] {
		var v nft.Verdict
		switch r.Rule.Action {
		case model.Allow:
			v = nft.VerdictReturn
		case model.Deny:
			v = nft.VerdictDrop
		case model.Pass:
			v = nft.VerdictReturn // with nothing after the Admin tier
			if len(rest) > 0 {
				v = nft.GotoChain(tail)
			}
		default:
			return "", fmt.Errorf("compile: %s %s: unknown action %v", r.Policy.Ref(), r.Rule.Ref(), r.Rule.Action)
		}
		rs, err := c.rules(dir, r, rep, v)
		if err != nil {
			return "", err
		}
		if len(rs) > 0 && v.Kind == nft.Goto {
			passes = true
		}
		main = append(main, rs...)
	}
	var tailChain *nft.Chain
	if passes {
		// goto NAME_np: what no Admin rule decided, the rest decides.
		main = append(main, nft.Rule{Stmts: []nft.Stmt{nft.GotoChain(tail)}})
		tailChain = &nft.Chain{Name: tail, Rules: rest}
	} else {
		main = trimReturns(append(main, rest...))
	}
	if len(main) == 0 {
		return "", nil // allows everything
	}
	ch := &nft.Chain{Name: name, Rules: main}
	c.chains[name] = ch
	ce.chains = []*nft.Chain{ch}
	if tailChain != nil {
		c.chains[tail] = tailChain
		ce.chains = append(ce.chains, tailChain)
	}
	refs := make([]string, len(pols))
	for i, pol := range pols {
		refs[i] = pol.Ref()
	}
	ce.info = ChainInfo{Direction: dir, Policies: refs}
	c.info[name] = ChainInfo{Direction: dir, Policies: refs}
	return name, nil
}

// trimReturns drops trailing rules whose verdict is return: falling off
// the end of a chain returns anyway.
func trimReturns(rs []nft.Rule) []nft.Rule {
	for len(rs) > 0 {
		last := rs[len(rs)-1].Stmts
		if v, ok := last[len(last)-1].(nft.Verdict); !ok || v.Kind != nft.Return {
			break
		}
		rs = rs[:len(rs)-1]
	}
	return rs
}

// chainPolicies returns the policies behind a program for its pod rep:
// those whose rules it holds and the NetworkPolicies that isolate the pod
// (which may have no rule for the direction), Admin first, NetworkPolicy
// by namespace and name, Baseline last.
func (c *compiler) chainPolicies(p *eval.Program, pi progInfo, rep *model.Endpoint) []*model.Policy {
	var pols []*model.Policy
	for _, r := range pi.rules {
		if len(pols) == 0 || pols[len(pols)-1] != r.Policy {
			pols = append(pols, r.Policy)
		}
	}
	if p.Isolated() {
		pols = append(pols, c.isolating(rep, p.Direction())...)
	}
	slices.SortStableFunc(pols, func(a, b *model.Policy) int {
		ta, tb := tierRank(a.Tier), tierRank(b.Tier)
		if ta != tb || a.Tier != model.TierNetworkPolicy {
			return cmp.Compare(ta, tb)
		}
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Kind, b.Kind))
	})
	return slices.Compact(pols)
}

func tierRank(t model.Tier) int {
	switch t {
	case model.TierAdmin:
		return 0
	case model.TierNetworkPolicy:
		return 1
	}
	return 2
}

// isolating returns the NetworkPolicies that select ep for direction dir.
func (c *compiler) isolating(ep *model.Endpoint, dir model.Direction) []*model.Policy {
	if c.npByNS == nil {
		c.npByNS = map[string][]*model.Policy{}
		for _, pol := range c.e.Policies() {
			if pol.Tier == model.TierNetworkPolicy {
				c.npByNS[pol.Subject.Namespace] = append(c.npByNS[pol.Subject.Namespace], pol)
			}
		}
	}
	var out []*model.Policy
	for _, ns := range []string{ep.Namespace, ""} {
		for _, pol := range c.npByNS[ns] {
			if !pol.Isolates(dir) || !pol.Subject.PodSelector.Matches(ep.Labels) {
				continue
			}
			if ns == "" && !pol.Subject.NamespaceSelector.Matches(c.namespaceLabels(ep.Namespace)) {
				continue
			}
			out = append(out, pol)
		}
	}
	return out
}

func (c *compiler) namespaceLabels(name string) map[string]string {
	if snap := c.e.Snapshot(); snap != nil {
		if ns := snap.Namespace(name); ns != nil {
			return ns.Labels
		}
	}
	return map[string]string{model.NamespaceNameLabel: name}
}

func policyKeys(pols []*model.Policy) string {
	keys := make([]string, len(pols))
	for i, p := range pols {
		keys[i] = p.Kind + "/" + p.Namespace + "/" + p.Name
	}
	return strings.Join(keys, ",")
}

func isolatedComment(pols []*model.Policy) string {
	var refs []string
	for _, p := range pols {
		if p.Tier == model.TierNetworkPolicy {
			refs = append(refs, p.Namespace+"/"+p.Name)
		}
	}
	if len(refs) == 0 {
		return "isolated by NetworkPolicy: no rule allows it"
	}
	return "isolated by NetworkPolicy " + strings.Join(refs, ", ") + ": no rule allows it"
}

// rules compiles one program rule into nft rules ending in verdict v: one
// per peer set it names (a rule's peers are ORed, and consecutive rules
// with one verdict are a union), each also matching the rule's ports. A
// rule that can match nothing (no peers, only domain-name peers, named
// ports the pod does not declare) compiles to no rule.
func (c *compiler) rules(dir model.Direction, r eval.ProgramRule, rep *model.Endpoint, v nft.Verdict) ([]nft.Rule, error) {
	cm := comment(r.Policy.Ref() + " " + r.Rule.Ref())
	for _, id := range r.Peers {
		if c.e.PeerKind(id) == model.PeerDomains {
			c.domains[r.Policy.Ref()] = true
			if c.cur != nil {
				c.cur.domains = append(c.cur.domains, r.Policy.Ref())
			}
		}
	}
	var alts [][]nft.Stmt
	var ports []nft.Stmt
	if dir == model.Egress && r.Rule.HasNamedPorts() {
		// ip daddr . meta l4proto . th dport @named_… : ports resolved
		// on each destination pod.
		names, err := c.namedSet(r)
		if err != nil {
			return nil, err
		}
		for f, n := range names {
			if n != "" {
				alts = append(alts, []nft.Stmt{nft.InSet{Key: []nft.Key{nft.KeyDst4ProtoPort, nft.KeyDst6ProtoPort}[f], Set: n}})
			}
		}
	} else {
		var conns model.ConnSet
		if r.Rule.HasNamedPorts() {
			conns = r.Rule.ResolvePorts(rep) // ingress: on the pod itself
		} else {
			conns = r.Rule.ResolvePorts(nil)
		}
		if conns.IsEmpty() {
			return nil, nil
		}
		var err error
		if ports, err = c.portMatch(conns); err != nil {
			return nil, fmt.Errorf("compile: %s %s: %w", r.Policy.Ref(), r.Rule.Ref(), err)
		}
		if r.Rule.AllPeers {
			alts = [][]nft.Stmt{nil}
		}
		keys := [2]nft.Key{nft.KeySrc4, nft.KeySrc6}
		if dir == model.Egress {
			keys = [2]nft.Key{nft.KeyDst4, nft.KeyDst6}
		}
		for j, id := range r.Peers {
			if r.Rule.AllPeers || c.e.PeerKind(id) == model.PeerDomains || j >= len(r.Rule.Peers) {
				continue
			}
			names, err := c.peerSet(id, &r.Rule.Peers[j])
			if err != nil {
				return nil, err
			}
			for f, n := range names {
				// ip saddr @pods_… (ingress) / ip daddr @pods_… (egress)
				alt := []nft.Stmt{nft.InSet{Key: keys[f], Set: n}}
				if n != "" && !slices.ContainsFunc(alts, func(a []nft.Stmt) bool { return slices.Equal(a, alt) }) {
					alts = append(alts, alt)
				}
			}
		}
	}
	out := make([]nft.Rule, 0, len(alts))
	for _, alt := range alts {
		stmts := make([]nft.Stmt, 0, len(alt)+len(ports)+1)
		stmts = append(stmts, alt...)
		stmts = append(stmts, ports...)
		stmts = append(stmts, v)
		out = append(out, nft.Rule{Stmts: stmts, Comment: cm})
	}
	return out, nil
}

// hashName returns 12 hex digits of key's SHA-256: 48 bits, so that
// collisions among a cluster's thousands of chains and sets are
// negligible (and detected).
func hashName(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:6])
}

// comment makes s a valid rule or set comment: printable UTF-8 without
// double quotes, at most nft.MaxCommentLen bytes.
func comment(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '"':
			return '\''
		case !unicode.IsPrint(r):
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
	if len(s) <= nft.MaxCommentLen {
		return s
	}
	cut := nft.MaxCommentLen - 3
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
