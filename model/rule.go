package model

import (
	"fmt"
	"strings"
)

// Tier orders policy kinds. Evaluation goes Admin, then NetworkPolicy, then
// Baseline; see package eval.
type Tier uint8

const (
	TierUnknown Tier = iota
	// TierAdmin holds AdminNetworkPolicy and ClusterNetworkPolicy with
	// tier Admin: cluster-wide rules namespace owners cannot override.
	TierAdmin
	// TierNetworkPolicy holds namespaced networking.k8s.io/v1
	// NetworkPolicy.
	TierNetworkPolicy
	// TierBaseline holds BaselineAdminNetworkPolicy and
	// ClusterNetworkPolicy with tier Baseline: defaults that apply only
	// where no NetworkPolicy isolates the pod.
	TierBaseline
)

func (t Tier) String() string {
	switch t {
	case TierAdmin:
		return "Admin"
	case TierNetworkPolicy:
		return "NetworkPolicy"
	case TierBaseline:
		return "Baseline"
	}
	return "Unknown"
}

// Action is what a matching rule does.
type Action uint8

const (
	ActionUnknown Action = iota
	// Allow admits the connection (NetworkPolicy rules, ANP "Allow",
	// ClusterNetworkPolicy "Accept").
	Allow
	// Deny drops the connection.
	Deny
	// Pass skips the rest of the Admin tier and hands the decision to
	// NetworkPolicy, then Baseline.
	Pass
)

func (a Action) String() string {
	switch a {
	case Allow:
		return "Allow"
	case Deny:
		return "Deny"
	case Pass:
		return "Pass"
	}
	return "Unknown"
}

// Direction is the side of a connection a rule governs: Ingress rules
// admit peers to the subject, Egress rules let the subject reach peers.
type Direction uint8

const (
	DirectionUnknown Direction = iota
	Ingress
	Egress
)

// Directions lists both directions, ingress first.
var Directions = [...]Direction{Ingress, Egress}

func (d Direction) String() string {
	switch d {
	case Ingress:
		return "ingress"
	case Egress:
		return "egress"
	}
	return "unknown"
}

// Policy is any network policy in bulkhead's tiered IR. Every policy kind
// (NetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy,
// ClusterNetworkPolicy of every version) compiles into this one shape, so
// the engine, the explanations and the nftables compiler have one model.
type Policy struct {
	// Kind is the Kubernetes kind the policy came from.
	Kind string
	// APIVersion is the group/version it came from, for messages.
	APIVersion string
	Namespace  string // "" for cluster-scoped kinds
	Name       string
	Tier       Tier
	// Priority orders policies within the Admin and Baseline tiers: lower
	// values are evaluated first. Zero for NetworkPolicy.
	Priority int32
	Subject  Subject
	// Isolates says, per direction, whether the policy applies to its
	// subjects in that direction. For NetworkPolicy these are the
	// (defaulted) policyTypes: a policy that isolates a direction but has
	// no rule for it denies that direction. Cluster tiers apply in a
	// direction when they have rules for it.
	IngressIsolation, EgressIsolation bool
	Rules                             []Rule
	Source                            Source
}

// Isolates reports whether p applies to its subjects in direction d.
func (p *Policy) Isolates(d Direction) bool {
	if d == Ingress {
		return p.IngressIsolation
	}
	return p.EgressIsolation
}

// Ref names the policy for explanations: "NetworkPolicy shop/allow-web"
// or "AdminNetworkPolicy tenant-isolation".
func (p *Policy) Ref() string {
	if p.Namespace != "" {
		return p.Kind + " " + p.Namespace + "/" + p.Name
	}
	return p.Kind + " " + p.Name
}

// Subject selects the endpoints a policy applies to. A NetworkPolicy's
// subject is its namespace and podSelector; a cluster tier's subject
// selects namespaces, or pods by namespace and pod selectors.
type Subject struct {
	// Namespace, when set, restricts the subject to that one namespace
	// (NetworkPolicy); NamespaceSelector is then ignored.
	Namespace         string
	NamespaceSelector Selector
	PodSelector       Selector
}

// String formats the subject for explanations.
func (s Subject) String() string {
	ns := "namespace=" + s.Namespace
	if s.Namespace == "" {
		ns = "namespaces " + s.NamespaceSelector.String()
	}
	return ns + ", pods " + s.PodSelector.String()
}

// PeerKind says how a Peer matches endpoints.
type PeerKind uint8

const (
	PeerUnknown PeerKind = iota
	// PeerPods matches pods and workloads by namespace and labels.
	PeerPods
	// PeerIPBlock is a NetworkPolicy ipBlock. Whether it also matches pods
	// whose IP it contains is an engine option (it does by default, as the
	// upstream conformance tests expect).
	PeerIPBlock
	// PeerNetworks is a cluster tier's networks peer: CIDRs matching any
	// endpoint, pods included, whose address they contain.
	PeerNetworks
	// PeerNodes is a cluster tier's nodes peer: the addresses of the nodes
	// its selector selects.
	PeerNodes
	// PeerDomains is a cluster tier's domainNames peer. Domain names
	// resolve at run time, so manifests cannot say which addresses they
	// match: the engine reports decisions that depend on them as unknown.
	PeerDomains
)

func (k PeerKind) String() string {
	switch k {
	case PeerPods:
		return "pods"
	case PeerIPBlock:
		return "ipBlock"
	case PeerNetworks:
		return "networks"
	case PeerNodes:
		return "nodes"
	case PeerDomains:
		return "domainNames"
	}
	return "unknown"
}

// Peer is one item of a rule's from/to list. Items of a list are ORed;
// the selectors inside one PeerPods item are ANDed.
type Peer struct {
	Kind PeerKind
	// For PeerPods: Namespace, when set, restricts the peer to that one
	// namespace (a NetworkPolicy podSelector without namespaceSelector);
	// otherwise NamespaceSelector selects the namespaces.
	Namespace         string
	NamespaceSelector Selector
	PodSelector       Selector
	// IPs holds the addresses of PeerIPBlock and PeerNetworks peers.
	IPs IPSet
	// NodeSelector selects the nodes of a PeerNodes peer.
	NodeSelector Selector
	// Domains lists the names of a PeerDomains peer.
	Domains []string
	// Text is the peer as its author wrote it, for explanations.
	Text string
}

// String returns the peer as its author wrote it.
func (p Peer) String() string {
	if p.Text != "" {
		return p.Text
	}
	switch p.Kind {
	case PeerPods:
		ns := "namespace " + p.Namespace
		if p.Namespace == "" {
			ns = "namespaces " + p.NamespaceSelector.String()
		}
		return ns + ", pods " + p.PodSelector.String()
	case PeerIPBlock, PeerNetworks:
		return p.Kind.String() + " " + p.IPs.String()
	case PeerNodes:
		return "nodes " + p.NodeSelector.String()
	case PeerDomains:
		return "domainNames " + strings.Join(p.Domains, ",")
	}
	return "unknown peer"
}

// Key returns a canonical form of what the peer matches, Text aside: two
// peers with the same key match the same endpoints and addresses. The
// engine interns peers by it, and diffs compare rules with it.
func (p Peer) Key() string {
	switch p.Kind {
	case PeerPods:
		ns := "sel:" + p.NamespaceSelector.Key()
		if p.Namespace != "" {
			ns = "ns:" + p.Namespace
		}
		return "pods|" + ns + "|" + p.PodSelector.Key()
	case PeerIPBlock, PeerNetworks:
		return p.Kind.String() + "|" + p.IPs.String()
	case PeerNodes:
		return "nodes|" + p.NodeSelector.Key()
	case PeerDomains:
		return "domains|" + strings.Join(p.Domains, ",")
	}
	return "unknown"
}

// PortSpec is one item of a rule's ports. Either Name is set (a named
// port, resolved against the destination endpoint's container ports) or
// Ports holds port numbers of Protocol.
type PortSpec struct {
	// Protocol of the ports. With a Name, ProtocolUnknown means any
	// protocol: the cluster tiers' named ports match the name alone.
	Protocol Protocol
	Ports    PortSet
	Name     string
}

// String formats the spec as "TCP 80", "UDP 1000-2000", "TCP/http" or
// "named port http".
func (s PortSpec) String() string {
	if s.Name != "" {
		if s.Protocol == ProtocolUnknown {
			return "named port " + s.Name
		}
		return s.Protocol.String() + "/" + s.Name
	}
	if s.Ports.IsFull() {
		return s.Protocol.String()
	}
	return s.Protocol.String() + " " + s.Ports.String()
}

// Rule is one ingress or egress rule of a policy.
type Rule struct {
	Direction Direction
	Action    Action
	// Index is the rule's position among the policy's rules of its
	// direction, 0-based, as in spec.ingress[Index].
	Index int
	// Name is the rule's name where the kind has one.
	Name string
	// AllPeers is true when the rule matches every peer, in and out of
	// the cluster (NetworkPolicy with from/to absent or empty).
	AllPeers bool
	// Peers are ORed; with AllPeers false and no Peers the rule matches
	// nothing.
	Peers []Peer
	// Ports restricts the connections the rule matches; empty means every
	// connection (every port of every protocol, and other protocols).
	Ports []PortSpec
}

// Ref names the rule for explanations: "ingress[2]" or
// "egress[0] 'allow-dns'".
func (r *Rule) Ref() string {
	s := fmt.Sprintf("%s[%d]", r.Direction, r.Index)
	if r.Name != "" {
		s += " '" + r.Name + "'"
	}
	return s
}

// ResolvePorts returns the connections the rule's ports match on the
// destination dst, resolving named ports against dst's container ports. A
// named port that dst does not declare (name and protocol) matches
// nothing.
func (r *Rule) ResolvePorts(dst *Endpoint) ConnSet {
	if len(r.Ports) == 0 {
		return AllConns()
	}
	var c ConnSet
	for _, ps := range r.Ports {
		if ps.Name != "" {
			if dst != nil {
				c = c.Union(dst.ResolveNamedPort(ps.Name, ps.Protocol))
			}
			continue
		}
		c = c.Union(ConnsOf(ps.Protocol, ps.Ports))
	}
	return c
}

// HasNamedPorts reports whether any of the rule's ports is named.
func (r *Rule) HasNamedPorts() bool {
	for _, ps := range r.Ports {
		if ps.Name != "" {
			return true
		}
	}
	return false
}
