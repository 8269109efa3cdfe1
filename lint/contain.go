package lint

import (
	"slices"

	"github.com/bulkhead/bulkhead/model"
)

// Containment of subjects, peers, ports and rules, provable from the
// selectors and sets (see selectorWithin): "a within b" means b matches
// everything a matches, for every pod that may ever exist in the known
// namespaces.

// nsWithin reports whether the namespaces of constraint a (exact
// namespace aNS, or selector aSel when aNS is "") are all admitted by
// constraint b. A named namespace is judged by its labels in the input.
func (c *Context) nsWithin(aNS string, aSel model.Selector, bNS string, bSel model.Selector) bool {
	switch {
	case bNS != "":
		return aNS == bNS
	case aNS != "":
		return bSel.Matches(c.namespaceLabels(aNS))
	}
	return c.selectorWithin(aSel, bSel)
}

// subjectWithin reports whether q applies to every pod p applies to.
func (c *Context) subjectWithin(p, q *model.Policy) bool {
	a, b := p.Subject, q.Subject
	return c.nsWithin(a.Namespace, a.NamespaceSelector, b.Namespace, b.NamespaceSelector) &&
		c.selectorWithin(a.PodSelector, b.PodSelector)
}

// peerWithin reports whether peer b matches everything peer a matches.
func (c *Context) peerWithin(a, b *model.Peer) bool {
	if a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case model.PeerPods:
		return c.nsWithin(a.Namespace, a.NamespaceSelector, b.Namespace, b.NamespaceSelector) &&
			c.selectorWithin(a.PodSelector, b.PodSelector)
	case model.PeerIPBlock, model.PeerNetworks:
		return a.IPs.Subtract(b.IPs).IsEmpty()
	case model.PeerNodes:
		return c.selectorWithin(a.NodeSelector, b.NodeSelector)
	case model.PeerDomains:
		return subset(a.Domains, b.Domains)
	}
	return false
}

// numericPorts returns the connections of the numbered port specs.
func numericPorts(specs []model.PortSpec) model.ConnSet {
	var c model.ConnSet
	for _, s := range specs {
		if s.Name == "" {
			c = c.Union(model.ConnsOf(s.Protocol, s.Ports))
		}
	}
	return c
}

// portsWithin reports whether b's ports match every connection a's
// ports match, on any destination. A named port is covered by the same
// name (and protocol), or by every port of its protocol.
func portsWithin(a, b []model.PortSpec) bool {
	if len(b) == 0 {
		return true
	}
	if len(a) == 0 {
		return false
	}
	bNum := numericPorts(b)
	if !numericPorts(a).Subtract(bNum).IsEmpty() {
		return false
	}
	for _, s := range a {
		if s.Name == "" {
			continue
		}
		if slices.ContainsFunc(b, func(t model.PortSpec) bool { return t.Name == s.Name && t.Protocol == s.Protocol }) {
			continue
		}
		if s.Protocol != model.ProtocolUnknown && bNum.Ports(s.Protocol).IsFull() {
			continue
		}
		return false
	}
	return true
}

// ruleWithin reports whether rule b matches every connection rule a
// matches (same direction, covering peers and ports). A rule that matches
// nothing (no peers) is within nothing: other checks report it.
func (c *Context) ruleWithin(a, b *model.Rule) bool {
	if a.Direction != b.Direction || !a.AllPeers && len(a.Peers) == 0 || !b.AllPeers && len(b.Peers) == 0 {
		return false
	}
	if !b.AllPeers {
		if a.AllPeers {
			return false
		}
		for i := range a.Peers {
			covered := false
			for j := range b.Peers {
				if c.peerWithin(&a.Peers[i], &b.Peers[j]) {
					covered = true
					break
				}
			}
			if !covered {
				return false
			}
		}
	}
	return portsWithin(a.Ports, b.Ports)
}
