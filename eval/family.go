package eval

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bulkhead/bulkhead/model"
)

// FamilySplit is a rule whose peers match dual-stack endpoints over one
// address family only: an ipBlock (or networks, nodes) peer contains the
// endpoints' IPv4 address but not their IPv6 one, or the reverse, and no
// other peer of the rule makes up for it. The engine decides per
// endpoint, so it applies such a rule to the endpoint whatever the family
// of the connection, where Kubernetes (and the kernel) match each packet's
// own address: the endpoints' connections over the other family may
// differ from what is shown. Single-stack clusters have none.
type FamilySplit struct {
	Policy *model.Policy
	Rule   *model.Rule
	// Family is the family the rule matches the endpoints over: 4 or 6.
	Family int
	// Endpoints are the dual-stack endpoints concerned, in display order.
	Endpoints []*model.Endpoint
}

// String formats s as "NetworkPolicy ns/p ingress[0] matches ns/a, ns/b
// over IPv4 only", naming at most three endpoints ("ns/a, ns/b, ns/c and
// 12 more").
func (s FamilySplit) String() string {
	var ids []string
	for _, ep := range s.Endpoints[:min(3, len(s.Endpoints))] {
		ids = append(ids, ep.ID())
	}
	list := strings.Join(ids, ", ")
	if n := len(s.Endpoints) - len(ids); n > 0 {
		list += fmt.Sprintf(" and %d more", n)
	}
	return fmt.Sprintf("%s %s matches %s over IPv%d only", s.Policy.Ref(), s.Rule.Ref(), list, s.Family)
}

// dualGroup is dual-stack endpoints of one class whose addresses fall in
// the same address regions, family by family: every rule matches them
// alike.
type dualGroup struct {
	class  *class
	v4, v6 []int32 // regions
}

// FamilySplits lists the rules of the policies in force that match some
// dual-stack endpoints over one address family only, in evaluation order.
// It costs nothing when no endpoint is dual-stack, and is linear in rules
// times groups of alike dual-stack endpoints otherwise.
func (e *Engine) FamilySplits() []FamilySplit {
	var groups []*dualGroup
	byKey := map[string]int32{}
	groupOf := map[int32]int32{} // dual-stack endpoint id -> group
	for id, ep := range e.endpoints {
		if ep == nil {
			continue
		}
		var v4, v6 []int32
		for _, ip := range ep.IPs {
			if ip.Is4() || ip.Is4In6() {
				v4 = append(v4, e.addr.regionOf(ip))
			} else {
				v6 = append(v6, e.addr.regionOf(ip))
			}
		}
		if len(v4) == 0 || len(v6) == 0 {
			continue
		}
		c := e.classes[e.epClass[id]]
		key := fmt.Sprint(c.id, v4, v6)
		g, ok := byKey[key]
		if !ok {
			g = int32(len(groups))
			byKey[key] = g
			groups = append(groups, &dualGroup{class: c, v4: v4, v6: v6})
		}
		groupOf[int32(id)] = g
	}
	if len(groups) == 0 {
		return nil
	}
	// The dual-stack endpoints in display order, with their groups.
	var ordered, orderedGroup []int32
	for _, id := range e.ord.get(e).ids {
		if g, ok := groupOf[id]; ok {
			ordered, orderedGroup = append(ordered, id), append(orderedGroup, g)
		}
	}
	var out []FamilySplit
	family := make([]int, len(groups)) // per group: 4 or 6 when the rule matches it over one family only
	for _, pol := range e.policies {
		for ri := range pol.Rules {
			rule := &pol.Rules[ri]
			if !slices.ContainsFunc(rule.Peers, isAddressPeer) {
				continue
			}
			peers := e.rulePeers(rule)
			var any4, any6 bool
			for i, g := range groups {
				family[i] = 0
				switch v4, v6 := e.ruleFamilies(peers, g); {
				case v4 && !v6:
					family[i], any4 = 4, true
				case v6 && !v4:
					family[i], any6 = 6, true
				}
			}
			for _, fam := range []int{4, 6} {
				if fam == 4 && !any4 || fam == 6 && !any6 {
					continue
				}
				var eps []*model.Endpoint
				for i, id := range ordered {
					if family[orderedGroup[i]] == fam {
						eps = append(eps, e.endpoints[id])
					}
				}
				out = append(out, FamilySplit{Policy: pol, Rule: rule, Family: fam, Endpoints: eps})
			}
		}
	}
	return out
}

func isAddressPeer(p model.Peer) bool {
	return p.Kind == model.PeerIPBlock || p.Kind == model.PeerNetworks || p.Kind == model.PeerNodes
}

// rulePeers returns the interned peers of rule.
func (e *Engine) rulePeers(rule *model.Rule) []*peerInfo {
	var out []*peerInfo
	for pi := range rule.Peers {
		if id, ok := e.peerByID[rule.Peers[pi].Key()]; ok {
			out = append(out, e.peers[id])
		}
	}
	return out
}

// ruleFamilies reports over which families a rule's peers match the
// endpoints of g: a selector peer matches both, an address peer the
// families of the addresses it contains.
func (e *Engine) ruleFamilies(peers []*peerInfo, g *dualGroup) (v4, v6 bool) {
	for _, info := range peers {
		p := &info.peer
		if !isAddressPeer(*p) {
			if info.classes.has(int(g.class.id)) {
				return true, true
			}
			continue
		}
		if info.set < 0 || p.Kind == model.PeerIPBlock && e.opts.IPBlockExternalOnly && g.class.podLike() && !g.class.hostNet {
			continue
		}
		has := func(regions []int32) bool {
			return slices.ContainsFunc(regions, func(r int32) bool { return e.addr.regions[r].members.has(info.set) })
		}
		v4 = v4 || has(g.v4)
		v6 = v6 || has(g.v6)
	}
	return v4, v6
}
