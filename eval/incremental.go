package eval

import (
	"net/netip"
	"slices"

	"github.com/bulkhead/bulkhead/model"
)

// Op is what a Change does to its object.
type Op uint8

const (
	OpUnknown Op = iota
	// OpUpsert adds the object or replaces the one with the same identity
	// (endpoint ID; policy kind, namespace and name; namespace or node
	// name).
	OpUpsert
	// OpDelete removes the object with that identity.
	OpDelete
)

// Change is one object change for Tracker.Apply. Exactly one of the object
// fields is set. Endpoints must be pods or workloads.
type Change struct {
	Op        Op
	Endpoint  *model.Endpoint
	Policy    *model.Policy
	Namespace *model.Namespace
	Node      *model.Node
}

// policyKey identifies a policy across updates.
func policyKey(p *model.Policy) string { return p.Kind + "/" + p.Namespace + "/" + p.Name }

// apply applies ch to the engine in place and returns the connection
// changes. It returns ok=false, having changed nothing, when the change
// alters what the engine's structure rests on (the address partition,
// namespace labels that selectors already matched, nodes): the caller
// must then rebuild.
//
// What an incremental change recomputes:
//   - an endpoint joining an existing class: nothing; its connections are
//     the class's.
//   - a new class: which peers and policies match it (one selector test
//     each), its programs, the peer group it falls in for every program
//     that matches it (new groups are evaluated once), and its row and
//     column of class pairs.
//   - a policy: its subjects, the programs of the classes it selected
//     before or after, and the rows (egress) or columns (ingress) of the
//     classes whose program changed.
func (e *Engine) apply(ch Change) ([]ConnChange, bool) {
	e.Connectivity() // changes are reported against the current pairs
	var out []ConnChange
	switch {
	case ch.Endpoint != nil:
		old, exists := e.byID[ch.Endpoint.ID()]
		if ch.Op == OpDelete {
			if !exists {
				return nil, true
			}
			freed := e.dropIPs(e.endpoints[old])
			e.removeEndpoint(old, &out)
			e.refreshExternal(e.endpointsRegions(nil, freed), &out)
			return out, true
		}
		if exists && sameEndpoint(e.endpoints[old], ch.Endpoint) {
			ep := ch.Endpoint
			delete(e.index, e.endpoints[old])
			e.endpoints[old], e.index[ep] = ep, old
			e.ord.invalidate()
			return nil, true
		}
		var freed []netip.Addr
		if exists {
			freed = e.dropIPs(e.endpoints[old])
			e.removeEndpoint(old, &out)
		}
		e.addEndpoint(ch.Endpoint, &out)
		e.refreshExternal(e.endpointsRegions(e.takeIPs(ch.Endpoint), freed), &out)
		return out, true
	case ch.Policy != nil:
		old := e.policyByKey[policyKey(ch.Policy)]
		var next *model.Policy
		if ch.Op == OpUpsert {
			next = ch.Policy
		}
		if old == nil && next == nil {
			return nil, true
		}
		return e.setPolicy(old, next)
	case ch.Namespace != nil:
		name := ch.Namespace.Name
		if len(e.byNS[name]) > 0 {
			if ch.Op == OpUpsert && labelsEqual(e.nsLabels[name], ch.Namespace.Labels) {
				return nil, true
			}
			return nil, false
		}
		if ch.Op == OpDelete {
			delete(e.nsLabels, name)
		} else {
			e.nsLabels[name] = ch.Namespace.Labels
		}
		return nil, true
	case ch.Node != nil:
		for _, n := range e.snap.Nodes {
			if n.Name == ch.Node.Name && ch.Op == OpUpsert && labelsEqual(n.Labels, ch.Node.Labels) && slices.Equal(n.IPs, ch.Node.IPs) {
				return nil, true
			}
		}
		return nil, false
	}
	return nil, true
}

func labelsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// sameEndpoint reports whether two versions of an endpoint are alike for
// every policy: only a status or metadata change that policies ignore.
func sameEndpoint(a, b *model.Endpoint) bool {
	return a.Kind == b.Kind && a.Workload == b.Workload && a.Namespace == b.Namespace && a.Name == b.Name &&
		a.HostNetwork == b.HostNetwork && labelsEqual(a.Labels, b.Labels) &&
		slices.Equal(a.IPs, b.IPs) && slices.Equal(a.Ports, b.Ports)
}

// addEndpoint adds ep, creating its class if needed, and reports its
// connections as added.
func (e *Engine) addEndpoint(ep *model.Endpoint, out *[]ConnChange) {
	id := int32(len(e.endpoints))
	e.endpoints = append(e.endpoints, ep)
	e.index[ep] = id
	e.byID[ep.ID()] = id
	c := e.classOf(ep)
	cid, ok := e.classByKey[c.key]
	if !ok {
		cid = e.addClass(c)
	}
	e.epClass = append(e.epClass, cid)
	cl := e.classes[cid]
	cl.members = append(cl.members, id)
	if ep.Kind == model.EndpointExternal {
		e.extRegion[id] = cl.regions[0]
	}
	e.ord.invalidate()
	e.endpointConns(id, Added, out)
}

// removeEndpoint reports id's connections as removed and deletes it. Its
// class stays, possibly empty.
func (e *Engine) removeEndpoint(id int32, out *[]ConnChange) {
	e.endpointConns(id, Removed, out)
	ep := e.endpoints[id]
	cl := e.classes[e.epClass[id]]
	if i := slices.Index(cl.members, id); i >= 0 {
		cl.members = slices.Delete(cl.members, i, i+1)
	}
	if cl.rep == ep && len(cl.members) > 0 {
		cl.rep = e.endpoints[cl.members[0]]
	}
	delete(e.index, ep)
	delete(e.byID, ep.ID())
	delete(e.extRegion, id)
	e.endpoints[id] = nil
	e.ord.invalidate()
}

// endpointConns reports every connection from and to endpoint id as kind.
func (e *Engine) endpointConns(id int32, kind ChangeKind, out *[]ConnChange) {
	c := e.epClass[id]
	ep := e.endpoints[id]
	for _, p := range e.conn.pairs[c] {
		for _, m := range e.classes[p.dst].members {
			if m != id {
				*out = append(*out, e.change(kind, ep, e.endpoints[m], p.verdict))
			}
		}
	}
	for y := range e.classes {
		v, ok := e.conn.lookup(int32(y), c)
		if !ok {
			continue
		}
		for _, m := range e.classes[y].members {
			if m != id {
				*out = append(*out, e.change(kind, e.endpoints[m], ep, v))
			}
		}
	}
}

func (e *Engine) change(kind ChangeKind, src, dst *model.Endpoint, v int32) ConnChange {
	vd := e.verdicts.get(v)
	cn := Conn{Src: src, Dst: dst, Allowed: vd.allowed, Unknown: vd.unknown}
	ch := ConnChange{Kind: kind, Src: src.ID(), Dst: dst.ID()}
	if kind == Added {
		ch.New, ch.NewConn = vd.allowed, cn
	} else {
		ch.Old, ch.OldConn = vd.allowed, cn
	}
	return ch
}

// addClass registers a class created after the engine was built and
// extends every structure to it.
func (e *Engine) addClass(c *class) int32 {
	nLayouts := len(e.layoutRep)
	id := e.registerClass(c)
	newLayout := len(e.layoutRep) > nLayouts
	for _, info := range e.peers {
		if e.peerMatches(info, c) {
			info.classes = info.classes.grow(len(e.classes))
			info.classes.set(int(id))
			info.list = append(info.list, id)
		}
	}
	var pols []*model.Policy
	for _, pol := range e.policies {
		if e.selects(pol, c) {
			e.subjects[pol] = append(e.subjects[pol], id)
			pols = append(pols, pol)
		}
	}
	e.classPols = append(e.classPols, pols)
	fresh := map[*program]bool{}
	for d := range model.Directions {
		e.prog[d] = append(e.prog[d], nil)
		if p, isNew := e.programFor(c, d); isNew {
			e.partition(p)
			fresh[p] = true
		}
	}
	for _, p := range e.programs {
		if fresh[p] {
			continue
		}
		if newLayout && p.byLayout {
			for pg := range p.groups {
				e.evalPeerGroup(p, int32(pg), p.groups[pg][0].rep)
			}
			p.updateUnmatched()
		}
		e.placeClass(p, id)
	}
	if e.conn != nil {
		e.conn.pairs = append(e.conn.pairs, e.computeRow(id))
		for y := range e.classes[:id] {
			if v := e.pairVerdictFiltered(int32(y), id); v != verdictNone {
				e.conn.pairs[y] = append(e.conn.pairs[y], classPair{id, v})
			}
		}
	}
	return id
}

// placeClass puts new class c into the peer group of program p that its
// matching peers call for, creating and evaluating the group if no class
// had that combination yet.
func (e *Engine) placeClass(p *program, c int32) {
	var vec []byte
	for _, pid := range p.used {
		if e.peers[pid].classes.has(int(c)) {
			vec = append(vec, itoa(int(pid))...)
			vec = append(vec, ',')
		}
	}
	if len(vec) == 0 {
		return
	}
	if p.vecGroup == nil {
		p.vecGroup = map[string]int32{}
		for pg := 1; pg < len(p.groups); pg++ {
			p.vecGroup[e.vectorKey(p, p.groups[pg][0].rep)] = int32(pg)
		}
	}
	pg, ok := p.vecGroup[string(vec)]
	if !ok {
		pg = int32(len(p.groups))
		p.groups = append(p.groups, nil)
		e.evalPeerGroup(p, pg, c)
		p.vecGroup[string(vec)] = pg
	}
	p.matched = append(p.matched, c)
	p.members = append(p.members, pg)
}

func (e *Engine) vectorKey(p *program, c int32) string {
	var vec []byte
	for _, pid := range p.used {
		if e.peers[pid].classes.has(int(c)) {
			vec = append(vec, itoa(int(pid))...)
			vec = append(vec, ',')
		}
	}
	return string(vec)
}

// computeRow returns the class pairs from class sc, ascending by
// destination.
func (e *Engine) computeRow(sc int32) []classPair {
	src := e.classes[sc]
	var out []classPair
	visit := func(dc int32) {
		if v := e.pairVerdictFiltered(sc, dc); v != verdictNone {
			out = append(out, classPair{dc, v})
		}
	}
	if p := e.prog[1][sc]; p != nil && p.unmatchedDenied {
		for _, dc := range p.matched {
			visit(dc)
		}
		return out
	}
	_ = src
	for dc := range e.classes {
		visit(int32(dc))
	}
	return out
}

// pairVerdictFiltered is classVerdict for the pairs Connectivity lists,
// and verdictNone for the others.
func (e *Engine) pairVerdictFiltered(sc, dc int32) int32 {
	if !e.classes[sc].podLike() && !e.classes[dc].podLike() {
		return verdictNone
	}
	return e.classVerdict(sc, dc)
}

// lookup returns the verdict of class pair (sc, dc) if listed.
func (c *Connectivity) lookup(sc, dc int32) (int32, bool) {
	row := c.pairs[sc]
	i, ok := slices.BinarySearchFunc(row, dc, func(p classPair, d int32) int { return int(p.dst - d) })
	if !ok {
		return verdictNone, false
	}
	return row[i].verdict, true
}

// set records the verdict of (sc, dc), removing the pair when none.
func (c *Connectivity) set(sc, dc, v int32) {
	row := c.pairs[sc]
	i, ok := slices.BinarySearchFunc(row, dc, func(p classPair, d int32) int { return int(p.dst - d) })
	switch {
	case ok && v == verdictNone:
		c.pairs[sc] = slices.Delete(row, i, i+1)
	case ok:
		row[i].verdict = v
	case v != verdictNone:
		c.pairs[sc] = slices.Insert(row, i, classPair{dc, v})
	}
}

// pairChanged reports every endpoint pair of class pair (sc, dc) whose
// verdict went from v0 to v1.
func (e *Engine) pairChanged(sc, dc, v0, v1 int32, out *[]ConnChange) {
	if v0 == v1 {
		return
	}
	for _, s := range e.classes[sc].members {
		for _, d := range e.classes[dc].members {
			if s == d {
				continue
			}
			src, dst := e.endpoints[s], e.endpoints[d]
			switch {
			case v0 == verdictNone:
				*out = append(*out, e.change(Added, src, dst, v1))
			case v1 == verdictNone:
				*out = append(*out, e.change(Removed, src, dst, v0))
			default:
				o, n := e.verdicts.get(v0), e.verdicts.get(v1)
				*out = append(*out, ConnChange{Kind: Changed, Src: src.ID(), Dst: dst.ID(), Old: o.allowed, New: n.allowed,
					OldConn: Conn{src, dst, o.allowed, o.unknown}, NewConn: Conn{src, dst, n.allowed, n.unknown}})
			}
		}
	}
}

// setPolicy replaces old with next (either may be nil).
func (e *Engine) setPolicy(old, next *model.Policy) ([]ConnChange, bool) {
	delta := map[string]int{}
	for _, k := range e.ipSetKeys(old) {
		delta[k]--
	}
	for _, k := range e.ipSetKeys(next) {
		delta[k]++
	}
	for k, d := range delta {
		if n := e.ipRefs[k]; n == 0 && d > 0 || n > 0 && n+d == 0 {
			return nil, false // the address partition changes
		}
	}
	for k, d := range delta {
		e.ipRefs[k] += d
	}
	var affected []int32
	if old != nil {
		i := slices.Index(e.policies, old)
		e.policies = slices.Delete(e.policies, i, i+1)
		affected = append(affected, e.subjects[old]...)
		for _, c := range e.subjects[old] {
			cp := e.classPols[c]
			if j := slices.Index(cp, old); j >= 0 {
				e.classPols[c] = slices.Delete(cp, j, j+1)
			}
		}
		delete(e.subjects, old)
		delete(e.serial, old)
		delete(e.policyByKey, policyKey(old))
	}
	if next != nil {
		e.internPeers(next)
		i, _ := slices.BinarySearchFunc(e.policies, next, comparePolicies)
		e.policies = slices.Insert(e.policies, i, next)
		e.serial[next] = e.nextSerial
		e.nextSerial++
		e.policyByKey[policyKey(next)] = next
		subj := e.subjectClasses(next)
		e.subjects[next] = subj
		for _, c := range subj {
			cp := e.classPols[c]
			j, _ := slices.BinarySearchFunc(cp, next, comparePolicies)
			e.classPols[c] = slices.Insert(cp, j, next)
		}
		affected = append(affected, subj...)
	}
	slices.Sort(affected)
	affected = slices.Compact(affected)
	// Classes whose program changed the same way (old -> new) share one
	// pass over the peer classes that finds those whose side verdict
	// differs; only their pairs are recomputed.
	type move struct {
		d      int
		p0, p1 *program
	}
	moved := map[move][]int32{}
	var order []move
	for _, c := range affected {
		for d := range model.Directions {
			before := e.prog[d][c]
			p, isNew := e.programFor(e.classes[c], d)
			if isNew {
				e.partition(p)
			}
			if p != before {
				m := move{d, before, p}
				if _, ok := moved[m]; !ok {
					order = append(order, m)
				}
				moved[m] = append(moved[m], c)
			}
		}
	}
	var out []ConnChange
	for _, m := range order {
		peers := e.sideDiff(m.p0, m.p1)
		for _, c := range moved[m] {
			for _, y := range peers {
				sc, dc := c, y
				if m.d == 0 {
					sc, dc = y, c
				}
				v0, _ := e.conn.lookup(sc, dc)
				if v1 := e.pairVerdictFiltered(sc, dc); v0 != v1 {
					e.conn.set(sc, dc, v1)
					e.pairChanged(sc, dc, v0, v1, &out)
				}
			}
		}
	}
	return out, true
}

// sideDiff returns the peer classes for which programs p0 and p1 (nil:
// not a subject, allowing everything) reach different verdicts.
func (e *Engine) sideDiff(p0, p1 *program) []int32 {
	verdict := func(p *program, c int32) int32 {
		if p == nil {
			return verdictAll
		}
		return p.groupFor(c, e.classes[c].lid).verdict
	}
	var out []int32
	for y := range e.classes {
		c := int32(y)
		if verdict(p0, c) != verdict(p1, c) {
			out = append(out, c)
		}
	}
	return out
}

// internPeers adds pol's peers that are new and resolves them.
func (e *Engine) internPeers(pol *model.Policy) {
	e.eachNewPeer(pol, func(info *peerInfo) {
		switch info.peer.Kind {
		case model.PeerIPBlock, model.PeerNetworks, model.PeerNodes:
			info.set = e.setByKey[info.peer.IPs.String()]
		}
		e.resolvePeer(info)
	})
}

// ipSetKeys lists the address sets of pol's IP-based peers, once per
// peer occurrence.
func (e *Engine) ipSetKeys(pol *model.Policy) []string {
	if pol == nil {
		return nil
	}
	var out []string
	for ri := range pol.Rules {
		for _, p := range pol.Rules[ri].Peers {
			switch p.Kind {
			case model.PeerIPBlock, model.PeerNetworks:
				out = append(out, p.IPs.String())
			case model.PeerNodes:
				out = append(out, e.nodeIPs(p.NodeSelector).String())
			}
		}
	}
	return out
}

// nodeIPs returns the addresses of the nodes sel selects.
func (e *Engine) nodeIPs(sel model.Selector) model.IPSet {
	var ips []netip.Addr
	for _, n := range e.snap.Nodes {
		if sel.Matches(n.Labels) {
			ips = append(ips, n.IPs...)
		}
	}
	return model.IPsOf(ips)
}

// takeIPs records ep's addresses as cluster addresses and returns those
// that became taken.
func (e *Engine) takeIPs(ep *model.Endpoint) []netip.Addr {
	var changed []netip.Addr
	for _, ip := range ep.IPs {
		ip = ip.Unmap()
		e.clusterIPs[ip]++
		if e.clusterIPs[ip] == 1 {
			changed = append(changed, ip)
		}
	}
	return changed
}

// dropIPs releases ep's addresses and returns those that became free.
func (e *Engine) dropIPs(ep *model.Endpoint) []netip.Addr {
	var changed []netip.Addr
	for _, ip := range ep.IPs {
		ip = ip.Unmap()
		if e.clusterIPs[ip]--; e.clusterIPs[ip] <= 0 {
			delete(e.clusterIPs, ip)
			changed = append(changed, ip)
		}
	}
	return changed
}

// endpointsRegions returns the regions of addresses that changed hands,
// leaving out those inside the cluster CIDRs (which are never external).
func (e *Engine) endpointsRegions(a, b []netip.Addr) []int32 {
	var rs []int32
	for _, ip := range append(a, b...) {
		if e.clusterCIDRs.Contains(ip) {
			continue
		}
		rs = append(rs, e.addr.regionOf(ip))
	}
	slices.Sort(rs)
	return slices.Compact(rs)
}

// refreshExternal recomputes the external endpoints of regions whose
// cluster addresses changed: the endpoint is renamed (removed and added)
// when its addresses change.
func (e *Engine) refreshExternal(regions []int32, out *[]ConnChange) {
	if len(regions) == 0 {
		return
	}
	taken := map[int32][]netip.Addr{}
	for ip := range e.clusterIPs {
		r := e.addr.regionOf(ip)
		if slices.Contains(regions, r) {
			taken[r] = append(taken[r], ip)
		}
	}
	for _, r := range regions {
		ips := e.addr.regions[r].ips.Subtract(e.clusterCIDRs).Subtract(model.IPsOf(taken[r]))
		var cur int32 = -1
		for id, reg := range e.extRegion {
			if reg == r {
				cur = id
			}
		}
		if cur >= 0 && e.endpoints[cur].External.Equal(ips) {
			continue
		}
		if cur >= 0 {
			e.removeEndpoint(cur, out)
		}
		if !ips.IsEmpty() {
			e.addEndpoint(&model.Endpoint{Kind: model.EndpointExternal, Name: ips.String(), External: ips}, out)
		}
	}
}
